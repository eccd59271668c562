//! A client body (JSON) to a [`ClientDraft`], every problem reported with its JSON path;
//! and JSON Merge Patch (RFC 7386) for PATCH.

use super::model::{
    ClientDraft, MAX_COMPANY_CHARS, MAX_NAME_CHARS, MAX_NOTES_BYTES, MAX_SOURCE_CHARS, MAX_TAGS,
    Phone, Properties, READ_ONLY_FIELDS, STATUSES, Status, Tag, WRITABLE_FIELDS,
};
use crate::FieldError;
use crate::auth::{EmailAddress, EmailError};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Parses a full client body (POST, PUT, an import row): `email` is required, the other
/// fields default (null, `lead`, `[]`, `true`, `{}`); unknown and read-only fields are
/// refused. All the body's problems are reported at once.
pub fn draft_from_json(body: &Value) -> Result<ClientDraft, Vec<FieldError>> {
    let Value::Object(fields) = body else {
        return Err(vec![FieldError::new("$", "must be a JSON object")]);
    };
    let mut errors = Vec::new();
    for name in fields.keys() {
        if READ_ONLY_FIELDS.contains(&name.as_str()) {
            errors.push(FieldError::new(name.as_str(), "is read-only"));
        } else if !WRITABLE_FIELDS.contains(&name.as_str()) {
            errors.push(FieldError::new(
                name.as_str(),
                format!(
                    "is not a field of a client; fields: {}",
                    WRITABLE_FIELDS.join(", ")
                ),
            ));
        }
    }
    let mut reader = Reader {
        fields,
        errors: &mut errors,
    };
    let first_name = reader.text("first_name", MAX_NAME_CHARS);
    let last_name = reader.text("last_name", MAX_NAME_CHARS);
    let email = reader.email();
    let phone = reader.phone();
    let company = reader.text("company", MAX_COMPANY_CHARS);
    let status = reader.status();
    let tags = reader.tags();
    let notes = reader.notes();
    let source = reader.text("source", MAX_SOURCE_CHARS);
    let subscribed = reader.subscribed();
    let properties = reader.properties();
    match (email, errors.is_empty()) {
        (Some(email), true) => Ok(ClientDraft {
            first_name,
            last_name,
            email,
            phone,
            company,
            status,
            tags,
            notes,
            source,
            subscribed,
            properties,
        }),
        _ => {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(errors)
        }
    }
}

/// Applies a JSON Merge Patch (RFC 7386) to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(object) = target else {
        return;
    };
    for (name, value) in patch {
        if value.is_null() {
            object.remove(name);
        } else {
            merge_patch(object.entry(name.clone()).or_insert(Value::Null), value);
        }
    }
}

struct Reader<'a> {
    fields: &'a Map<String, Value>,
    errors: &'a mut Vec<FieldError>,
}

impl Reader<'_> {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// An optional string: trimmed, empty → None, at most `max` characters.
    fn text(&mut self, field: &str, max: usize) -> Option<String> {
        match self.fields.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.chars().count() > max {
                    self.fail(field, format!("must be at most {max} characters"));
                    None
                } else if s.chars().any(char::is_control) {
                    self.fail(field, "must not contain control characters");
                    None
                } else {
                    (!s.is_empty()).then(|| s.to_owned())
                }
            }
            Some(other) => {
                self.fail(field, format!("must be a string, not {}", kind(other)));
                None
            }
        }
    }

    fn email(&mut self) -> Option<EmailAddress> {
        match self.fields.get("email") {
            None | Some(Value::Null) => {
                self.fail("email", "is required");
                None
            }
            Some(Value::String(s)) => match EmailAddress::parse(s) {
                Ok(email) => Some(email),
                Err(EmailError::Empty) => {
                    self.fail("email", "is required");
                    None
                }
                Err(error) => {
                    self.fail("email", error.to_string());
                    None
                }
            },
            Some(other) => {
                self.fail("email", format!("must be a string, not {}", kind(other)));
                None
            }
        }
    }

    fn phone(&mut self) -> Option<Phone> {
        let raw = self.text("phone", 40)?;
        Phone::parse(&raw)
            .map_err(|message| self.fail("phone", message))
            .ok()
    }

    fn status(&mut self) -> Status {
        match self.fields.get("status") {
            None | Some(Value::Null) => Status::Lead,
            Some(Value::String(s)) => Status::parse(s).unwrap_or_else(|| {
                self.fail("status", format!("must be one of: {STATUSES}"));
                Status::Lead
            }),
            Some(other) => {
                self.fail("status", format!("must be a string, not {}", kind(other)));
                Status::Lead
            }
        }
    }

    fn tags(&mut self) -> BTreeSet<Tag> {
        let items = match self.fields.get("tags") {
            None | Some(Value::Null) => return BTreeSet::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.fail(
                    "tags",
                    format!("must be an array of tags, not {}", kind(other)),
                );
                return BTreeSet::new();
            }
        };
        let mut tags = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("tags[{i}]");
            match item {
                Value::String(s) => match Tag::parse(s) {
                    Ok(tag) => {
                        tags.insert(tag);
                    }
                    Err(message) => self.fail(&path, message),
                },
                other => self.fail(&path, format!("must be a string, not {}", kind(other))),
            }
        }
        if tags.len() > MAX_TAGS || items.len() > 10 * MAX_TAGS {
            self.fail(
                "tags",
                format!("must have at most {MAX_TAGS} different tags"),
            );
        }
        tags
    }

    fn notes(&mut self) -> Option<String> {
        match self.fields.get("notes") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.len() > MAX_NOTES_BYTES {
                    self.fail("notes", format!("must be at most {MAX_NOTES_BYTES} bytes"));
                    None
                } else {
                    (!s.is_empty()).then(|| s.to_owned())
                }
            }
            Some(other) => {
                self.fail("notes", format!("must be a string, not {}", kind(other)));
                None
            }
        }
    }

    fn subscribed(&mut self) -> bool {
        match self.fields.get("subscribed") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.fail(
                    "subscribed",
                    format!("must be true or false, not {}", kind(other)),
                );
                true
            }
        }
    }

    fn properties(&mut self) -> Properties {
        match self.fields.get("properties") {
            None | Some(Value::Null) => Properties::default(),
            Some(value) => Properties::parse(value).unwrap_or_else(|errors| {
                for (path, message) in errors {
                    self.fail(&path, message);
                }
                Properties::default()
            }),
        }
    }
}

