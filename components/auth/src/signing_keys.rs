//! Signing keys: the `jwt_signing_keys` grammar (`kid=seed` pairs separated by whitespace or
//! commas, the seed 32 bytes of unpadded base64url, the first pair active), Ed25519 key
//! pairs built from seeds, and the JWKS of their public halves. Pure: no host calls.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_platform::auth::{Jwk, Jwks};
use jwt_simple::prelude::Ed25519KeyPair;
use std::fmt;

/// Bytes of an Ed25519 seed (RFC 8032 private key).
pub const SEED_BYTES: usize = 32;
/// Longest key id accepted.
const MAX_KID_CHARS: usize = 64;
/// PKCS#8 v1 DER header of an Ed25519 private key (RFC 8410 §7); the seed follows it.
const PKCS8_ED25519_HEADER: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Why a key list is unusable. Messages name pairs by position or kid, never a seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningKeyError {
    NotAPair { position: usize },
    BadKid { position: usize },
    BadSeed { kid: String },
    DuplicateKid { kid: String },
}

impl fmt::Display for SigningKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAPair { position } => write!(f, "entry {position} is not `kid=seed`"),
            Self::BadKid { position } => write!(
                f,
                "entry {position}: the kid must be 1 to {MAX_KID_CHARS} of A-Z a-z 0-9 . _ -"
            ),
            Self::BadSeed { kid } => write!(
                f,
                "key `{kid}`: the seed must be {SEED_BYTES} bytes of unpadded base64url"
            ),
            Self::DuplicateKid { kid } => write!(f, "key `{kid}` is listed twice"),
        }
    }
}

/// One key: its id, its key pair (signing) and its public half (JWKS).
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    key_pair: Ed25519KeyPair,
    public: [u8; 32],
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// The key pair of `seed`, named `kid` (also written in the JWT header it signs).
    pub fn from_seed(kid: &str, seed: &[u8; SEED_BYTES]) -> Result<SigningKey, SigningKeyError> {
        let bad_seed = || SigningKeyError::BadSeed {
            kid: kid.to_owned(),
        };
        let mut der = PKCS8_ED25519_HEADER.to_vec();
        der.extend_from_slice(seed);
        let key_pair = Ed25519KeyPair::from_der(&der).map_err(|_| bad_seed())?;
        let public: [u8; 32] = key_pair
            .public_key()
            .to_bytes()
            .try_into()
            .map_err(|_| bad_seed())?;
        Ok(SigningKey {
            kid: kid.to_owned(),
            key_pair: key_pair.with_key_id(kid),
            public,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn key_pair(&self) -> &Ed25519KeyPair {
        &self.key_pair
    }

    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }
}

/// A non-empty list of keys; the first signs, all verify.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    active: SigningKey,
    retired: Vec<SigningKey>,
}

impl SigningKeys {
    /// The keys of `text`; `Ok(None)` when it lists none (blank).
    pub fn parse(text: &str) -> Result<Option<SigningKeys>, SigningKeyError> {
        let entries = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty());
        let mut keys: Vec<SigningKey> = Vec::new();
        for (index, entry) in entries.enumerate() {
            let key = parse_entry(index + 1, entry)?;
            if keys.iter().any(|known| known.kid == key.kid) {
                return Err(SigningKeyError::DuplicateKid { kid: key.kid });
            }
            keys.push(key);
        }
        let mut keys = keys.into_iter();
        Ok(keys.next().map(|active| SigningKeys {
            active,
            retired: keys.collect(),
        }))
    }

    /// The key new tokens are signed with.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The public halves of every key, active first.
    pub fn jwks(&self) -> Jwks {
        let keys = std::iter::once(&self.active)
            .chain(&self.retired)
            .map(|key| Jwk::ed25519(&key.kid, &key.public))
            .collect();
        Jwks { keys }
    }
}

/// `kid=seed` in the grammar [`SigningKeys::parse`] reads.
pub fn encode_entry(kid: &str, seed: &[u8; SEED_BYTES]) -> String {
    format!("{kid}={}", URL_SAFE_NO_PAD.encode(seed))
}

