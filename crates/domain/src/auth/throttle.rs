//! Fixed windows for counting failed logins, and the decision they lead to.

/// The window a moment falls in: `[start, start + length)`, in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginWindow {
    pub start: u64,
    pub length: u64,
}

impl LoginWindow {
    /// The window holding `now` (unix seconds) for windows of `length` seconds (≥ 1).
    pub fn at(now: u64, length: u64) -> LoginWindow {
        let length = length.max(1);
        LoginWindow {
            start: now - now % length,
            length,
        }
    }

    /// Seconds from `now` until the window ends (at least 1: what `Retry-After` says).
    pub fn seconds_left(&self, now: u64) -> u64 {
        (self.start + self.length).saturating_sub(now).max(1)
    }
}

/// Whether a login may be tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    Allow,
    /// Refused until the window ends, in this many seconds.
    RetryAfter(u64),
}

impl ThrottleDecision {
    /// With `failures` already counted in `window` and a `limit`, at `now`.
    pub fn decide(failures: i64, limit: i64, window: LoginWindow, now: u64) -> ThrottleDecision {
        if failures >= limit {
            ThrottleDecision::RetryAfter(window.seconds_left(now))
        } else {
            ThrottleDecision::Allow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_say_how_long_is_left() {
        let window = LoginWindow::at(1_000_905, 900);
        assert_eq!(window.start, 1_000_800);
        assert_eq!(window.seconds_left(1_000_905), 795);
        assert_eq!(window.seconds_left(1_001_700), 1, "at least one second");
        assert_eq!(
            LoginWindow::at(5, 0).length,
            1,
            "a zero length is one second"
        );
    }

    #[test]
    fn the_limit_refuses_until_the_window_ends() {
        let window = LoginWindow::at(1_000, 100);
        for (failures, want) in [
            (0, ThrottleDecision::Allow),
            (4, ThrottleDecision::Allow),
            (5, ThrottleDecision::RetryAfter(50)),
            (9, ThrottleDecision::RetryAfter(50)),
        ] {
            assert_eq!(
                ThrottleDecision::decide(failures, 5, window, 1_050),
                want,
                "{failures}"
            );
        }
    }
}
