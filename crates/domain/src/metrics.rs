//! Application metrics kept as key-value counters (every replica increments the same keys
//! atomically) and rendered in the Prometheus text format by `GET /metrics`.
//!
//! The keys form a fixed set — the routes of `spin.toml` ([`ROUTES`]), four status classes,
//! the latency buckets — so a scrape reads them in one batch and no client can grow it:
//! a route label is Spin's matched route pattern, never a request path.

use std::fmt::Write as _;

/// Upper bounds (ms) of the request latency histogram; the last bucket is `+Inf`.
pub const LATENCY_BUCKETS_MS: [u64; 10] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000];

/// Status classes counted (`1xx` is never a component's final answer).
pub const STATUS_CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

/// Every `(component, route)` of `spin.toml` but the static `docs` ones, the route as Spin
/// reports it in `spin-matched-route` (tests/api/grants_pinned.rs checks it against the
/// manifest).
pub const ROUTES: [(&str, &str); 11] = [
    ("health", "/health/..."),
    ("health", "/metrics"),
    ("health", "/..."),
    ("auth", "/api/auth/..."),
    ("auth", "/api/users/..."),
    ("auth", "/api/api-keys/..."),
    ("auth", "/:well_known/jwks.json"),
    ("auth", "/api/flags/..."),
    ("auth", "/api/admin/..."),
    ("clients", "/api/clients/..."),
    ("loops-sync", "/api/loops/..."),
];

/// Outcomes of a rate-limit decision that refused a request, by what was limited.
pub const RATE_LIMIT_SUBJECTS: [&str; 2] = ["address", "caller"];

/// Outcomes of a response-cache lookup.
pub const CACHE_RESULTS: [&str; 2] = ["hit", "miss"];

/// The status class label of `status` (`None` for a status not counted).
pub fn status_class(status: u16) -> Option<&'static str> {
    match status {
        200..=299 => Some("2xx"),
        300..=399 => Some("3xx"),
        400..=499 => Some("4xx"),
        500..=599 => Some("5xx"),
        _ => None,
    }
}

/// The histogram bucket of a duration: an index into [`LATENCY_BUCKETS_MS`], or its length
/// for `+Inf`.
pub fn bucket_index(duration_ms: u64) -> usize {
    LATENCY_BUCKETS_MS
        .iter()
        .position(|bound| duration_ms <= *bound)
        .unwrap_or(LATENCY_BUCKETS_MS.len())
}

/// Key names in the `default` store, all under `metrics:<source>:` where `<source>` is the
/// database the app serves (`cache::source_of`): replicas of one deployment share them,
/// apps on other databases (other environments on one Redis) do not.
pub struct Keys<'a> {
    pub source: &'a str,
}

/// One counter of a request series: a (non-cumulative) latency bucket or the sum of
/// milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Bucket(usize),
    SumMs,
}

impl Keys<'_> {
    pub fn request(&self, component: &str, route: &str, class: &str, slot: Slot) -> String {
        let slot = match slot {
            Slot::Bucket(index) => format!("b{index}"),
            Slot::SumMs => "sum_ms".to_owned(),
        };
        format!(
            "metrics:{}:http:{component}:{route}:{class}:{slot}",
            self.source
        )
    }

    pub fn rate_limited(&self, component: &str, subject: &str) -> String {
        format!("metrics:{}:rate_limited:{component}:{subject}", self.source)
    }

    /// The counter of server errors ever recorded (it picks the next slot).
    pub fn recent_errors_seq(&self) -> String {
        format!("metrics:{}:errors:seq", self.source)
    }

    /// Slot `slot` of the ring of recent server errors.
    pub fn recent_error(&self, slot: u64) -> String {
        format!("metrics:{}:errors:{slot}", self.source)
    }

    pub fn cache(&self, component: &str, result: &str) -> String {
        format!("metrics:{}:cache:{component}:{result}", self.source)
    }

    /// Every key a scrape reads, in the order [`render`] expects the values.
    pub fn all(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for (component, route) in ROUTES {
            for class in STATUS_CLASSES {
                for index in 0..=LATENCY_BUCKETS_MS.len() {
                    keys.push(self.request(component, route, class, Slot::Bucket(index)));
                }
                keys.push(self.request(component, route, class, Slot::SumMs));
            }
        }
        for (component, _) in components() {
            for subject in RATE_LIMIT_SUBJECTS {
                keys.push(self.rate_limited(component, subject));
            }
        }
        for result in CACHE_RESULTS {
            keys.push(self.cache("clients", result));
        }
        keys
    }
}

