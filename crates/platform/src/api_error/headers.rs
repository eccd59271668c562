//! The header an error response carries besides its content type and request id:
//! `Allow` on 405, `WWW-Authenticate` on 401 (RFC 6750), `ETag` on 412 (when known),
//! `Retry-After` on 429.

use super::ApiError;

/// Realm named in every `WWW-Authenticate` challenge.
pub const BEARER_REALM: &str = "crm-api";

/// The `error` code of a Bearer challenge (RFC 6750 §3.1) that a 401 may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// `invalid_request`: the credentials are malformed (e.g. two `Authorization` headers).
    InvalidRequest,
    /// `invalid_token`: the token is expired, revoked, malformed or otherwise invalid.
    InvalidToken,
}

impl BearerError {
    /// The code as written in the challenge.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
        }
    }
}

/// `(name, value)` of the header `error` adds to its problem response, if any.
pub(super) fn extra_header(error: &ApiError) -> Option<(&'static str, String)> {
    match error {
        ApiError::MethodNotAllowed { allowed, .. } => Some(("allow", allowed.join(", "))),
        ApiError::Unauthorized { error, .. } => {
            Some(("www-authenticate", bearer_challenge(*error)))
        }
        ApiError::PreconditionFailed {
            etag: Some(etag), ..
        } => Some(("etag", etag.clone())),
        ApiError::TooManyRequests { retry_after_secs } => {
            Some(("retry-after", retry_after_secs.to_string()))
        }
        _ => None,
    }
}

/// `Bearer realm="crm-api"`, with `, error="…"` when `error` is set.
fn bearer_challenge(error: Option<BearerError>) -> String {
    match error {
        Some(error) => format!(
            r#"Bearer realm="{BEARER_REALM}", error="{}""#,
            error.as_str()
        ),
        None => format!(r#"Bearer realm="{BEARER_REALM}""#),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_names_the_realm_and_the_error_when_given() {
        let cases = [
            (None, r#"Bearer realm="crm-api""#, "no credentials"),
            (
                Some(BearerError::InvalidToken),
                r#"Bearer realm="crm-api", error="invalid_token""#,
                "bad token",
            ),
            (
                Some(BearerError::InvalidRequest),
                r#"Bearer realm="crm-api", error="invalid_request""#,
                "malformed credentials",
            ),
        ];
        for (error, expected, reason) in cases {
            assert_eq!(bearer_challenge(error), expected, "{reason}");
        }
    }

    #[test]
    fn only_401_405_and_429_carry_an_extra_header() {
        let cases = [
            (ApiError::BadRequest("b".into()), None, "400"),
            (ApiError::Forbidden("f".into()), None, "403"),
            (ApiError::Conflict("c".into()), None, "409"),
            (
                ApiError::TooManyRequests {
                    retry_after_secs: 30,
                },
                Some(("retry-after", "30".to_owned())),
                "429",
            ),
            (
                ApiError::MethodNotAllowed {
                    method: "PUT".into(),
                    allowed: &["GET", "POST"],
                },
                Some(("allow", "GET, POST".to_owned())),
                "405",
            ),
        ];
        for (error, expected, reason) in cases {
            assert_eq!(extra_header(&error), expected, "{reason}");
        }
    }
}
