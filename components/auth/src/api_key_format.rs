//! API key strings, `crm_<8 letters and digits: the public prefix>_<32 letters and digits>`:
//! made from random bytes without modulo bias, and parsed back. Pure: no host calls.

use std::fmt;

/// What every API key starts with.
pub const MARKER: &str = "crm_";
/// Letters and digits of the public prefix.
pub const PREFIX_CHARS: usize = 8;
/// Letters and digits of the secret part.
pub const SECRET_CHARS: usize = 32;
/// Random bytes [`ApiKeyText::from_random`] is given: enough that, skipping the biased
/// bytes (3 %), running short of 40 usable ones is practically impossible.
pub const RANDOM_BYTES: usize = 128;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Bytes at or above this are skipped so each character is equally likely (248 = 4 × 62).
const UNBIASED_LIMIT: u8 = 248;

/// A well-formed API key. Its `Debug` shows only the public prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyText(String);

impl ApiKeyText {
    /// A new key drawn from `random` bytes; `None` only if too few of them were usable.
    pub fn from_random(random: &[u8]) -> Option<ApiKeyText> {
        let mut chars = random
            .iter()
            .filter(|byte| **byte < UNBIASED_LIMIT)
            .map(|byte| char::from(ALPHABET[usize::from(byte % 62)]));
        let prefix: String = chars.by_ref().take(PREFIX_CHARS).collect();
        let secret: String = chars.take(SECRET_CHARS).collect();
        if prefix.len() < PREFIX_CHARS || secret.len() < SECRET_CHARS {
            return None;
        }
        Some(ApiKeyText(format!("{MARKER}{prefix}_{secret}")))
    }

    /// `text` as a key if it has exactly the key's shape.
    pub fn parse(text: &str) -> Option<ApiKeyText> {
        let rest = text.strip_prefix(MARKER)?;
        let (prefix, secret) = rest.split_once('_')?;
        let well_formed = prefix.len() == PREFIX_CHARS
            && secret.len() == SECRET_CHARS
            && prefix
                .bytes()
                .chain(secret.bytes())
                .all(|b| b.is_ascii_alphanumeric());
        well_formed.then(|| ApiKeyText(text.to_owned()))
    }

    /// The whole key, to show once and to hash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 8 public letters and digits after `crm_`.
    pub fn public_prefix(&self) -> &str {
        &self.0[MARKER.len()..MARKER.len() + PREFIX_CHARS]
    }
}

impl fmt::Debug for ApiKeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyText({MARKER}{}_…)", self.public_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequential_bytes() -> Vec<u8> {
        (0..RANDOM_BYTES).map(|i| (i * 7) as u8).collect()
    }

    #[test]
    fn keys_made_from_random_bytes_have_the_documented_shape() {
        let key = ApiKeyText::from_random(&sequential_bytes()).expect("enough bytes");

        assert_eq!(key.as_str().len(), 4 + 8 + 1 + 32);
        assert_eq!(ApiKeyText::parse(key.as_str()), Some(key.clone()));
        assert!(
            key.as_str()
                .starts_with(&format!("crm_{}_", key.public_prefix()))
        );
    }

    #[test]
    fn biased_bytes_are_skipped_and_too_few_bytes_make_no_key() {
        let mut mostly_biased = vec![255_u8; 100];
        mostly_biased.extend([0_u8; 39]);
        let cases = [
            (vec![0_u8; 40], true, "exactly 40 usable bytes"),
            (vec![0_u8; 39], false, "one byte short"),
            (
                mostly_biased,
                false,
                "bytes of 248 and above are not usable",
            ),
        ];
        for (bytes, makes_a_key, reason) in cases {
            assert_eq!(
                ApiKeyText::from_random(&bytes).is_some(),
                makes_a_key,
                "{reason}"
            );
        }
    }

    #[test]
    fn malformed_keys_are_rejected() {
        let secret = "0123456789abcdefghijklmnopqrstuv";
        let cases = [
            (String::new(), "empty"),
            (format!("crm_abcd123_{secret}"), "prefix of 7"),
            (format!("crm_abcd12345_{secret}"), "prefix of 9"),
            (format!("crm_abcd1234_{secret}x"), "secret of 33"),
            (format!("crm_abcd1234_{}", &secret[1..]), "secret of 31"),
            (format!("CRM_abcd1234_{secret}"), "marker in upper case"),
            (format!("crm_abcd-234_{secret}"), "a dash in the prefix"),
            (format!("crm_abcd1234-{secret}"), "no underscore"),
            (
                format!("crm_abcd1234_{}é", &secret[2..]),
                "non-ASCII secret",
            ),
            (format!(" crm_abcd1234_{secret}"), "leading space"),
        ];
        for (text, reason) in cases {
            assert_eq!(ApiKeyText::parse(&text), None, "{reason}: {text:?}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let text = "crm_abcd1234_0123456789abcdefghijklmnopqrstuv";
        let key = ApiKeyText::parse(text).expect("well formed");

        let shown = format!("{key:?}");

        assert!(
            shown.contains("abcd1234") && !shown.contains("0123456789"),
            "{shown}"
        );
    }
}
