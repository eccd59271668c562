//! Black-box tests: crm-host serving real components over HTTP.

mod chaining;
mod grants;
mod grants_pinned;
mod headers;
mod health;
mod key_value;
mod migrations;
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
