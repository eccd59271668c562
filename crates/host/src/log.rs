//! crm-host's own JSON log lines (the domain's `LogLine` shape): info to
//! stdout, warnings and errors to stderr.

use crm_domain::{Level, LogLine};
use serde_json::Value;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// `component` of host lines that concern no component.
pub const HOST: &str = "crm-host";

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Write one line for `component` with `fields`, tagged `source = crm-host`.
pub fn emit(level: Level, component: &str, msg: &str, fields: &[(&str, Value)]) {
    let mut line = LogLine::new(level, component, msg).field("source", HOST);
    for (key, value) in fields {
        line = line.field(*key, value.clone());
    }
    let text = line.to_json_line(unix_millis());
    let _ = match level {
        Level::Debug | Level::Info => writeln!(std::io::stdout().lock(), "{text}"),
        Level::Warn | Level::Error => writeln!(std::io::stderr().lock(), "{text}"),
    };
}

pub fn warn(msg: &str, fields: &[(&str, Value)]) {
    emit(Level::Warn, HOST, msg, fields);
}

pub fn error(msg: &str, fields: &[(&str, Value)]) {
    emit(Level::Error, HOST, msg, fields);
}
