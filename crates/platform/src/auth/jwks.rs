//! The JWKS (RFC 7517) of `auth`'s Ed25519 keys: its types, fetching it over service
//! chaining, its copy in the shared KV store (`cache:jwks`), and when to refetch it.

use super::backend::{Backend, Reply};
use super::keys::JWKS_CACHE_KEY;
use super::{JWKS_PATH, JWKS_REFETCH_SECONDS, auth_unavailable, report};
use crate::api_error::ApiError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_domain::Level;
use jwt_simple::prelude::Ed25519PublicKey;
use serde::{Deserialize, Serialize};

/// Seconds after which a cached JWKS is refetched even without an unknown `kid`, so that a
/// key removed from `jwt_signing_keys` stops verifying within this long.
pub const JWKS_MAX_AGE_SECONDS: u64 = 300;

/// A JWKS document (RFC 7517) of Ed25519 keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub kid: String,
    /// base64url, no padding, of the 32-byte public key.
    pub x: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

/// A JWK that is not an Ed25519 signing key usable for EdDSA.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unusable JWK: {0}")]
pub struct UnusableJwk(&'static str);

impl Jwks {
    /// The key whose `kid` is `kid`.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|key| key.kid == kid)
    }
}

impl Jwk {
    /// The JWK of an Ed25519 public key used to sign EdDSA tokens.
    pub fn ed25519(kid: &str, public_key: &[u8; 32]) -> Jwk {
        Jwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            kid: kid.to_owned(),
            x: URL_SAFE_NO_PAD.encode(public_key),
            use_: "sig".to_owned(),
            alg: "EdDSA".to_owned(),
        }
    }

    /// The verifying key, if this is an Ed25519 signature key for EdDSA.
    pub fn public_key(&self) -> Result<Ed25519PublicKey, UnusableJwk> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(UnusableJwk("not an Ed25519 key"));
        }
        if self.alg != "EdDSA" || self.use_ != "sig" {
            return Err(UnusableJwk("not for EdDSA signatures"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.x)
            .map_err(|_| UnusableJwk("x is not base64url"))?;
        if bytes.len() != 32 {
            return Err(UnusableJwk("x is not 32 bytes"));
        }
        Ed25519PublicKey::from_bytes(&bytes).map_err(|_| UnusableJwk("x is not a public key"))
    }
}

/// The value stored under `cache:jwks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedJwks {
    pub jwks: Jwks,
    /// Unix seconds when it was fetched from `auth`.
    pub fetched_at: u64,
}

impl CachedJwks {
    /// Whether an unknown `kid` may cause a refetch now: the copy is at least
    /// [`JWKS_REFETCH_SECONDS`] old (or stamped implausibly far in the future).
    pub fn may_refetch(&self, now: u64) -> bool {
        now.saturating_sub(self.fetched_at) >= JWKS_REFETCH_SECONDS
            || self.fetched_at > now.saturating_add(JWKS_REFETCH_SECONDS)
    }

    /// Whether the copy is older than [`JWKS_MAX_AGE_SECONDS`] and should be replaced.
    pub fn is_expired(&self, now: u64) -> bool {
        now.saturating_sub(self.fetched_at) >= JWKS_MAX_AGE_SECONDS
    }
}

/// The JWKS to verify with, and whether this request already asked `auth` for it.
#[derive(Debug)]
pub(crate) struct CurrentJwks {
    pub cached: CachedJwks,
    pub fetched: bool,
}

/// The cached JWKS, refreshed from `auth` when missing or expired; an expired copy is still
/// used when `auth` cannot be reached.
pub(crate) async fn current_jwks(backend: &impl Backend) -> Result<CurrentJwks, ApiError> {
    let cached = match load_cached(backend) {
        Some(cached) if !cached.is_expired(backend.now()) => {
            return Ok(CurrentJwks {
                cached,
                fetched: false,
            });
        }
        Some(expired) => fetch_and_cache(backend).await.unwrap_or_else(|error| {
            report(Level::Warn, "using an expired JWKS: refetch failed")
                .field("cause", error.to_string())
                .emit();
            expired
        }),
        None => fetch_and_cache(backend).await?,
    };
    Ok(CurrentJwks {
        cached,
        fetched: true,
    })
}

/// The copy in KV, if there is a readable one (a KV failure is logged and counts as none).
pub(crate) fn load_cached(backend: &impl Backend) -> Option<CachedJwks> {
    let bytes = match backend.kv_get(JWKS_CACHE_KEY) {
        Ok(bytes) => bytes?,
        Err(cause) => {
            report(Level::Warn, "cannot read the cached JWKS")
                .field("cause", cause)
                .emit();
            return None;
        }
    };
    serde_json::from_slice(&bytes)
        .inspect_err(|_| report(Level::Warn, "ignoring an unreadable cached JWKS").emit())
        .ok()
}

/// Fetches the JWKS from `auth` and stores it in KV (a failed write is only logged).
pub(crate) async fn fetch_and_cache(backend: &impl Backend) -> Result<CachedJwks, ApiError> {
    let reply = backend
        .get(JWKS_PATH)
        .await
        .map_err(|cause| auth_unavailable(&cause))?;
    let jwks = parse_jwks_reply(&reply).map_err(|cause| auth_unavailable(&cause))?;
    let cached = CachedJwks {
        jwks,
        fetched_at: backend.now(),
    };
    report(Level::Info, "fetched the JWKS")
        .field("kids", kids(&cached.jwks))
        .emit();
    store(backend, &cached);
    Ok(cached)
}

fn store(backend: &impl Backend, cached: &CachedJwks) {
    let written = serde_json::to_vec(cached)
        .map_err(|error| error.to_string())
        .and_then(|bytes| backend.kv_set(JWKS_CACHE_KEY, &bytes));
    if let Err(cause) = written {
        report(Level::Warn, "cannot cache the JWKS")
            .field("cause", cause)
            .emit();
    }
}

/// The JWKS in a 200 answer of `auth`; anything else is an error naming the status.
pub(crate) fn parse_jwks_reply(reply: &Reply) -> Result<Jwks, String> {
    if reply.status != 200 {
        return Err(format!("JWKS request answered {}", reply.status));
    }
    serde_json::from_slice(&reply.body).map_err(|error| format!("JWKS is unreadable: {error}"))
}

fn kids(jwks: &Jwks) -> String {
    let kids: Vec<&str> = jwks.keys.iter().map(|key| key.kid.as_str()).collect();
    kids.join(",")
}

#[cfg(test)]
#[path = "jwks_tests.rs"]
mod tests;
