//! crm-platform: spin-sdk adapters shared by the components (http kit, auth verification kit,
//! logging, kv, db, clock, rate limiting).
#![forbid(unsafe_code)]

mod api_error;
pub mod auth;
pub mod clock;
pub mod db;
pub mod flags;
pub mod http_kit;
pub mod kv;
pub mod log;
pub mod metrics;
pub mod rate_limit;
pub mod response_cache;
pub mod variables;
