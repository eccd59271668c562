//! crm-host's own JSON log lines: info to stdout, warnings and errors to stderr.

use serde_json::{Map, Value};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

fn line(level: &str, msg: &str, fields: &[(&str, Value)]) -> String {
    let mut map = Map::new();
    let ts_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    map.insert("ts_ms".into(), ts_ms.into());
    map.insert("level".into(), level.into());
    map.insert("component".into(), "crm-host".into());
    map.insert("msg".into(), msg.into());
    for (key, value) in fields {
        map.insert((*key).to_owned(), value.clone());
    }
    Value::Object(map).to_string()
}

pub fn info(msg: &str, fields: &[(&str, Value)]) {
    let _ = writeln!(std::io::stdout().lock(), "{}", line("info", msg, fields));
}

pub fn warn(msg: &str, fields: &[(&str, Value)]) {
    let _ = writeln!(std::io::stderr().lock(), "{}", line("warn", msg, fields));
}

pub fn error(msg: &str, fields: &[(&str, Value)]) {
    let _ = writeln!(std::io::stderr().lock(), "{}", line("error", msg, fields));
}
