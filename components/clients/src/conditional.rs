//! `If-Match` (RFC 9110 §13.1.1): entity-tag lists, `*`, strong comparison. (`If-None-Match`
//! of reads: `crm_domain::cache::none_match`.)

use crm_platform::http_kit::ApiError;
use spin_sdk::http::Request;

/// What `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current representation.
    Any,
    /// One of these versions (strong tags `"<n>"`).
    Versions(Vec<i64>),
}

impl Precondition {
    /// `If-Match` of a write: 428 when absent, 412 when it matches no version format.
    pub fn required(request: &Request) -> Result<Precondition, ApiError> {
        let Some(value) = header(request, "if-match") else {
            return Err(ApiError::PreconditionRequired(
                "This change needs an `If-Match` header with the client's ETag.".into(),
            ));
        };
        if value.trim() == "*" {
            return Ok(Precondition::Any);
        }
        // If-Match uses the strong comparison: a weak tag never matches.
        Ok(Precondition::Versions(
            tags(&value).filter_map(strong_version).collect(),
        ))
    }

    /// The version the write is conditioned on, or 412 with the current `ETag`.
    pub fn version_for(&self, current: i64) -> Result<i64, ApiError> {
        match self {
            Precondition::Any => Ok(current),
            Precondition::Versions(versions) if versions.contains(&current) => Ok(current),
            Precondition::Versions(_) => Err(stale(Some(current))),
        }
    }
}

/// 412 for a write that lost the race or named an old version; `current` is the version
/// now stored, when known (sent as the `ETag`).
pub fn stale(current: Option<i64>) -> ApiError {
    ApiError::PreconditionFailed {
        detail: "The client has changed since that ETag; fetch it again and retry.".into(),
        etag: current.map(|version| format!("\"{version}\"")),
    }
}

/// The values of header `name`, joined by commas (RFC 9110 §5.3), if present.
pub fn header(request: &Request, name: &str) -> Option<String> {
    let values: Vec<&str> = request
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .filter_map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn tags(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|t| !t.is_empty())
}

fn strong_version(tag: &str) -> Option<i64> {
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    fn request(name: &str, value: &str) -> Request {
        let mut request = Request::new(Method::Patch, "/api/clients/x");
        request.set_header(name, value);
        request
    }

    #[test]
    fn if_match_is_required_and_compared_strongly() {
        let missing = Precondition::required(&Request::new(Method::Put, "/"));
        assert_eq!(missing.unwrap_err().status_code(), 428);
        for (value, current, ok) in [
            ("\"3\"", 3, true),
            ("\"2\", \"3\"", 3, true),
            ("*", 7, true),
            ("\"2\"", 3, false),
            ("W/\"3\"", 3, false),
            ("3", 3, false),
            ("\"x\"", 3, false),
        ] {
            let precondition = Precondition::required(&request("if-match", value)).unwrap();
            assert_eq!(
                precondition.version_for(current).is_ok(),
                ok,
                "{value} vs {current}"
            );
        }
    }
}
