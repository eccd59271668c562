//! How a JSON body that failed to deserialize reads to the client: malformed JSON is a 400
//! naming line and column; JSON of the wrong shape is a 422 naming the field's JSON path
//! (`address.zip`, `contacts[0].email`, `$` for the whole document). Neither echoes input.

use crate::api_error::ApiError;
use crm_domain::FieldError;
use serde_json::error::Category;

/// Field name of an error about the whole document rather than one of its fields.
pub const ROOT_FIELD: &str = "$";

/// Longest message kept from serde, in characters (it may quote a custom error at length).
const MAX_MESSAGE_CHARS: usize = 160;

/// 400 for malformed JSON (or an I/O error), 422 for a well-formed body of the wrong shape.
pub fn to_api_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        Category::Data => ApiError::Unprocessable(vec![field_error(&path, &inner)]),
        Category::Syntax | Category::Eof | Category::Io => malformed(&inner),
    }
}

/// 400 whose detail names where the JSON broke, e.g. "… expected value at line 2 column 7."
pub fn malformed(error: &serde_json::Error) -> ApiError {
    ApiError::BadRequest(format!(
        "The request body is not valid JSON: {} at line {} column {}.",
        bare_message(error),
        error.line(),
        error.column()
    ))
}

/// The field error of a data error at `path` (serde_path_to_error's rendering, `.` = root;
/// it already ends with the key of an unknown field, but not with that of a missing one).
fn field_error(path: &str, error: &serde_json::Error) -> FieldError {
    let message = bare_message(error);
    if let Some(name) = quoted_name(&message, "missing field `") {
        return FieldError::new(join(path, &name), "is required");
    }
    FieldError::new(root_named(path), message)
}

/// serde_json's message without the " at line L column C" it appends, and without the
/// value it found; truncated.
fn bare_message(error: &serde_json::Error) -> String {
    let rendered = error.to_string();
    let message = match rendered.rfind(" at line ") {
        Some(position) => &rendered[..position],
        None => rendered.as_str(),
    };
    truncated(&without_echoed_value(message))
}

/// `invalid type: string "…10 kB…", expected u32` → `invalid type: string, expected u32`:
/// what was found keeps its kind and loses its quoted value.
fn without_echoed_value(message: &str) -> String {
    match message.rsplit_once(", expected ") {
        Some((found, expected)) => {
            let kind = found
                .split(['"', '`'])
                .next()
                .unwrap_or_default()
                .trim_end();
            format!("{kind}, expected {expected}")
        }
        None => message.to_owned(),
    }
}

/// The name in "`prefix`name`…", truncated, when `message` starts with `prefix`.
fn quoted_name(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split_once('`').map(|(name, _)| truncated(name))
}

fn root_named(path: &str) -> String {
    if path == "." || path.is_empty() {
        ROOT_FIELD.to_owned()
    } else {
        path.to_owned()
    }
}

fn join(path: &str, name: &str) -> String {
    if path == "." || path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn truncated(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_values_are_dropped_and_expectations_kept() {
        let cases = [
            (
                r#"invalid type: string "secret", expected u32"#,
                "invalid type: string, expected u32",
                "quoted string",
            ),
            (
                "invalid value: integer `-1`, expected u32",
                "invalid value: integer, expected u32",
                "backticked integer",
            ),
            (
                r#"invalid type: string "a, expected b", expected u32"#,
                "invalid type: string, expected u32",
                "value that looks like an expectation",
            ),
            (
                "unknown variant `purple`, expected `red` or `blue`",
                "unknown variant, expected `red` or `blue`",
                "enum variant",
            ),
            ("must not be blank", "must not be blank", "custom message"),
        ];
        for (message, expected, reason) in cases {
            assert_eq!(without_echoed_value(message), expected, "{reason}");
        }
    }

    #[test]
    fn field_names_join_the_path_and_the_root_is_dollar() {
        let cases = [
            (".", "name", "name", "root"),
            ("", "name", "name", "empty path"),
            ("address", "zip", "address.zip", "nested"),
            ("contacts[0]", "email", "contacts[0].email", "in an array"),
        ];
        for (path, name, expected, reason) in cases {
            assert_eq!(join(path, name), expected, "{reason}");
        }
        assert_eq!(root_named("."), ROOT_FIELD);
    }

    #[test]
    fn long_text_is_truncated_on_a_character_boundary() {
        let long = "é".repeat(MAX_MESSAGE_CHARS + 50);

        let short = truncated(&long);

        assert_eq!(short.chars().count(), MAX_MESSAGE_CHARS + 1, "{short}");
        assert!(short.ends_with('…'));
    }
}
