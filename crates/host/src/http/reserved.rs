//! Spin's reserved routes, answered before routing whatever the method
//! (`crates/trigger-http/src/server.rs`): `/.well-known/spin/health` and `.../info`;
//! anything else under the prefix is an empty 404, and no app route can shadow them.

use crate::app::App;
use crate::http::problem::{self, HostResponse};
use serde::Serialize;

/// Every path under this is Spin's.
pub const PREFIX: &str = "/.well-known/spin/";

/// Spin's `AppInfo`, pretty-printed as Spin prints it.
#[derive(Serialize)]
struct AppInfo<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

/// The answer for a reserved path, or `None` when `path` is not one.
pub fn respond(app: &App, path: &str) -> Option<HostResponse> {
    let rest = path.strip_prefix(PREFIX)?;
    Some(match rest {
        "health" => problem::full(200, None, "OK"),
        "info" => {
            let application = &app.manifest.application;
            let info = AppInfo {
                name: &application.name,
                version: application.version.as_deref(),
            };
            match serde_json::to_vec_pretty(&info) {
                Ok(body) => problem::full(200, Some("application/json"), body),
                Err(_) => problem::empty(500),
            }
        }
        _ => problem::empty(404),
    })
}
