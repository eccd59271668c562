//! The HTTP side of the host: the listener and its limits, Spin routing and request
//! headers, running a component per request, service chaining, outbound requests,
//! host-made responses and the admin endpoint.

pub mod admin;
pub mod headers;
pub mod listener;
pub mod outbound;
pub mod problem;
pub mod routes;
pub mod server;
pub mod service_chaining;
