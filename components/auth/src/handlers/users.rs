//! `POST /api/users`, `GET /api/users`, `GET /api/users/{id}` (admins only).

use super::Call;
use crate::body;
use crate::cursor::{Cursor, PageRequest};
use crate::inputs::CreateUserBody;
use crate::now::Now;
use crate::password_hashing::{SALT_BYTES, hash_password};
use crate::random::random_bytes;
use crate::store::audit::{self, AuditEntry};
use crate::store::users::{self, UserRecord, UserRow};
use crate::views::{Page, UserView, created};
use crm_platform::http_kit::{ApiError, json_response};
use serde_json::json;
use spin_sdk::http::Response;

pub fn create_user(call: &Call<'_>) -> Result<Response, ApiError> {
    let new_user = body::json::<CreateUserBody>(call.request)?.check()?;
    let password_hash = hash_password(&new_user.password, &random_bytes::<SALT_BYTES>()?)
        .map_err(|reason| ApiError::internal("Failed to hash a password", reason))?;
    let now = Now::read();
    let id = uuid::Uuid::new_v4().to_string();
    let row = UserRow {
        id: &id,
        email: &new_user.email,
        password_hash: &password_hash,
        display_name: &new_user.display_name,
        role: new_user.role,
        now: &now.timestamp,
    };
    let entry = AuditEntry {
        actor: Some(&call.caller.id),
        action: "user.create",
        entity_type: "user",
        entity_id: Some(&id),
        details: json!({ "role": new_user.role }),
    };
    call.db.transaction(|tx| {
        users::insert(tx, &row)?;
        audit::record(tx, &entry, call.request_id, &now.timestamp)
    })?;
    let user = users::find_by_id(call.db, &id)?
        .ok_or_else(|| ApiError::internal("A created user is missing", &id))?;
    created(
        &UserView::from(&user),
        &format!("/api/users/{id}"),
        call.request_id,
    )
}

pub fn list_users(call: &Call<'_>) -> Result<Response, ApiError> {
    let page = PageRequest::from_query(call.request.query()).map_err(ApiError::Unprocessable)?;
    let rows = users::page(call.db, &page)?;
    let body = Page::of(rows, page.limit, cursor_of, |user| UserView::from(user));
    json_response(200, &body, call.request_id)
}

pub fn get_user(call: &Call<'_>) -> Result<Response, ApiError> {
    let user = find_user(call, call.path_id()?)?;
    json_response(200, &UserView::from(&user), call.request_id)
}

/// The user `id`, or 404.
pub fn find_user(call: &Call<'_>, id: &str) -> Result<UserRecord, ApiError> {
    users::find_by_id(call.db, id)?.ok_or_else(|| ApiError::NotFound(format!("No user {id}.")))
}

fn cursor_of(user: &UserRecord) -> Cursor {
    Cursor {
        created_at: user.created_at.clone(),
        id: user.id.clone(),
    }
}
