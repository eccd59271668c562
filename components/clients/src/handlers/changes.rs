//! The writes: create (with `Idempotency-Key`), replace, merge-patch, delete and purge.

use super::client_response;
use crate::conditional::{Precondition, stale};
use crate::store::idempotency::{self, KeptAnswer};
use crate::store::writes::{self, CREATED, UPDATED};
use crate::store::{self, ClientRecord};
use crate::{Call, not_found};
use crm_domain::auth::Role;
use crm_domain::clients::{ClientDraft, draft_from_json, merge_patch};
use crm_domain::timestamp::rfc3339_utc_from_unix_millis;
use crm_domain::{FieldError, RequestId};
use crm_platform::auth;
use crm_platform::db::DbError;
use crm_platform::http_kit::{self, ApiError, json_body};
use serde_json::Value as Json;
use spin_sdk::http::{Request, Response};

const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
const MERGE_PATCH: &str = "application/merge-patch+json";

/// `POST /api/clients`.
pub fn create(call: &Call<'_>) -> Result<Response, ApiError> {
    let body: Json = json_body(call.request)?;
    let key = idempotency_key(call.request)?;
    let subject = call.principal.subject.as_str();
    let request_hash = auth::sha256_hex(body.to_string().as_bytes());
    if let Some(key) = &key
        && let Some(kept) = idempotency::find(call.db, subject, key, &call.now)?
    {
        return replay(&kept, &request_hash, call.request_id);
    }
    let draft = draft_from_json(&body).map_err(ApiError::Unprocessable)?;
    let id = uuid::Uuid::now_v7().to_string();
    let actor = call.actor();
    let expires_at = rfc3339_utc_from_unix_millis(call.now_millis + idempotency::KEEP_MILLIS);
    let created = call.db.transaction(|db| {
        let record = writes::insert(db, &actor, &id, &draft, CREATED)?;
        if let Some(key) = &key {
            idempotency::sweep(db, subject, key, &call.now)?;
            let answer = KeptAnswer {
                request_hash: request_hash.clone(),
                status: 201,
                body: record.to_json().to_string(),
            };
            idempotency::keep(db, subject, key, &answer, &id, &call.now, &expires_at)?;
        }
        Ok(record)
    });
    match created {
        Ok(record) => client_response(201, &record, call.request_id),
        Err(DbError::UniqueViolation { .. }) => {
            // A concurrent request with the same key won: replay its answer.
            if let Some(key) = &key
                && let Some(kept) = idempotency::find(call.db, subject, key, &call.now)?
            {
                return replay(&kept, &request_hash, call.request_id);
            }
            Err(duplicate_or_conflict(call, &draft)?)
        }
        Err(error) => Err(error.into()),
    }
}

/// `PUT /api/clients/{id}`: the body is the whole client.
pub fn replace(call: &Call<'_>) -> Result<Response, ApiError> {
    let id = call.client_id()?;
    let body: Json = json_body(call.request)?;
    let precondition = Precondition::required(call.request)?;
    let current = store::find_live(call.db, id)?.ok_or_else(|| not_found(id))?;
    precondition.version_for(current.version)?;
    let draft = draft_from_json(&body).map_err(ApiError::Unprocessable)?;
    write_update(call, &current, draft)
}

/// `PATCH /api/clients/{id}`: a JSON Merge Patch of the writable fields.
pub fn patch(call: &Call<'_>) -> Result<Response, ApiError> {
    let id = call.client_id()?;
    require_merge_patch(call.request)?;
    let patch: Json = json_body(call.request)?;
    if !patch.is_object() {
        return Err(ApiError::Unprocessable(vec![FieldError::new(
            "$",
            "must be a JSON object (a merge patch of the client's fields)",
        )]));
    }
    let precondition = Precondition::required(call.request)?;
    let current = store::find_live(call.db, id)?.ok_or_else(|| not_found(id))?;
    precondition.version_for(current.version)?;
    let mut target = Json::Object(current.draft.to_json());
    merge_patch(&mut target, &patch);
    let draft = draft_from_json(&target).map_err(ApiError::Unprocessable)?;
    write_update(call, &current, draft)
}

/// `DELETE /api/clients/{id}`: soft delete, or `?purge=true` (admin) erasure.
pub fn delete(call: &Call<'_>) -> Result<Response, ApiError> {
    let id = call.client_id()?;
    let purge = purge_requested(call.request.query())?;
    if purge {
        auth::require(call.principal, Role::Admin)?;
    }
    let precondition = Precondition::required(call.request)?;
    let state = store::find_any(call.db, id)?
        .filter(|state| !state.erased && (purge || !state.deleted))
        .ok_or_else(|| not_found(id))?;
    let version = precondition.version_for(state.version)?;
    let actor = call.actor();
    let done = call.db.transaction(|db| {
        if purge {
            writes::erase(db, &actor, id, version)
        } else {
            writes::soft_delete(db, &actor, id, version)
        }
    })?;
    if !done {
        let current = store::find_any(call.db, id)?.map(|state| state.version);
        return Err(stale(current));
    }
    Ok(Response::builder()
        .status(204)
        .header(http_kit::REQUEST_ID_HEADER, call.request_id.as_str())
        .build())
}

