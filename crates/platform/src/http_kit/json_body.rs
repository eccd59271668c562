//! `json_body::<T>()`: the request body as `T`, or the problem saying why not — 415 for a
//! media type that is not JSON, 400 for an empty or malformed body, 422 for JSON of the
//! wrong shape, with the JSON path of the offending field.

use super::deserialize_errors;
use crate::api_error::ApiError;
use serde::de::DeserializeOwned;
use spin_sdk::http::Request;

/// Parses the body of a JSON request into `T`.
///
/// An empty body is a 400 whatever its content type. Accepts `application/json` and any
/// `type/subtype+json` (e.g. `application/merge-patch+json`), parameters such as `charset`
/// ignored; anything else is a 415. Malformed JSON is a 400 naming line and column; a
/// missing or mistyped field a 422 naming its path (`address.zip`, `contacts[0].email`,
/// `$` for the whole document). Unknown fields are accepted unless `T` says
/// `#[serde(deny_unknown_fields)]`. No problem ever quotes the body.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let body = request.body();
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "The request body is empty; send a JSON document.".to_owned(),
        ));
    }
    require_json_media_type(request)?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(deserialize_errors::to_api_error)?;
    deserializer
        .end()
        .map_err(|error| deserialize_errors::malformed(&error))?;
    Ok(value)
}

fn require_json_media_type(request: &Request) -> Result<(), ApiError> {
    if is_json_media_type(&media_type(request)) {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType(
        "The request body must be JSON, sent with `content-type: application/json`.".to_owned(),
    ))
}