/// The JSON type of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields_of(body: Value) -> Vec<String> {
        draft_from_json(&body)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_minimal_body_gets_the_defaults() {
        let draft = draft_from_json(&json!({"email": " Ada@Example.com "})).unwrap();
        assert_eq!(draft.email.as_str(), "ada@example.com");
        assert_eq!(draft.status, Status::Lead);
        assert!(draft.subscribed && draft.tags.is_empty() && draft.first_name.is_none());
        let json = Value::Object(draft.to_json());
        assert_eq!(json["tags"], json!([]));
        assert_eq!(json["properties"], json!({}));
        assert_eq!(json["phone"], Value::Null);
    }

    #[test]
    fn a_full_body_is_normalised() {
        let draft = draft_from_json(&json!({
            "first_name": " Ada ", "last_name": "", "email": "ada@example.com",
            "phone": "+1 (555) 010-9999", "company": "AE", "status": "active",
            "tags": ["VIP", "vip", "beta-2"], "notes": "n", "source": "web",
            "subscribed": false, "properties": {"plan": "pro"}
        }))
        .unwrap();
        assert_eq!(draft.first_name.as_deref(), Some("Ada"));
        assert_eq!(draft.last_name, None);
        assert_eq!(draft.phone.unwrap().as_str(), "+15550109999");
        assert_eq!(
            draft.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            ["beta-2", "vip"]
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        for (body, want) in [
            (json!({}), vec!["email"]),
            (json!({"email": "nope"}), vec!["email"]),
            (json!({"email": 5}), vec!["email"]),
            (json!({"email": "a@b.co", "status": "gold"}), vec!["status"]),
            (
                json!({"email": "a@b.co", "subscribed": "yes"}),
                vec!["subscribed"],
            ),
            (json!({"email": "a@b.co", "tags": "a"}), vec!["tags"]),
            (
                json!({"email": "a@b.co", "tags": ["ok", "no way"]}),
                vec!["tags[1]"],
            ),
            (
                json!({"email": "a@b.co", "notes": "x".repeat(10241)}),
                vec!["notes"],
            ),
            (
                json!({"email": "a@b.co", "properties": {"a": [1]}}),
                vec!["properties.a"],
            ),
            (
                json!({"email": "a@b.co", "nickname": "x"}),
                vec!["nickname"],
            ),
            (
                json!({"email": "a@b.co", "id": "x", "version": 3}),
                vec!["id", "version"],
            ),
            (
                json!({"email": "a@b.co", "first_name": "x".repeat(101)}),
                vec!["first_name"],
            ),
            (json!({"email": "a@b.co", "phone": "12"}), vec!["phone"]),
            (json!(["email"]), vec!["$"]),
        ] {
            assert_eq!(fields_of(body.clone()), want, "{body}");
        }
        let tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(
            fields_of(json!({"email": "a@b.co", "tags": tags})),
            ["tags"]
        );
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        // The examples of RFC 7386, appendix A.
        for (target, patch, want) in [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ] {
            let mut result = target.clone();
            merge_patch(&mut result, &patch);
            assert_eq!(result, want, "{target} + {patch}");
        }
    }

    #[test]
    fn changed_fields_names_what_differs() {
        let a = draft_from_json(&json!({"email": "a@b.co", "tags": ["x"]})).unwrap();
        let b = draft_from_json(&json!({"email": "c@b.co", "tags": ["x"], "status": "active"}))
            .unwrap();
        assert_eq!(a.changed_fields(&b), ["email", "status"]);
        assert!(a.changed_fields(&a).is_empty());
    }
}
