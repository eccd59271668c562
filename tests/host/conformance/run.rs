//! Running the cases against a host at some address, and reducing each answer to its
//! view, with the addresses that differ from run to run replaced by placeholders.

use super::cases::{Case, Needs, View};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// What varies between runs and hosts.
pub struct Env {
    pub server: SocketAddr,
    pub target_port: u16,
    /// `host:port` of PostgreSQL, when configured (with TLS on, as the cases expect).
    pub pg: Option<String>,
}

/// Every case's view, by case name; cases whose backend is missing are left out.
pub async fn run_all(cases: &[Case], env: &Env) -> BTreeMap<String, Value> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client");
    let mut views = BTreeMap::new();
    for case in cases {
        if case.needs == Needs::Postgres && env.pg.is_none() {
            continue;
        }
        let view = run_one(&client, case, env)
            .await
            .unwrap_or_else(|e| json!({ "no_response": e }));
        views.insert(case.name.to_owned(), view);
    }
    views
}

async fn run_one(client: &reqwest::Client, case: &Case, env: &Env) -> Result<Value, String> {
    let path = case
        .path
        .replace("{target}", &format!("127.0.0.1%3A{}", env.target_port))
        .replace("{target_port}", &env.target_port.to_string())
        .replace(
            "{pg}",
            &env.pg.clone().unwrap_or_default().replace(':', "%3A"),
        );
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut request = client.request(method, format!("http://{}{path}", env.server));
    for (name, value) in case.headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = case.body {
        request = request.body(body);
    }
    // A dropped connection is an answer too (Spin closes some without a response).
    let response = request
        .send()
        .await
        .map_err(|_| "connection closed".to_owned())?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.map_err(|e| e.to_string())?;
    let view = view_of(case.view, status, content_type, &text);
    Ok(normalise(view, env))
}

fn view_of(view: View, status: u16, content_type: Option<String>, text: &str) -> Value {
    let json: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    match view {
        View::Full => json!({ "status": status, "content_type": content_type, "body": text }),
        View::Echo(names) => {
            let mut seen = Map::new();
            for name in names {
                seen.insert((*name).into(), json["headers"][*name].clone());
            }
            json!({ "status": status, "headers": seen })
        }
        View::Json(pointers) => {
            let mut fields = Map::new();
            fields.insert("status".into(), status.into());
            for pointer in pointers {
                let value = match *pointer {
                    "/status" => continue,
                    // A nested JSON body (chained answers) is compared as JSON.
                    "/body" => parse_or_text(&json["body"]),
                    p => json.pointer(p).cloned().unwrap_or(Value::Null),
                };
                fields.insert(pointer.trim_start_matches('/').into(), value);
            }
            Value::Object(fields)
        }
        View::ErrorKind => {
            let error = json["error"]
                .as_str()
                .map(|e| e.split("(\"").next().unwrap_or(e));
            json!({ "status": status, "error": error })
        }
    }
}

fn parse_or_text(value: &Value) -> Value {
    value
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(|| value.clone())
}

/// Replace run-specific addresses: the server's, the target's port, client ports.
fn normalise(value: Value, env: &Env) -> Value {
    match value {
        Value::String(text) => Value::String(normalise_text(&text, env)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| normalise(v, env)).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalise(v, env)))
                .collect(),
        ),
        other => other,
    }
}

fn normalise_text(text: &str, env: &Env) -> String {
    let text = text
        .replace(&env.server.to_string(), "{server}")
        .replace(&format!(":{}", env.target_port), ":{target_port}");
    // `127.0.0.1:<client port>` (spin-client-addr): the port is the client's choice.
    match text.strip_prefix("127.0.0.1:") {
        Some(port) if port.chars().all(|c| c.is_ascii_digit()) && !port.is_empty() => {
            "127.0.0.1:{client_port}".to_owned()
        }
        _ => text,
    }
}

/// The cases whose views differ, with both sides, for a readable failure.
pub fn differences(want: &BTreeMap<String, Value>, got: &BTreeMap<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, expected) in want {
        match got.get(name) {
            Some(actual) if actual == expected => {}
            Some(actual) => out.push(format!(
                "{name}\n  spin:     {expected}\n  crm-host: {actual}"
            )),
            None => {}
        }
    }
    out
}
