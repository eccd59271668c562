//! Password hashes: argon2id, m = 19 MiB, t = 2, p = 1 (OWASP's minimum), as PHC strings.
//! Pure: the salt comes from the caller.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Passes over memory.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;
/// Bytes of salt per hash.
pub const SALT_BYTES: usize = 16;

/// The hash of a random password nobody knows, with the same parameters as real hashes: a
/// login for an unknown e-mail verifies against it, so it costs exactly one hash, as a
/// login for a known one does. A constant, so that no request pays a second hash to make it.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$hg5Ot9YrxO9YYmMIdDIu1g$c27ckgKOBBJHsFd3LsAAMsNE4Nb2gVthoWFtxwn4NWo";

fn hasher() -> Result<Argon2<'static>, String> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|error| format!("argon2 parameters: {error}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string of `password` with `salt`. The error never contains the password.
pub fn hash_password(password: &str, salt: &[u8; SALT_BYTES]) -> Result<String, String> {
    let salt = SaltString::encode_b64(salt).map_err(|error| format!("salt: {error}"))?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| format!("argon2: {error}"))
}

/// Whether `password` matches the PHC string `stored` (false when `stored` is unreadable).
pub fn verify_password(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    hasher().is_ok_and(|argon| argon.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends one verification, as for a real account, and fails.
pub fn spend_one_verification(password: &str) -> bool {
    let _ = verify_password(password, DUMMY_PHC);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("a long passphrase of yours", &[7; SALT_BYTES]).expect("hashes");

        let cases = [
            ("a long passphrase of yours", true, "the password"),
            ("a long passphrase of yourS", false, "one letter changed"),
            ("", false, "empty"),
        ];
        for (candidate, expected, reason) in cases {
            assert_eq!(verify_password(candidate, &hash), expected, "{reason}");
        }
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[test]
    fn the_dummy_hash_has_the_parameters_of_real_ones() {
        let dummy = PasswordHash::new(DUMMY_PHC).expect("a PHC string");
        let real = hash_password("x", &[1; SALT_BYTES]).expect("hashes");
        let real = PasswordHash::new(&real).expect("a PHC string");

        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
    }

    #[test]
    fn unreadable_stored_hashes_never_verify() {
        for stored in ["", "plain text", "$argon2id$v=19$m=19456,t=2,p=1$salt"] {
            assert!(!verify_password("anything", stored), "{stored:?}");
        }
    }
}
