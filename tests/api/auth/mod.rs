//! The auth issue's acceptance tests (docs/auth.md), black-box over HTTP through crm-host,
//! each on every backend set: sessions, forged tokens, roles, API keys, key rotation,
//! brute force, validation and the audit trail.

mod api_keys;
mod audit;
mod brute_force;
mod forged_tokens;
mod listing;
mod on_spin;
pub mod requests;
mod roles;
mod rotation;
mod session;
pub(crate) mod support;
mod tokens;
mod validation;
