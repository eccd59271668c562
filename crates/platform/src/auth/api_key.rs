//! API keys: resolving one through `auth`'s private route (service chaining), and the
//! shared 30 s cache of resolved keys in KV (`cache:api-key:<sha256 hex>`).

use super::backend::{Backend, Reply};
use super::keys::api_key_cache_key;
use super::{API_KEY_CACHE_SECONDS, RESOLVE_API_KEY_PATH, auth_unavailable, report};
use crate::api_error::ApiError;
use crm_domain::Level;
use crm_domain::auth::{Principal, Role, Tier};
use serde::{Deserialize, Serialize};

/// The answer of auth's private resolve route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedApiKey {
    pub subject: String,
    pub role: Role,
    pub tier: Tier,
}

/// Request body of the resolve route: `{"key": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolveApiKey {
    pub key: String,
}

/// The value stored under `cache:api-key:<sha256 hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedApiKey {
    pub resolved: ResolvedApiKey,
    /// Unix seconds when `auth` resolved it.
    pub cached_at: u64,
}

impl CachedApiKey {
    /// Fresh for [`API_KEY_CACHE_SECONDS`] from `cached_at`; an entry stamped in the future
    /// (another instance's clock) counts as fresh only within that same window.
    pub fn is_fresh(&self, now: u64) -> bool {
        now.abs_diff(self.cached_at) < API_KEY_CACHE_SECONDS
    }
}

impl ResolvedApiKey {
    /// The principal of a request made with this key.
    pub fn principal(&self) -> Principal {
        Principal::api_key(self.subject.clone(), self.role, self.tier)
    }
}

/// What `auth` said about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution {
    Known(ResolvedApiKey),
    Unknown,
}

/// The principal of `key`: from the KV cache while fresh, else from `auth` (and then cached).
/// 401 when `auth` does not know the key, 503 when it cannot be asked.
pub(crate) async fn resolve_api_key(
    backend: &impl Backend,
    key: &str,
) -> Result<Principal, ApiError> {
    let cache_key = api_key_cache_key(key);
    let now = backend.now();
    if let Some(cached) = load_cached(backend, &cache_key).filter(|entry| entry.is_fresh(now)) {
        return Ok(cached.resolved.principal());
    }
    let body = serde_json::to_vec(&ResolveApiKey {
        key: key.to_owned(),
    })
    .map_err(|error| ApiError::internal("Failed to encode the resolve request", error))?;
    let reply = backend
        .post_json(RESOLVE_API_KEY_PATH, body)
        .await
        .map_err(|cause| auth_unavailable(&cause))?;
    match interpret_resolve_reply(&reply).map_err(|cause| auth_unavailable(&cause))? {
        Resolution::Known(resolved) => {
            store(backend, &cache_key, resolved.clone(), backend.now());
            Ok(resolved.principal())
        }
        Resolution::Unknown => {
            report(Level::Info, "API key refused: unknown, revoked or expired").emit();
            Err(ApiError::invalid_token("The API key is not valid."))
        }
    }
}

/// 200 with a resolved key, 404 for an unknown one; anything else is an error naming it.
pub(crate) fn interpret_resolve_reply(reply: &Reply) -> Result<Resolution, String> {
    match reply.status {
        200 => serde_json::from_slice(&reply.body)
            .map(Resolution::Known)
            .map_err(|error| format!("resolve answer is unreadable: {error}")),
        404 => Ok(Resolution::Unknown),
        status => Err(format!("resolve request answered {status}")),
    }
}

fn load_cached(backend: &impl Backend, cache_key: &str) -> Option<CachedApiKey> {
    let bytes = match backend.kv_get(cache_key) {
        Ok(bytes) => bytes?,
        Err(cause) => {
            report(Level::Warn, "cannot read the API key cache")
                .field("cause", cause)
                .emit();
            return None;
        }
    };
    serde_json::from_slice(&bytes).ok()
}

fn store(backend: &impl Backend, cache_key: &str, resolved: ResolvedApiKey, now: u64) {
    let entry = CachedApiKey {
        resolved,
        cached_at: now,
    };
    let written = serde_json::to_vec(&entry)
        .map_err(|error| error.to_string())
        .and_then(|bytes| backend.kv_set(cache_key, &bytes));
    if let Err(cause) = written {
        report(Level::Warn, "cannot cache a resolved API key")
            .field("cause", cause)
            .emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved() -> ResolvedApiKey {
        ResolvedApiKey {
            subject: "key-id-1".to_owned(),
            role: Role::Viewer,
            tier: Tier::Standard,
        }
    }

    #[test]
    fn a_cache_entry_is_fresh_for_thirty_seconds() {
        let now = 1_000_000;
        let cases = [
            (now, true, "just cached"),
            (now - 29, true, "29 s old"),
            (now - 30, false, "30 s old"),
            (now - 3600, false, "an hour old"),
            (now + 10, true, "slightly in the future (clock skew)"),
            (now + 3600, false, "far in the future"),
        ];
        for (cached_at, expected, reason) in cases {
            let entry = CachedApiKey {
                resolved: resolved(),
                cached_at,
            };

            assert_eq!(entry.is_fresh(now), expected, "{reason}");
        }
    }

    #[test]
    fn the_cache_entry_has_the_documented_json_shape() {
        let entry = CachedApiKey {
            resolved: resolved(),
            cached_at: 42,
        };

        let json = serde_json::to_value(&entry).expect("serializes");

        let expected = serde_json::json!({
            "resolved": {"subject": "key-id-1", "role": "viewer", "tier": "standard"},
            "cached_at": 42,
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn resolve_replies_are_interpreted_by_status() {
        let body = serde_json::to_vec(&resolved()).expect("serializes");
        let reply = |status: u16, body: &[u8]| Reply {
            status,
            body: body.to_vec(),
        };
        let cases = [
            (
                reply(200, &body),
                Ok(Resolution::Known(resolved())),
                "known key",
            ),
            (reply(404, b""), Ok(Resolution::Unknown), "unknown key"),
            (
                reply(500, b""),
                Err("resolve request answered 500"),
                "server error",
            ),
            (
                reply(403, b""),
                Err("resolve request answered 403"),
                "not granted",
            ),
        ];
        for (reply, expected, reason) in cases {
            let outcome = interpret_resolve_reply(&reply);

            assert_eq!(outcome, expected.map_err(str::to_owned), "{reason}");
        }
    }

    #[test]
    fn an_unreadable_resolve_answer_is_an_error() {
        let reply = Reply {
            status: 200,
            body: br#"{"subject":"k","role":"owner","tier":"free"}"#.to_vec(),
        };

        let error = interpret_resolve_reply(&reply).expect_err("unknown role");

        assert!(error.starts_with("resolve answer is unreadable"), "{error}");
    }

    #[test]
    fn a_resolved_key_is_an_api_key_principal() {
        let principal = resolved().principal();

        assert_eq!(
            principal,
            Principal::api_key("key-id-1", Role::Viewer, Tier::Standard)
        );
    }
}
