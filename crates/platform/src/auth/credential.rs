//! The credential a request carries: `X-API-Key: <key>`, or `Authorization: Bearer <x>`
//! where an `x` starting with `crm_` is an API key and anything else an access token.

use spin_sdk::http::Request;

/// Header carrying an API key.
pub const API_KEY_HEADER: &str = "x-api-key";
/// Prefix every API key starts with (`crm_<prefix>_<secret>`).
pub const API_KEY_PREFIX: &str = "crm_";
/// Longest credential considered at all; longer ones are refused unread.
pub const MAX_CREDENTIAL_BYTES: usize = 8 * 1024;

const BEARER_SCHEME: &str = "bearer";

/// A credential found on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API key, from `X-API-Key` or a Bearer credential starting `crm_`.
    ApiKey(String),
    /// Any other Bearer credential: an access token.
    Bearer(String),
}

/// The request's credential, or `None` when it carries none that is usable.
pub fn credential(request: &Request) -> Option<Credential> {
    parse_credential(
        header_text(request, API_KEY_HEADER),
        header_text(request, "authorization"),
    )
}

fn header_text<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.header(name).and_then(|value| value.as_str())
}

/// Pure core of [`credential`]: a non-empty `X-API-Key` wins over `Authorization`; the
/// scheme `Bearer` is matched case-insensitively (RFC 9110 §11.1); a credential containing
/// whitespace or longer than [`MAX_CREDENTIAL_BYTES`] is unusable.
pub fn parse_credential(api_key: Option<&str>, authorization: Option<&str>) -> Option<Credential> {
    if let Some(key) = api_key.map(str::trim).filter(|key| !key.is_empty()) {
        return usable(key).map(|key| Credential::ApiKey(key.to_owned()));
    }
    let token = usable(bearer_token(authorization?)?)?;
    if token.starts_with(API_KEY_PREFIX) {
        Some(Credential::ApiKey(token.to_owned()))
    } else {
        Some(Credential::Bearer(token.to_owned()))
    }
}

/// The credential after `Bearer` and its spaces, if the scheme is Bearer.
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, rest) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case(BEARER_SCHEME) {
        return None;
    }
    Some(rest.trim_start_matches(' '))
}

fn usable(credential: &str) -> Option<&str> {
    let plausible = !credential.is_empty()
        && credential.len() <= MAX_CREDENTIAL_BYTES
        && credential.bytes().all(|byte| byte.is_ascii_graphic());
    plausible.then_some(credential)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    const KEY: &str = "crm_abcd1234_0123456789abcdefghijklmnopqrstuv";

    #[test]
    fn credentials_are_classified_by_header_and_prefix() {
        let api_key = || Some(Credential::ApiKey(KEY.to_owned()));
        let token = || Some(Credential::Bearer("eyJ.eyJ.sig".to_owned()));
        let bearer_key = format!("Bearer {KEY}");
        let cases = [
            (Some(KEY), None, api_key(), "X-API-Key alone"),
            (
                None,
                Some(bearer_key.as_str()),
                api_key(),
                "Bearer crm_ is an API key",
            ),
            (None, Some("Bearer eyJ.eyJ.sig"), token(), "Bearer token"),
            (
                None,
                Some("bearer eyJ.eyJ.sig"),
                token(),
                "scheme is case-insensitive",
            ),
            (
                None,
                Some("BEARER   eyJ.eyJ.sig "),
                token(),
                "extra spaces are tolerated",
            ),
            (
                Some(KEY),
                Some("Bearer eyJ.eyJ.sig"),
                api_key(),
                "X-API-Key wins",
            ),
            (
                Some("  "),
                Some("Bearer eyJ.eyJ.sig"),
                token(),
                "blank X-API-Key is ignored",
            ),
        ];
        for (api_key_header, authorization, expected, reason) in cases {
            assert_eq!(
                parse_credential(api_key_header, authorization),
                expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn unusable_credentials_are_none() {
        let huge = format!("Bearer {}", "a".repeat(MAX_CREDENTIAL_BYTES + 1));
        let cases = [
            (None, None, "no headers"),
            (None, Some(""), "empty Authorization"),
            (None, Some("Bearer"), "scheme without credential"),
            (None, Some("Bearer    "), "scheme with only spaces"),
            (None, Some("Basic dXNlcjpwYXNz"), "Basic scheme"),
            (None, Some("Bearerxyz"), "scheme glued to credential"),
            (None, Some("Bearer a b"), "credential with a space"),
            (None, Some("Bearer a\tb"), "credential with a tab"),
            (None, Some("Bearer tök"), "credential with non-ASCII"),
            (None, Some(huge.as_str()), "credential too long"),
            (Some("crm_a b"), None, "API key with a space"),
        ];
        for (api_key_header, authorization, reason) in cases {
            assert_eq!(
                parse_credential(api_key_header, authorization),
                None,
                "{reason}"
            );
        }
    }

    #[test]
    fn credential_reads_the_request_headers() {
        let mut request = Request::new(Method::Get, "/api/clients");
        request.set_header("x-api-key", KEY);

        assert_eq!(
            credential(&request),
            Some(Credential::ApiKey(KEY.to_owned()))
        );
    }
}
