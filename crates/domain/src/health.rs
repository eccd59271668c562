//! Health report: combines timed dependency checks into a pass/warn/fail report. A `warn`
//! check (an optional dependency such as Loops is down) degrades the report but leaves the
//! instance ready.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Outcome of one check, or of the whole report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    /// Degraded: worth an alert, not a reason to stop taking traffic.
    Warn,
    Fail,
}

/// One timed dependency check; `error` is short and non-sensitive, present only on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    status: CheckStatus,
    duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Facts about the dependency (backend name, pending count, …), written inline.
    #[serde(flatten)]
    details: BTreeMap<String, serde_json::Value>,
}

impl CheckResult {
    pub fn pass(duration_ms: u64) -> Self {
        Self {
            status: CheckStatus::Pass,
            duration_ms,
            error: None,
            details: BTreeMap::new(),
        }
    }

    pub fn fail(duration_ms: u64, error: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Fail,
            duration_ms,
            error: Some(error.into()),
            details: BTreeMap::new(),
        }
    }

    /// A degraded optional dependency: `error` says why; readiness is unaffected.
    pub fn warn(duration_ms: u64, error: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Warn,
            duration_ms,
            error: Some(error.into()),
            details: BTreeMap::new(),
        }
    }

    /// A result from the outcome of a check that reports failures as short messages.
    pub fn from_outcome(outcome: Result<(), String>, duration_ms: u64) -> Self {
        match outcome {
            Ok(()) => Self::pass(duration_ms),
            Err(error) => Self::fail(duration_ms, error),
        }
    }

    /// Adds a fact about the dependency, e.g. `backend = "postgres"`.
    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    pub fn detail(&self, key: &str) -> Option<&serde_json::Value> {
        self.details.get(key)
    }

    pub fn status(&self) -> CheckStatus {
        self.status
    }

    pub fn duration_ms(&self) -> u64 {
        self.duration_ms
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// The report served by `/health` and `/health/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    status: CheckStatus,
    version: String,
    checks: BTreeMap<String, CheckResult>,
}

impl HealthReport {
    /// Overall status is `Fail` as soon as one check fails, else `Warn` as soon as one
    /// warns (and `Pass` with no checks).
    pub fn from_checks(version: impl Into<String>, checks: BTreeMap<String, CheckResult>) -> Self {
        let any = |status| checks.values().any(|check| check.status == status);
        let status = if any(CheckStatus::Fail) {
            CheckStatus::Fail
        } else if any(CheckStatus::Warn) {
            CheckStatus::Warn
        } else {
            CheckStatus::Pass
        };
        Self {
            status,
            version: version.into(),
            checks,
        }
    }

    /// Whether the instance can take traffic: no check failed (warnings allowed).
    pub fn is_ready(&self) -> bool {
        self.status != CheckStatus::Fail
    }

    pub fn status(&self) -> CheckStatus {
        self.status
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn checks(&self) -> &BTreeMap<String, CheckResult> {
        &self.checks
    }
}

/// The body of `/health/live`: the process answers, nothing else is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivenessReport {
    status: CheckStatus,
}

impl LivenessReport {
    pub fn alive() -> Self {
        Self {
            status: CheckStatus::Pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn checks(entries: Vec<(&str, CheckResult)>) -> BTreeMap<String, CheckResult> {
        entries
            .into_iter()
            .map(|(name, result)| (name.to_owned(), result))
            .collect()
    }

    #[test]
    fn report_passes_when_every_check_passes() {
        let report = HealthReport::from_checks(
            "1.2.3",
            checks(vec![
                ("database", CheckResult::pass(1)),
                ("key_value", CheckResult::pass(2)),
            ]),
        );

        assert_eq!(report.status(), CheckStatus::Pass);
        assert!(report.is_ready());
    }

    #[test]
    fn report_fails_when_any_check_fails() {
        let cases = [
            (
                vec![("database", CheckResult::fail(1, "down"))],
                "only check fails",
            ),
            (
                vec![
                    ("database", CheckResult::pass(1)),
                    ("key_value", CheckResult::fail(1, "down")),
                ],
                "second of two fails",
            ),
            (
                vec![
                    ("database", CheckResult::fail(1, "down")),
                    ("key_value", CheckResult::fail(1, "down")),
                ],
                "both fail",
            ),
        ];
        for (entries, reason) in cases {
            let report = HealthReport::from_checks("1.2.3", checks(entries));

            assert_eq!(report.status(), CheckStatus::Fail, "{reason}");
            assert!(!report.is_ready(), "{reason}");
        }
    }

    #[test]
    fn a_warning_degrades_the_report_but_keeps_it_ready() {
        let report = HealthReport::from_checks(
            "1.0.0",
            checks(vec![
                ("database", CheckResult::pass(1)),
                ("loops", CheckResult::warn(2, "Loops is unreachable")),
            ]),
        );
        assert_eq!(report.status(), CheckStatus::Warn);
        assert!(report.is_ready());
        let failed = HealthReport::from_checks(
            "1.0.0",
            checks(vec![
                ("database", CheckResult::fail(1, "down")),
                ("loops", CheckResult::warn(2, "down")),
            ]),
        );
        assert_eq!(failed.status(), CheckStatus::Fail);
        assert!(!failed.is_ready());
    }

    #[test]
    fn report_without_checks_passes() {
        let report = HealthReport::from_checks("1.2.3", BTreeMap::new());

        assert!(report.is_ready());
    }

    #[test]
    fn report_serializes_error_only_for_failing_checks() {
        let report = HealthReport::from_checks(
            "0.1.0",
            checks(vec![
                ("database", CheckResult::pass(1)),
                (
                    "key_value",
                    CheckResult::fail(3, "key-value store unavailable: AccessDenied"),
                ),
            ]),
        );

        let body = serde_json::to_value(&report).expect("serializes");

        assert_eq!(
            body,
            json!({
                "status": "fail",
                "version": "0.1.0",
                "checks": {
                    "database": {"status": "pass", "duration_ms": 1},
                    "key_value": {
                        "status": "fail",
                        "duration_ms": 3,
                        "error": "key-value store unavailable: AccessDenied"
                    }
                }
            })
        );
    }

    #[test]
    fn check_result_from_outcome_keeps_error_message() {
        let failed = CheckResult::from_outcome(Err("database unavailable: Io".to_owned()), 7);
        let passed = CheckResult::from_outcome(Ok(()), 2);

        assert_eq!(failed, CheckResult::fail(7, "database unavailable: Io"));
        assert_eq!(passed, CheckResult::pass(2));
        assert_eq!(failed.error(), Some("database unavailable: Io"));
        assert_eq!(passed.duration_ms(), 2);
    }

    #[test]
    fn liveness_report_serializes_as_pass() {
        let body = serde_json::to_value(LivenessReport::alive()).expect("serializes");

        assert_eq!(body, json!({"status": "pass"}));
    }
}
