//! Who calls one of auth's protected routes, checked locally: an access token verified with
//! auth's own JWKS (no chaining to itself), its user re-read from the database (a disabled
//! or deleted user is refused, and the current role counts). API keys are never users, so
//! they are refused on every protected route auth serves (all are for users or admins).

use crate::api_key_format::ApiKeyText;
use crate::now::Now;
use crate::signing_key_source;
use crate::store::api_keys;
use crate::store::users::{self, UserRecord};
use crm_domain::auth::routes::Access;
use crm_domain::auth::{Role, Tier};
use crm_platform::auth::{Credential, TokenRules, credential, sha256_hex, verify_access_token};
use crm_platform::db::Database;
use crm_platform::http_kit::ApiError;
use spin_sdk::http::Request;

const INVALID_TOKEN: &str = "The access token is missing, invalid or expired.";

/// The signed-in user allowed by `access`, or 401 / 403.
pub fn authenticate(
    request: &Request,
    access: Access,
    db: &Database,
) -> Result<UserRecord, ApiError> {
    let user = match credential(request) {
        None => return Err(ApiError::invalid_token(INVALID_TOKEN)),
        Some(Credential::ApiKey(key)) => return Err(refuse_api_key(db, &key, access)),
        Some(Credential::Bearer(token)) => user_of_token(db, &token)?,
    };
    if access == Access::Admin && user.role != Role::Admin {
        return Err(ApiError::Forbidden("This route is for admins.".to_owned()));
    }
    // Users are limited at the `standard` tier (API keys are refused on these routes).
    crm_platform::rate_limit::limit_subject("user", &user.id, Tier::Standard)?;
    Ok(user)
}

fn user_of_token(db: &Database, token: &str) -> Result<UserRecord, ApiError> {
    let keys = signing_key_source::load()?;
    let rules = TokenRules::from_variables()?;
    let principal = verify_access_token(token, &keys.jwks(), &rules)
        .map_err(|_| ApiError::invalid_token(INVALID_TOKEN))?;
    users::find_by_id(db, &principal.subject)?
        .filter(|user| !user.disabled)
        .ok_or_else(|| ApiError::invalid_token(INVALID_TOKEN))
}

/// 403 for a usable key (keys are never admins, and are not users); 401 otherwise.
fn refuse_api_key(db: &Database, key: &str, access: Access) -> ApiError {
    let usable = ApiKeyText::parse(key).map(|key| {
        api_keys::find_usable_by_hash(
            db,
            &sha256_hex(key.as_str().as_bytes()),
            &Now::read().timestamp,
        )
    });
    match usable {
        Some(Ok(Some(_))) => ApiError::Forbidden(
            match access {
                Access::Admin => "API keys cannot manage users or keys; sign in as an admin.",
                _ => "This route is for signed-in users, not API keys.",
            }
            .to_owned(),
        ),
        Some(Err(error)) => error.into(),
        _ => ApiError::invalid_token("The API key is unknown, revoked or expired."),
    }
}