fn parse_entry(position: usize, entry: &str) -> Result<SigningKey, SigningKeyError> {
    let (kid, seed) = entry
        .split_once('=')
        .ok_or(SigningKeyError::NotAPair { position })?;
    if !is_valid_kid(kid) {
        return Err(SigningKeyError::BadKid { position });
    }
    let seed: [u8; SEED_BYTES] = URL_SAFE_NO_PAD
        .decode(seed.trim_end_matches('='))
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| SigningKeyError::BadSeed {
            kid: kid.to_owned(),
        })?;
    SigningKey::from_seed(kid, &seed)
}

fn is_valid_kid(kid: &str) -> bool {
    (1..=MAX_KID_CHARS).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1, test 1: this seed's public key.
    const RFC8032_SEED_HEX: &str =
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const RFC8032_PUBLIC_HEX: &str =
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn from_hex(hex: &str) -> [u8; 32] {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_default())
            .collect();
        bytes.try_into().unwrap_or([0; 32])
    }

    fn entry(kid: &str, byte: u8) -> String {
        encode_entry(kid, &[byte; SEED_BYTES])
    }

    #[test]
    fn a_seed_gives_the_rfc_8032_public_key() {
        let key = SigningKey::from_seed("k1", &from_hex(RFC8032_SEED_HEX)).expect("valid seed");

        assert_eq!(key.public_key(), &from_hex(RFC8032_PUBLIC_HEX));
    }

    #[test]
    fn key_lists_are_split_on_commas_and_whitespace_and_the_first_is_active() {
        let text = format!(
            " {}, {}\n\t{} ",
            entry("new", 1),
            entry("old", 2),
            entry("older", 3)
        );

        let keys = SigningKeys::parse(&text)
            .expect("valid")
            .expect("not empty");

        assert_eq!(keys.active().kid(), "new");
        let kids: Vec<String> = keys.jwks().keys.into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, ["new", "old", "older"]);
    }

    #[test]
    fn blank_lists_hold_no_key() {
        for text in ["", "  ", " , \n"] {
            assert!(
                matches!(SigningKeys::parse(text), Ok(None)),
                "{text:?} is blank"
            );
        }
    }

    #[test]
    fn malformed_lists_are_rejected_with_a_reason_that_never_quotes_a_seed() {
        let seed = URL_SAFE_NO_PAD.encode([7_u8; SEED_BYTES]);
        let short_seed = URL_SAFE_NO_PAD.encode([7_u8; 31]);
        let cases = [
            (
                seed.clone(),
                SigningKeyError::NotAPair { position: 1 },
                "no kid",
            ),
            (
                format!("={seed}"),
                SigningKeyError::BadKid { position: 1 },
                "empty kid",
            ),
            (
                format!("{} a b={seed}", entry("ok", 1)),
                SigningKeyError::NotAPair { position: 2 },
                "second entry broken",
            ),
            (
                format!("k/1={seed}"),
                SigningKeyError::BadKid { position: 1 },
                "slash in kid",
            ),
            (
                format!("k1={short_seed}"),
                SigningKeyError::BadSeed { kid: "k1".into() },
                "31-byte seed",
            ),
            (
                "k1=not*base64".to_owned(),
                SigningKeyError::BadSeed { kid: "k1".into() },
                "not base64url",
            ),
            (
                format!("{},{}", entry("k1", 1), entry("k1", 2)),
                SigningKeyError::DuplicateKid { kid: "k1".into() },
                "duplicate kid",
            ),
        ];
        for (text, expected, reason) in cases {
            let error = SigningKeys::parse(&text).err();

            assert_eq!(error.as_ref(), Some(&expected), "{reason}");
            let message = expected.to_string();
            assert!(!message.contains(&seed), "{reason}: {message}");
        }
    }

    #[test]
    fn padded_seeds_are_accepted() {
        let padded = format!("k1={}=", URL_SAFE_NO_PAD.encode([9_u8; SEED_BYTES]));

        let keys = SigningKeys::parse(&padded);

        assert!(matches!(keys, Ok(Some(_))), "{keys:?}");
    }

    #[test]
    fn the_jwks_has_public_parts_only() {
        let keys = SigningKeys::parse(&entry("k1", 5))
            .expect("valid")
            .expect("not empty");

        let json = serde_json::to_value(keys.jwks()).expect("serializes");

        let jwk = &json["keys"][0];
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], "k1");
        assert_eq!(jwk["x"], URL_SAFE_NO_PAD.encode(keys.active().public_key()));
        assert!(jwk.get("d").is_none(), "no private part: {jwk}");
    }
}
