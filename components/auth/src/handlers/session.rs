//! `POST /api/auth/refresh` (rotate a refresh token; a rotated one coming back revokes its
//! family) and `POST /api/auth/revoke` (log out: revoke the family; always 204).

use crate::COMPONENT;
use crate::body;
use crate::inputs::RefreshBody;
use crate::now::Now;
use crate::refresh_rotation::{Presentation, PresentedToken, is_well_formed, token_hash};
use crate::sessions;
use crate::settings::Settings;
use crate::store::audit::{self, AuditEntry};
use crate::store::refresh_tokens::{self, RefreshRecord};
use crate::store::users;
use crate::views::{no_content, token_response};
use crm_domain::{Level, LogLine, RequestId};
use crm_platform::db::Database;
use crm_platform::http_kit::ApiError;
use crm_platform::log;
use serde_json::json;
use spin_sdk::http::{Request, Response};

const REFUSED: &str = "The refresh token is invalid, expired or revoked.";
const REUSE_DETECTED: &str = "refresh_token.reuse_detected";

pub fn refresh_session(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let presented: RefreshBody = body::json(request)?;
    let db = Database::open()?;
    let Some(record) = stored_token(&db, &presented.refresh_token)? else {
        return Err(ApiError::invalid_token(REFUSED));
    };
    let settings = Settings::from_variables()?;
    let now = Now::read();
    let user = users::find_by_id(&db, &record.user_id)?;
    let token = PresentedToken {
        rotated: record.rotated,
        revoked: record.revoked,
        expires_at: &record.expires_at,
        user_active: user.as_ref().is_some_and(|user| !user.disabled),
    };
    match (Presentation::of(&token, &now.timestamp), &user) {
        (Presentation::Rotate, Some(user)) => {
            if let Some(pair) = sessions::rotate(&db, &record, user, &settings, &now)? {
                return token_response(&pair, request_id);
            }
            // A concurrent request rotated it between our read and our claim: reuse.
            revoke_family(&db, &record, request_id, &now, REUSE_DETECTED)?;
        }
        (Presentation::ReuseDetected, _) => {
            revoke_family(&db, &record, request_id, &now, REUSE_DETECTED)?;
        }
        (Presentation::Expired, _) => {}
        _ => {
            refresh_tokens::revoke_family(&db, &record.family_id, &now.timestamp)?;
        }
    }
    Err(ApiError::invalid_token(REFUSED))
}

pub fn revoke_session(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let presented: RefreshBody = body::json(request)?;
    let db = Database::open()?;
    if let Some(record) = stored_token(&db, &presented.refresh_token)? {
        revoke_family(
            &db,
            &record,
            request_id,
            &Now::read(),
            "refresh_token.revoke",
        )?;
    }
    Ok(no_content(request_id))
}

fn stored_token(db: &Database, text: &str) -> Result<Option<RefreshRecord>, ApiError> {
    if !is_well_formed(text) {
        return Ok(None);
    }
    Ok(refresh_tokens::find_by_hash(db, &token_hash(text))?)
}

/// Revokes the token's family and audits `action`; a reuse is also logged as a warning.
fn revoke_family(
    db: &Database,
    record: &RefreshRecord,
    request_id: &RequestId,
    now: &Now,
    action: &str,
) -> Result<(), ApiError> {
    let entry = AuditEntry {
        actor: Some(&record.user_id),
        action,
        entity_type: "refresh_token_family",
        entity_id: Some(&record.family_id),
        details: json!({ "token_id": record.id }),
    };
    let revoked = db.transaction(|tx| {
        let revoked = refresh_tokens::revoke_family(tx, &record.family_id, &now.timestamp)?;
        audit::record(tx, &entry, request_id, &now.timestamp)?;
        Ok(revoked)
    })?;
    if action == REUSE_DETECTED {
        log::emit(
            LogLine::new(
                Level::Warn,
                COMPONENT,
                "refresh token reused: family revoked",
            )
            .field("request_id", request_id.as_str())
            .field("user_id", record.user_id.as_str())
            .field("family_id", record.family_id.as_str())
            .field("revoked", revoked),
        );
    }
    Ok(())
}
