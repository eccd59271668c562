//! The feature-flag admin API (admins only; docs/feature-flags.md): `GET /api/flags`,
//! `GET | PUT | DELETE /api/flags/{name}` with `{enabled, percentage, allow}`, and
//! `POST /api/flags/{name}/evaluate` (which of up to 10,000 subjects a flag is on for).
//! Flags live in the shared store (crm_platform::flags); every change is an audit entry,
//! written in the same database transaction that the store change completes.

use super::Call;
use crate::now::Now;
use crate::store::audit::{self, AuditEntry};
use crate::views::no_content;
use crm_domain::flags::{self, FlagState, StoredFlag};
use crm_platform::db::DbError;
use crm_platform::flags::{self as flag_store, Change};
use crm_platform::http_kit::{ApiError, json_body, json_response};
use serde::Serialize;
use serde_json::{Value, json};
use spin_sdk::http::Response;

/// Largest evaluate body (10,000 subjects of ordinary length).
const MAX_EVALUATE_BODY_BYTES: usize = 1024 * 1024;

/// A flag as the API shows it.
#[derive(Serialize)]
struct FlagView {
    name: String,
    enabled: bool,
    percentage: u8,
    allow: Vec<String>,
    /// `stored` (set through this API) or `default` (its variable, or off).
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_by: Option<String>,
}

fn view(name: &str, stored: Option<StoredFlag>) -> FlagView {
    let description = flags::KNOWN
        .iter()
        .find(|known| known.name == name)
        .map(|known| known.description);
    let (state, source, updated_at, updated_by) = match stored {
        Some(flag) => (
            flag.state,
            "stored",
            Some(flag.updated_at),
            Some(flag.updated_by),
        ),
        None => (flag_store::default_state(name), "default", None, None),
    };
    FlagView {
        name: name.to_owned(),
        enabled: state.enabled,
        percentage: state.percentage,
        allow: state.allow,
        source,
        description,
        updated_at,
        updated_by,
    }
}

fn unavailable(error: String) -> ApiError {
    ApiError::dependency_unavailable(
        "The key-value store holding the flags is unavailable.",
        error,
    )
}

/// The `{id}` of the path as a flag name (404 for a name no flag can have).
fn name_of<'a>(call: &'a Call<'_>) -> Result<&'a str, ApiError> {
    let name = call.path_id()?;
    if flags::valid_name(name) {
        Ok(name)
    } else {
        Err(ApiError::NotFound(format!(
            "No flag {name}: names are [a-z][a-z0-9_]*, at most 63 characters."
        )))
    }
}

/// `GET /api/flags`: the known flags and every set one, by name.
pub fn list_flags(call: &Call<'_>) -> Result<Response, ApiError> {
    let mut stored = flag_store::stored().map_err(unavailable)?;
    let mut names: Vec<String> = flags::KNOWN.iter().map(|k| k.name.to_owned()).collect();
    names.extend(stored.keys().cloned());
    names.sort();
    names.dedup();
    let data: Vec<FlagView> = names
        .iter()
        .map(|name| view(name, stored.remove(name)))
        .collect();
    json_response(200, &json!({ "data": data }), call.request_id)
}

/// `GET /api/flags/{name}`.
pub fn get_flag(call: &Call<'_>) -> Result<Response, ApiError> {
    let name = name_of(call)?;
    let stored = flag_store::stored().map_err(unavailable)?.remove(name);
    if stored.is_none() && !flags::KNOWN.iter().any(|known| known.name == name) {
        return Err(ApiError::NotFound(format!("No flag {name} is set.")));
    }
    json_response(200, &view(name, stored), call.request_id)
}

