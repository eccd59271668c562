//! Dependency checks of the health report: the default SQLite database and KV store.

use crm_domain::{CheckResult, HealthReport};
use crm_platform::clock::Stopwatch;
use crm_platform::{db, kv};
use std::collections::BTreeMap;

/// Label of the SQLite database and of the key-value store the app uses.
const DEFAULT_LABEL: &str = "default";

/// Runs every check, timing each one.
pub fn run_all(version: &str) -> HealthReport {
    let mut results = BTreeMap::new();
    results.insert(
        "database".to_owned(),
        timed(|| db::sqlite_ping(DEFAULT_LABEL)),
    );
    results.insert(
        "key_value".to_owned(),
        timed(|| kv::kv_round_trip(DEFAULT_LABEL)),
    );
    HealthReport::from_checks(version, results)
}

fn timed(check: impl FnOnce() -> Result<(), String>) -> CheckResult {
    let stopwatch = Stopwatch::start();
    let outcome = check();
    CheckResult::from_outcome(outcome, stopwatch.elapsed_ms())
}
