//! The writable part of a client, as newtypes parsed at the edge: statuses, tags, phone
//! numbers, properties and the limits of the free-text fields.

use crate::auth::EmailAddress;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_COMPANY_CHARS: usize = 200;
pub const MAX_SOURCE_CHARS: usize = 100;
pub const MAX_NOTES_BYTES: usize = 10 * 1024;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 32;
pub const MAX_PROPERTIES: usize = 50;
pub const MAX_PROPERTIES_BYTES: usize = 8 * 1024;
pub const MAX_PROPERTY_NAME_CHARS: usize = 64;

/// Where a client stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Lead,
    Active,
    Inactive,
    Churned,
}

pub const STATUSES: &str = "lead, active, inactive, churned";

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "lead" => Some(Status::Lead),
            "active" => Some(Status::Active),
            "inactive" => Some(Status::Inactive),
            "churned" => Some(Status::Churned),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Lead => "lead",
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Churned => "churned",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tag: a slug `[a-z0-9][a-z0-9-]{0,31}` (input is trimmed and lowercased first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Tag, &'static str> {
        let tag = raw.trim().to_lowercase();
        let mut chars = tag.chars();
        let Some(first) = chars.next() else {
            return Err("must not be empty");
        };
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err("must be at most 32 characters");
        }
        let slug = (first.is_ascii_lowercase() || first.is_ascii_digit())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug {
            return Err("must be a slug: a-z, 0-9 and '-', starting with a letter or digit");
        }
        Ok(Tag(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164: `+` and 7 to 15 digits, the first not 0. Spaces, dots, dashes
/// and parentheses are accepted on input and dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, &'static str> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        let Some(digits) = compact.strip_prefix('+') else {
            return Err("must be an E.164 number such as +442071234567");
        };
        let valid = (7..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid {
            return Err("must be an E.164 number such as +442071234567");
        }
        Ok(Phone(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Custom properties: a flat map of string, number or boolean values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Properties(Map<String, Value>);

impl Properties {
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// Checks a JSON object; errors are `(path, message)` with paths under `properties`.
    pub fn parse(value: &Value) -> Result<Properties, Vec<(String, String)>> {
        let Value::Object(map) = value else {
            return Err(vec![(
                "properties".into(),
                "must be an object of string, number or boolean values".into(),
            )]);
        };
        let mut errors = Vec::new();
        if map.len() > MAX_PROPERTIES {
            errors.push((
                "properties".into(),
                format!("must have at most {MAX_PROPERTIES} keys"),
            ));
        }
        for (name, value) in map {
            let path = format!("properties.{name}");
            if !is_property_name(name) {
                errors.push((
                    path.clone(),
                    "the name must match [A-Za-z_][A-Za-z0-9_]{0,63}".into(),
                ));
            }
            if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                errors.push((path, "must be a string, a number or a boolean".into()));
            }
        }
        let size = serde_json::to_string(map).map(|s| s.len()).unwrap_or(0);
        if size > MAX_PROPERTIES_BYTES {
            errors.push((
                "properties".into(),
                format!("must be at most {MAX_PROPERTIES_BYTES} bytes as JSON"),
            ));
        }
        if errors.is_empty() {
            Ok(Properties(map.clone()))
        } else {
            Err(errors)
        }
    }
}

impl Properties {
    /// Properties read back from storage, where only [`Properties::parse`]d maps are
    /// written: the value kinds are checked again, the size is not re-measured.
    pub fn from_stored(map: Map<String, Value>) -> Result<Properties, String> {
        match map
            .iter()
            .find(|(_, v)| !matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
        {
            Some((name, _)) => Err(format!(
                "property `{name}` is not a string, number or boolean"
            )),
            None => Ok(Properties(map)),
        }
    }
}

fn is_property_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= MAX_PROPERTY_NAME_CHARS
        && (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The writable fields of a client, all valid.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientDraft {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: EmailAddress,
    pub phone: Option<Phone>,
    pub company: Option<String>,
    pub status: Status,
    pub tags: BTreeSet<Tag>,
    pub notes: Option<String>,
    pub source: Option<String>,
    pub subscribed: bool,
    pub properties: Properties,
}

/// A client's writable fields as its columns hold them (`tags` and `properties` as JSON
/// text), read back from storage.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredDraft {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub status: String,
    pub tags: String,
    pub notes: Option<String>,
    pub source: Option<String>,
    pub subscribed: bool,
    pub properties: String,
}

impl StoredDraft {
    /// The draft these columns hold. Only validated drafts are written, so this checks
    /// kinds and shapes (e-mail, phone, status, tag slugs, flat properties) without the
    /// body reader's per-field messages; an error names the column and why.
    pub fn into_draft(self) -> Result<ClientDraft, (&'static str, String)> {
        let email = EmailAddress::parse(&self.email).map_err(|e| ("email", e.to_string()))?;
        let phone = self
            .phone
            .as_deref()
            .map(Phone::parse)
            .transpose()
            .map_err(|e| ("phone", e.to_owned()))?;
        let status = Status::parse(&self.status)
            .ok_or_else(|| ("status", format!("`{}` is not a status", self.status)))?;
        let tags = serde_json::from_str::<Vec<String>>(&self.tags)
            .map_err(|e| ("tags", e.to_string()))?
            .iter()
            .map(|t| Tag::parse(t).map_err(|e| ("tags", format!("`{t}` {e}"))))
            .collect::<Result<BTreeSet<Tag>, _>>()?;
        let properties = serde_json::from_str::<Map<String, Value>>(&self.properties)
            .map_err(|e| e.to_string())
            .and_then(Properties::from_stored)
            .map_err(|e| ("properties", e))?;
        Ok(ClientDraft {
            first_name: self.first_name,
            last_name: self.last_name,
            email,
            phone,
            company: self.company,
            status,
            tags,
            notes: self.notes,
            source: self.source,
            subscribed: self.subscribed,
            properties,
        })
    }
}

/// The names of the writable fields, in representation order.
pub const WRITABLE_FIELDS: [&str; 11] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "status",
    "tags",
    "notes",
    "source",
    "subscribed",
    "properties",
];

/// Fields the server sets; a body naming one is refused.
pub const READ_ONLY_FIELDS: [&str; 5] = ["id", "created_at", "updated_at", "created_by", "version"];

impl ClientDraft {
    /// The writable fields as a JSON object (absent values as `null`).
    pub fn to_json(&self) -> Map<String, Value> {
        let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let mut map = Map::new();
        map.insert("first_name".into(), text(&self.first_name));
        map.insert("last_name".into(), text(&self.last_name));
        map.insert("email".into(), Value::String(self.email.as_str().into()));
        map.insert(
            "phone".into(),
            self.phone
                .as_ref()
                .map_or(Value::Null, |p| Value::String(p.as_str().into())),
        );
        map.insert("company".into(), text(&self.company));
        map.insert("status".into(), Value::String(self.status.as_str().into()));
        map.insert("tags".into(), self.tags_json());
        map.insert("notes".into(), text(&self.notes));
        map.insert("source".into(), text(&self.source));
        map.insert("subscribed".into(), Value::Bool(self.subscribed));
        map.insert("properties".into(), self.properties.to_json());
        map
    }

    /// The tags as a sorted JSON array.
    pub fn tags_json(&self) -> Value {
        Value::Array(
            self.tags
                .iter()
                .map(|t| Value::String(t.as_str().into()))
                .collect(),
        )
    }

    /// The names of the writable fields whose values differ between `self` and `other`.
    pub fn changed_fields(&self, other: &ClientDraft) -> Vec<&'static str> {
        let (before, after) = (self.to_json(), other.to_json());
        WRITABLE_FIELDS
            .into_iter()
            .filter(|field| before.get(*field) != after.get(*field))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tags_are_lowercased_slugs() {
        assert_eq!(Tag::parse(" VIP ").unwrap().as_str(), "vip");
        assert_eq!(Tag::parse("beta-2").unwrap().as_str(), "beta-2");
        for bad in ["", "-a", "a b", "ä", "a_b", &"a".repeat(33)] {
            assert!(Tag::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Tag::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(
            Phone::parse("+44 (20) 7123-4567").unwrap().as_str(),
            "+442071234567"
        );
        for bad in [
            "442071234567",
            "+0123456789",
            "+12345",
            "+1234567890123456",
            "+1a34567",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    fn stored(draft: &ClientDraft) -> StoredDraft {
        StoredDraft {
            first_name: draft.first_name.clone(),
            last_name: draft.last_name.clone(),
            email: draft.email.as_str().into(),
            phone: draft.phone.as_ref().map(|p| p.as_str().into()),
            company: draft.company.clone(),
            status: draft.status.as_str().into(),
            tags: draft.tags_json().to_string(),
            notes: draft.notes.clone(),
            source: draft.source.clone(),
            subscribed: draft.subscribed,
            properties: draft.properties.to_json().to_string(),
        }
    }

    #[test]
    fn a_draft_comes_back_whole_from_its_stored_columns() {
        let draft = crate::clients::draft_from_json(&json!({
            "first_name": "Zoë", "last_name": "Łukasz", "email": "Zoe@Example.com",
            "phone": "+44 20 7123 4567", "company": "Acme", "status": "active",
            "tags": ["vip", "beta-2"], "notes": "n", "source": "import", "subscribed": false,
            "properties": {"plan": "pro", "seats": 5, "trial": true}
        }))
        .unwrap();
        assert_eq!(stored(&draft).into_draft().unwrap(), draft);
        let minimal = crate::clients::draft_from_json(&json!({"email": "a@b.co"})).unwrap();
        assert_eq!(stored(&minimal).into_draft().unwrap(), minimal);
    }

    #[test]
    fn a_corrupt_stored_column_is_named() {
        let good = stored(&crate::clients::draft_from_json(&json!({"email": "a@b.co"})).unwrap());
        let cases = [
            (
                "email",
                StoredDraft {
                    email: "nope".into(),
                    ..good.clone()
                },
            ),
            (
                "phone",
                StoredDraft {
                    phone: Some("12".into()),
                    ..good.clone()
                },
            ),
            (
                "status",
                StoredDraft {
                    status: "gone".into(),
                    ..good.clone()
                },
            ),
            (
                "tags",
                StoredDraft {
                    tags: "{".into(),
                    ..good.clone()
                },
            ),
            (
                "tags",
                StoredDraft {
                    tags: r#"["a b"]"#.into(),
                    ..good.clone()
                },
            ),
            (
                "properties",
                StoredDraft {
                    properties: "[]".into(),
                    ..good.clone()
                },
            ),
            (
                "properties",
                StoredDraft {
                    properties: r#"{"a":{"b":1}}"#.into(),
                    ..good.clone()
                },
            ),
        ];
        for (column, bad) in cases {
            assert_eq!(bad.into_draft().unwrap_err().0, column);
        }
    }

    #[test]
    fn properties_are_flat_and_bounded() {
        assert!(Properties::parse(&json!({"plan": "pro", "seats": 5, "trial": false})).is_ok());
        let errors = Properties::parse(&json!({"a": {"b": 1}, "9x": 1, "n": null})).unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["properties.9x", "properties.a", "properties.n"]);
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(1))).collect();
        assert!(Properties::parse(&Value::Object(many)).is_err());
        let big = json!({"a": "x".repeat(MAX_PROPERTIES_BYTES)});
        assert!(Properties::parse(&big).is_err());
        assert!(Properties::parse(&json!([1])).is_err());
    }
}