/// Writes `draft` over `current` unless nothing changes (then 200 with the current client,
/// nothing written).
fn write_update(
    call: &Call<'_>,
    current: &ClientRecord,
    draft: ClientDraft,
) -> Result<Response, ApiError> {
    if current.draft == draft {
        return client_response(200, current, call.request_id);
    }
    let actor = call.actor();
    let updated = call
        .db
        .transaction(|db| writes::update(db, &actor, current, &draft, UPDATED));
    match updated {
        Ok(Some(record)) => client_response(200, &record, call.request_id),
        Ok(None) => Err(stale(
            store::find_any(call.db, &current.id)?.map(|state| state.version),
        )),
        Err(DbError::UniqueViolation { .. }) => Err(duplicate_or_conflict(call, &draft)?),
        Err(error) => Err(error.into()),
    }
}

/// 409 naming `email` when a live client has the draft's e-mail (the usual cause).
fn duplicate_or_conflict(call: &Call<'_>, draft: &ClientDraft) -> Result<ApiError, ApiError> {
    if store::find_live_by_email(call.db, draft.email.as_str())?.is_some() {
        return Ok(ApiError::Duplicate {
            field: "email".into(),
            detail: format!("A client with the e-mail {} already exists.", draft.email),
        });
    }
    Ok(ApiError::Conflict(
        "The change conflicts with another one made at the same time; retry.".into(),
    ))
}

/// The kept answer for the same body, or 422 for another body under the same key.
fn replay(
    kept: &KeptAnswer,
    request_hash: &str,
    request_id: &RequestId,
) -> Result<Response, ApiError> {
    if kept.request_hash != request_hash {
        return Err(ApiError::Unprocessable(vec![FieldError::new(
            "Idempotency-Key",
            "was already used with a different request body",
        )]));
    }
    let body: Json = serde_json::from_str(&kept.body)
        .map_err(|e| ApiError::internal("A kept idempotent answer is not JSON", e))?;
    let mut response = http_kit::json_response(kept.status, &body, request_id)?;
    response.set_header("idempotency-replayed", "true");
    if let (Some(id), Some(version)) = (body["id"].as_str(), body["version"].as_i64()) {
        response.set_header("location", format!("/api/clients/{id}"));
        response.set_header("etag", format!("\"{version}\""));
    }
    Ok(response)
}

/// The `Idempotency-Key` header: 1–255 visible ASCII characters, at most once.
fn idempotency_key(request: &Request) -> Result<Option<String>, ApiError> {
    let values: Vec<_> = request
        .headers()
        .filter(|(name, _)| name.eq_ignore_ascii_case(IDEMPOTENCY_KEY_HEADER))
        .collect();
    let bad = || {
        ApiError::BadRequest(
            "`Idempotency-Key` must be one header of 1 to 255 visible ASCII characters.".into(),
        )
    };
    match values.as_slice() {
        [] => Ok(None),
        [(_, value)] => {
            let key = value.as_str().ok_or_else(bad)?;
            let valid = (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
            if valid {
                Ok(Some(key.to_owned()))
            } else {
                Err(bad())
            }
        }
        _ => Err(bad()),
    }
}

/// PATCH bodies must say they are merge patches.
fn require_merge_patch(request: &Request) -> Result<(), ApiError> {
    let essence = http_kit::media_type(request);
    if essence.eq_ignore_ascii_case(MERGE_PATCH) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "A PATCH body is a JSON Merge Patch, sent with `content-type: {MERGE_PATCH}`."
        )))
    }
}

/// `purge=true|false`; any other parameter is refused.
fn purge_requested(query: &str) -> Result<bool, ApiError> {
    let mut purge = false;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match (name.as_ref(), value.as_ref()) {
            ("purge", "true") => purge = true,
            ("purge", "false") => purge = false,
            ("purge", _) => {
                return Err(ApiError::BadRequest(
                    "`purge` must be true or false.".into(),
                ));
            }
            ("", "") => {}
            (other, _) => {
                return Err(ApiError::BadRequest(format!(
                    "`{other}` is not a parameter here; parameters: purge"
                )));
            }
        }
    }
    Ok(purge)
}
