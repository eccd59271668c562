//! The verification kit (`crm_platform::auth`): who is calling, from an API key or an EdDSA
//! access token, with public material only (docs/auth.md, "The verification kit").

mod api_key;
mod backend;
mod credential;
mod jwks;
mod keys;
mod token;

#[cfg(test)]
mod access_token_tests;
#[cfg(test)]
mod fake_backend;
#[cfg(test)]
mod test_tokens;
#[cfg(test)]
mod tests;

pub use api_key::{CachedApiKey, ResolveApiKey, ResolvedApiKey};
pub use credential::{
    API_KEY_HEADER, API_KEY_PREFIX, Credential, MAX_CREDENTIAL_BYTES, credential, parse_credential,
};
pub use crm_domain::auth::{Principal, PrincipalKind, Role, Tier};
pub use jwks::{CachedJwks, JWKS_MAX_AGE_SECONDS, Jwk, Jwks, UnusableJwk};
pub use keys::{JWKS_CACHE_KEY, SHARED_STORE, api_key_cache_key, disabled_user_key, sha256_hex};
pub use token::{
    ACCESS_TOKEN_ALGORITHM, AccessClaims, CLOCK_TOLERANCE_SECONDS, JWT_AUDIENCE_VARIABLE,
    JWT_ISSUER_VARIABLE, MAX_TOKEN_BYTES, TokenError, TokenRules, verify_access_token,
    verify_access_token_at,
};

use crate::api_error::ApiError;
use backend::{Backend, SpinBackend};
use crm_domain::{Level, LogLine};
use spin_sdk::http::Request;

/// Where `auth` is reached by Spin service chaining, and its private/public paths.
pub const AUTH_SERVICE: &str = "http://auth.spin.internal";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
pub const RESOLVE_API_KEY_PATH: &str = "/internal/api-keys/resolve";
/// Seconds a resolved API key stays in the shared cache.
pub const API_KEY_CACHE_SECONDS: u64 = 30;
/// Least seconds between two JWKS refetches caused by an unknown `kid`.
pub const JWKS_REFETCH_SECONDS: u64 = 60;

/// Name under which the kit's log lines appear (it runs inside other components).
const LOG_COMPONENT: &str = "auth-kit";

/// The full check for components other than `auth` (chains to auth, caches in KV
/// `default`, refuses disabled users). 401 problem+json with
/// `WWW-Authenticate: Bearer realm="crm-api", error="invalid_token"` when the credential is
/// missing or invalid; 503 when `auth` cannot be reached.
/// The caller is then limited by its tier (`crate::rate_limit`): 429 when over.
pub async fn authenticate(request: &Request) -> Result<Principal, ApiError> {
    let principal = authenticate_with(&SpinBackend::default(), credential(request)).await?;
    crate::rate_limit::limit_principal(&principal)?;
    Ok(principal)
}

/// 403 problem+json unless `principal.may(role)`.
pub fn require(principal: &Principal, role: Role) -> Result<(), ApiError> {
    if principal.may(role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "This requires the {role} role; the caller is {}.",
            principal.role
        )))
    }
}

/// [`authenticate`] with its I/O behind `backend`.
pub(crate) async fn authenticate_with(
    backend: &impl Backend,
    credential: Option<Credential>,
) -> Result<Principal, ApiError> {
    match credential {
        None => Err(ApiError::invalid_token(
            "Send an access token or an API key.",
        )),
        Some(Credential::ApiKey(key)) => api_key::resolve_api_key(backend, &key).await,
        Some(Credential::Bearer(token)) => authenticate_access_token(backend, &token).await,
    }
}

/// Verifies with the cached JWKS; an unknown `kid` refetches it (at most once a
/// [`JWKS_REFETCH_SECONDS`]) and verifies once more; then refuses disabled users.
async fn authenticate_access_token(
    backend: &impl Backend,
    token: &str,
) -> Result<Principal, ApiError> {
    let rules = backend.token_rules()?;
    let current = jwks::current_jwks(backend).await?;
    let now = backend.now();
    let verified = match verify_access_token_at(token, &current.cached.jwks, &rules, now) {
        Err(TokenError::UnknownKey(kid)) if !current.fetched && current.cached.may_refetch(now) => {
            report(Level::Info, "unknown kid: refetching the JWKS")
                .field("kid", loggable(&kid))
                .emit();
            let fresh = jwks::fetch_and_cache(backend).await?;
            verify_access_token_at(token, &fresh.jwks, &rules, backend.now())
        }
        other => other,
    };
    let principal = verified.map_err(|error| {
        report(Level::Info, "access token refused")
            .field("reason", loggable(&error.to_string()))
            .emit();
        ApiError::invalid_token("The access token is not valid.")
    })?;
    refuse_disabled_user(backend, principal)
}

/// At most 80 characters of attacker-supplied text (a `kid`) for a log line.
fn loggable(text: &str) -> String {
    text.chars().take(80).collect()
}

/// Refuses a user whose `auth:disabled:<id>` marker exists; fails closed (503) when the
/// store cannot be read.
fn refuse_disabled_user(
    backend: &impl Backend,
    principal: Principal,
) -> Result<Principal, ApiError> {
    let disabled = backend
        .kv_exists(&disabled_user_key(&principal.subject))
        .map_err(|cause| auth_unavailable(&cause))?;
    if disabled {
        report(Level::Info, "access token refused: the user is disabled").emit();
        return Err(ApiError::invalid_token("The access token is not valid."));
    }
    Ok(principal)
}

/// 503 for a dependency of the kit (`auth`, the shared store); the cause is only logged.
pub(crate) fn auth_unavailable(cause: &str) -> ApiError {
    ApiError::dependency_unavailable("Authentication is temporarily unavailable.", cause)
}

/// A log line of the kit, emitted with [`Report::emit`]. Never give it a credential.
pub(crate) struct Report(LogLine);

pub(crate) fn report(level: Level, message: &str) -> Report {
    Report(LogLine::new(level, LOG_COMPONENT, message))
}

impl Report {
    pub(crate) fn field(self, name: &str, value: impl Into<serde_json::Value>) -> Report {
        Report(self.0.field(name, value))
    }

    pub(crate) fn emit(self) {
        crate::log::emit(self.0);
    }
}
