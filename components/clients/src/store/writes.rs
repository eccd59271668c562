//! The writes of the client book. Each function is one step of a caller's transaction and
//! does the whole change: the `clients` row, its tag and search-word rows, exactly one
//! `loops_outbox` row and one `audit_log` entry. Each transaction starts with its write
//! (a conditional `UPDATE … WHERE version = $v` or an `INSERT`), so on SQLite it takes the
//! write lock first and concurrent writers queue instead of failing on a lock upgrade.

use super::{ClientRecord, json_param, opt_text, text};
use crm_domain::RequestId;
use crm_domain::auth::{Principal, PrincipalKind};
use crm_domain::clients::ClientDraft;
use crm_domain::clients::search::client_terms;
use crm_platform::db::{Database, DbError, Value};
use serde_json::json;
use std::collections::BTreeSet;

/// Who writes, in which request, at which instant (one clock reading per request).
pub struct Actor<'a> {
    pub principal: &'a Principal,
    pub request_id: &'a RequestId,
    pub now: &'a str,
}

/// Audit actions.
pub const CREATED: &str = "client.created";
pub const UPDATED: &str = "client.updated";
pub const DELETED: &str = "client.deleted";
pub const ERASED: &str = "client.erased";
pub const IMPORTED: &str = "client.imported";

/// Inserts a new client `id` (`action`: [`CREATED`] or [`IMPORTED`]).
pub fn insert(
    db: &Database,
    actor: &Actor<'_>,
    id: &str,
    draft: &ClientDraft,
    action: &str,
) -> Result<ClientRecord, DbError> {
    let sql = format!(
        "INSERT INTO clients (id, email, first_name, last_name, company, phone, status, tags, \
         notes, source, subscribed, properties, created_at, updated_at, created_by, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, {tags}, $9, $10, $11, {properties}, $13, $13, $14, 1)",
        tags = json_param(db, 8),
        properties = json_param(db, 12),
    );
    let mut params = draft_params(draft);
    params.insert(0, text(id));
    params.push(text(actor.now));
    params.push(text(&actor.principal.subject));
    db.execute(&sql, &params)?;
    let record = ClientRecord {
        id: id.to_owned(),
        draft: draft.clone(),
        created_at: actor.now.to_owned(),
        updated_at: actor.now.to_owned(),
        created_by: actor.principal.subject.clone(),
        version: 1,
    };
    insert_tags(db, id, draft)?;
    insert_terms(db, id, actor.now, &client_terms(draft))?;
    enqueue(
        db,
        actor,
        id,
        "create",
        &json!({ "client": record.to_json() }),
    )?;
    let fields: Vec<&str> = crm_domain::clients::model::WRITABLE_FIELDS.to_vec();
    audit(db, actor, id, action, &fields)?;
    Ok(record)
}

/// Replaces the writable fields of `before` with `after` if the stored version is still
/// `before.version`; `None` when it is not (another write won).
pub fn update(
    db: &Database,
    actor: &Actor<'_>,
    before: &ClientRecord,
    after: &ClientDraft,
    action: &str,
) -> Result<Option<ClientRecord>, DbError> {
    let sql = format!(
        "UPDATE clients SET email = $2, first_name = $3, last_name = $4, company = $5, \
         phone = $6, status = $7, tags = {tags}, notes = $9, source = $10, subscribed = $11, \
         properties = {properties}, updated_at = $13, version = version + 1 \
         WHERE id = $1 AND version = $14 AND deleted_at IS NULL",
        tags = json_param(db, 8),
        properties = json_param(db, 12),
    );
    let mut params = draft_params(after);
    params.insert(0, text(&before.id));
    params.push(text(actor.now));
    params.push(Value::Int(before.version));
    if db.execute(&sql, &params)? == 0 {
        return Ok(None);
    }
    let record = ClientRecord {
        draft: after.clone(),
        updated_at: actor.now.to_owned(),
        version: before.version + 1,
        ..before.clone()
    };
    if before.draft.tags != after.tags {
        db.execute(
            "DELETE FROM client_tags WHERE client_id = $1",
            &[text(&before.id)],
        )?;
        insert_tags(db, &before.id, after)?;
    }
    let (old_terms, new_terms) = (client_terms(&before.draft), client_terms(after));
    if old_terms != new_terms {
        db.execute(
            "DELETE FROM client_search_terms WHERE client_id = $1",
            &[text(&before.id)],
        )?;
        insert_terms(db, &before.id, &before.created_at, &new_terms)?;
    }
    enqueue(
        db,
        actor,
        &before.id,
        "update",
        &json!({ "client": record.to_json() }),
    )?;
    audit(
        db,
        actor,
        &before.id,
        action,
        &before.draft.changed_fields(after),
    )?;
    Ok(Some(record))
}

