//! The delivery loop shared by every entry point (the call after a client write, the
//! drain route, replay): pick clients with a due row, take each client's lease, send its
//! newest open row through the shared limiter, record the outcome, release the lease —
//! all within a time budget, so no caller waits longer than it allows.

use crate::config::Config;
use crate::loops_http::{self, Answer};
use crate::shared::Shared;
use crate::store::{self, OutboxRow};
use crm_domain::loops::{
    self, LoopsCall, MappingWarning, Next, OutboxOperation, Outcome, call_for, mask_emails,
    pause_after_ms, retry_after_ms,
};
use crm_domain::timestamp::rfc3339_utc_from_unix_millis;
use crm_domain::{Level, LogLine, RequestId};
use crm_platform::clock::unix_millis_now;
use crm_platform::db::{Database, DbError};
use serde::Serialize;
use std::time::Duration;

/// Clients looked at per round.
const BATCH: i64 = 50;
/// Rows of one client sent under one lease (a client written again meanwhile).
const MAX_ROWS_PER_LEASE: usize = 4;
/// Time kept back at the end of a budget for recording and answering.
const MARGIN_MS: u64 = 150;
/// Latest a request may leave after its limiter slot (ms): with slots 125 ms apart (8/s),
/// no second then holds more than 9 requests from all replicas together.
const LATE_MS: u64 = 50;
/// Pause before claiming again a client another delivery holds (scoped runs only).
const BUSY_RETRY_MS: u64 = 50;
/// Shortest answer time worth starting an attempt for.
const MIN_ATTEMPT_MS: u64 = 100;

/// What a run did (the drain route's answer).
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub sent: u64,
    pub retrying: u64,
    pub dead_lettered: u64,
    /// Older rows folded into a newer one of the same client.
    pub coalesced: u64,
    /// Clients another drain was delivering.
    pub busy: u64,
    /// Why the run ended before the work did (`budget`, `paused`, `limiter`), if it did.
    pub stopped: Option<&'static str>,
}

/// How delivering one client ended.
enum ClientEnd {
    Done,
    Busy,
    /// The client's newest open row is not due yet.
    NotDue,
    /// Stop the whole run, for this reason.
    Stop(&'static str),
}

pub struct Run<'a> {
    pub db: &'a Database,
    pub config: &'a Config,
    pub shared: &'a Shared,
    pub request_id: &'a RequestId,
    holder: String,
    deadline_ms: u64,
    pub report: Report,
}

