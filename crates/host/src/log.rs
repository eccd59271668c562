//! crm-host's own JSON log lines (the domain's `LogLine` shape): info to
//! stdout, warnings and errors to stderr.

use crm_domain::{Level, LogLine};
use serde_json::Value;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// `component` of host lines that concern no component.
pub const HOST: &str = "crm-host";

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Write one line for `component` with `fields`, tagged `source = crm-host`.
pub fn emit(level: Level, component: &str, msg: &str, fields: &[(&str, Value)]) {
    let mut line = LogLine::new(level, component, msg).field("source", HOST);
    for (key, value) in fields {
        line = line.field(*key, value.clone());
    }
    let text = line.to_json_line(unix_millis());
    if capturing() {
        keep(format!("{text}\n").as_bytes());
    }
    let _ = match level {
        Level::Debug | Level::Info => writeln!(std::io::stdout().lock(), "{text}"),
        Level::Warn | Level::Error => writeln!(std::io::stderr().lock(), "{text}"),
    };
}

pub fn warn(msg: &str, fields: &[(&str, Value)]) {
    emit(Level::Warn, HOST, msg, fields);
}

pub fn error(msg: &str, fields: &[(&str, Value)]) {
    emit(Level::Error, HOST, msg, fields);
}

/// A copy of everything crm-host and its guests write to stdout and stderr, kept in memory
/// once [`capture_output`] is called (the test suite greps it for secrets). Bounded: past
/// [`CAPTURE_LIMIT`] bytes further output is not kept.
static CAPTURED: std::sync::OnceLock<std::sync::Mutex<Vec<u8>>> = std::sync::OnceLock::new();

/// Most bytes [`CAPTURED`] keeps.
pub const CAPTURE_LIMIT: usize = 256 << 20;

/// Starts keeping a copy of all output of this process's crm-host servers and guests.
pub fn capture_output() {
    CAPTURED.get_or_init(Default::default);
}

/// Everything kept since [`capture_output`] (lossy UTF-8).
pub fn captured_output() -> String {
    CAPTURED
        .get()
        .and_then(|buffer| {
            buffer
                .lock()
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        })
        .unwrap_or_default()
}

/// Whether output is being captured.
pub fn capturing() -> bool {
    CAPTURED.get().is_some()
}

fn keep(bytes: &[u8]) {
    if let Some(Ok(mut buffer)) = CAPTURED.get().map(|b| b.lock()) {
        let room = CAPTURE_LIMIT.saturating_sub(buffer.len());
        buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// A guest's stdout or stderr that is written through and kept ([`capture_output`]).
#[derive(Clone, Copy)]
pub struct CapturedStream {
    pub stderr: bool,
}

impl wasmtime_wasi::cli::IsTerminal for CapturedStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for CapturedStream {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(*self)
    }
}

impl tokio::io::AsyncWrite for CapturedStream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        bytes: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let written = if self.stderr {
            std::io::stderr().lock().write_all(bytes)
        } else {
            std::io::stdout().lock().write_all(bytes)
        };
        keep(bytes);
        std::task::Poll::Ready(written.map(|()| bytes.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
