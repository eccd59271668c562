//! Sessions: a refresh-token family opened at login, rotated at refresh, and the access
//! token that comes with each.

use crate::access_token::{AccessGrant, sign_access_token};
use crate::now::Now;
use crate::random::random_bytes;
use crate::refresh_rotation::{REFRESH_TOKEN_BYTES, family_expiry, token_hash, token_text};
use crate::settings::Settings;
use crate::signing_key_source;
use crate::store::audit::{self, AuditEntry};
use crate::store::refresh_tokens::{self, RefreshRecord, RefreshRow};
use crate::store::users::UserRecord;
use crate::views::TokenPair;
use crm_domain::RequestId;
use crm_platform::auth::TokenRules;
use crm_platform::db::Database;
use crm_platform::http_kit::ApiError;
use serde_json::json;
use uuid::Uuid;

/// A fresh refresh token: its text for the client and its row's id.
struct NewRefreshToken {
    id: String,
    text: String,
}

impl NewRefreshToken {
    fn draw() -> Result<NewRefreshToken, ApiError> {
        Ok(NewRefreshToken {
            id: Uuid::new_v4().to_string(),
            text: token_text(&random_bytes::<REFRESH_TOKEN_BYTES>()?),
        })
    }
}

/// Opens a new family for `user` (a login, audited as `user.login`) and returns its first
/// token pair.
pub fn open_family(
    db: &Database,
    user: &UserRecord,
    settings: &Settings,
    now: &Now,
    request_id: &RequestId,
) -> Result<TokenPair, ApiError> {
    let token = NewRefreshToken::draw()?;
    let family_id = Uuid::new_v4().to_string();
    let expires_at = family_expiry(now.unix_millis, settings.refresh_token_ttl_days);
    let row = RefreshRow {
        id: &token.id,
        user_id: &user.id,
        family_id: &family_id,
        token_hash: &token_hash(&token.text),
        issued_at: &now.timestamp,
        expires_at: &expires_at,
    };
    let entry = AuditEntry {
        actor: Some(&user.id),
        action: "user.login",
        entity_type: "refresh_token_family",
        entity_id: Some(&family_id),
        details: json!({}),
    };
    db.transaction(|tx| {
        refresh_tokens::insert(tx, &row)?;
        audit::record(tx, &entry, request_id, &now.timestamp)
    })?;
    token_pair(user, settings, token.text)
}

/// Rotates `presented` into a successor that keeps the family's expiry. `None` when a
/// concurrent request rotated or revoked it first (then it counts as reuse).
pub fn rotate(
    db: &Database,
    presented: &RefreshRecord,
    user: &UserRecord,
    settings: &Settings,
    now: &Now,
) -> Result<Option<TokenPair>, ApiError> {
    let successor = NewRefreshToken::draw()?;
    let successor_hash = token_hash(&successor.text);
    let rotated = db.transaction(|tx| {
        if !refresh_tokens::claim(tx, &presented.id, &now.timestamp)? {
            return Ok(false);
        }
        refresh_tokens::insert(
            tx,
            &RefreshRow {
                id: &successor.id,
                user_id: &presented.user_id,
                family_id: &presented.family_id,
                token_hash: &successor_hash,
                issued_at: &now.timestamp,
                expires_at: &presented.expires_at,
            },
        )?;
        refresh_tokens::link_successor(tx, &presented.id, &successor.id)?;
        Ok(true)
    })?;
    if !rotated {
        return Ok(None);
    }
    token_pair(user, settings, successor.text).map(Some)
}

fn token_pair(
    user: &UserRecord,
    settings: &Settings,
    refresh_token: String,
) -> Result<TokenPair, ApiError> {
    let keys = signing_key_source::load()?;
    let rules = TokenRules::from_variables()?;
    let token_id = Uuid::new_v4().to_string();
    let grant = AccessGrant {
        user_id: &user.id,
        role: user.role,
        ttl_seconds: settings.access_token_ttl_seconds,
        token_id: &token_id,
    };
    Ok(TokenPair {
        access_token: sign_access_token(keys.active(), &rules, &grant)?,
        token_type: "Bearer",
        expires_in: settings.access_token_ttl_seconds,
        refresh_token,
    })
}
