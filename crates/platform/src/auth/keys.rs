//! Key names in the shared `default` KV store that `auth` and the verification kit agree on,
//! and the SHA-256 hex digest that names API keys without revealing them.

use sha2::{Digest, Sha256};
use std::fmt::Write;

/// The KV store every component using the kit is granted, shared with `auth`.
pub const SHARED_STORE: &str = "default";

/// The cached JWKS: JSON `{jwks, fetched_at}`.
pub const JWKS_CACHE_KEY: &str = "cache:jwks";

const API_KEY_CACHE_PREFIX: &str = "cache:api-key:";
const DISABLED_USER_PREFIX: &str = "auth:disabled:";

/// `cache:api-key:<sha256 hex of the key>`: a resolved API key; `auth` deletes it on revoke.
pub fn api_key_cache_key(api_key: &str) -> String {
    format!("{API_KEY_CACHE_PREFIX}{}", sha256_hex(api_key.as_bytes()))
}

/// `auth:disabled:<user id>`: present while the user is disabled.
pub fn disabled_user_key(user_id: &str) -> String {
    format!("{DISABLED_USER_PREFIX}{user_id}")
}

/// The SHA-256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_matches_known_digests() {
        let cases: [(&[u8], &str, &str); 2] = [
            (
                b"",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "empty input",
            ),
            (
                b"abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "FIPS 180-2 example",
            ),
        ];
        for (input, expected, reason) in cases {
            assert_eq!(sha256_hex(input), expected, "{reason}");
        }
    }

    #[test]
    fn key_names_follow_the_documented_layout() {
        let cases = [
            (
                api_key_cache_key("abc"),
                "cache:api-key:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "api key cache entry is named by the key's hash",
            ),
            (
                disabled_user_key("user-42"),
                "auth:disabled:user-42",
                "disabled marker is named by the user id",
            ),
            (JWKS_CACHE_KEY.to_owned(), "cache:jwks", "jwks cache entry"),
        ];
        for (actual, expected, reason) in cases {
            assert_eq!(actual, expected, "{reason}");
        }
    }

    #[test]
    fn the_api_key_cache_key_never_contains_the_key() {
        let key = "crm_abcd1234_0123456789abcdefghijklmnopqrstuv";

        assert!(!api_key_cache_key(key).contains(key));
    }
}