impl<'a> Run<'a> {
    pub fn new(
        db: &'a Database,
        config: &'a Config,
        shared: &'a Shared,
        request_id: &'a RequestId,
        budget_ms: u64,
    ) -> Run<'a> {
        Run {
            db,
            config,
            shared,
            request_id,
            holder: uuid::Uuid::new_v4().to_string(),
            deadline_ms: unix_millis_now() + budget_ms,
            report: Report::default(),
        }
    }

    pub fn remaining_ms(&self) -> u64 {
        self.deadline_ms
            .saturating_sub(unix_millis_now())
            .saturating_sub(MARGIN_MS)
    }

    /// Delivers due rows — of `among` only, when given — until none is due or the budget
    /// ends.
    pub fn deliver(&mut self, among: Option<&[String]>) -> Result<(), DbError> {
        loop {
            if self.remaining_ms() < MIN_ATTEMPT_MS {
                self.report.stopped = Some("budget");
                return Ok(());
            }
            let now = rfc3339_utc_from_unix_millis(unix_millis_now());
            let clients = store::due_clients(self.db, &now, BATCH, among)?;
            if clients.is_empty() {
                return Ok(());
            }
            let mut progress = false;
            let busy_before = self.report.busy;
            for client_id in clients {
                match self.deliver_client(&client_id)? {
                    ClientEnd::Done => progress = true,
                    ClientEnd::Busy => self.report.busy += 1,
                    ClientEnd::NotDue => {}
                    ClientEnd::Stop(why) => {
                        self.report.stopped = Some(why);
                        return Ok(());
                    }
                }
            }
            if !progress {
                // A client written while another delivery held it: that one may have looked
                // for rows just before this write committed. Wait for its lease (within the
                // budget) rather than leave the row for the next drain.
                if among.is_some() && self.report.busy > busy_before {
                    std::thread::sleep(Duration::from_millis(BUSY_RETRY_MS));
                    continue;
                }
                return Ok(());
            }
        }
    }

    /// The lease must outlive the longest attempt: a limiter wait, the answer, recording.
    fn lease_ms(&self) -> u64 {
        self.remaining_ms() + self.config.request_timeout_ms + 10_000
    }

    fn deliver_client(&mut self, client_id: &str) -> Result<ClientEnd, DbError> {
        let now_ms = unix_millis_now();
        let now = rfc3339_utc_from_unix_millis(now_ms);
        let until = rfc3339_utc_from_unix_millis(now_ms + self.lease_ms());
        if !store::claim(self.db, client_id, &self.holder, &now, &until)? {
            return Ok(ClientEnd::Busy);
        }
        let ended = self.deliver_leased(client_id, &until);
        let released = store::release(self.db, client_id, &self.holder);
        let ended = ended?;
        released?;
        Ok(ended)
    }

    fn deliver_leased(&mut self, client_id: &str, until: &str) -> Result<ClientEnd, DbError> {
        let mut progress = false;
        for _ in 0..MAX_ROWS_PER_LEASE {
            let now = rfc3339_utc_from_unix_millis(unix_millis_now());
            let Some(row) = store::newest_due(self.db, client_id, &now)? else {
                // Nothing due (or the newest row still waits for its retry): no progress,
                // so a run does not pick this client again and again.
                return Ok(if progress {
                    ClientEnd::Done
                } else {
                    ClientEnd::NotDue
                });
            };
            if let Some(newer) = store::sent_after(self.db, &row)? {
                self.report.coalesced += store::record_superseded(self.db, &row, &newer, &now)?;
                progress = true;
                continue;
            }
            // Everything that touches the database happens before the slot, so a request
            // leaves within LATE_MS of its slot however slow the database is.
            store::mark_in_flight(self.db, &row.id, until, &now)?;
            if let Err(why) = self.wait_for_a_slot() {
                store::unclaim(self.db, &row, &now)?;
                return Ok(ClientEnd::Stop(why));
            }
            progress = true;
            let delivered = self.attempt(&row)?;
            if !delivered {
                break;
            }
        }
        Ok(ClientEnd::Done)
    }

    /// `Err("paused")` while every replica holds back after a 429.
    fn not_paused(&self) -> Result<(), &'static str> {
        let paused = self
            .shared
            .paused_for_ms()
            .map_err(|e| self.kv_trouble(e))?;
        if paused > 0 { Err("paused") } else { Ok(()) }
    }

    /// Waits until this replica may send: not during a pause after a 429 (checked again
    /// after waiting), and within LATE_MS of a slot of the shared limiter, within budget.
    fn wait_for_a_slot(&self) -> Result<(), &'static str> {
        loop {
            self.not_paused()?;
            let budget = self
                .remaining_ms()
                .saturating_sub(self.config.request_timeout_ms.min(self.remaining_ms() / 2));
            let slot_at = self
                .shared
                .reserve_slot(self.config.interval_ms, budget)
                .map_err(|e| self.kv_trouble(e))?
                .ok_or("limiter")?;
            std::thread::sleep(Duration::from_millis(
                slot_at.saturating_sub(unix_millis_now()),
            ));
            self.not_paused()?;
            // A sleep that overran its slot takes the next one.
            if unix_millis_now() <= slot_at + LATE_MS {
                return Ok(());
            }
        }
    }

    /// Without the shared store, the limit across replicas cannot be kept: stop.
    fn kv_trouble(&self, error: String) -> &'static str {
        crm_platform::log::emit(
            LogLine::new(Level::Warn, crate::COMPONENT, "loops sync stopped")
                .field("request_id", self.request_id.as_str())
                .field("error", error),
        );
        "key_value"
    }

    /// One attempt at `row`; true when it was delivered.
    fn attempt(&mut self, row: &OutboxRow) -> Result<bool, DbError> {
        let attempt = row.attempts.max(0) as u32 + 1;
        let now_ms = unix_millis_now();
        let now = rfc3339_utc_from_unix_millis(now_ms);
        let call = OutboxOperation::parse(&row.operation)
            .ok_or_else(|| format!("has an unknown operation `{}`", row.operation))
            .and_then(|operation| {
                let payload =
                    serde_json::from_str(&row.payload).map_err(|_| "is not JSON".to_owned())?;
                call_for(operation, &row.client_id, &payload).map_err(|e| e.to_string())
            });
        let call = match call {
            Ok((LoopsCall::Upsert(body), warnings)) => {
                match store::client_gone(self.db, &row.client_id)? {
                    // Deleted meanwhile: the contact must go, whatever this row says.
                    Some(erased) => {
                        if erased {
                            store::scrub_payload(self.db, row)?;
                        }
                        let user_id = row.client_id.clone();
                        Ok((LoopsCall::Delete { user_id }, Vec::new()))
                    }
                    None => Ok((LoopsCall::Upsert(body), warnings)),
                }
            }
            other => other,
        };
        let (call, warnings) = match call {
            Ok(pair) => pair,
            Err(why) => {
                let error = format!("unusable outbox row: the payload {why}");
                store::record_dead(self.db, row, &error, &now)?;
                self.report.dead_lettered += 1;
                self.shared.count("dead_lettered");
                self.log(row, attempt, None, "dead_lettered", 0, Some(&error));
                return Ok(false);
            }
        };
        self.log_warnings(row, &warnings);
        let (method, path, body) = match &call {
            LoopsCall::Upsert(body) => ("PUT", "/api/v1/contacts/update", body.clone()),
            LoopsCall::Delete { user_id } => {
                let mut body = serde_json::Map::new();
                body.insert("userId".into(), user_id.clone().into());
                ("POST", "/api/v1/contacts/delete", body)
            }
        };
        let body = serde_json::Value::Object(body).to_string();
        let timeout = self
            .config
            .request_timeout_ms
            .min(self.remaining_ms().max(MIN_ATTEMPT_MS));
        let started = unix_millis_now();
        let answer = loops_http::send(
            &self.config.base_url,
            Some(&self.config.api_key),
            method,
            path,
            Some(body.as_bytes()),
            timeout,
        );
        let duration_ms = unix_millis_now().saturating_sub(started);
        self.shared.observe_duration(duration_ms);
        let done_ms = unix_millis_now();
        let (status, retry_after, remaining, error) = match &answer {
            Ok(answer) => (
                Some(answer.status),
                answer
                    .retry_after
                    .as_deref()
                    .and_then(|value| retry_after_ms(value, done_ms)),
                answer.ratelimit_remaining.as_deref(),
                error_text(answer),
            ),
            Err(why) => (None, None, None, format!("no answer: {why}")),
        };
        let outcome = loops::outcome(&call, status);
        if let Some(pause) = pause_after_ms(outcome, retry_after, remaining)
            && let Err(e) = self.shared.pause(pause)
        {
            self.kv_trouble(e);
        }
        let next = self
            .config
            .retry
            .next(outcome, attempt, retry_after, jitter());
        let now = rfc3339_utc_from_unix_millis(done_ms);
        let (label, delivered) = match next {
            Next::Done => {
                self.report.coalesced += store::record_sent(self.db, row, &now)?;
                self.report.sent += 1;
                self.shared.count("sent");
                ("sent", true)
            }
            Next::RetryIn(ms) => {
                let at = rfc3339_utc_from_unix_millis(done_ms + ms);
                store::record_retry(self.db, row, &at, &error, &now)?;
                self.report.retrying += 1;
                self.shared.count("failed");
                ("retrying", false)
            }
            Next::DeadLetter => {
                store::record_dead(self.db, row, &error, &now)?;
                self.report.dead_lettered += 1;
                self.shared.count("failed");
                self.shared.count("dead_lettered");
                ("dead_lettered", false)
            }
        };
        let error = (outcome != Outcome::Delivered).then_some(error.as_str());
        self.log(row, attempt, status, label, duration_ms, error);
        Ok(delivered)
    }

    /// One JSON line per attempt: ids, operation, answer, duration — never the key or a
    /// full e-mail.
    fn log(
        &self,
        row: &OutboxRow,
        attempt: u32,
        status: Option<u16>,
        outcome: &str,
        duration_ms: u64,
        error: Option<&str>,
    ) {
        let level = if outcome == "sent" {
            Level::Info
        } else {
            Level::Warn
        };
        let mut line = LogLine::new(level, crate::COMPONENT, "loops attempt")
            .field("request_id", self.request_id.as_str())
            .field("outbox_id", row.id.as_str())
            .field("client_id", row.client_id.as_str())
            .field("operation", row.operation.as_str())
            .field("attempt", attempt)
            .field("status", status)
            .field("outcome", outcome)
            .field("duration_ms", duration_ms);
        if let Some(error) = error {
            line = line.field("error", error);
        }
        crm_platform::log::emit(line);
    }

    fn log_warnings(&self, row: &OutboxRow, warnings: &[MappingWarning]) {
        for warning in warnings {
            let (message, property) = match warning {
                MappingWarning::Truncated { property, .. } => {
                    ("property cut to 500 characters for Loops", property)
                }
                MappingWarning::Reserved { property } => {
                    ("property named like a Loops field not sent", property)
                }
            };
            crm_platform::log::emit(
                LogLine::new(Level::Warn, crate::COMPONENT, message)
                    .field("request_id", self.request_id.as_str())
                    .field("client_id", row.client_id.as_str())
                    .field("property", property.as_str()),
            );
        }
    }
}

/// `HTTP <status>: <Loops' message>` with e-mail addresses masked.
fn error_text(answer: &Answer) -> String {
    match answer.message() {
        Some(message) => format!("HTTP {}: {}", answer.status, mask_emails(&message)),
        None => format!("HTTP {}", answer.status),
    }
}

/// A uniform value in [0, 1) from the host's random source.
fn jitter() -> f64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let raw = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    f64::from(raw) / (f64::from(u32::MAX) + 1.0)
}
