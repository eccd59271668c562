//! Rate limiting rules, without I/O: the sliding-window decision over two fixed-window
//! counters (the current window's count and the previous one's, weighted by how much of
//! it still overlaps the sliding window), the headers it implies, and which address a
//! request comes from behind trusted proxies. `crm_platform::rate_limit` keeps the counters
//! in the key-value store with atomic increments.

use std::net::IpAddr;

/// A limit: at most `limit` requests per `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub limit: u64,
    pub window_ms: u64,
}

/// The fixed window `now_ms` falls in, and how far into it.
pub fn window_of(now_ms: u64, window_ms: u64) -> (u64, u64) {
    let window_ms = window_ms.max(1);
    (now_ms / window_ms, now_ms % window_ms)
}

/// The decision on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub admitted: bool,
    pub limit: u64,
    /// Requests still admitted now (0 when refused).
    pub remaining: u64,
    /// Seconds until the current fixed window ends (`RateLimit-Reset`).
    pub reset_secs: u64,
    /// When refused: seconds until a request would be admitted, if nobody else sends.
    pub retry_after_secs: Option<u64>,
}

/// Decides a request `elapsed_ms` into its window, given the previous window's count and
/// the current window's count *including this request* (an atomic increment's result, so
/// concurrent requests each see a different count and at most the limit are admitted).
/// Admitted when `previous × (window − elapsed) / window + current ≤ limit`.
pub fn decide(policy: Policy, elapsed_ms: u64, previous: u64, current: u64) -> Decision {
    let window = u128::from(policy.window_ms.max(1));
    let limit = u128::from(policy.limit);
    let elapsed = u128::from(elapsed_ms).min(window - 1);
    let carried = u128::from(previous) * (window - elapsed);
    let used = carried + u128::from(current) * window;
    let admitted = used <= limit * window;
    let remaining = if admitted {
        ((limit * window - used) / window) as u64
    } else {
        0
    };
    let reset_ms = (window - elapsed) as u64;
    let retry_after_ms = (!admitted)
        .then(|| retry_after_ms(policy, elapsed as u64, previous, current.saturating_sub(1)));
    Decision {
        admitted,
        limit: policy.limit,
        remaining,
        reset_secs: reset_ms.div_ceil(1000),
        retry_after_secs: retry_after_ms.map(|ms| ms.div_ceil(1000).max(1)),
    }
}

/// How long until one more request is admitted, counting `admitted_now` requests in the
/// current window and none after them.
fn retry_after_ms(policy: Policy, elapsed_ms: u64, previous: u64, admitted_now: u64) -> u64 {
    let window = u128::from(policy.window_ms.max(1));
    let limit = u128::from(policy.limit);
    let elapsed = u128::from(elapsed_ms);
    // Later in this window: previous × (window − t) + (admitted_now + 1) × window ≤ limit × window.
    let need_now = (u128::from(admitted_now) + 1) * window;
    if need_now <= limit * window && previous > 0 {
        let spare = limit * window - need_now;
        // Smallest t with previous × (window − t) ≤ spare.
        let t = window.saturating_sub(spare / u128::from(previous));
        if t < window {
            return t.saturating_sub(elapsed) as u64;
        }
    }
    // In the next window, this window's admitted requests carry over.
    let until_next = window - elapsed;
    if limit == 0 {
        return until_next as u64;
    }
    let carried = u128::from(admitted_now);
    let spare = (limit - 1) * window;
    // Nothing carried over: the next window admits at once.
    let t = spare
        .checked_div(carried)
        .map_or(0, |fits| window.saturating_sub(fits));
    (until_next + t.min(window)) as u64
}

/// The address a request comes from. With no trusted proxy hop, the peer address
/// (`spin-client-addr`); behind `trusted_hops` proxies, the address the outermost trusted
/// proxy saw: the `trusted_hops`-th `X-Forwarded-For` entry from the right (anything to
/// its left is whatever the client claims). Ports and brackets are dropped; an entry that
/// is not an IP address falls back to the peer; IPv6 addresses count by their /64.
pub fn client_address(
    peer: Option<&str>,
    forwarded_for: Option<&str>,
    trusted_hops: usize,
) -> Option<String> {
    let peer = peer.and_then(parse_address);
    if trusted_hops == 0 {
        return peer.map(subject_of);
    }
    let hops: Vec<&str> = forwarded_for
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    // Fewer entries than trusted proxies: the leftmost one is still a proxy's record.
    let index = hops.len().saturating_sub(trusted_hops);
    hops.get(index)
        .and_then(|hop| parse_address(hop))
        .or(peer)
        .map(subject_of)
}

