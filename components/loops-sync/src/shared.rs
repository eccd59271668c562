//! State every replica shares through `wasi:keyvalue` store `default` (rule 6: the same
//! code on Spin's SQLite-backed store and on Redis): the request limiter (GCRA by
//! compare-and-swap), the pause after a 429, the telemetry counters (atomic increments)
//! and the cached Loops health probe.

use crate::config::Config;
use crm_domain::loops::{DURATION_BUCKETS_MS, limiter_slot};
use crm_platform::clock::unix_millis_now;
use crm_platform::kv::{kv_error_name, stored_number as number};
use sha2::{Digest, Sha256};
use spin_sdk::wit::wasi::keyvalue::atomics;
use spin_sdk::wit::wasi::keyvalue::store::{self, Bucket};

const STORE: &str = "default";

/// The shared store, with the key prefix of one Loops team: `loops:<team>:` where
/// `<team>` is a hash of the base URL and API key (never the key itself). Loops limits
/// per team, so every replica — and only those — talking to that team share the limiter,
/// the pause and the cached probe.
pub struct Shared {
    bucket: Bucket,
    team: String,
}

impl Shared {
    pub fn open(config: &Config) -> Result<Shared, String> {
        let digest = Sha256::digest(format!("{}\n{}", config.base_url, config.api_key));
        let team: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        store::open(STORE)
            .map(|bucket| Shared { bucket, team })
            .map_err(|e| format!("key-value store unavailable: {}", kv_error_name(&e)))
    }

    fn key(&self, name: &str) -> String {
        format!("loops:{}:{name}", self.team)
    }

    /// Sets the number at `key` to `f(current)` by compare-and-swap (crm_platform::kv::update).
    fn update(
        &self,
        key: &str,
        mut f: impl FnMut(u64) -> Option<u64>,
    ) -> Result<Option<u64>, String> {
        let stored = crm_platform::kv::update(&self.bucket, key, |current| {
            f(current.map(number).unwrap_or(0)).map(|next| next.to_string().into_bytes())
        })?;
        Ok(stored.map(|bytes| number(&bytes)))
    }

    /// Reserves the next request slot: its time (unix ms), or `None` when it is more than
    /// `max_wait_ms` away.
    pub fn reserve_slot(&self, interval_ms: u64, max_wait_ms: u64) -> Result<Option<u64>, String> {
        let mut slot_at = None;
        let key = self.key("limiter_tat");
        let stored = self.update(&key, |tat| {
            let slot = limiter_slot(Some(tat), unix_millis_now(), interval_ms, max_wait_ms)?;
            slot_at = Some(slot.send_at_ms);
            Some(slot.next_tat_ms)
        })?;
        Ok(stored.and(slot_at))
    }

    /// Milliseconds until the pause after a 429 ends (0: not paused).
    pub fn paused_for_ms(&self) -> Result<u64, String> {
        let stored = self
            .bucket
            .get(&self.key("pause_until"))
            .map_err(|e| format!("key-value store failed: {}", kv_error_name(&e)))?;
        Ok(stored
            .map(|bytes| number(&bytes))
            .unwrap_or(0)
            .saturating_sub(unix_millis_now()))
    }

    /// Holds every replica back for `ms` (never shortening a longer pause).
    pub fn pause(&self, ms: u64) -> Result<(), String> {
        let until = unix_millis_now().saturating_add(ms);
        self.update(&self.key("pause_until"), |current| {
            (until > current).then_some(until)
        })?;
        Ok(())
    }

    /// Adds one to counter `name` (`loops:metrics:<name>`, read by `GET /metrics`);
    /// failures only cost the count.
    pub fn count(&self, name: &str) {
        if let Some(key) = metric_key(name) {
            let _ = atomics::increment(&self.bucket, &key, 1);
        }
    }

    /// Records an attempt's duration in the histogram buckets and its sum.
    pub fn observe_duration(&self, ms: u64) {
        for bound in DURATION_BUCKETS_MS.iter().filter(|bound| ms <= **bound) {
            self.count(&format!("duration_ms_bucket:{bound}"));
        }
        self.count("duration_ms_count");
        if let Some(key) = metric_key("duration_ms_sum") {
            let _ = atomics::increment(&self.bucket, &key, ms.min(i64::MAX as u64) as i64);
        }
    }

    /// A counter's value (0 when absent).
    pub fn counter(&self, name: &str) -> u64 {
        metric_key(name)
            .and_then(|key| self.bucket.get(&key).ok())
            .flatten()
            .map(|bytes| number(&bytes))
            .unwrap_or(0)
    }

    /// The cached Loops probe.
    pub fn cached_probe(&self) -> Option<Vec<u8>> {
        self.bucket.get(&self.key("probe")).ok().flatten()
    }

    pub fn cache_probe(&self, value: &[u8]) {
        let _ = self.bucket.set(&self.key("probe"), value);
    }
}

/// The key of Loops counter `name` in this deployment's metrics namespace (`None`: the
/// namespace is empty, nothing is counted).
fn metric_key(name: &str) -> Option<String> {
    crm_platform::metrics::namespace().map(|ns| crm_domain::loops::metric_key(ns, name))
}
