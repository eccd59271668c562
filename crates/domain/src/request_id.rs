//! RequestId: the correlation id echoed in `x-request-id` and written to every log line.

use serde::{Serialize, Serializer};
use std::fmt;

/// A validated request id: 1..=128 characters of `[A-Za-z0-9._:-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

/// Why a client-supplied request id was rejected (the caller then generates a fresh one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestIdError {
    #[error("request id is empty")]
    Empty,
    #[error("request id is longer than {max} characters", max = RequestId::MAX_LEN)]
    TooLong,
    #[error("request id contains a character outside [A-Za-z0-9._:-]")]
    InvalidCharacter,
}

impl RequestId {
    /// Longest accepted request id, in characters.
    pub const MAX_LEN: usize = 128;

    /// Accepts an id supplied by a client or an upstream proxy.
    pub fn parse(candidate: &str) -> Result<Self, RequestIdError> {
        if candidate.is_empty() {
            return Err(RequestIdError::Empty);
        }
        if candidate.len() > Self::MAX_LEN {
            return Err(RequestIdError::TooLong);
        }
        if !candidate.bytes().all(is_allowed_byte) {
            return Err(RequestIdError::InvalidCharacter);
        }
        Ok(Self(candidate.to_owned()))
    }

    /// A fresh id from a UUID (use a random v4 one); its hyphenated form is always valid.
    pub fn from_uuid(uuid: uuid::Uuid) -> Self {
        Self(uuid.hyphenated().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_allowed_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-')
}

impl fmt::Display for RequestId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl AsRef<str> for RequestId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_accepts_every_allowed_character() {
        let candidate = "azAZ09._:-";

        let id = RequestId::parse(candidate).expect("valid id");

        assert_eq!(id.as_str(), candidate);
    }

    #[test]
    fn request_id_accepts_exactly_the_maximum_length() {
        let candidate = "a".repeat(RequestId::MAX_LEN);

        assert!(RequestId::parse(&candidate).is_ok());
    }

    #[test]
    fn request_id_rejects_invalid_inputs() {
        let too_long = "a".repeat(RequestId::MAX_LEN + 1);
        let cases: [(&str, RequestIdError, &str); 9] = [
            ("", RequestIdError::Empty, "empty string"),
            (&too_long, RequestIdError::TooLong, "129 characters"),
            ("abc def", RequestIdError::InvalidCharacter, "space"),
            (
                "abc\n",
                RequestIdError::InvalidCharacter,
                "newline (log injection)",
            ),
            (
                "abc\u{7}",
                RequestIdError::InvalidCharacter,
                "bell control character",
            ),
            ("a/b", RequestIdError::InvalidCharacter, "slash"),
            ("a\"b", RequestIdError::InvalidCharacter, "quote"),
            (
                "caf\u{e9}",
                RequestIdError::InvalidCharacter,
                "non-ASCII letter",
            ),
            (
                "a;b=c",
                RequestIdError::InvalidCharacter,
                "header parameter syntax",
            ),
        ];
        for (candidate, expected, reason) in cases {
            assert_eq!(
                RequestId::parse(candidate),
                Err(expected),
                "should reject {reason}: {candidate:?}"
            );
        }
    }

    #[test]
    fn request_id_rejects_control_characters() {
        for byte in (0u8..0x20).chain([0x7f]) {
            let candidate = format!("id{}", char::from(byte));

            assert_eq!(
                RequestId::parse(&candidate),
                Err(RequestIdError::InvalidCharacter),
                "control byte {byte:#04x} must be rejected"
            );
        }
    }

    #[test]
    fn request_id_from_uuid_is_a_valid_request_id() {
        let id = RequestId::from_uuid(uuid::Uuid::new_v4());

        assert_eq!(RequestId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(id.as_str().len(), 36);
    }

    #[test]
    fn request_id_serializes_as_a_plain_string() {
        let id = RequestId::parse("req-1").expect("valid id");

        assert_eq!(
            serde_json::to_string(&id).expect("serializes"),
            r#""req-1""#
        );
    }
}
