//! Rate limiting of the public routes (docs/rate-limiting.md): per client address before
//! anything else, and per API key or user by tier once the caller is known. Counters live in
//! the `default` key-value store (Redis in production, shared by every replica) as one
//! counter per subject and fixed window, moved only by atomic `increment`; the decision
//! weighs the previous window's count (a sliding window, `crm_domain::rate_limit`). A
//! subject keeps at most two windows: the first request of a window deletes the one before
//! the previous.
//!
//! The tightest decision of the request is kept for the response headers (`RateLimit-*`,
//! `X-RateLimit-*`), which `http_kit::serve_public*` add.

use crate::api_error::ApiError;
use crate::clock::unix_millis_now;
use crate::kv::{kv_error_name, stored_number};
use crm_domain::auth::{Principal, PrincipalKind, Tier};
use crm_domain::rate_limit::{
    Counter, Decision, MAX_LIMIT, Policy, client_address, decide, previous_mark, window_of,
};
use crm_domain::{Level, LogLine};
use spin_sdk::http::{Request, Response};
use spin_sdk::wit::wasi::keyvalue::{atomics, store};
use std::cell::RefCell;
use std::sync::OnceLock;

const STORE: &str = "default";
/// The peer address as Spin gives it.
pub(crate) const CLIENT_ADDR_HEADER: &str = "spin-client-addr";

