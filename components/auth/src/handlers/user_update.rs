//! `PATCH /api/users/{id}` (admins only): change a user's role or disable / re-enable them.
//! Disabling revokes their refresh tokens and writes `auth:disabled:<id>` in the shared
//! store (before the database, so a failure leaves them refused); re-enabling deletes it
//! (after the database). Either is redone when asked again, which repairs a lost write. An admin cannot demote or disable themselves, so at least one
//! active admin always remains.

use super::Call;
use super::users::find_user;
use crate::body;
use crate::inputs::{UpdateUserBody, UserChanges};
use crate::kv::{self, SHARED_STORE};
use crate::now::Now;
use crate::store::audit::{self, AuditEntry};
use crate::store::refresh_tokens;
use crate::store::users::{self, UserRecord};
use crate::views::UserView;
use crm_domain::auth::Role;
use crm_platform::auth::disabled_user_key;
use crm_platform::http_kit::{ApiError, json_response};
use serde_json::{Map, Value, json};
use spin_sdk::http::Response;

pub fn update_user(call: &Call<'_>) -> Result<Response, ApiError> {
    let changes = body::json::<UpdateUserBody>(call.request)?.check()?;
    let user = find_user(call, call.path_id()?)?;
    let role = changes.role.unwrap_or(user.role);
    let disabled = changes.disabled.unwrap_or(user.disabled);
    if user.id == call.caller.id && (role != Role::Admin || disabled) {
        return Err(ApiError::Conflict(
            "Admins cannot demote or disable themselves; ask another admin.".to_owned(),
        ));
    }
    if changes.disabled == Some(true) {
        set_disabled_marker(&user.id, true)?;
    }
    let now = Now::read();
    let entry = AuditEntry {
        actor: Some(&call.caller.id),
        action: "user.update",
        entity_type: "user",
        entity_id: Some(&user.id),
        details: changed_fields(&user, &changes),
    };
    call.db.transaction(|tx| {
        users::update_access(tx, &user.id, role, disabled, &now.timestamp)?;
        if disabled {
            refresh_tokens::revoke_all_of_user(tx, &user.id, &now.timestamp)?;
        }
        audit::record(tx, &entry, call.request_id, &now.timestamp)
    })?;
    if changes.disabled == Some(false) {
        set_disabled_marker(&user.id, false)?;
    }
    let updated = find_user(call, &user.id)?;
    json_response(200, &UserView::from(&updated), call.request_id)
}

/// Writes or deletes `auth:disabled:<id>` in the shared store the verification kit reads.
fn set_disabled_marker(user_id: &str, disabled: bool) -> Result<(), ApiError> {
    let bucket = kv::open(SHARED_STORE)?;
    let key = disabled_user_key(user_id);
    let written = if disabled {
        bucket.set(&key, b"1")
    } else {
        bucket.delete(&key)
    };
    written.map_err(|error| kv::unavailable(SHARED_STORE, &error))
}

/// `{"role": {"from", "to"}, "disabled": {"from", "to"}}` for what actually changes.
fn changed_fields(user: &UserRecord, changes: &UserChanges) -> Value {
    let mut details = Map::new();
    if let Some(role) = changes.role.filter(|role| *role != user.role) {
        details.insert("role".into(), json!({ "from": user.role, "to": role }));
    }
    if let Some(disabled) = changes.disabled.filter(|d| *d != user.disabled) {
        details.insert(
            "disabled".into(),
            json!({ "from": user.disabled, "to": disabled }),
        );
    }
    Value::Object(details)
}
