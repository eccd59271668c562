//! `POST /api/api-keys` (the key shown once), `GET /api/api-keys` (no secrets) and
//! `DELETE /api/api-keys/{id}` (admins only). Revoking deletes the shared cache entry
//! `cache:api-key:<key_hash>`, so the key is refused from the very next request.

use super::Call;
use crate::api_key_format::{ApiKeyText, RANDOM_BYTES};
use crate::body;
use crate::cursor::{Cursor, PageRequest};
use crate::inputs::{CreateApiKeyBody, NewApiKey};
use crate::kv::{self, SHARED_STORE};
use crate::now::Now;
use crate::random::random_bytes;
use crate::store::api_keys::{self, ApiKeyRecord, ApiKeyRow};
use crate::store::audit::{self, AuditEntry};
use crate::views::{ApiKeyView, CreatedApiKeyView, Page, created, no_content};
use crm_platform::auth::sha256_hex;
use crm_platform::db::DbError;
use crm_platform::http_kit::{ApiError, json_response};
use serde_json::json;
use spin_sdk::http::Response;

/// Prefix of the shared cache entry of a resolved key; its hash completes the name
/// (`crm_platform::auth::api_key_cache_key` of the key).
const CACHE_KEY_PREFIX: &str = "cache:api-key:";
/// New keys drawn when a public prefix is already taken (62⁸ prefixes: practically never).
const ATTEMPTS: usize = 3;

pub fn create_api_key(call: &Call<'_>) -> Result<Response, ApiError> {
    let new_key = body::json::<CreateApiKeyBody>(call.request)?.check()?;
    let now = Now::read();
    let id = uuid::Uuid::new_v4().to_string();
    let mut attempt = 0;
    let key = loop {
        let key = draw_key()?;
        attempt += 1;
        match insert_key(call, &id, &key, &new_key, &now) {
            Ok(()) => break key,
            Err(DbError::UniqueViolation { .. }) if attempt < ATTEMPTS => continue,
            Err(error) => return Err(error.into()),
        }
    };
    let body = CreatedApiKeyView {
        id: id.clone(),
        name: new_key.name,
        tier: new_key.tier,
        role: new_key.role.role(),
        prefix: key.public_prefix().to_owned(),
        key: key.as_str().to_owned(),
        created_at: now.timestamp,
    };
    created(&body, &format!("/api/api-keys/{id}"), call.request_id)
}

fn draw_key() -> Result<ApiKeyText, ApiError> {
    ApiKeyText::from_random(&random_bytes::<RANDOM_BYTES>()?)
        .ok_or_else(|| ApiError::internal("Failed to draw an API key", "too few usable bytes"))
}

fn insert_key(
    call: &Call<'_>,
    id: &str,
    key: &ApiKeyText,
    new_key: &NewApiKey,
    now: &Now,
) -> Result<(), DbError> {
    let row = ApiKeyRow {
        id,
        owner_id: &call.caller.id,
        name: &new_key.name,
        prefix: key.public_prefix(),
        key_hash: &sha256_hex(key.as_str().as_bytes()),
        tier: new_key.tier,
        role: new_key.role.role(),
        now: &now.timestamp,
    };
    let entry = AuditEntry {
        actor: Some(&call.caller.id),
        action: "api_key.create",
        entity_type: "api_key",
        entity_id: Some(id),
        details: json!({
            "name": new_key.name,
            "tier": new_key.tier,
            "role": new_key.role.role(),
            "prefix": key.public_prefix(),
        }),
    };
    call.db.transaction(|tx| {
        api_keys::insert(tx, &row)?;
        audit::record(tx, &entry, call.request_id, &now.timestamp)
    })
}

pub fn list_api_keys(call: &Call<'_>) -> Result<Response, ApiError> {
    let page = PageRequest::from_query(call.request.query()).map_err(ApiError::Unprocessable)?;
    let rows = api_keys::page(call.db, &page)?;
    let body = Page::of(rows, page.limit, cursor_of, |key| ApiKeyView::from(key));
    json_response(200, &body, call.request_id)
}

pub fn revoke_api_key(call: &Call<'_>) -> Result<Response, ApiError> {
    let id = call.path_id()?;
    let key = api_keys::find_by_id(call.db, id)?
        .ok_or_else(|| ApiError::NotFound(format!("No API key {id}.")))?;
    let now = Now::read();
    let entry = AuditEntry {
        actor: Some(&call.caller.id),
        action: "api_key.revoke",
        entity_type: "api_key",
        entity_id: Some(&key.id),
        details: json!({ "prefix": key.prefix }),
    };
    call.db.transaction(|tx| {
        if api_keys::revoke(tx, &key.id, &now.timestamp)? {
            audit::record(tx, &entry, call.request_id, &now.timestamp)?;
        }
        Ok(())
    })?;
    let bucket = kv::open(SHARED_STORE)?;
    bucket
        .delete(&cache_key_of_hash(&key.key_hash))
        .map_err(|error| kv::unavailable(SHARED_STORE, &error))?;
    Ok(no_content(call.request_id))
}

/// The shared cache entry of the key whose SHA-256 hex is `key_hash`.
fn cache_key_of_hash(key_hash: &str) -> String {
    format!("{CACHE_KEY_PREFIX}{key_hash}")
}

fn cursor_of(key: &ApiKeyRecord) -> Cursor {
    Cursor {
        created_at: key.created_at.clone(),
        id: key.id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_platform::auth::api_key_cache_key;

    #[test]
    fn the_cache_entry_named_from_the_stored_hash_is_the_one_the_kit_writes() {
        let keys = [
            "crm_abcd1234_0123456789abcdefghijklmnopqrstuv",
            "crm_ZZZZZZZZ_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
        ];
        for key in keys {
            let stored_hash = sha256_hex(key.as_bytes());

            assert_eq!(
                cache_key_of_hash(&stored_hash),
                api_key_cache_key(key),
                "{key}"
            );
        }
    }
}
