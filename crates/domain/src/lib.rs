//! crm-domain: the pure types and rules of the CRM API (no I/O, no spin-sdk).
#![forbid(unsafe_code)]

pub mod auth;
pub mod cache;
pub mod clients;
pub mod correlation;
pub mod flags;
pub mod health;
pub mod log;
pub mod loops;
pub mod metrics;
pub mod migrations;
pub mod problem;
pub mod rate_limit;
pub mod redact;
pub mod request_id;
pub mod route_template;
pub mod timestamp;

pub use health::{CheckResult, CheckStatus, HealthReport, LivenessReport};
pub use log::{Level, LevelParseError, LogLine};
pub use problem::{FieldError, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, Problem};
pub use request_id::{RequestId, RequestIdError};
