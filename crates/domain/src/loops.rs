//! The rules of the Loops.so sync (`../shared/design/loops-api.md`), without I/O: what a
//! client's outbox row becomes at Loops, what an answer means, and when a failed attempt
//! is tried again. (Groundwork for the loops-sync component, issue 9.)

use serde_json::{Map, Value};

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

/// First retry delay (ms) and the cap of the exponential backoff.
pub const BACKOFF_BASE_MS: u64 = 2_000;
pub const BACKOFF_CAP_MS: u64 = 3_600_000;

/// The delay before attempt `attempt + 1` after `attempt` failed attempts (1-based):
/// exponential from [`BACKOFF_BASE_MS`], capped at [`BACKOFF_CAP_MS`], with "equal
/// jitter" — half fixed, half drawn from `jitter` (a uniform value in [0, 1)), so that
/// rows failed together do not come back together yet never come back at once.
pub fn backoff_ms(attempt: u32, jitter: f64) -> u64 {
    let exponent = attempt.saturating_sub(1).min(32);
    let full = BACKOFF_BASE_MS
        .saturating_mul(1u64 << exponent)
        .min(BACKOFF_CAP_MS);
    let half = full / 2;
    half + (half as f64 * jitter.clamp(0.0, 1.0)) as u64
}

/// A `Retry-After` value in milliseconds from `now_unix_ms`: delay-seconds, or an
/// HTTP-date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`); a date in the past is 0.
/// `None` when absent or unreadable.
pub fn retry_after_ms(value: &str, now_unix_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = http_date_unix_ms(value)?;
    Some(at.saturating_sub(now_unix_ms))
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
        assert_eq!(backoff_ms(1, 0.0), 1_000);
        assert_eq!(backoff_ms(1, 0.999_999), 1_999);
        assert_eq!(backoff_ms(2, 0.0), 2_000);
        assert_eq!(backoff_ms(3, 1.0), 8_000);
        assert_eq!(backoff_ms(40, 1.0), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(0, 0.0), 1_000);
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
    }
}
