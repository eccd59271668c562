//! Feature flags: what a flag is, how it is checked and how it is evaluated for a caller.
//! The flags of one deployment live in one key-value entry (crm_platform::flags), changed
//! by compare-and-swap, read on every evaluation: a change is seen by every replica on its
//! next request.

use crate::problem::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Most flags one deployment keeps (the entry is read on every evaluation).
pub const MAX_FLAGS: usize = 64;
/// Most subjects on one allow-list.
pub const MAX_ALLOW: usize = 100;
/// Longest subject on an allow-list, in bytes.
pub const MAX_SUBJECT_LEN: usize = 200;
/// Longest flag name.
pub const MAX_NAME_LEN: usize = 63;
/// Most subjects `POST /api/flags/{name}/evaluate` takes at once.
pub const MAX_EVALUATE: usize = 10_000;

/// A flag the code knows: its default comes from the Spin variable of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub name: &'static str,
    pub description: &'static str,
}

/// The flags the code reads. Others may be set (for rollouts the code does not read yet);
/// they default to off.
pub const KNOWN: [Known; 1] = [Known {
    name: "loops_sync_enabled",
    description: "Deliver the outbox to Loops.so (off: rows accumulate and nothing is sent).",
}];

/// What an admin sets: on/off, the share of subjects it is on for, and subjects it is
/// always on for (while enabled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagState {
    pub enabled: bool,
    pub percentage: u8,
    #[serde(default)]
    pub allow: Vec<String>,
}

impl FlagState {
    /// A flag fully on or fully off.
    pub fn all(on: bool) -> FlagState {
        FlagState {
            enabled: on,
            percentage: 100,
            allow: Vec::new(),
        }
    }
}

/// A stored flag: its state and its last change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFlag {
    #[serde(flatten)]
    pub state: FlagState,
    pub updated_at: String,
    pub updated_by: String,
}

/// Every stored flag of a deployment, by name (the one key-value entry).
pub type FlagMap = BTreeMap<String, StoredFlag>;

/// The stored entry's flags; an absent, empty or unreadable entry (the `0` an atomic
/// create leaves) holds none.
pub fn decode(bytes: Option<&[u8]>) -> FlagMap {
    bytes
        .and_then(|bytes| serde_json::from_slice(bytes).ok())
        .unwrap_or_default()
}

/// Whether `name` is a valid flag name: `[a-z][a-z0-9_]*`, at most 63 characters.
pub fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_NAME_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The state in a `PUT /api/flags/{name}` body: `enabled` (required), `percentage` (0–100,
/// default 100), `allow` (subjects, default none); unknown members are refused.
pub fn state_of_body(body: &Value) -> Result<FlagState, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("", "must be a JSON object")]);
    };
    for key in object.keys() {
        if !["enabled", "percentage", "allow"].contains(&key.as_str()) {
            errors.push(FieldError::new(key, "is not a member of a flag"));
        }
    }
    let enabled = match object.get("enabled") {
        Some(Value::Bool(on)) => *on,
        Some(_) => {
            errors.push(FieldError::new("enabled", "must be true or false"));
            false
        }
        None => {
            errors.push(FieldError::new("enabled", "is required"));
            false
        }
    };
    let percentage = match object.get("percentage") {
        None => 100,
        Some(value) => match value.as_u64() {
            Some(n) if n <= 100 => n as u8,
            _ => {
                errors.push(FieldError::new(
                    "percentage",
                    "must be a whole number from 0 to 100",
                ));
                0
            }
        },
    };
    let mut allow = Vec::new();
    match object.get("allow") {
        None => {}
        Some(Value::Array(items)) if items.len() <= MAX_ALLOW => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() && s.len() <= MAX_SUBJECT_LEN => {
                        if !allow.iter().any(|known| known == s) {
                            allow.push(s.to_owned());
                        }
                    }
                    _ => errors.push(FieldError::new(
                        format!("allow/{i}"),
                        format!("must be a subject of 1 to {MAX_SUBJECT_LEN} bytes"),
                    )),
                }
            }
        }
        Some(_) => errors.push(FieldError::new(
            "allow",
            format!("must be an array of at most {MAX_ALLOW} subjects"),
        )),
    }
    if errors.is_empty() {
        Ok(FlagState {
            enabled,
            percentage,
            allow,
        })
    } else {
        Err(errors)
    }
}

/// Where `subject` falls for flag `name`: 0–9,999, the same on every replica and call (a
/// SHA-256 of both, so one subject lands differently for different flags).
pub fn bucket(name: &str, subject: &str) -> u32 {
    let digest = Sha256::digest(format!("{name}\n{subject}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 10_000) as u32
}

/// Whether flag `name` in `state` is on for `subject` (`None`: no caller, e.g. a
/// scheduled drain — on only when the flag is on for everyone).
pub fn evaluate(state: &FlagState, name: &str, subject: Option<&str>) -> bool {
    if !state.enabled {
        return false;
    }
    if state.percentage >= 100 {
        return true;
    }
    match subject {
        None => false,
        Some(subject) => {
            state.allow.iter().any(|allowed| allowed == subject)
                || bucket(name, subject) < u32::from(state.percentage) * 100
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thirty_percent_of_ten_thousand_subjects_is_thirty_percent_and_stable() {
        let state = FlagState {
            enabled: true,
            percentage: 30,
            allow: Vec::new(),
        };
        let subjects: Vec<String> = (0..10_000).map(|n| format!("user:{n}")).collect();
        let on: Vec<bool> = subjects
            .iter()
            .map(|s| evaluate(&state, "new_search", Some(s)))
            .collect();
        let share = on.iter().filter(|on| **on).count() as f64 / 10_000.0;
        assert!((0.28..=0.32).contains(&share), "{share}");
        let again: Vec<bool> = subjects
            .iter()
            .map(|s| evaluate(&state, "new_search", Some(s)))
            .collect();
        assert_eq!(on, again);
    }

    #[test]
    fn off_wins_allow_lists_add_and_no_subject_needs_everyone() {
        let mut state = FlagState {
            enabled: true,
            percentage: 0,
            allow: vec!["key:vip".into()],
        };
        assert!(evaluate(&state, "f", Some("key:vip")));
        assert!(!evaluate(&state, "f", Some("key:other")));
        assert!(!evaluate(&state, "f", None));
        state.percentage = 100;
        assert!(evaluate(&state, "f", None));
        state.enabled = false;
        assert!(!evaluate(&state, "f", Some("key:vip")));
    }

    #[test]
    fn bodies_are_checked_member_by_member() {
        assert_eq!(
            state_of_body(&json!({ "enabled": true })),
            Ok(FlagState::all(true))
        );
        assert_eq!(
            state_of_body(&json!({ "enabled": false, "percentage": 5, "allow": ["a", "a", "b"] })),
            Ok(FlagState {
                enabled: false,
                percentage: 5,
                allow: vec!["a".into(), "b".into()]
            })
        );
        let errors =
            state_of_body(&json!({ "percentage": 101, "allow": [""], "x": 1 })).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["x", "enabled", "percentage", "allow/0"]);
    }

    #[test]
    fn names_are_lowercase_identifiers() {
        for good in ["loops_sync_enabled", "a", "new_search2"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "Loops", "1abc", "a-b", "a b", &"a".repeat(64)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn an_unreadable_entry_holds_no_flags() {
        assert!(decode(None).is_empty());
        assert!(decode(Some(b"0")).is_empty());
        assert!(decode(Some(&0i64.to_le_bytes())).is_empty());
    }
}
