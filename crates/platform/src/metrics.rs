//! Request, rate-limit and cache counters in the `default` store (`crm_domain::metrics`
//! names them): one atomic `increment` per counter, so every replica adds to the same
//! numbers on Spin's SQLite store and on Redis. A failed increment only loses that count;
//! a request never fails or waits for its metrics beyond the store call itself.

use crm_domain::metrics::{self, Keys, Slot};
use spin_sdk::wit::wasi::keyvalue::{atomics, store};
use std::cell::Cell;
use std::sync::OnceLock;

/// Spin variable: the key namespace of this deployment's counters (replicas of one
/// environment share it; another environment on the same Redis uses another). Empty: no
/// counters are kept.
pub const NAMESPACE_VARIABLE: &str = "metrics_namespace";
const DEFAULT_NAMESPACE: &str = "crm";
const STORE: &str = "default";

static NAMESPACE: OnceLock<Option<String>> = OnceLock::new();

thread_local! {
    static COMPONENT: Cell<&'static str> = const { Cell::new("") };
}

/// The namespace, read once per component instance; `None` when counting is off.
pub fn namespace() -> Option<&'static str> {
    NAMESPACE
        .get_or_init(|| {
            let configured = read_variable().unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
            let configured = configured.trim();
            (!configured.is_empty()).then(|| configured.to_owned())
        })
        .as_deref()
}

#[cfg(target_arch = "wasm32")]
fn read_variable() -> Option<String> {
    spin_sdk::variables::get(NAMESPACE_VARIABLE).ok()
}

#[cfg(not(target_arch = "wasm32"))]
fn read_variable() -> Option<String> {
    None
}

/// Names the component serving the current request (for counters kept deep inside it).
pub(crate) fn begin(component: &'static str) {
    COMPONENT.with(|current| current.set(component));
}

/// Counts one answered request of `component` on Spin route `route`.
pub(crate) fn record_request(component: &str, route: &str, status: u16, duration_ms: u64) {
    let Some(class) = metrics::status_class(status) else {
        return;
    };
    with_keys(|keys, bucket| {
        let bucket_key = keys.request(
            component,
            route,
            class,
            Slot::Bucket(metrics::bucket_index(duration_ms)),
        );
        let _ = atomics::increment(bucket, &bucket_key, 1);
        let sum_key = keys.request(component, route, class, Slot::SumMs);
        let _ = atomics::increment(bucket, &sum_key, duration_ms.min(i64::MAX as u64) as i64);
    });
}

/// Counts a 429 of the current component; `address`: the client address was limited.
pub(crate) fn record_rate_limited(address: bool) {
    let component = COMPONENT.with(Cell::get);
    let limited = if address { "address" } else { "caller" };
    with_keys(|keys, bucket| {
        let _ = atomics::increment(bucket, &keys.rate_limited(component, limited), 1);
    });
}

/// Counts a response-cache lookup of the current component (`hit` or `miss`).
pub fn record_cache(result: &str) {
    let component = COMPONENT.with(Cell::get);
    with_keys(|keys, bucket| {
        let _ = atomics::increment(bucket, &keys.cache(component, result), 1);
    });
}

/// Slots of the ring of recent server errors (the newest overwrite the oldest).
pub const RECENT_ERRORS: u64 = 50;

/// Remembers a 5xx answer in the ring of recent errors (`GET /api/admin/errors`): one
/// atomic increment picks the slot, one write fills it. Never the request's content.
pub(crate) fn record_error(entry: &serde_json::Value) {
    with_keys(|keys, bucket| {
        let Ok(seq) = atomics::increment(bucket, &keys.recent_errors_seq(), 1) else {
            return;
        };
        let slot = (seq.max(1) as u64 - 1) % RECENT_ERRORS;
        let _ = bucket.set(&keys.recent_error(slot), entry.to_string().as_bytes());
    });
}

/// The recent server errors, newest first (at most [`RECENT_ERRORS`]).
pub fn recent_errors() -> Result<Vec<serde_json::Value>, String> {
    let Some(source) = namespace() else {
        return Ok(Vec::new());
    };
    let keys = Keys { source };
    let failed =
        |e: store::Error| format!("key-value store failed: {}", crate::kv::kv_error_name(&e));
    let bucket = store::open(STORE).map_err(failed)?;
    let seq = bucket
        .get(&keys.recent_errors_seq())
        .map_err(failed)?
        .map_or(0, |bytes| crate::kv::stored_number(&bytes));
    let mut errors = Vec::new();
    for n in (seq.saturating_sub(RECENT_ERRORS)..seq).rev() {
        if let Some(bytes) = bucket
            .get(&keys.recent_error(n % RECENT_ERRORS))
            .map_err(failed)?
            && let Ok(entry) = serde_json::from_slice(&bytes)
        {
            errors.push(entry);
        }
    }
    Ok(errors)
}

fn with_keys(count: impl FnOnce(&Keys<'_>, &store::Bucket)) {
    let Some(source) = namespace() else {
        return;
    };
    if !cfg!(target_arch = "wasm32") {
        return;
    }
    if let Ok(bucket) = store::open(STORE) {
        count(&Keys { source }, &bucket);
    }
}