/// The essence of the request's `content-type` (`type/subtype`), lowercased, parameters
/// dropped; empty when there is none.
pub fn media_type(request: &Request) -> String {
    request
        .header("content-type")
        .and_then(|value| value.as_str())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// `application/json` or `type/subtype+json` (an essence from [`media_type`]).
fn is_json_media_type(essence: &str) -> bool {
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let has_json_suffix = subtype.len() > "+json".len() && subtype.ends_with("+json");
    !kind.is_empty() && !kind.contains('*') && (essence == "application/json" || has_json_suffix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use spin_sdk::http::Method;

    #[derive(Debug, PartialEq, Deserialize)]
    struct NewClient {
        name: String,
        address: Address,
        #[serde(default)]
        contacts: Vec<Contact>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Address {
        zip: u32,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Contact {
        email: String,
    }

    fn post(content_type: Option<&str>, body: &str) -> Request {
        let mut request = Request::new(Method::Post, "/api/clients");
        if let Some(content_type) = content_type {
            request.set_header("content-type", content_type);
        }
        *request.body_mut() = body.as_bytes().to_vec();
        request
    }

    const JSON: Option<&str> = Some("application/json");
    const VALID: &str = r#"{"name":"Acme","address":{"zip":1000}}"#;

    /// What a rejected body must produce: its status and a text the problem must contain
    /// (the field path for a 422, the detail otherwise).
    struct Rejection {
        content_type: Option<&'static str>,
        body: &'static str,
        status: u16,
        mentions: &'static str,
        reason: &'static str,
    }

    fn rejections() -> Vec<Rejection> {
        let row = |content_type, body, status, mentions, reason| Rejection {
            content_type,
            body,
            status,
            mentions,
            reason,
        };
        vec![
            row(
                Some("text/plain"),
                VALID,
                415,
                "application/json",
                "plain text",
            ),
            row(None, VALID, 415, "application/json", "no content type"),
            row(Some("application/jsonx"), VALID, 415, "JSON", "not json"),
            row(Some("application/+json"), VALID, 415, "JSON", "bare suffix"),
            row(Some("*/*+json"), VALID, 415, "JSON", "wildcard type"),
            row(JSON, "", 400, "empty", "empty body"),
            row(
                JSON,
                r#"{"name":"#,
                400,
                "line 1 column 8",
                "truncated JSON",
            ),
            row(
                JSON,
                "{\n  \"name\" 1}",
                400,
                "line 2 column 10",
                "missing colon",
            ),
            row(
                JSON,
                r#"{"name":"A","address":{"zip":1}} x"#,
                400,
                "trailing",
                "trailing",
            ),
            row(
                JSON,
                r#"{"address":{"zip":1}}"#,
                422,
                "name: is required",
                "missing field",
            ),
            row(
                JSON,
                r#"{"name":"A","address":{}}"#,
                422,
                "address.zip: is required",
                "missing nested",
            ),
            row(
                JSON,
                r#"{"name":"A","address":{"zip":"x"}}"#,
                422,
                "address.zip: invalid type: string, expected u32",
                "mistyped nested field",
            ),
            row(
                JSON,
                r#"{"name":"A","address":{"zip":-1}}"#,
                422,
                "address.zip",
                "bad value",
            ),
            row(
                JSON,
                r#"{"name":"A","address":{"zip":1},"contacts":[{"email":5}]}"#,
                422,
                "contacts[0].email",
                "mistyped field in an array",
            ),
            row(
                JSON,
                r#"{"name":"A","address":{"zip":1},"contacts":[{"email":"a@b.c","x":1}]}"#,
                422,
                "contacts[0].x: unknown field, expected `email`",
                "unknown field where the type denies them",
            ),
            row(JSON, r#""Acme""#, 422, "$", "string instead of object"),
        ]
    }

    fn problem_text(error: &ApiError) -> String {
        let problem = error.to_problem();
        let fields: Vec<String> = problem
            .errors()
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        format!("{} {}", problem.detail(), fields.join("; "))
    }

    #[test]
    fn json_body_rejects_each_bad_request_with_its_status_and_a_clear_problem() {
        for case in rejections() {
            let request = post(case.content_type, case.body);

            let result = json_body::<NewClient>(&request);

            let Err(error) = result else {
                panic!("{}: accepted {:?}", case.reason, case.body);
            };
            assert_eq!(error.status_code(), case.status, "{}: {error}", case.reason);
            let text = problem_text(&error);
            assert!(text.contains(case.mentions), "{}: {text:?}", case.reason);
        }
    }

    #[test]
    fn json_body_accepts_json_and_json_suffixed_media_types() {
        let cases = [
            ("application/json", "plain"),
            ("application/json; charset=utf-8", "with charset"),
            ("Application/JSON", "upper case"),
            ("application/merge-patch+json", "+json suffix"),
            (
                "application/vnd.crm.client+json;v=2",
                "vendor type with a parameter",
            ),
        ];
        for (content_type, reason) in cases {
            let request = post(Some(content_type), VALID);

            let client = json_body::<NewClient>(&request);

            let expected = NewClient {
                name: "Acme".into(),
                address: Address { zip: 1000 },
                contacts: vec![],
            };
            assert_eq!(client.ok(), Some(expected), "{reason}");
        }
    }

    #[test]
    fn json_body_ignores_unknown_fields_unless_the_type_denies_them() {
        let request = post(JSON, r#"{"name":"A","address":{"zip":1},"extra":true}"#);

        let client = json_body::<NewClient>(&request);

        assert!(client.is_ok(), "{client:?}");
    }

    #[test]
    fn json_body_never_echoes_a_large_input_in_its_problem() {
        let huge = "x".repeat(10_000);
        let cases = [
            (format!(r#"{{"name":"{huge}"#), 400, "unterminated string"),
            (
                format!(r#"{{"name":"A","address":{{"zip":"{huge}"}}}}"#),
                422,
                "string where a number belongs",
            ),
        ];
        for (body, status, reason) in cases {
            let request = post(JSON, &body);

            let error = json_body::<NewClient>(&request).err();

            assert_eq!(
                error.as_ref().map(ApiError::status_code),
                Some(status),
                "{reason}"
            );
            let json = error.map(|e| e.to_problem().to_json()).unwrap_or_default();
            assert!(
                json.len() < 400 && !json.contains("xxxx"),
                "{reason}: {json}"
            );
        }
    }
}
