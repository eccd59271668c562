//! The writes of the client book. Each function is one step of a caller's transaction and
//! does the whole change: the `clients` row, its tag and search-word rows, exactly one
//! `loops_outbox` row and one `audit_log` entry. Each transaction starts with its write
//! (a conditional `UPDATE … WHERE version = $v` or an `INSERT`), so on SQLite it takes the
//! write lock first and concurrent writers queue instead of failing on a lock upgrade.

use super::{ClientRecord, json_cast, json_param, opt_text, text};
use crm_domain::RequestId;
use crm_domain::auth::{Principal, PrincipalKind};
use crm_domain::clients::ClientDraft;
use crm_domain::clients::search::client_terms;
use crm_platform::db::{Database, DbError, Value};
use serde_json::{Value as Json, json};
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
    let mut records = insert_all(db, actor, &[(id.to_owned(), draft)], action)?;
    Ok(records.remove(0))
}

/// Inserts new clients, each `(id, draft)` with its tag, search, outbox and audit rows,
/// as one multi-row INSERT per table however many clients there are (an import's batch
/// costs five statements instead of five per client).
pub fn insert_all(
    db: &Database,
    actor: &Actor<'_>,
    clients: &[(String, &ClientDraft)],
    action: &str,
) -> Result<Vec<ClientRecord>, DbError> {
    let records: Vec<ClientRecord> = clients
        .iter()
        .map(|(id, draft)| ClientRecord {
            id: id.clone(),
            draft: (*draft).clone(),
            created_at: actor.now.to_owned(),
            updated_at: actor.now.to_owned(),
            created_by: actor.principal.subject.clone(),
            version: 1,
        })
        .collect();
    if records.is_empty() {
        return Ok(records);
    }
    // $1 the instant, $2 the creator.
    let mut rows = Rows::new(vec![text(actor.now), text(&actor.principal.subject)]);
    for record in &records {
        let mut values = vec![rows.bind(text(&record.id))];
        for (i, value) in draft_params(&record.draft).into_iter().enumerate() {
            let placeholder = rows.bind(value);
            // tags and properties are JSON columns.
            values.push(match i {
                DRAFT_TAGS | DRAFT_PROPERTIES => json_cast(db, &placeholder),
                _ => placeholder,
            });
        }
        values.extend(["$1", "$1", "$2", "1"].map(str::to_owned));
        rows.push(values);
    }
    rows.insert(
        db,
        "clients (id, email, first_name, last_name, company, phone, status, tags, notes, \
         source, subscribed, properties, created_at, updated_at, created_by, version)",
    )?;
    let mut tags = Rows::new(vec![]);
    let mut terms = Rows::new(vec![text(actor.now)]);
    for record in &records {
        for tag in &record.draft.tags {
            let values = vec![tags.bind(text(&record.id)), tags.bind(text(tag.as_str()))];
            tags.push(values);
        }
        for term in client_terms(&record.draft) {
            let values = vec![terms.bind(text(&term)), terms.bind(text(&record.id))];
            terms.push([values, vec!["$1".to_owned()]].concat());
        }
    }
    tags.insert(db, "client_tags (client_id, tag)")?;
    terms.insert(db, "client_search_terms (term, client_id, created_at)")?;
    let changes: Vec<(&str, &str, Json)> = records
        .iter()
        .map(|record| {
            let payload = json!({ "client": record.to_json() });
            (record.id.as_str(), "create", payload)
        })
        .collect();
    enqueue_all(db, actor.now, None, &changes)?;
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let fields: Vec<&str> = crm_domain::clients::model::WRITABLE_FIELDS.to_vec();
    audit_all(db, actor, &ids, action, &fields)?;
    Ok(records)
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

/// The positions of the JSON columns in [`draft_params`].
const DRAFT_TAGS: usize = 6;
const DRAFT_PROPERTIES: usize = 10;

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
    let mut rows = Rows::new(vec![text(id)]);
    for tag in &draft.tags {
        let values = vec!["$1".to_owned(), rows.bind(text(tag.as_str()))];
        rows.push(values);
    }
    rows.insert(db, "client_tags (client_id, tag)")
}

/// The search rows of client `id`, each with the client's `created_at` (migration 0004:
/// a word search's page is ordered from the terms alone).
fn insert_terms(
    db: &Database,
    id: &str,
    created_at: &str,
    terms: &BTreeSet<String>,
) -> Result<(), DbError> {
    let mut rows = Rows::new(vec![text(id), text(created_at)]);
    for term in terms {
        let values = vec![rows.bind(text(term)), "$1".to_owned(), "$2".to_owned()];
        rows.push(values);
    }
    rows.insert(db, "client_search_terms (term, client_id, created_at)")
}

