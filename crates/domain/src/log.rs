//! JSON log lines: one object per line with `ts`, `level`, `component`, `msg` and fields.

use crate::timestamp::rfc3339_utc_from_unix_millis;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// Keys every line carries; a field with one of these names is written as `field_<name>`.
const RESERVED_KEYS: [&str; 4] = ["ts", "level", "component", "msg"];

/// Severity of a log line, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// A log level name that is not one of `debug`, `info`, `warn`, `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log level {0:?}; expected debug, info, warn or error")]
pub struct LevelParseError(String);

impl Level {
    /// Parses a level name, ignoring case and surrounding whitespace.
    pub fn parse(name: &str) -> Result<Self, LevelParseError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "debug" => Ok(Self::Debug),
            "info" => Ok(Self::Info),
            "warn" => Ok(Self::Warn),
            "error" => Ok(Self::Error),
            _ => Err(LevelParseError(name.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }

    /// Whether a line of this level is written when `minimum` is the configured level.
    pub fn is_enabled_at(self, minimum: Level) -> bool {
        self >= minimum
    }
}

impl FromStr for Level {
    type Err = LevelParseError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::parse(name)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A structured log line, built up with [`LogLine::field`] and rendered by
/// [`LogLine::to_json_line`].
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    level: Level,
    component: String,
    message: String,
    fields: Vec<(String, Value)>,
}

impl LogLine {
    pub fn new(level: Level, component: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level,
            component: component.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a field; fields are written in the order they were added.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        let name = if RESERVED_KEYS.contains(&name.as_str()) {
            format!("field_{name}")
        } else {
            name
        };
        // Secrets never reach a line: a field named like one loses its value, and tokens,
        // API keys and email addresses inside any value are masked (crate::redact).
        let value = if crate::redact::is_sensitive_name(&name) {
            Value::String(crate::redact::REDACTED.into())
        } else {
            crate::redact::mask_value(value.into())
        };
        self.fields.push((name, value));
        self
    }

    /// Whether a field called `name` was added.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|(field, _)| field == name)
    }

    pub fn level(&self) -> Level {
        self.level
    }

    /// The line as one JSON object without a trailing newline; `ts` is `unix_millis` in
    /// RFC 3339 UTC. Newlines inside values are escaped, so the result is a single line.
    pub fn to_json_line(&self, unix_millis: u64) -> String {
        let stamped = StampedLine {
            line: self,
            timestamp: rfc3339_utc_from_unix_millis(unix_millis),
        };
        serde_json::to_string(&stamped).unwrap_or_else(|_| {
            format!(
                r#"{{"ts":"{}","level":"error","msg":"log line could not be serialized"}}"#,
                stamped.timestamp
            )
        })
    }
}

/// A line with its timestamp, serialized with keys in a fixed order.
struct StampedLine<'a> {
    line: &'a LogLine,
    timestamp: String,
}

impl Serialize for StampedLine<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4 + self.line.fields.len()))?;
        map.serialize_entry("ts", &self.timestamp)?;
        map.serialize_entry("level", self.line.level.as_str())?;
        map.serialize_entry("component", &self.line.component)?;
        map.serialize_entry("msg", &self.line.message)?;
        for (name, value) in &self.line.fields {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn level_parses_known_names_ignoring_case() {
        let cases = [
            ("debug", Level::Debug),
            ("info", Level::Info),
            ("warn", Level::Warn),
            ("error", Level::Error),
            ("WARN", Level::Warn),
            (" Info\n", Level::Info),
        ];
        for (name, expected) in cases {
            assert_eq!(Level::parse(name), Ok(expected), "parsing {name:?}");
        }
    }

    #[test]
    fn level_rejects_unknown_names() {
        let cases = [
            ("", "empty"),
            ("warning", "long form is not accepted"),
            ("trace", "level we do not have"),
            ("inf", "prefix"),
        ];
        for (name, reason) in cases {
            assert!(Level::parse(name).is_err(), "{reason}: {name:?}");
        }
    }

    #[test]
    fn levels_at_or_above_the_minimum_are_enabled() {
        assert!(Level::Error.is_enabled_at(Level::Info));
        assert!(Level::Info.is_enabled_at(Level::Info));
        assert!(!Level::Debug.is_enabled_at(Level::Info));
        assert!(!Level::Warn.is_enabled_at(Level::Error));
    }

    #[test]
    fn log_line_renders_fixed_keys_first_then_fields_in_order() {
        let line = LogLine::new(Level::Info, "health", "request handled")
            .field("request_id", "req-1")
            .field("status", 200);

        let rendered = line.to_json_line(1_735_689_600_000);

        assert_eq!(
            rendered,
            r#"{"ts":"2025-01-01T00:00:00.000Z","level":"info","component":"health","msg":"request handled","request_id":"req-1","status":200}"#
        );
    }

    #[test]
    fn log_line_stays_on_one_line_when_values_contain_newlines() {
        let line = LogLine::new(Level::Error, "auth", "multi\nline").field("cause", "a\r\nb");

        let rendered = line.to_json_line(0);

        assert!(
            !rendered.contains('\n') && !rendered.contains('\r'),
            "{rendered}"
        );
        let parsed: Value = serde_json::from_str(&rendered).expect("valid JSON");
        assert_eq!(parsed["msg"], "multi\nline");
        assert_eq!(parsed["cause"], "a\r\nb");
    }

    #[test]
    fn log_line_renames_fields_that_clash_with_fixed_keys() {
        let line = LogLine::new(Level::Warn, "clients", "m").field("msg", "sneaky");

        let parsed: Value = serde_json::from_str(&line.to_json_line(0)).expect("valid JSON");

        assert_eq!(parsed["msg"], "m");
        assert_eq!(parsed["field_msg"], "sneaky");
    }

    #[test]
    fn log_line_keeps_structured_field_values() {
        let line = LogLine::new(Level::Debug, "c", "m")
            .field("ok", true)
            .field("checks", json!({"database": "pass"}));

        let parsed: Value = serde_json::from_str(&line.to_json_line(0)).expect("valid JSON");

        assert_eq!(parsed["level"], "debug");
        assert_eq!(parsed["ok"], true);
        assert_eq!(parsed["checks"], json!({"database": "pass"}));
    }
}
