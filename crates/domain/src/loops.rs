//! The rules of the Loops.so sync (`../shared/design/loops-api.md`), without I/O: what a
//! client's outbox row becomes at Loops, what an answer means, and when a failed attempt
//! is tried again. (components/loops-sync does the I/O.)

use serde_json::{Map, Value};

/// Upper bounds (ms) of the Loops attempt duration histogram (`+Inf` is the `count`
/// counter); its buckets are cumulative counters `duration_ms_bucket:<bound>`.
pub const DURATION_BUCKETS_MS: [u64; 8] = [10, 25, 50, 100, 250, 500, 1_000, 5_000];

/// The key in store `default` of Loops counter `name` (`sent`, `failed`, `dead_lettered`,
/// `duration_ms_bucket:<bound>`, `duration_ms_count`, `duration_ms_sum`) in metrics
/// namespace `namespace` (crate::metrics).
pub fn metric_key(namespace: &str, name: &str) -> String {
    format!("metrics:{namespace}:loops:{name}")
}

/// The admin API of loops-sync as `(method, path template)`; every route needs the
/// `admin` role, and `POST /api/loops/drain` also takes the `loops_drain_token` bearer.
pub static ADMIN_ROUTES: [(&str, &str); 6] = [
    ("POST", "/api/loops/drain"),
    ("GET", "/api/loops/status"),
    ("GET", "/api/loops/dead-letters"),
    ("POST", "/api/loops/dead-letters/{id}/replay"),
    ("POST", "/api/loops/backfill"),
    ("GET", "/api/loops/backfill/{id}"),
];

/// The template of [`ADMIN_ROUTES`] `path` matches, with its `{id}`.
pub fn match_admin_path(path: &str) -> Option<(&'static str, Option<&str>)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (template, id) = match segments.as_slice() {
        ["api", "loops", "drain"] => ("/api/loops/drain", None),
        ["api", "loops", "status"] => ("/api/loops/status", None),
        ["api", "loops", "dead-letters"] => ("/api/loops/dead-letters", None),
        ["api", "loops", "dead-letters", id, "replay"] if !id.is_empty() => {
            ("/api/loops/dead-letters/{id}/replay", Some(*id))
        }
        ["api", "loops", "backfill"] => ("/api/loops/backfill", None),
        ["api", "loops", "backfill", id] if !id.is_empty() => {
            ("/api/loops/backfill/{id}", Some(*id))
        }
        _ => return None,
    };
    Some((template, id))
}

/// The method [`ADMIN_ROUTES`] allows on `template` (each has one), as a list.
pub fn admin_methods_of(template: &str) -> &'static [&'static str] {
    ADMIN_ROUTES
        .iter()
        .find(|(_, t)| *t == template)
        .map_or(&[], |(method, _)| std::slice::from_ref(method))
}

/// Longest string property value Loops accepts (characters).
pub const MAX_PROPERTY_CHARS: usize = 500;

/// Contact fields of Loops' own; a client property with one of these names is not sent
/// (it would overwrite the field).
pub const RESERVED_FIELDS: [&str; 10] = [
    "email",
    "firstName",
    "lastName",
    "subscribed",
    "userGroup",
    "userId",
    "source",
    "company",
    "mailingLists",
    "id",
];

/// One outbox operation, as the `loops_outbox.operation` column holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxOperation {
    Create,
    Update,
    Delete,
}

impl OutboxOperation {
    pub fn parse(text: &str) -> Option<OutboxOperation> {
        match text {
            "create" => Some(OutboxOperation::Create),
            "update" => Some(OutboxOperation::Update),
            "delete" => Some(OutboxOperation::Delete),
            _ => None,
        }
    }
}

/// What is sent to Loops for a client.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopsCall {
    /// `PUT /v1/contacts/update` with this body (an upsert keyed by `userId`).
    Upsert(Map<String, Value>),
    /// `POST /v1/contacts/delete` with `{"userId": …}`; a 404 counts as done.
    Delete { user_id: String },
}

