//! The host suite: crm-host against Spin's semantics, on the fixture app
//! (tests/fixtures/spin.toml), over HTTP.

mod chaining;
mod conformance;
mod grants;
mod headers;
mod hostile;
mod key_value;
mod outbound;
mod platform_db;
mod postgres;
mod process;
mod redis_kv;
mod robustness;
mod routing;
mod sqlite;
mod startup;
mod variables;
