//! The API suite: the CRM API on the application's own spin.toml, served by crm-host.

mod admin_pages;
mod auth;
mod caching;
mod clients;
mod flags;
mod grants_pinned;
mod health;
mod loops;
mod migrations;
mod observability;
mod openapi;
mod rate_limit;
mod readiness;
