//! The HTTP side of the host: the listener and its limits, Spin routing and request
//! headers, running a component per request, service chaining, outbound requests,
//! host-made responses and the admin listener.

pub mod admin;
mod body_limit;
mod connection;
pub mod headers;
pub mod invoke;
pub mod limits;
pub mod listener;
pub mod outbound;
pub(crate) mod outgoing_handler;
pub mod problem;
pub mod reserved;
pub mod routes;
pub mod server;
pub mod service_chaining;
