//! `crm-host up --schedule "<every> <METHOD> <path> [bearer-variable=<name>]"`: a request
//! the host sends to its own listener at a fixed interval — what a Kubernetes CronJob
//! calling the app's Service does on SpinKube (deploy/k8s/loops-drain-cronjob.yaml), so
//! the app needs nothing host-specific. The bearer comes from an application variable
//! (e.g. `loops_drain_token`) and is never logged. Runs never overlap: the next run waits
//! for the previous answer, which is bounded by the request timeout.

use crate::http::limits::parse_duration;
use crate::log;
use crm_domain::Level;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Shortest interval accepted (a drain every few milliseconds is a mistake).
const MIN_EVERY: Duration = Duration::from_secs(1);

/// One scheduled request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub every: Duration,
    pub method: hyper::Method,
    pub path: String,
    /// Application variable whose value is sent as `Authorization: Bearer …`.
    pub bearer_variable: Option<String>,
}

/// The `--schedule` text that parses back to this schedule.
impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}ms {} {}",
            self.every.as_millis(),
            self.method,
            self.path
        )?;
        match &self.bearer_variable {
            Some(name) => write!(f, " bearer-variable={name}"),
            None => Ok(()),
        }
    }
}

/// Parses `30s POST /api/loops/drain bearer-variable=loops_drain_token`.
pub fn parse_schedule(text: &str) -> Result<Schedule, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let usage = "expected `<every> <METHOD> <path> [bearer-variable=<name>]`, e.g. \
                 `30s POST /api/loops/drain bearer-variable=loops_drain_token`";
    let (every, method, path, rest) = match words.as_slice() {
        [every, method, path, rest @ ..] if rest.len() <= 1 => (*every, *method, *path, rest),
        _ => return Err(usage.into()),
    };
    let every = parse_duration(every)?;
    if every < MIN_EVERY {
        return Err(format!("`{text}`: the interval must be at least 1s"));
    }
    let method = hyper::Method::from_bytes(method.as_bytes())
        .ok()
        .filter(|m| m.as_str().chars().all(|c| c.is_ascii_uppercase()))
        .ok_or_else(|| format!("`{method}` is not an HTTP method"))?;
    if !path.starts_with('/') || path.parse::<hyper::Uri>().is_err() {
        return Err(format!("`{path}` is not a path starting with /"));
    }
    let bearer_variable = match rest {
        [] => None,
        [option] => match option.strip_prefix("bearer-variable=") {
            Some(name) if !name.is_empty() => Some(name.to_owned()),
            _ => return Err(usage.into()),
        },
        _ => return Err(usage.into()),
    };
    Ok(Schedule {
        every,
        method,
        path: path.to_owned(),
        bearer_variable,
    })
}

/// Runs `schedule` against `addr` until `stopped`; `bearer` is the resolved token.
pub(crate) async fn run(
    schedule: Schedule,
    addr: SocketAddr,
    bearer: Option<String>,
    timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(schedule.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate: wait one interval first.
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, send(&schedule, addr, bearer.as_deref())).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let (level, status, error) = match outcome {
            Ok(Ok(status)) if status < 400 => (Level::Info, Some(status), None),
            Ok(Ok(status)) => (Level::Warn, Some(status), None),
            Ok(Err(e)) => (Level::Warn, None, Some(e)),
            Err(_) => (
                Level::Warn,
                None,
                Some("no answer within the request timeout".into()),
            ),
        };
        let mut fields: Vec<(&str, Value)> = vec![
            ("method", schedule.method.as_str().into()),
            ("path", schedule.path.as_str().into()),
            ("status", status.into()),
            ("duration_ms", duration_ms.into()),
        ];
        if let Some(error) = error {
            fields.push(("error", error.into()));
        }
        log::emit(level, log::HOST, "scheduled request", &fields);
    }
}

/// One request over HTTP/1.1 to the app's own listener; the status.
async fn send(schedule: &Schedule, addr: SocketAddr, bearer: Option<&str>) -> Result<u16, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake failed: {e}"))?;
    let driver = tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(schedule.method.clone())
        .uri(schedule.path.as_str())
        .header(hyper::header::HOST, addr.to_string())
        .header("user-agent", "crm-host-schedule");
    if let Some(token) = bearer {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("bad request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    // Read the answer through, so the app's guest finishes normally.
    let _ = response.into_body().collect().await;
    driver.abort();
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_with_and_without_a_bearer_variable() {
        let parsed =
            parse_schedule("30s POST /api/loops/drain bearer-variable=loops_drain_token").unwrap();
        assert_eq!(parsed.every, Duration::from_secs(30));
        assert_eq!(parsed.method, hyper::Method::POST);
        assert_eq!(parsed.path, "/api/loops/drain");
        assert_eq!(parsed.bearer_variable.as_deref(), Some("loops_drain_token"));
        let plain = parse_schedule("2m GET /health").unwrap();
        assert_eq!(plain.bearer_variable, None);
        for schedule in [parsed, plain] {
            assert_eq!(parse_schedule(&schedule.to_string()), Ok(schedule));
        }
    }

    #[test]
    fn bad_schedules_are_refused_with_a_reason() {
        for bad in [
            "",
            "30s POST",
            "500ms POST /x",
            "30s post /x",
            "30s POST x",
            "30s POST /x token=abc",
            "30s POST /x bearer-variable=",
            "soon POST /x",
            "30s POST /x bearer-variable=a extra",
        ] {
            assert!(parse_schedule(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