/// Something worth a warning in the sync's log (never a value, only where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingWarning {
    /// The property's string value was cut to [`MAX_PROPERTY_CHARS`] characters.
    Truncated { property: String, chars: usize },
    /// The property has the name of a Loops field and was not sent.
    Reserved { property: String },
}

/// Why a row's payload cannot become a call (a dead letter at once: retrying cannot help).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the outbox payload {0}")]
pub struct PayloadError(String);

/// The call for one outbox row: create and update upsert the contact from the payload's
/// `client` (the client's representation), delete removes it by `userId` (the client id;
/// an erased client's rows hold only `client_id`).
pub fn call_for(
    operation: OutboxOperation,
    client_id: &str,
    payload: &Value,
) -> Result<(LoopsCall, Vec<MappingWarning>), PayloadError> {
    match operation {
        OutboxOperation::Delete => Ok((
            LoopsCall::Delete {
                user_id: client_id.to_owned(),
            },
            Vec::new(),
        )),
        OutboxOperation::Create | OutboxOperation::Update => {
            let client = payload
                .get("client")
                .and_then(Value::as_object)
                .ok_or_else(|| PayloadError("has no `client` object".into()))?;
            let (body, warnings) = contact_body(client_id, client)?;
            Ok((LoopsCall::Upsert(body), warnings))
        }
    }
}

/// The upsert body for a client's representation. Absent names and company are sent as
/// empty strings, so that a value cleared in the CRM is cleared at Loops too (an upsert
/// leaves fields it is not given unchanged).
fn contact_body(
    client_id: &str,
    client: &Map<String, Value>,
) -> Result<(Map<String, Value>, Vec<MappingWarning>), PayloadError> {
    let text = |field: &str| match client.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Ok(String::new()),
        Some(_) => Err(PayloadError(format!("has a non-text `{field}`"))),
    };
    let email = match client.get("email") {
        Some(Value::String(email)) if !email.is_empty() => email.clone(),
        _ => return Err(PayloadError("has no `email`".into())),
    };
    let mut warnings = Vec::new();
    let mut body = Map::new();
    if let Some(Value::Object(properties)) = client.get("properties") {
        for (name, value) in properties {
            if RESERVED_FIELDS.contains(&name.as_str()) {
                warnings.push(MappingWarning::Reserved {
                    property: name.clone(),
                });
                continue;
            }
            let value = match value {
                Value::String(s) if s.chars().count() > MAX_PROPERTY_CHARS => {
                    warnings.push(MappingWarning::Truncated {
                        property: name.clone(),
                        chars: s.chars().count(),
                    });
                    Value::String(s.chars().take(MAX_PROPERTY_CHARS).collect())
                }
                Value::String(_) | Value::Number(_) | Value::Bool(_) => value.clone(),
                _ => return Err(PayloadError(format!("has a nested property `{name}`"))),
            };
            body.insert(name.clone(), value);
        }
    }
    body.insert("userId".into(), Value::String(client_id.to_owned()));
    body.insert("email".into(), Value::String(email));
    body.insert("firstName".into(), Value::String(text("first_name")?));
    body.insert("lastName".into(), Value::String(text("last_name")?));
    body.insert("company".into(), Value::String(text("company")?));
    body.insert("source".into(), Value::String(text("source")?));
    let subscribed = client
        .get("subscribed")
        .and_then(Value::as_bool)
        .ok_or_else(|| PayloadError("has no boolean `subscribed`".into()))?;
    body.insert("subscribed".into(), Value::Bool(subscribed));
    let status = client
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| PayloadError("has no `status`".into()))?;
    body.insert("userGroup".into(), Value::String(status.to_owned()));
    Ok((body, warnings))
}

/// How an attempt at Loops ended, by the HTTP status (or no answer at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx, or a 404 answering a delete.
    Delivered,
    /// 429: wait at least this long (Retry-After, else the backoff) before any request.
    RateLimited,
    /// 5xx, a timeout or a connection failure: back off and try again.
    Transient,
    /// Another 4xx: the request itself is refused; dead-lettered after the allowed attempts.
    Refused,
}

