//! The Loops.so sync (components/loops-sync) against a stand-in for Loops that follows
//! `../shared/design/loops-api.md` (wiremock, scripted answers, every request recorded
//! with its arrival time), on every backend set: delivery after each write, retries,
//! 429 pauses, Loops down and back, dead letters and replay, coalescing, concurrent drains
//! on two crm-host processes, backfill under the rate limit, health and the admin API.

mod backfill;
mod delivery;
mod failures;
pub mod support;
