//! Wall-clock and monotonic time for log timestamps and durations (WASI clocks on wasm).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch; 0 if the clock reads before the epoch.
pub fn unix_millis_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(saturating_millis)
        .unwrap_or(0)
}

/// Whole seconds since the unix epoch; 0 if the clock reads before the epoch.
pub fn unix_seconds_now() -> u64 {
    unix_millis_now() / 1000
}

/// Measures how long something took, in whole milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    started: Instant,
}

impl Stopwatch {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
        }
    }

    pub fn elapsed_ms(&self) -> u64 {
        saturating_millis(self.started.elapsed())
    }
}

fn saturating_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_millis_now_is_after_2024() {
        assert!(unix_millis_now() > 1_704_067_200_000);
    }

    #[test]
    fn unix_seconds_now_agrees_with_unix_millis_now() {
        let seconds = unix_seconds_now();

        assert!(seconds.abs_diff(unix_millis_now() / 1000) <= 1);
    }

    #[test]
    fn stopwatch_measures_a_sleep() {
        let stopwatch = Stopwatch::start();

        std::thread::sleep(Duration::from_millis(5));

        assert!(stopwatch.elapsed_ms() >= 5);
    }
}
