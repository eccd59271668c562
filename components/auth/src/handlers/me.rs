//! `GET /api/users/me` and `PUT /api/users/me/password` (any signed-in user). A password
//! change needs the current password (throttled like a login), follows the policy, and
//! revokes the caller's refresh tokens.

use super::Call;
use crate::body;
use crate::inputs::{ChangePasswordBody, new_password_errors};
use crate::kv::{self, AUTH_STORE};
use crate::now::Now;
use crate::password_hashing::{SALT_BYTES, hash_password, verify_password};
use crate::random::random_bytes;
use crate::settings::Settings;
use crate::store::audit::{self, AuditEntry};
use crate::store::{refresh_tokens, users};
use crate::throttle::LoginThrottle;
use crate::views::{UserView, no_content};
use crm_domain::FieldError;
use crm_platform::http_kit::{ApiError, json_response};
use serde_json::json;
use spin_sdk::http::Response;

pub fn get_me(call: &Call<'_>) -> Result<Response, ApiError> {
    json_response(200, &UserView::from(call.caller), call.request_id)
}

pub fn change_password(call: &Call<'_>) -> Result<Response, ApiError> {
    let change: ChangePasswordBody = body::json(call.request)?;
    let mut errors = new_password_errors(&change.new_password);
    let settings = Settings::from_variables()?;
    let now = Now::read();
    let throttle = LoginThrottle::for_account(&settings, &call.caller.email, now.unix_seconds());
    let counters = kv::open(AUTH_STORE)?;
    throttle.check(&counters)?;
    if !verify_password(&change.current_password, &call.caller.password_hash) {
        throttle.record_failure(&counters)?;
        errors.insert(
            0,
            FieldError::new("current_password", "is not your current password"),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Unprocessable(errors));
    }
    let password_hash = hash_password(&change.new_password, &random_bytes::<SALT_BYTES>()?)
        .map_err(|reason| ApiError::internal("Failed to hash a password", reason))?;
    let user_id = call.caller.id.as_str();
    call.db.transaction(|tx| {
        users::update_password_hash(tx, user_id, &password_hash, &now.timestamp)?;
        let revoked = refresh_tokens::revoke_all_of_user(tx, user_id, &now.timestamp)?;
        let entry = AuditEntry {
            actor: Some(user_id),
            action: "user.password_change",
            entity_type: "user",
            entity_id: Some(user_id),
            details: json!({ "refresh_tokens_revoked": revoked }),
        };
        audit::record(tx, &entry, call.request_id, &now.timestamp)
    })?;
    Ok(no_content(call.request_id))
}
