//! Key-value probes for health checks, through `wasi:keyvalue` (rule 6: the same
//! code runs on Spin's SQLite-backed default store and on Redis).

use spin_sdk::wit::wasi::keyvalue::store::{self, Error};
use uuid::Uuid;

/// Writes a unique key in store `label`, reads it back, compares and deletes it.
/// The error is short and non-sensitive.
pub fn kv_round_trip(label: &str) -> Result<(), String> {
    let bucket = store::open(label).map_err(|error| unavailable(&error))?;
    let key = format!("health:probe:{}", Uuid::new_v4());
    let written = Uuid::new_v4().to_string();
    bucket
        .set(&key, written.as_bytes())
        .map_err(|error| unavailable(&error))?;
    let read_back = bucket.get(&key);
    let deleted = bucket.delete(&key);
    let read_back = read_back.map_err(|error| unavailable(&error))?;
    deleted.map_err(|error| unavailable(&error))?;
    match read_back {
        Some(value) if value == written.as_bytes() => Ok(()),
        Some(_) => Err("key-value store returned a different value than written".to_owned()),
        None => Err("key-value store lost a value it had just written".to_owned()),
    }
}

/// A number as stored in a key-value store: decimal text (what `set` writes, and Redis'
/// `INCRBY`), or the 8-byte little-endian counter Spin's SQLite-backed store's `increment`
/// keeps. Anything else reads as 0.
pub fn stored_number(bytes: &[u8]) -> u64 {
    if !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) {
        return std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
    }
    match <[u8; 8]>::try_from(bytes) {
        Ok(raw) => i64::from_le_bytes(raw).max(0) as u64,
        Err(_) => 0,
    }
}

/// Compare-and-swap rounds before [`update`] gives up (each lost round means another
/// replica changed the key meanwhile).
const MAX_CAS_ROUNDS: u32 = 64;

/// Sets `key` to `f(current)` by compare-and-swap (`f` returning `None` leaves it as it
/// is); returns what was stored. A key that does not exist yet is created by an atomic
/// `increment` first (so `f` may see the number 0 in either stored form), because a swap
/// on an absent key is a plain write on Spin's SQLite store (not atomic).
pub fn update(
    bucket: &store::Bucket,
    key: &str,
    mut f: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
) -> Result<Option<Vec<u8>>, String> {
    use spin_sdk::wit::wasi::keyvalue::atomics::{self, Cas, CasError};
    let failed = |e: &Error| format!("key-value store failed: {}", kv_error_name(e));
    for _ in 0..MAX_CAS_ROUNDS {
        if bucket.exists(key).map_err(|e| failed(&e))? {
            let cas = Cas::new(bucket, key).map_err(|e| failed(&e))?;
            let current = cas.current().map_err(|e| failed(&e))?;
            let Some(next) = f(current.as_deref()) else {
                return Ok(None);
            };
            match atomics::swap(cas, &next) {
                Ok(()) => return Ok(Some(next)),
                Err(CasError::CasFailed(_)) => continue,
                Err(CasError::StoreError(e)) => return Err(failed(&e)),
            }
        }
        // Creates the key as 0 once; a concurrent creator's value is kept.
        let _ = atomics::increment(bucket, key, 0);
    }
    Err("key-value compare-and-swap kept losing".into())
}

fn unavailable(error: &Error) -> String {
    format!("key-value store unavailable: {}", kv_error_name(error))
}

/// The variant name of a key-value error, without its (possibly sensitive) payload.
pub fn kv_error_name(error: &Error) -> &'static str {
    match error {
        Error::NoSuchStore => "NoSuchStore",
        Error::AccessDenied => "AccessDenied",
        Error::Other(_) => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_in_both_stored_forms() {
        assert_eq!(stored_number(b"1764160000123"), 1_764_160_000_123);
        assert_eq!(stored_number(&0i64.to_le_bytes()), 0);
        assert_eq!(stored_number(&42i64.to_le_bytes()), 42);
        assert_eq!(stored_number(&(-3i64).to_le_bytes()), 0);
        assert_eq!(stored_number(b""), 0);
        assert_eq!(stored_number(b"garbage"), 0);
    }

    #[test]
    fn error_names_never_include_the_payload() {
        let error = Error::Other("redis://user:secret@cache:6379 refused".to_owned());

        assert_eq!(unavailable(&error), "key-value store unavailable: Other");
    }
}