/// The outcome of an answer with `status` (`None`: no answer) to `call`.
pub fn outcome(call: &LoopsCall, status: Option<u16>) -> Outcome {
    match status {
        None => Outcome::Transient,
        Some(200..=299) => Outcome::Delivered,
        Some(404) if matches!(call, LoopsCall::Delete { .. }) => Outcome::Delivered,
        Some(429) => Outcome::RateLimited,
        Some(500..=599) => Outcome::Transient,
        // 408 (request timeout) is the server's timeout, not a refusal.
        Some(408) => Outcome::Transient,
        Some(_) => Outcome::Refused,
    }
}

/// Default first retry delay (ms, the `loops_retry_base_ms` variable) and the cap of the
/// exponential backoff.
pub const BACKOFF_BASE_MS: u64 = 2_000;
pub const BACKOFF_CAP_MS: u64 = 3_600_000;

/// The delay before attempt `attempt + 1` after `attempt` failed attempts (1-based):
/// exponential from `base_ms`, capped at [`BACKOFF_CAP_MS`], with "equal jitter" — half
/// fixed, half drawn from `jitter` (a uniform value in [0, 1)), so that rows failed
/// together do not come back together yet never come back at once.
pub fn backoff_ms(base_ms: u64, attempt: u32, jitter: f64) -> u64 {
    let exponent = attempt.saturating_sub(1).min(32);
    let full = base_ms.saturating_mul(1u64 << exponent).min(BACKOFF_CAP_MS);
    let half = full / 2;
    half + (half as f64 * jitter.clamp(0.0, 1.0)) as u64
}

/// What becomes of a row after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Sent: the row is done.
    Done,
    /// Pending again, not before this many milliseconds.
    RetryIn(u64),
    /// Refused too often (or unusable): a dead letter, kept until replayed.
    DeadLetter,
}

/// The retry policy (variables `loops_max_attempts`, `loops_retry_base_ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Refused attempts (4xx other than 404-on-delete, 408 and 429) before a dead letter.
    pub max_attempts: u32,
    pub base_ms: u64,
}

impl RetryPolicy {
    /// The row's fate after its `attempts`-th attempt (1-based) ended with `outcome`;
    /// `retry_after_ms` is the answer's `Retry-After` when it had one.
    pub fn next(
        &self,
        outcome: Outcome,
        attempts: u32,
        retry_after_ms: Option<u64>,
        jitter: f64,
    ) -> Next {
        let backoff = backoff_ms(self.base_ms, attempts, jitter);
        match outcome {
            Outcome::Delivered => Next::Done,
            // Loops said when: no sooner, and never sooner than the backoff's first step.
            Outcome::RateLimited => Next::RetryIn(
                retry_after_ms
                    .unwrap_or(backoff)
                    .max(backoff_ms(self.base_ms, 1, 0.0)),
            ),
            Outcome::Transient => Next::RetryIn(backoff),
            Outcome::Refused if attempts >= self.max_attempts.max(1) => Next::DeadLetter,
            Outcome::Refused => Next::RetryIn(backoff),
        }
    }
}

/// How long every replica holds back from Loops after an answer: a 429 pauses for its
/// `Retry-After` (else one second); an answer that says no request is left in this window
/// (`x-ratelimit-remaining: 0`) pauses until the next one (one second, Loops' window).
pub fn pause_after_ms(
    outcome: Outcome,
    retry_after_ms: Option<u64>,
    ratelimit_remaining: Option<&str>,
) -> Option<u64> {
    let exhausted = ratelimit_remaining.is_some_and(|value| value.trim() == "0");
    match outcome {
        Outcome::RateLimited => Some(retry_after_ms.unwrap_or(1_000).max(1)),
        _ if exhausted => Some(retry_after_ms.unwrap_or(1_000).max(1)),
        _ => None,
    }
}