/// The limiter's subject for an address: IPv4 addresses as they are, IPv6 by their /64
/// (one end site holds a whole /64, so counting single addresses would let it rotate
/// through them).
fn subject_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678` → the IP.
fn parse_address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = text.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    text.strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|ip| ip.parse().ok())
}

/// The most requests a window's counter can count (its low 32 bits).
pub const MAX_LIMIT: u64 = 1 << 30;

/// A window's counter as its atomic `increment` returns it: the low 32 bits count the
/// window's requests; the high bits, once the window's first request has added
/// [`previous_mark`], hold the previous window's count + 1. So, after a window's first
/// request, every other one learns both counts from its one increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// The previous window's count, once marked.
    pub previous: Option<u64>,
    pub current: u64,
}

impl Counter {
    pub fn read(value: i64) -> Counter {
        let value = value.max(0) as u64;
        let high = value >> 32;
        Counter {
            previous: high.checked_sub(1),
            current: value & 0xFFFF_FFFF,
        }
    }

    /// Whether this increment opened the window (so it marks the previous count).
    pub fn opens_window(value: i64) -> bool {
        value == 1
    }
}

/// What the window's first request adds to the counter to record the previous count.
pub fn previous_mark(previous: u64) -> i64 {
    ((previous.min(MAX_LIMIT) + 1) << 32) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWENTY_PER_10S: Policy = Policy {
        limit: 20,
        window_ms: 10_000,
    };

    #[test]
    fn a_fresh_window_admits_exactly_the_limit() {
        for n in 1..=20 {
            let decision = decide(TWENTY_PER_10S, 500, 0, n);
            assert!(decision.admitted, "{n}");
            assert_eq!(decision.remaining, 20 - n);
            assert_eq!(decision.reset_secs, 10);
        }
        let refused = decide(TWENTY_PER_10S, 500, 0, 21);
        assert!(!refused.admitted);
        assert_eq!(refused.remaining, 0);
        // 20 were admitted: the next window carries them over in full at its start and
        // frees one slot after a twentieth of it (0.5 s): 9.5 s + 0.5 s.
        assert_eq!(refused.retry_after_secs, Some(10));
    }

    #[test]
    fn the_previous_window_counts_for_what_still_overlaps() {
        // Half-way into the window, a full previous window weighs 10.
        let decision = decide(TWENTY_PER_10S, 5_000, 20, 10);
        assert!(decision.admitted);
        assert_eq!(decision.remaining, 0);
        let refused = decide(TWENTY_PER_10S, 5_000, 20, 11);
        assert!(!refused.admitted);
        // 10 admitted now: one more fits once the previous window weighs 9 (at 5.5 s).
        assert_eq!(refused.retry_after_secs, Some(1));
        // Near the end, the previous window hardly counts.
        assert!(decide(TWENTY_PER_10S, 9_999, 20, 19).admitted);
        assert!(!decide(TWENTY_PER_10S, 9_999, 20, 20).admitted);
    }

    #[test]
    fn retry_after_points_at_a_moment_that_admits() {
        for elapsed in [0, 1_234, 5_000, 9_999] {
            for previous in [0, 5, 20, 40] {
                for current in 1..=25 {
                    let decision = decide(TWENTY_PER_10S, elapsed, previous, current);
                    if decision.admitted {
                        continue;
                    }
                    let wait = retry_after_ms(TWENTY_PER_10S, elapsed, previous, current - 1);
                    let at = elapsed + wait;
                    let later = if at < 10_000 {
                        decide(TWENTY_PER_10S, at, previous, current)
                    } else {
                        decide(TWENTY_PER_10S, at - 10_000, current - 1, 1)
                    };
                    assert!(later.admitted, "{elapsed} {previous} {current}: {wait} ms");
                }
            }
        }
    }

    #[test]
    fn the_client_is_the_peer_unless_proxies_are_trusted() {
        let xff = Some("203.0.113.9, 198.51.100.7, 10.0.0.2");
        assert_eq!(
            client_address(Some("10.0.0.1:4321"), xff, 0).as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            client_address(Some("10.0.0.1:4321"), xff, 1).as_deref(),
            Some("10.0.0.2")
        );
        assert_eq!(
            client_address(Some("10.0.0.1:4321"), xff, 2).as_deref(),
            Some("198.51.100.7")
        );
        // A spoofed leftmost entry is never chosen unless that many proxies are trusted.
        assert_eq!(
            client_address(Some("10.0.0.1:4321"), xff, 3).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            client_address(Some("10.0.0.1:4321"), xff, 9).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            client_address(Some("[::1]:80"), None, 1).as_deref(),
            Some("::/64")
        );
        assert_eq!(
            client_address(Some("[2001:db8:1:2:aaaa::7]:443"), None, 0).as_deref(),
            Some("2001:db8:1:2::/64"),
            "an IPv6 client counts by its /64"
        );
        assert_eq!(
            client_address(Some("[::ffff:192.0.2.1]:443"), None, 0).as_deref(),
            Some("192.0.2.1")
        );
        assert_eq!(
            client_address(Some("10.0.0.1:1"), Some("garbage"), 1).as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(client_address(None, None, 0), None);
    }

    #[test]
    fn a_counter_carries_the_previous_count_once_marked() {
        assert_eq!(
            Counter::read(1),
            Counter {
                previous: None,
                current: 1
            }
        );
        assert!(Counter::opens_window(1));
        for previous in [0, 1, 50, MAX_LIMIT] {
            let marked = 1 + previous_mark(previous);
            assert!(!Counter::opens_window(marked));
            assert_eq!(
                Counter::read(marked),
                Counter {
                    previous: Some(previous),
                    current: 1
                }
            );
            // Later increments and refunds move only the count.
            assert_eq!(Counter::read(marked + 41).current, 42);
            assert_eq!(Counter::read(marked + 41 - 1).previous, Some(previous));
            assert_eq!(Counter::read(marked - 1).current, 0);
        }
        assert_eq!(
            Counter::read(previous_mark(u64::MAX)).previous,
            Some(MAX_LIMIT)
        );
        assert_eq!(Counter::read(-5).current, 0, "never negative");
    }
}
