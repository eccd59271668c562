//! The component's variables (spin.toml `[component.loops-sync.variables]`), read once per
//! request. Secrets never leave this struct: the key goes only into the Authorization
//! header, the drain token only into a constant-time comparison.

use crm_domain::loops::{BACKOFF_BASE_MS, RetryPolicy};
use crm_platform::http_kit::ApiError;

pub struct Config {
    /// Empty: not configured (sync paused, health says `not_configured`).
    pub api_key: String,
    /// scheme://host[:port] of Loops, without a trailing slash.
    pub base_url: String,
    pub enabled: bool,
    /// Empty: only admins may drain.
    pub drain_token: String,
    pub retry: RetryPolicy,
    /// Spacing of requests to Loops across every replica (GCRA interval).
    pub interval_ms: u64,
    /// Longest wait for one answer from Loops.
    pub request_timeout_ms: u64,
    /// How long `POST /api/loops/drain` may work.
    pub drain_budget_ms: u64,
    /// How long the delivery right after a client write may work.
    pub inline_budget_ms: u64,
    /// Done rows are deleted this many days after they ended.
    pub retention_days: u64,
}

fn variable(name: &str) -> String {
    spin_sdk::variables::get(name).unwrap_or_default()
}

fn number(name: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, ApiError> {
    let text = variable(name);
    let text = text.trim();
    if text.is_empty() {
        return Ok(default);
    }
    match text.parse::<u64>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(ApiError::internal(
            "Misconfigured loops-sync",
            format!(
                "`{name}` must be a number in {}..={}",
                range.start(),
                range.end()
            ),
        )),
    }
}

impl Config {
    pub fn load() -> Result<Config, ApiError> {
        let base_url = variable("loops_base_url")
            .trim()
            .trim_end_matches('/')
            .to_owned();
        let base_url = if base_url.is_empty() {
            "https://app.loops.so".to_owned()
        } else {
            base_url
        };
        // A feature flag (docs/feature-flags.md): set at run time through /api/flags, its
        // default the variable `loops_sync_enabled`.
        let enabled = crm_platform::flags::is_on("loops_sync_enabled", None);
        let per_second = number("loops_requests_per_second", 8, 1..=9)?;
        Ok(Config {
            api_key: variable("loops_api_key").trim().to_owned(),
            base_url,
            enabled,
            drain_token: variable("loops_drain_token").trim().to_owned(),
            retry: RetryPolicy {
                max_attempts: number("loops_max_attempts", 5, 1..=100)? as u32,
                base_ms: number("loops_retry_base_ms", BACKOFF_BASE_MS, 10..=600_000)?,
            },
            interval_ms: 1_000_u64.div_ceil(per_second),
            request_timeout_ms: number("loops_request_timeout_ms", 5_000, 100..=60_000)?,
            drain_budget_ms: number("loops_drain_budget_ms", 20_000, 100..=600_000)?,
            inline_budget_ms: number("loops_inline_budget_ms", 1_500, 0..=60_000)?,
            retention_days: number("loops_retention_days", 30, 1..=3_650)?,
        })
    }

    pub fn configured(&self) -> bool {
        !self.api_key.is_empty()
    }

    /// Whether `presented` is the drain token (never true when none is set).
    pub fn is_drain_token(&self, presented: &str) -> bool {
        crm_domain::auth::presents_secret(&self.drain_token, presented)
    }
}