/// A slot of the shared limiter (GCRA with no burst): requests are spaced at least
/// `interval_ms` apart across every replica. `tat_ms` is the stored theoretical arrival
/// time (the earliest next slot); the caller may send at the returned `send_at_ms` and
/// stores `next_tat_ms` (by compare-and-swap). `None` when the slot is more than
/// `max_wait_ms` away (the caller stops and leaves the rest pending).
pub fn limiter_slot(
    tat_ms: Option<u64>,
    now_ms: u64,
    interval_ms: u64,
    max_wait_ms: u64,
) -> Option<LimiterSlot> {
    let send_at_ms = tat_ms.unwrap_or(0).max(now_ms);
    if send_at_ms - now_ms > max_wait_ms {
        return None;
    }
    Some(LimiterSlot {
        send_at_ms,
        next_tat_ms: send_at_ms + interval_ms.max(1),
    })
}

/// See [`limiter_slot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterSlot {
    pub send_at_ms: u64,
    pub next_tat_ms: u64,
}

/// A `Retry-After` value in milliseconds from `now_unix_ms`: delay-seconds, or an
/// HTTP-date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`); a date in the past is 0.
/// `None` when absent or unreadable. Capped at [`BACKOFF_CAP_MS`].
pub fn retry_after_ms(value: &str, now_unix_ms: u64) -> Option<u64> {
    let value = value.trim();
    let ms = match value.parse::<u64>() {
        Ok(seconds) => seconds.saturating_mul(1000),
        Err(_) => http_date_unix_ms(value)?.saturating_sub(now_unix_ms),
    };
    // A wild value must not stop the sync for longer than the backoff's own cap.
    Some(ms.min(BACKOFF_CAP_MS))
}

fn http_date_unix_ms(value: &str) -> Option<u64> {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    let rest = value.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let clock: Vec<&str> = time.split(':').collect();
    let [h, m, s] = clock.as_slice() else {
        return None;
    };
    let text = format!("{year:0>4}-{month:02}-{day:0>2}T{h:0>2}:{m:0>2}:{s:0>2}.000Z");
    crate::timestamp::unix_millis_from_rfc3339(&text)
}