/// The distinct components of [`ROUTES`], in order.
fn components() -> Vec<(&'static str, ())> {
    let mut seen: Vec<(&str, ())> = Vec::new();
    for (component, _) in ROUTES {
        if !seen.iter().any(|(known, _)| *known == component) {
            seen.push((component, ()));
        }
    }
    seen
}

/// Loops delivery counters (kept by loops-sync under `loops:metrics:`), read by a scrape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopsCounters {
    pub sent: u64,
    pub failed: u64,
    pub dead_lettered: u64,
    /// Cumulative counts per bound of `loops_buckets_ms`, then the total count.
    pub duration_buckets: Vec<u64>,
    pub duration_count: u64,
    pub duration_sum_ms: u64,
}

/// The Prometheus text exposition (format 0.0.4) of the counters: `values` holds the
/// numbers of [`Keys::all`] in that order (missing ones read as 0).
pub fn render(values: &[u64], loops: &LoopsCounters, loops_buckets_ms: &[u64]) -> String {
    let mut out = String::new();
    let mut values = values.iter().copied().chain(std::iter::repeat(0));
    let mut next = move || values.next().unwrap_or(0);

    let mut requests = String::new();
    let mut histogram = String::new();
    let mut errors = String::new();
    for (component, route) in ROUTES {
        let mut route_errors = 0;
        for class in STATUS_CLASSES {
            let labels = format!(
                "component=\"{}\",route=\"{}\",status_class=\"{class}\"",
                escape_label(component),
                escape_label(route)
            );
            let mut cumulative = 0;
            let mut lines = String::new();
            for index in 0..=LATENCY_BUCKETS_MS.len() {
                cumulative += next();
                let le = LATENCY_BUCKETS_MS
                    .get(index)
                    .map_or_else(|| "+Inf".to_owned(), |ms| seconds(*ms));
                let _ = writeln!(
                    lines,
                    "crm_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let sum_ms = next();
            if cumulative == 0 {
                continue;
            }
            histogram.push_str(&lines);
            let _ = writeln!(
                histogram,
                "crm_http_request_duration_seconds_sum{{{labels}}} {}",
                seconds(sum_ms)
            );
            let _ = writeln!(
                histogram,
                "crm_http_request_duration_seconds_count{{{labels}}} {cumulative}"
            );
            let _ = writeln!(requests, "crm_http_requests_total{{{labels}}} {cumulative}");
            if class == "5xx" {
                route_errors = cumulative;
            }
        }
        let _ = writeln!(
            errors,
            "crm_http_server_errors_total{{component=\"{}\",route=\"{}\"}} {route_errors}",
            escape_label(component),
            escape_label(route)
        );
    }
    family(
        &mut out,
        "crm_http_requests_total",
        "counter",
        "Requests answered, by component, Spin route and status class.",
        &requests,
    );
    family(
        &mut out,
        "crm_http_server_errors_total",
        "counter",
        "Requests answered with a 5xx status.",
        &errors,
    );
    family(
        &mut out,
        "crm_http_request_duration_seconds",
        "histogram",
        "Time a component took to answer, by component, Spin route and status class.",
        &histogram,
    );

    let mut limited = String::new();
    for (component, _) in components() {
        for subject in RATE_LIMIT_SUBJECTS {
            let _ = writeln!(
                limited,
                "crm_rate_limit_rejections_total{{component=\"{component}\",limited=\"{subject}\"}} {}",
                next()
            );
        }
    }
    family(
        &mut out,
        "crm_rate_limit_rejections_total",
        "counter",
        "Requests refused with 429, by component and by what was limited (client address or caller tier).",
        &limited,
    );

    let mut cache = String::new();
    for result in CACHE_RESULTS {
        let _ = writeln!(
            cache,
            "crm_response_cache_lookups_total{{component=\"clients\",result=\"{result}\"}} {}",
            next()
        );
    }
    family(
        &mut out,
        "crm_response_cache_lookups_total",
        "counter",
        "Response cache lookups of cached client reads, by result.",
        &cache,
    );

    let mut deliveries = String::new();
    for (outcome, value) in [
        ("sent", loops.sent),
        ("failed", loops.failed),
        ("dead_lettered", loops.dead_lettered),
    ] {
        let _ = writeln!(
            deliveries,
            "crm_loops_deliveries_total{{outcome=\"{outcome}\"}} {value}"
        );
    }
    family(
        &mut out,
        "crm_loops_deliveries_total",
        "counter",
        "Loops.so attempts: sent, failed (every refused or unanswered attempt) and dead-lettered.",
        &deliveries,
    );
    let mut loops_histogram = String::new();
    for (bound, count) in loops_buckets_ms.iter().zip(&loops.duration_buckets) {
        let _ = writeln!(
            loops_histogram,
            "crm_loops_request_duration_seconds_bucket{{le=\"{}\"}} {count}",
            seconds(*bound)
        );
    }
    let _ = writeln!(
        loops_histogram,
        "crm_loops_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n\
         crm_loops_request_duration_seconds_sum {}\n\
         crm_loops_request_duration_seconds_count {}",
        loops.duration_count,
        seconds(loops.duration_sum_ms),
        loops.duration_count
    );
    family(
        &mut out,
        "crm_loops_request_duration_seconds",
        "histogram",
        "Duration of Loops.so attempts.",
        &loops_histogram,
    );
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    out.push_str(samples);
}

/// Milliseconds as decimal seconds (`250` → `0.25`, `5000` → `5`).
fn seconds(ms: u64) -> String {
    let (whole, fraction) = (ms / 1000, ms % 1000);
    if fraction == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{:03}", fraction)
            .trim_end_matches('0')
            .to_owned()
    }
}

/// A label value escaped as the Prometheus text format requires (`\`, `"`, newline).
pub fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_buckets() {
        assert_eq!(status_class(204), Some("2xx"));
        assert_eq!(status_class(304), Some("3xx"));
        assert_eq!(status_class(429), Some("4xx"));
        assert_eq!(status_class(503), Some("5xx"));
        assert_eq!(status_class(101), None);
        assert_eq!(bucket_index(0), 0);
        assert_eq!(bucket_index(5), 0);
        assert_eq!(bucket_index(6), 1);
        assert_eq!(bucket_index(5_000), 9);
        assert_eq!(bucket_index(5_001), 10);
    }

    #[test]
    fn seconds_are_written_without_trailing_zeros() {
        assert_eq!(seconds(5), "0.005");
        assert_eq!(seconds(250), "0.25");
        assert_eq!(seconds(1_000), "1");
        assert_eq!(seconds(2_500), "2.5");
        assert_eq!(seconds(0), "0");
    }

    #[test]
    fn a_series_renders_cumulative_buckets_count_and_sum() {
        let keys = Keys { source: "s" };
        let all = keys.all();
        let mut values = vec![0; all.len()];
        let at = |slot| {
            all.iter()
                .position(|k| *k == keys.request("clients", "/api/clients/...", "2xx", slot))
                .unwrap()
        };
        values[at(Slot::Bucket(0))] = 3;
        values[at(Slot::Bucket(4))] = 1;
        values[at(Slot::SumMs)] = 110;
        let text = render(&values, &LoopsCounters::default(), &[]);
        let labels = r#"component="clients",route="/api/clients/...",status_class="2xx""#;
        for line in [
            format!(r#"crm_http_requests_total{{{labels}}} 4"#),
            format!(r#"crm_http_request_duration_seconds_bucket{{{labels},le="0.005"}} 3"#),
            format!(r#"crm_http_request_duration_seconds_bucket{{{labels},le="0.05"}} 3"#),
            format!(r#"crm_http_request_duration_seconds_bucket{{{labels},le="0.1"}} 4"#),
            format!(r#"crm_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} 4"#),
            format!(r#"crm_http_request_duration_seconds_sum{{{labels}}} 0.11"#),
            format!(r#"crm_http_request_duration_seconds_count{{{labels}}} 4"#),
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        assert!(
            !text.contains(r#"status_class="4xx""#),
            "series never seen are left out"
        );
    }

    #[test]
    fn every_key_is_distinct() {
        let all = Keys { source: "s" }.all();
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
    }
}
