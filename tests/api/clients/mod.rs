//! The clients issue's acceptance tests (docs/clients.md), black-box over HTTP through
//! crm-host, each on every backend set: the CRUD round trip with its conditional and
//! idempotent requests, roles, listing and search against a model of the book, validation,
//! the Loops outbox and erasure, history, import and export.

mod crud;
mod history;
mod import_export;
mod outbox;
mod pagination;
pub mod support;
mod validation;
