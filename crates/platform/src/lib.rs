//! crm-platform: spin-sdk adapters shared by the components (http kit, logging, kv, db, clock).
#![forbid(unsafe_code)]

mod api_error;
pub mod clock;
pub mod db;
pub mod http_kit;
pub mod kv;
pub mod log;
