//! The limits that keep crm-host answering under hostile load (each a `crm-host up`
//! flag), and the counters that show them at work on the admin listener. Spin has none
//! of these limits; they are crm-host's own (see the README).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Every limit, with the defaults `crm-host up` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// How long one request's guest may run, chained requests included (`--request-timeout`).
    pub request_timeout: Duration,
    /// How long a client may take to send a request head; also how long an idle
    /// keep-alive connection is kept (`--header-read-timeout`).
    pub header_read_timeout: Duration,
    /// A response write that makes no progress this long closes the connection
    /// (`--write-timeout`): a client that stops reading cannot hold a connection.
    pub write_timeout: Duration,
    /// Open connections at once; more are answered 503 and closed (`--max-connections`).
    pub max_connections: usize,
    /// Requests being served at once; more are answered 503 (`--max-in-flight`).
    pub max_in_flight: usize,
    /// Largest request body, in bytes; larger ones are answered 413 (`--max-request-body`).
    pub max_request_body: u64,
    /// Most nested service-chaining hops one request may make (`--max-chain-depth`).
    pub max_chain_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_in_flight: 256,
            max_request_body: 10 << 20,
            max_chain_depth: 8,
        }
    }
}

impl Limits {
    /// How long shutdown waits for in-flight requests: none can run past the request
    /// timeout, so a little longer than that.
    pub fn shutdown_grace(&self) -> Duration {
        self.request_timeout + Duration::from_secs(1)
    }
}

/// `10MiB` → (10, "MiB"); `what` names the kind of value in the error.
fn number_and_unit<'a>(text: &'a str, what: &str) -> Result<(u64, &'a str), String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number = number
        .parse()
        .map_err(|_| format!("`{text}` is not {what}"))?;
    Ok((number, unit))
}

/// Parse a duration flag: `30s`, `500ms`, `2m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = number_and_unit(text, "a duration such as 30s, 500ms or 2m")?;
    let duration = match unit {
        "" | "s" => Duration::from_secs(number),
        "ms" => Duration::from_millis(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        _ => return Err(format!("`{text}`: the unit must be ms, s or m")),
    };
    if duration.is_zero() {
        return Err(format!("`{text}`: a timeout must be longer than zero"));
    }
    Ok(duration)
}

/// Parse a size flag: `10MiB`, `512KiB`, `1GiB`, or a bare number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = number_and_unit(text, "a size such as 10MiB, 512KiB or 1048576")?;
    let shift = match unit {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        _ => return Err(format!("`{text}`: the unit must be B, KiB, MiB or GiB")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// What the limits did, for the admin listener's metrics.
#[derive(Debug, Default)]
pub struct Counters {
    pub connections_open: AtomicU64,
    pub requests_in_flight: AtomicU64,
    /// Guest instances running, chained ones included: back to 0 once every guest
    /// has ended or been stopped.
    pub guests_running: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub rejected_in_flight: AtomicU64,
    pub rejected_body_too_large: AtomicU64,
    pub guest_deadline_exceeded: AtomicU64,
    pub chain_depth_exceeded: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Decrements a gauge when dropped: a connection or request that ends, however it ends.
pub struct GaugeGuard<'a>(&'a AtomicU64);

impl<'a> GaugeGuard<'a> {
    pub fn enter(gauge: &'a AtomicU64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_their_unit() {
        for (text, want) in [
            ("30s", Some(Duration::from_secs(30))),
            ("30", Some(Duration::from_secs(30))),
            ("500ms", Some(Duration::from_millis(500))),
            ("2m", Some(Duration::from_secs(120))),
            ("0s", None),
            ("1h", None),
            ("s", None),
            ("-1s", None),
        ] {
            assert_eq!(parse_duration(text).ok(), want, "{text}");
        }
    }

    #[test]
    fn sizes_parse_with_their_unit() {
        for (text, want) in [
            ("10MiB", Some(10 << 20)),
            ("512KiB", Some(512 << 10)),
            ("1GiB", Some(1 << 30)),
            ("1048576", Some(1_048_576)),
            ("10MB", None),
            ("lots", None),
            ("99999999999999999999GiB", None),
        ] {
            assert_eq!(parse_size(text).ok(), want, "{text}");
        }
    }
}
