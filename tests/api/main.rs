//! Black-box tests: crm-host serving real components over HTTP.

mod grants;
mod headers;
mod health;
mod key_value;
mod outbound;
mod robustness;
mod routing;
mod sqlite;
mod startup;
mod variables;