thread_local! {
    /// The tightest decision taken for the request being served.
    static DECIDED: RefCell<Option<Decision>> = const { RefCell::new(None) };
    /// The address subject of a request that carries credentials: it counts at the end of
    /// the request ([`settle`]) unless the caller was verified, whose tier counts instead.
    static DEFERRED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The variables (spin.toml `rate_limit_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub address: Policy,
    pub free: Policy,
    pub standard: Policy,
    pub premium: Policy,
    pub trusted_proxy_hops: usize,
    pub fail_open: bool,
    /// `rate_limit_enabled = false`: nothing is counted or limited.
    pub enabled: bool,
}

impl Settings {
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Settings {
        let number = |name: &str, default: u64| crate::variables::number(&get, name, default);
        let window_ms = number("rate_limit_window_seconds", 60).max(1) * 1000;
        // A window counts at most MAX_LIMIT requests (`Counter`'s low bits).
        let policy = |limit: u64| Policy {
            limit: limit.min(MAX_LIMIT),
            window_ms,
        };
        let off = |name: &str| crate::variables::is_off(get(name));
        Settings {
            address: policy(number("rate_limit_ip_limit", 100)),
            free: policy(number("rate_limit_tier_free", 60)),
            standard: policy(number("rate_limit_tier_standard", 600)),
            premium: policy(number("rate_limit_tier_premium", 6000)),
            trusted_proxy_hops: number("rate_limit_trusted_proxy_hops", 0) as usize,
            fail_open: !off("rate_limit_fail_open"),
            enabled: !off("rate_limit_enabled"),
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn load() -> Settings {
        Settings::from_lookup(|name| spin_sdk::variables::get(name).ok())
    }

    /// Natively (unit tests) there is no Spin host: the defaults.
    #[cfg(not(target_arch = "wasm32"))]
    fn load() -> Settings {
        Settings::from_lookup(|_| None)
    }

    /// The settings, read once per component instance (variables do not change under it).
    fn get() -> &'static Settings {
        static SETTINGS: OnceLock<Settings> = OnceLock::new();
        SETTINGS.get_or_init(Settings::load)
    }

    fn tier(&self, tier: Tier) -> Policy {
        match tier {
            Tier::Free => self.free,
            Tier::Standard => self.standard,
            Tier::Premium => self.premium,
        }
    }
}

/// Forgets the previous request's decision (an instance may serve several).
pub(crate) fn begin() {
    DECIDED.with(|decided| decided.borrow_mut().take());
    DEFERRED.with(|deferred| deferred.borrow_mut().take());
}

/// Limits the request by its client address. A request that carries credentials (an API
/// key or a bearer token) is limited by its caller's tier once they are verified, not by
/// its address — else every key behind one address would share the address limit, and a
/// premium key could never use its tier; if they are never verified (401, or a route that
/// does not authenticate), the address counts at the end ([`settle`]). Requests between
/// components are not limited: Spin (and crm-host) give a service-chaining request the peer
/// address `0.0.0.0:0` (trigger-http `outbound_http.rs`, `CHAINED_CLIENT_ADDR`), which no
/// network client can have; and paths under `/private/` are reached only that way.
pub fn limit_address(request: &Request) -> Result<(), ApiError> {
    let header = |name: &str| request.header(name).and_then(|value| value.as_str());
    if request.path().starts_with("/private/") || is_chained(header(CLIENT_ADDR_HEADER)) {
        return Ok(());
    }
    let settings = Settings::get();
    let address = client_address(
        header(CLIENT_ADDR_HEADER),
        header("x-forwarded-for"),
        settings.trusted_proxy_hops,
    )
    .unwrap_or_else(|| "unknown".to_owned());
    let subject = format!("ip:{address}");
    if crate::auth::credential(request).is_some() {
        DEFERRED.with(|deferred| *deferred.borrow_mut() = Some(subject));
        return Ok(());
    }
    check(settings, &subject, settings.address)
}

/// Counts a deferred address now: for a route that verifies no credentials (a login), so
/// credentials sent along cannot carry a request past the address limit into its work.
pub fn limit_deferred_address() -> Result<(), ApiError> {
    settle(Ok(()))
}

/// The end of a public request: a request whose credentials were never verified counts
/// against its address now, and is refused (429) when that puts it over the limit.
pub(crate) fn settle<T>(outcome: Result<T, ApiError>) -> Result<T, ApiError> {
    let Some(subject) = DEFERRED.with(|deferred| deferred.borrow_mut().take()) else {
        return outcome;
    };
    let settings = Settings::get();
    check(settings, &subject, settings.address).and(outcome)
}

/// Whether the peer address is the unspecified one service chaining uses.
pub(crate) fn is_chained(peer: Option<&str>) -> bool {
    peer.and_then(|text| text.parse::<std::net::SocketAddr>().ok())
        .is_some_and(|addr| addr.ip().is_unspecified())
}

/// Limits an authenticated caller by its tier (users are `standard`).
pub fn limit_principal(principal: &Principal) -> Result<(), ApiError> {
    let kind = match principal.kind {
        PrincipalKind::User => "user",
        PrincipalKind::ApiKey => "key",
    };
    let tier = match principal.kind {
        PrincipalKind::User => Tier::Standard,
        PrincipalKind::ApiKey => principal.tier,
    };
    limit_subject(kind, &principal.subject, tier)
}

/// Limits subject `kind:id` by `tier`.
pub fn limit_subject(kind: &str, id: &str, tier: Tier) -> Result<(), ApiError> {
    // The caller is verified: its tier counts, not its address.
    DEFERRED.with(|deferred| deferred.borrow_mut().take());
    let subject = format!("{kind}:{id}");
    crate::log::set_subject(subject.clone());
    let settings = Settings::get();
    check(settings, &subject, settings.tier(tier))
}

fn check(settings: &Settings, subject: &str, policy: Policy) -> Result<(), ApiError> {
    if !settings.enabled {
        return Ok(());
    }
    match count(subject, policy) {
        Ok(decision) => {
            keep(decision);
            match decision.retry_after_secs {
                Some(retry_after_secs) if !decision.admitted => {
                    crate::metrics::record_rate_limited(subject.starts_with("ip:"));
                    Err(ApiError::TooManyRequests { retry_after_secs })
                }
                _ => Ok(()),
            }
        }
        Err(error) => {
            crate::log::emit(
                LogLine::new(
                    Level::Warn,
                    "platform::rate_limit",
                    "rate limiter unavailable",
                )
                .field("error", error)
                .field("fail_open", settings.fail_open),
            );
            if settings.fail_open {
                Ok(())
            } else {
                Err(ApiError::service_unavailable(
                    "The rate limiter is unavailable; try again shortly.",
                ))
            }
        }
    }
}

/// Counts this request for `subject` and decides: one atomic `increment`, which also
/// returns the previous window's count once the window's first request has marked it
/// (`crm_domain::rate_limit::Counter`); only that first request, and any racing it before
/// its mark lands, read the previous window's counter.
fn count(subject: &str, policy: Policy) -> Result<Decision, String> {
    let failed = |e: store::Error| format!("key-value store: {}", kv_error_name(&e));
    let (window, elapsed) = window_of(unix_millis_now(), policy.window_ms);
    let key = |window: u64| format!("ratelimit:{subject}:{}:{window}", policy.window_ms);
    let bucket = store::open(STORE).map_err(failed)?;
    let value = atomics::increment(&bucket, &key(window), 1).map_err(failed)?;
    let counter = Counter::read(value);
    let previous = match counter.previous {
        Some(previous) => previous,
        None => {
            let previous = match window {
                0 => 0,
                _ => bucket
                    .get(&key(window - 1))
                    .map_err(failed)?
                    .map(|bytes| Counter::read(stored_number(&bytes) as i64).current)
                    .unwrap_or(0),
            };
            if Counter::opens_window(value) {
                let _ = atomics::increment(&bucket, &key(window), previous_mark(previous));
                if window >= 2 {
                    // The window before the previous one is done with.
                    let _ = bucket.delete(&key(window - 2));
                }
            }
            previous
        }
    };
    let decision = decide(policy, elapsed, previous, counter.current);
    if !decision.admitted {
        // A refused request does not use up the window.
        let _ = atomics::increment(&bucket, &key(window), -1);
    }
    Ok(decision)
}

/// Keeps `decision` when it is the tightest of the request so far.
fn keep(decision: Decision) {
    DECIDED.with(|decided| {
        let mut decided = decided.borrow_mut();
        let tighter = match decided.as_ref() {
            None => true,
            Some(kept) if kept.admitted != decision.admitted => !decision.admitted,
            Some(kept) => decision.remaining < kept.remaining,
        };
        if tighter {
            *decided = Some(decision);
        }
    });
}

/// Adds the headers of the request's tightest decision, if any was taken.
pub(crate) fn add_headers(response: &mut Response) {
    let Some(decision) = DECIDED.with(|decided| decided.borrow_mut().take()) else {
        return;
    };
    for (name, value) in [
        ("ratelimit-limit", decision.limit),
        ("ratelimit-remaining", decision.remaining),
        ("ratelimit-reset", decision.reset_secs),
        ("x-ratelimit-limit", decision.limit),
        ("x-ratelimit-remaining", decision.remaining),
    ] {
        response.set_header(name, value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_the_variables_with_their_defaults() {
        let defaults = Settings::from_lookup(|_| None);
        assert_eq!(
            defaults.address,
            Policy {
                limit: 100,
                window_ms: 60_000
            }
        );
        assert_eq!(defaults.free.limit, 60);
        assert_eq!(defaults.standard.limit, 600);
        assert_eq!(defaults.premium.limit, 6000);
        assert_eq!(defaults.trusted_proxy_hops, 0);
        assert!(defaults.fail_open);
        assert!(defaults.enabled);
        let set = Settings::from_lookup(|name| {
            Some(
                match name {
                    "rate_limit_ip_limit" => "20",
                    "rate_limit_window_seconds" => "10",
                    "rate_limit_trusted_proxy_hops" => "2",
                    "rate_limit_fail_open" => "false",
                    "rate_limit_enabled" => "off",
                    _ => "",
                }
                .to_owned(),
            )
        });
        assert_eq!(
            set.address,
            Policy {
                limit: 20,
                window_ms: 10_000
            }
        );
        assert_eq!(set.free.window_ms, 10_000);
        assert_eq!(set.trusted_proxy_hops, 2);
        assert!(!set.fail_open);
        assert!(!set.enabled);
    }

    #[test]
    fn only_the_unspecified_peer_of_service_chaining_counts_as_chained() {
        assert!(is_chained(Some("0.0.0.0:0")));
        assert!(is_chained(Some("[::]:0")));
        assert!(!is_chained(Some("127.0.0.1:5000")));
        assert!(!is_chained(Some("0.0.0.0")));
        assert!(!is_chained(None));
    }

    #[test]
    fn the_refused_decision_is_kept_over_any_admitted_one() {
        begin();
        let admitted = |remaining| Decision {
            admitted: true,
            limit: 10,
            remaining,
            reset_secs: 5,
            retry_after_secs: None,
        };
        keep(admitted(7));
        keep(admitted(3));
        keep(admitted(5));
        let refused = Decision {
            admitted: false,
            remaining: 0,
            retry_after_secs: Some(4),
            ..admitted(0)
        };
        keep(refused);
        keep(admitted(1));
        let mut response = Response::new(200, ());
        add_headers(&mut response);
        let header = |name: &str| {
            response
                .header(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        assert_eq!(header("ratelimit-remaining").as_deref(), Some("0"));
        assert_eq!(header("x-ratelimit-limit").as_deref(), Some("10"));
        let mut again = Response::new(200, ());
        add_headers(&mut again);
        assert!(again.header("ratelimit-limit").is_none(), "taken once");
    }
}
