//! Where the signing keys come from: the secret variable `jwt_signing_keys`, or, when it is
//! empty (local runs), one key generated once and kept in the `auth` store under
//! `auth:signing-key` (written only if absent, then read back so every instance signs with
//! the stored one).

use crate::COMPONENT;
use crate::kv::{self, AUTH_STORE};
use crate::random::random_bytes;
use crate::signing_keys::{SEED_BYTES, SigningKey, SigningKeys, encode_entry};
use crm_domain::{Level, LogLine};
use crm_platform::auth::sha256_hex;
use crm_platform::http_kit::ApiError;
use crm_platform::log;
use spin_sdk::wit::wasi::keyvalue::atomics::{self, Cas, CasError};
use spin_sdk::wit::wasi::keyvalue::store::Bucket;

/// The secret variable listing the keys.
pub const SIGNING_KEYS_VARIABLE: &str = "jwt_signing_keys";
/// Where the generated key lives in the `auth` store.
pub const GENERATED_KEY: &str = "auth:signing-key";

/// The keys tokens are signed and verified with.
pub fn load() -> Result<SigningKeys, ApiError> {
    let configured = spin_sdk::variables::get(SIGNING_KEYS_VARIABLE)
        .map_err(|error| ApiError::internal("Failed to read `jwt_signing_keys`", error))?;
    match SigningKeys::parse(&configured) {
        Ok(Some(keys)) => Ok(keys),
        Ok(None) => generated(),
        Err(error) => Err(ApiError::internal("Invalid `jwt_signing_keys`", error)),
    }
}

/// The stored generated key, generating and storing it first if there is none.
fn generated() -> Result<SigningKeys, ApiError> {
    let bucket = kv::open(AUTH_STORE)?;
    if let Some(keys) = stored(&bucket)? {
        return Ok(keys);
    }
    let entry = new_entry()?;
    store_if_absent(&bucket, &entry)?;
    let keys = stored(&bucket)?.ok_or_else(|| {
        ApiError::internal(
            "Failed to keep the generated signing key",
            "absent after writing",
        )
    })?;
    log::emit(
        LogLine::new(
            Level::Warn,
            COMPONENT,
            "jwt_signing_keys is empty: signing with a generated key kept in the `auth` store; \
             set jwt_signing_keys (kid=seed pairs) outside local runs",
        )
        .field("kid", keys.active().kid()),
    );
    Ok(keys)
}

fn stored(bucket: &Bucket) -> Result<Option<SigningKeys>, ApiError> {
    let Some(bytes) = bucket
        .get(GENERATED_KEY)
        .map_err(|error| kv::unavailable(AUTH_STORE, &error))?
    else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| ApiError::internal("Unreadable generated signing key", "not UTF-8"))?;
    SigningKeys::parse(&text)
        .map_err(|error| ApiError::internal("Unreadable generated signing key", error))
}

/// `kid=seed` for a fresh seed; the kid is derived from the public key.
fn new_entry() -> Result<String, ApiError> {
    let seed = random_bytes::<SEED_BYTES>()?;
    let key = SigningKey::from_seed("generated", &seed)
        .map_err(|error| ApiError::internal("Failed to generate a signing key", error))?;
    let kid = format!("local-{}", &sha256_hex(key.public_key())[..16]);
    Ok(encode_entry(&kid, &seed))
}

/// Compare-and-swap against "absent": a concurrent writer's value is kept.
fn store_if_absent(bucket: &Bucket, entry: &str) -> Result<(), ApiError> {
    let unavailable = |error| kv::unavailable(AUTH_STORE, &error);
    let cas = Cas::new(bucket, GENERATED_KEY).map_err(unavailable)?;
    if cas.current().map_err(unavailable)?.is_some() {
        return Ok(());
    }
    match atomics::swap(cas, entry.as_bytes()) {
        Ok(()) | Err(CasError::CasFailed(_)) => Ok(()),
        Err(CasError::StoreError(error)) => Err(unavailable(error)),
    }
}