/// `text` with every e-mail address masked to its first character and domain
/// (`a***@example.com`), for error texts that may echo one back (logs, admin views).
pub fn mask_emails(text: &str) -> String {
    text.split(' ')
        .map(|word| match word.split_once('@') {
            Some((local, domain)) if !local.is_empty() && domain.contains('.') => {
                let start = local
                    .char_indices()
                    .rev()
                    .find(|(_, c)| !(c.is_alphanumeric() || "._%+-".contains(*c)))
                    .map_or(0, |(i, c)| i + c.len_utf8());
                let first: String = local[start..].chars().take(1).collect();
                format!("{}{first}***@{domain}", &local[..start])
            }
            _ => word.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client() -> Value {
        json!({
            "id": "c1", "email": "zoe@example.com", "first_name": "Zoë", "last_name": null,
            "company": "Acme", "phone": "+442071234567", "status": "active", "tags": ["vip"],
            "notes": "private", "source": "web", "subscribed": false,
            "properties": {"plan": "pro", "seats": 5, "trial": true},
            "created_at": "2026-11-26T10:00:00.000Z", "version": 3
        })
    }

    #[test]
    fn an_upsert_maps_the_client_and_leaves_private_fields_out() {
        let (call, warnings) = call_for(
            OutboxOperation::Update,
            "c1",
            &json!({ "client": client() }),
        )
        .unwrap();
        let LoopsCall::Upsert(body) = call else {
            panic!("an upsert")
        };
        assert_eq!(
            Value::Object(body),
            json!({
                "userId": "c1", "email": "zoe@example.com", "firstName": "Zoë", "lastName": "",
                "company": "Acme", "source": "web", "subscribed": false, "userGroup": "active",
                "plan": "pro", "seats": 5, "trial": true
            })
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn long_values_are_cut_and_reserved_names_skipped_with_warnings() {
        let mut c = client();
        c["properties"] = json!({"bio": "é".repeat(501), "email": "x@y.z", "ok": "a"});
        let (call, warnings) =
            call_for(OutboxOperation::Create, "c1", &json!({ "client": c })).unwrap();
        let LoopsCall::Upsert(body) = call else {
            panic!("an upsert")
        };
        assert_eq!(
            body["bio"].as_str().unwrap().chars().count(),
            MAX_PROPERTY_CHARS
        );
        assert_eq!(body["email"], "zoe@example.com");
        assert_eq!(body["ok"], "a");
        assert_eq!(
            warnings,
            [
                MappingWarning::Truncated {
                    property: "bio".into(),
                    chars: 501
                },
                MappingWarning::Reserved {
                    property: "email".into()
                },
            ]
        );
    }

    #[test]
    fn a_delete_goes_by_user_id_even_without_a_payload_client() {
        let (call, _) =
            call_for(OutboxOperation::Delete, "c1", &json!({"client_id": "c1"})).unwrap();
        assert_eq!(
            call,
            LoopsCall::Delete {
                user_id: "c1".into()
            }
        );
    }

    #[test]
    fn unusable_payloads_are_errors() {
        for payload in [
            json!({}),
            json!({"client": {"subscribed": true, "status": "lead"}}),
            json!({"client": {"email": "a@b.co", "status": "lead"}}),
            json!({"client": {"email": "a@b.co", "subscribed": true, "status": "lead",
                              "properties": {"n": {"x": 1}}}}),
        ] {
            assert!(
                call_for(OutboxOperation::Update, "c1", &payload).is_err(),
                "{payload}"
            );
        }
        assert_eq!(OutboxOperation::parse("purge"), None);
    }

    #[test]
    fn outcomes_follow_the_status() {
        let upsert = LoopsCall::Upsert(Map::new());
        let delete = LoopsCall::Delete {
            user_id: "c".into(),
        };
        assert_eq!(outcome(&upsert, Some(200)), Outcome::Delivered);
        assert_eq!(outcome(&delete, Some(404)), Outcome::Delivered);
        assert_eq!(outcome(&upsert, Some(404)), Outcome::Refused);
        assert_eq!(outcome(&upsert, Some(400)), Outcome::Refused);
        assert_eq!(outcome(&upsert, Some(429)), Outcome::RateLimited);
        assert_eq!(outcome(&upsert, Some(503)), Outcome::Transient);
        assert_eq!(outcome(&upsert, Some(408)), Outcome::Transient);
        assert_eq!(outcome(&upsert, None), Outcome::Transient);
    }

    #[test]
    fn backoff_doubles_within_its_jitter_and_is_capped() {
        assert_eq!(backoff_ms(BACKOFF_BASE_MS, 1, 0.0), 1_000);
        assert_eq!(backoff_ms(BACKOFF_BASE_MS, 1, 0.999_999), 1_999);
        assert_eq!(backoff_ms(BACKOFF_BASE_MS, 2, 0.0), 2_000);
        assert_eq!(backoff_ms(BACKOFF_BASE_MS, 3, 1.0), 8_000);
        assert_eq!(backoff_ms(BACKOFF_BASE_MS, 40, 1.0), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(BACKOFF_BASE_MS, 0, 0.0), 1_000);
        assert_eq!(backoff_ms(200, 2, 0.0), 200);
    }

    #[test]
    fn the_retry_policy_dead_letters_only_refusals_and_only_after_the_allowed_attempts() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base_ms: 1_000,
        };
        assert_eq!(policy.next(Outcome::Delivered, 7, None, 0.5), Next::Done);
        assert_eq!(
            policy.next(Outcome::Refused, 1, None, 0.0),
            Next::RetryIn(500)
        );
        assert_eq!(
            policy.next(Outcome::Refused, 2, None, 0.0),
            Next::RetryIn(1_000)
        );
        assert_eq!(
            policy.next(Outcome::Refused, 3, None, 0.0),
            Next::DeadLetter
        );
        // Transient failures and rate limits never dead-letter a row.
        assert_eq!(
            policy.next(Outcome::Transient, 30, None, 0.0),
            Next::RetryIn(1_800_000)
        );
        assert_eq!(
            policy.next(Outcome::RateLimited, 9, Some(3_000), 0.0),
            Next::RetryIn(3_000)
        );
        // A Retry-After of 0 still waits the backoff's first step.
        assert_eq!(
            policy.next(Outcome::RateLimited, 1, Some(0), 0.0),
            Next::RetryIn(500)
        );
    }

    #[test]
    fn every_admin_route_matches_its_own_template_and_nothing_else_does() {
        for (method, template) in &ADMIN_ROUTES {
            let path = template.replace("{id}", "0190a0a0-0000-7000-8000-000000000001");
            let (matched, id) = match_admin_path(&path).expect(template);
            assert_eq!(matched, *template);
            assert_eq!(id.is_some(), template.contains("{id}"));
            assert_eq!(admin_methods_of(template), [*method]);
        }
        for path in [
            "/api/loops",
            "/api/loops/",
            "/api/loops/backfill/",
            "/api/loops/x",
            "/private/deliver",
        ] {
            assert_eq!(match_admin_path(path), None, "{path}");
        }
    }

    #[test]
    fn e_mails_in_error_texts_are_masked() {
        assert_eq!(
            mask_emails("Contact zoe.b@example.com already exists"),
            "Contact z***@example.com already exists"
        );
        assert_eq!(mask_emails("email:\"ann@x.io\""), "email:\"a***@x.io\"");
        assert_eq!(
            mask_emails("no address here @ all"),
            "no address here @ all"
        );
    }

    #[test]
    fn pauses_follow_429s_and_an_exhausted_window() {
        assert_eq!(
            pause_after_ms(Outcome::RateLimited, Some(2_000), Some("0")),
            Some(2_000)
        );
        assert_eq!(
            pause_after_ms(Outcome::RateLimited, None, None),
            Some(1_000)
        );
        assert_eq!(
            pause_after_ms(Outcome::Delivered, None, Some("0")),
            Some(1_000)
        );
        assert_eq!(pause_after_ms(Outcome::Delivered, None, Some("3")), None);
        assert_eq!(pause_after_ms(Outcome::Transient, None, None), None);
    }

    #[test]
    fn limiter_slots_are_spaced_by_the_interval_and_bounded_by_the_wait() {
        let first = limiter_slot(None, 10_000, 125, 1_000).expect("a slot");
        assert_eq!(
            first,
            LimiterSlot {
                send_at_ms: 10_000,
                next_tat_ms: 10_125
            }
        );
        let second = limiter_slot(Some(first.next_tat_ms), 10_001, 125, 1_000).expect("a slot");
        assert_eq!(second.send_at_ms, 10_125);
        // An old arrival time does not bank a burst.
        let later = limiter_slot(Some(10_125), 50_000, 125, 1_000).expect("a slot");
        assert_eq!(later.send_at_ms, 50_000);
        assert_eq!(limiter_slot(Some(12_000), 10_000, 125, 1_000), None);
        // Eight slots in any second at 125 ms: the ninth starts a full second after the first.
        let mut tat = None;
        let mut sends = Vec::new();
        for _ in 0..9 {
            let slot = limiter_slot(tat, 0, 125, 5_000).expect("a slot");
            sends.push(slot.send_at_ms);
            tat = Some(slot.next_tat_ms);
        }
        assert_eq!(sends[8] - sends[0], 1_000);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = crate::timestamp::unix_millis_from_rfc3339("1994-11-06T08:49:30.000Z").unwrap();
        assert_eq!(retry_after_ms("7", now), Some(7_000));
        assert_eq!(
            retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(7_000)
        );
        assert_eq!(
            retry_after_ms("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_ms("soon", now), None);
        assert_eq!(retry_after_ms("Sun, 06 Foo 1994 08:49:37 GMT", now), None);
        assert_eq!(
            retry_after_ms("86400000", now),
            Some(BACKOFF_CAP_MS),
            "capped"
        );
        assert_eq!(
            retry_after_ms(&u64::MAX.to_string(), now),
            Some(BACKOFF_CAP_MS)
        );
    }
}