/// A multi-row `INSERT … VALUES (…), (…)` under construction: the parameters (some fixed
/// ones first, `$1`, `$2`, …, shared by every row) and the rows' expressions.
struct Rows {
    params: Vec<Value>,
    rows: Vec<String>,
}

impl Rows {
    fn new(fixed: Vec<Value>) -> Rows {
        Rows {
            params: fixed,
            rows: Vec::new(),
        }
    }

    /// The placeholder of a new parameter.
    fn bind(&mut self, value: Value) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    fn push(&mut self, values: Vec<String>) {
        self.rows.push(format!("({})", values.join(", ")));
    }

    /// `INSERT INTO {into} VALUES …`; nothing when there is no row.
    fn insert(self, db: &Database, into: &str) -> Result<(), DbError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!("INSERT INTO {into} VALUES {}", self.rows.join(", "));
        db.execute(&sql, &self.params)?;
        Ok(())
    }
}

/// The outbox row of this change: what `loops-sync` delivers.
fn enqueue(
    db: &Database,
    actor: &Actor<'_>,
    client_id: &str,
    operation: &str,
    payload: &Json,
) -> Result<(), DbError> {
    enqueue_all(
        db,
        actor.now,
        None,
        &[(client_id, operation, payload.clone())],
    )
}

/// The outbox rows of these changes `(client id, operation, payload)`, one statement;
/// `job` names the backfill job that enqueues them, if one does.
pub fn enqueue_all(
    db: &Database,
    now: &str,
    job: Option<&str>,
    changes: &[(&str, &str, Json)],
) -> Result<(), DbError> {
    // $1 the instant, $2 the job.
    let mut rows = Rows::new(vec![text(now), opt_text(job)]);
    for (client_id, operation, payload) in changes {
        let values = vec![
            rows.bind(text(&uuid::Uuid::now_v7().to_string())),
            rows.bind(text(client_id)),
            rows.bind(text(operation)),
            json_cast(db, &rows.bind(text(&payload.to_string()))),
            "'pending'".to_owned(),
            "0".to_owned(),
            "$1".to_owned(),
            rows.bind(text(&uuid::Uuid::new_v4().to_string())),
            "$1".to_owned(),
            "$1".to_owned(),
            "$2".to_owned(),
        ];
        rows.push(values);
    }
    rows.insert(
        db,
        "loops_outbox (id, client_id, operation, payload, status, attempts, \
         next_attempt_at, idempotency_key, created_at, updated_at, job_id)",
    )
}

/// The audit entry of this change: who, which request, which fields (never their values).
fn audit(
    db: &Database,
    actor: &Actor<'_>,
    client_id: &str,
    action: &str,
    fields: &[&str],
) -> Result<(), DbError> {
    audit_all(db, actor, &[client_id], action, fields)
}

/// One audit entry per client of `client_ids`, all with the same action and fields, one
/// statement.
fn audit_all(
    db: &Database,
    actor: &Actor<'_>,
    client_ids: &[&str],
    action: &str,
    fields: &[&str],
) -> Result<(), DbError> {
    let (user, api_key) = match actor.principal.kind {
        PrincipalKind::User => (Some(actor.principal.subject.as_str()), None),
        PrincipalKind::ApiKey => (None, Some(actor.principal.subject.as_str())),
    };
    // $1 the instant, $2/$3 the actor, $4 the action, $5 the request, $6 the details.
    let mut rows = Rows::new(vec![
        text(actor.now),
        opt_text(user),
        opt_text(api_key),
        text(action),
        text(actor.request_id.as_str()),
        text(&json!({ "fields": fields }).to_string()),
    ]);
    for client_id in client_ids {
        let mut values = vec![rows.bind(text(&uuid::Uuid::now_v7().to_string()))];
        values.extend(["$2", "$3", "$4", "'client'"].map(str::to_owned));
        values.push(rows.bind(text(client_id)));
        values.extend(["$5".to_owned(), json_cast(db, "$6"), "$1".to_owned()]);
        rows.push(values);
    }
    rows.insert(
        db,
        "audit_log (id, actor_user_id, actor_api_key_id, action, entity_type, entity_id, \
         request_id, details, created_at)",
    )
}