/// Soft-deletes live client `id` at `version`; false when it is not live at that version.
pub fn soft_delete(
    db: &Database,
    actor: &Actor<'_>,
    id: &str,
    version: i64,
) -> Result<bool, DbError> {
    let changed = db.execute(
        "UPDATE clients SET deleted_at = $2, updated_at = $2, version = version + 1 \
         WHERE id = $1 AND version = $3 AND deleted_at IS NULL",
        &[text(id), text(actor.now), Value::Int(version)],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    drop_index_rows(db, id)?;
    enqueue(db, actor, id, "delete", &json!({ "client_id": id }))?;
    audit(db, actor, id, DELETED, &[])?;
    Ok(true)
}

/// Erases the personal data of client `id` (live or soft-deleted) at `version`: the row
/// keeps only its id, status, timestamps, creator and version; its index rows and kept
/// idempotent answers go; every outbox payload about it is reduced to its id. False when
/// it is already erased or not at `version`.
pub fn erase(db: &Database, actor: &Actor<'_>, id: &str, version: i64) -> Result<bool, DbError> {
    let changed = db.execute(
        &format!(
            "UPDATE clients SET email = NULL, first_name = NULL, last_name = NULL, \
             company = NULL, phone = NULL, tags = {empty_tags}, notes = NULL, source = NULL, \
             properties = {empty_properties}, deleted_at = coalesce(deleted_at, $2), \
             erased_at = $2, updated_at = $2, version = version + 1 \
             WHERE id = $1 AND version = $3 AND erased_at IS NULL",
            empty_tags = json_param(db, 4),
            empty_properties = json_param(db, 5),
        ),
        &[
            text(id),
            text(actor.now),
            Value::Int(version),
            text("[]"),
            text("{}"),
        ],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    drop_index_rows(db, id)?;
    db.execute(
        "DELETE FROM idempotency_keys WHERE client_id = $1",
        &[text(id)],
    )?;
    let id_only = json!({ "client_id": id }).to_string();
    db.execute(
        &format!(
            "UPDATE loops_outbox SET payload = {payload}, updated_at = $3 WHERE client_id = $1",
            payload = json_param(db, 2)
        ),
        &[text(id), text(&id_only), text(actor.now)],
    )?;
    enqueue(db, actor, id, "delete", &json!({ "client_id": id }))?;
    audit(db, actor, id, ERASED, &[])?;
    Ok(true)
}

/// Parameters 2..=12 of the insert and update statements (`$1` is the id).
fn draft_params(draft: &ClientDraft) -> Vec<Value> {
    vec![
        text(draft.email.as_str()),
        opt_text(draft.first_name.as_deref()),
        opt_text(draft.last_name.as_deref()),
        opt_text(draft.company.as_deref()),
        opt_text(draft.phone.as_ref().map(|p| p.as_str())),
        text(draft.status.as_str()),
        text(&draft.tags_json().to_string()),
        opt_text(draft.notes.as_deref()),
        opt_text(draft.source.as_deref()),
        Value::Bool(draft.subscribed),
        text(&draft.properties.to_json().to_string()),
    ]
}

fn drop_index_rows(db: &Database, id: &str) -> Result<(), DbError> {
    db.execute("DELETE FROM client_tags WHERE client_id = $1", &[text(id)])?;
    db.execute(
        "DELETE FROM client_search_terms WHERE client_id = $1",
        &[text(id)],
    )?;
    Ok(())
}

fn insert_tags(db: &Database, id: &str, draft: &ClientDraft) -> Result<(), DbError> {
    let tags: Vec<&str> = draft.tags.iter().map(|t| t.as_str()).collect();
    let row = |tag: &str| format!("($1, {tag})");
    insert_rows(
        db,
        "client_tags (client_id, tag)",
        row,
        vec![text(id)],
        &tags,
    )
}

/// The search rows of client `id`, each with the client's `created_at` (migration 0004:
/// a word search's page is ordered from the terms alone).
fn insert_terms(
    db: &Database,
    id: &str,
    created_at: &str,
    terms: &BTreeSet<String>,
) -> Result<(), DbError> {
    let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
    let row = |term: &str| format!("({term}, $1, $2)");
    let fixed = vec![text(id), text(created_at)];
    let into = "client_search_terms (term, client_id, created_at)";
    insert_rows(db, into, row, fixed, &terms)
}

/// One multi-row INSERT: `fixed` bound first ($1, $2, …), then one row per value, `row`
/// placing the value's placeholder among the fixed ones.
fn insert_rows(
    db: &Database,
    into: &str,
    row: impl Fn(&str) -> String,
    fixed: Vec<Value>,
    values: &[&str],
) -> Result<(), DbError> {
    if values.is_empty() {
        return Ok(());
    }
    let first = fixed.len() + 1;
    let rows: Vec<String> = (0..values.len())
        .map(|i| row(&format!("${}", first + i)))
        .collect();
    let mut params = fixed;
    params.extend(values.iter().map(|v| text(v)));
    db.execute(
        &format!("INSERT INTO {into} VALUES {}", rows.join(", ")),
        &params,
    )?;
    Ok(())
}

/// The outbox row of this change: what `loops-sync` delivers.
fn enqueue(
    db: &Database,
    actor: &Actor<'_>,
    client_id: &str,
    operation: &str,
    payload: &serde_json::Value,
) -> Result<(), DbError> {
    let sql = format!(
        "INSERT INTO loops_outbox (id, client_id, operation, payload, status, attempts, \
         next_attempt_at, idempotency_key, created_at, updated_at) \
         VALUES ($1, $2, $3, {payload}, 'pending', 0, $5, $6, $5, $5)",
        payload = json_param(db, 4)
    );
    db.execute(
        &sql,
        &[
            text(&uuid::Uuid::now_v7().to_string()),
            text(client_id),
            text(operation),
            text(&payload.to_string()),
            text(actor.now),
            text(&uuid::Uuid::new_v4().to_string()),
        ],
    )?;
    Ok(())
}

/// The audit entry of this change: who, which request, which fields (never their values).
fn audit(
    db: &Database,
    actor: &Actor<'_>,
    client_id: &str,
    action: &str,
    fields: &[&str],
) -> Result<(), DbError> {
    let (user, api_key) = match actor.principal.kind {
        PrincipalKind::User => (Some(actor.principal.subject.as_str()), None),
        PrincipalKind::ApiKey => (None, Some(actor.principal.subject.as_str())),
    };
    let sql = format!(
        "INSERT INTO audit_log (id, actor_user_id, actor_api_key_id, action, entity_type, \
         entity_id, request_id, details, created_at) \
         VALUES ($1, $2, $3, $4, 'client', $5, $6, {details}, $8)",
        details = json_param(db, 7)
    );
    db.execute(
        &sql,
        &[
            text(&uuid::Uuid::now_v7().to_string()),
            opt_text(user),
            opt_text(api_key),
            text(action),
            text(client_id),
            text(actor.request_id.as_str()),
            text(&json!({ "fields": fields }).to_string()),
            text(actor.now),
        ],
    )?;
    Ok(())
}