/// `PUT /api/flags/{name}`: sets the flag (creating it), audited.
pub fn put_flag(call: &Call<'_>) -> Result<Response, ApiError> {
    let name = name_of(call)?;
    let body: Value = crate::body::json(call.request)?;
    let state = flags::state_of_body(&body).map_err(ApiError::Unprocessable)?;
    let now = Now::read();
    let before = flag_store::stored().map_err(unavailable)?.remove(name);
    let flag = StoredFlag {
        state: state.clone(),
        updated_at: now.timestamp.clone(),
        updated_by: call.caller.id.clone(),
    };
    let entry = AuditEntry {
        actor: Some(&call.caller.id),
        action: "flag.set",
        entity_type: "flag",
        entity_id: Some(name),
        details: json!({ "before": before.map(|f| f.state), "after": state }),
    };
    let change = audited(call, &entry, &now, || flag_store::put(name, flag))?;
    match change {
        Change::Set(stored, _) => json_response(200, &view(name, Some(stored)), call.request_id),
        Change::Full => Err(ApiError::Conflict(format!(
            "At most {} flags can be set; delete one first.",
            flags::MAX_FLAGS
        ))),
        Change::Removed(_) | Change::Absent => {
            Err(ApiError::internal("Flag not set", "unexpected change"))
        }
    }
}

/// `DELETE /api/flags/{name}`: back to its default, audited.
pub fn delete_flag(call: &Call<'_>) -> Result<Response, ApiError> {
    let name = name_of(call)?;
    let now = Now::read();
    let before = flag_store::stored().map_err(unavailable)?.remove(name);
    let Some(before) = before else {
        return Err(ApiError::NotFound(format!("No flag {name} is set.")));
    };
    let entry = AuditEntry {
        actor: Some(&call.caller.id),
        action: "flag.delete",
        entity_type: "flag",
        entity_id: Some(name),
        details: json!({ "before": before.state, "after": Value::Null }),
    };
    match audited(call, &entry, &now, || flag_store::remove(name))? {
        Change::Removed(_) => Ok(no_content(call.request_id)),
        _ => Err(ApiError::NotFound(format!("No flag {name} is set."))),
    }
}

/// Runs `change` on the store inside a database transaction that records `entry`: the
/// audit row commits only when the store changed, and a store failure rolls it back.
fn audited(
    call: &Call<'_>,
    entry: &AuditEntry<'_>,
    now: &Now,
    change: impl FnOnce() -> Result<Change, String>,
) -> Result<Change, ApiError> {
    // What ended the transaction without a change (it is rolled back then).
    let mut unchanged: Option<Result<Change, String>> = None;
    let outcome = call.db.transaction(|tx| {
        audit::record(tx, entry, call.request_id, &now.timestamp)?;
        match change() {
            Ok(done @ (Change::Set(..) | Change::Removed(_))) => Ok(done),
            other => {
                unchanged = Some(other);
                Err(DbError::Query(
                    "no flag changed: the audit entry is rolled back".into(),
                ))
            }
        }
    });
    match (outcome, unchanged) {
        (Ok(done), _) => Ok(done),
        (Err(_), Some(Ok(refused))) => Ok(refused),
        (Err(_), Some(Err(store_error))) => Err(unavailable(store_error)),
        (Err(error), None) => Err(error.into()),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateBody {
    subjects: Vec<String>,
}

/// `POST /api/flags/{name}/evaluate` `{subjects}`: for each subject, whether the flag is on
/// for it now (what every replica answers for that subject).
pub fn evaluate_flag(call: &Call<'_>) -> Result<Response, ApiError> {
    let name = name_of(call)?;
    if call.request.body().len() > MAX_EVALUATE_BODY_BYTES {
        return Err(ApiError::ContentTooLarge {
            limit_bytes: MAX_EVALUATE_BODY_BYTES as u64,
        });
    }
    let body: EvaluateBody = json_body(call.request)?;
    if body.subjects.len() > flags::MAX_EVALUATE {
        return Err(ApiError::Unprocessable(vec![crm_domain::FieldError::new(
            "subjects",
            format!("at most {} subjects at once", flags::MAX_EVALUATE),
        )]));
    }
    let state: FlagState = flag_store::state(name);
    let results: Vec<bool> = body
        .subjects
        .iter()
        .map(|subject| flags::evaluate(&state, name, Some(subject)))
        .collect();
    let on = results.iter().filter(|on| **on).count();
    json_response(
        200,
        &json!({ "name": name, "flag": state, "on": on, "results": results }),
        call.request_id,
    )
}
