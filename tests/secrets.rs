//! The secrets the suite uses (passwords, tokens, API keys, full e-mail addresses), and the
//! check that none of them is ever written to a log: every app the suite starts is
//! checked when it ends (in-process apps through crm-host's output capture, processes
//! through their captured output).

use std::sync::Mutex;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shorter values are not checked (too likely to occur by chance).
const MIN_LEN: usize = 8;

/// Adds `secret` to what no log may contain.
pub fn remember(secret: &str) {
    if secret.len() < MIN_LEN {
        return;
    }
    if let Ok(mut secrets) = SECRETS.lock()
        && !secrets.iter().any(|known| known == secret)
    {
        secrets.push(secret.to_owned());
    }
}

/// The remembered secrets found in `output`.
pub fn found_in(output: &str) -> Vec<String> {
    SECRETS
        .lock()
        .map(|secrets| {
            secrets
                .iter()
                .filter(|secret| output.contains(secret.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Panics (unless the thread already panics) when `output` holds a remembered secret.
pub fn assert_none_logged(output: &str, whose: &str) {
    if std::thread::panicking() {
        return;
    }
    let found = found_in(output);
    if let Some(secret) = found.first() {
        let line = output
            .lines()
            .find(|line| line.contains(secret.as_str()))
            .unwrap_or_default();
        panic!(
            "{whose} logged {} secret(s) the test used, e.g. in: {line}",
            found.len()
        );
    }
}
