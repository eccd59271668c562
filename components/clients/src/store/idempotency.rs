//! Kept answers of `POST /api/clients` with an `Idempotency-Key`, per caller and key, for
//! 24 hours. The key row is inserted in the creating transaction, so of two concurrent
//! requests with one key only one creates a client; the other replays its answer.

use super::text;
use crm_platform::db::{Database, DbError, Value};

/// How long an answer is kept.
pub const KEEP_MILLIS: u64 = 24 * 60 * 60 * 1000;
/// Expired rows removed per keyed request, so the table stays bounded without a job.
const SWEEP_BATCH: i64 = 100;

/// A kept answer.
#[derive(Debug, Clone)]
pub struct KeptAnswer {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

/// The unexpired answer kept for `(principal, key)`, if any.
pub fn find(
    db: &Database,
    principal: &str,
    key: &str,
    now: &str,
) -> Result<Option<KeptAnswer>, DbError> {
    let rows = db.query(
        "SELECT request_hash, status, response_body FROM idempotency_keys \
         WHERE principal = $1 AND idem_key = $2 AND expires_at > $3",
        &[text(principal), text(key), text(now)],
    )?;
    rows.first()
        .map(|row| {
            Ok(KeptAnswer {
                request_hash: row.text("request_hash")?,
                status: u16::try_from(row.i64("status")?).unwrap_or(500),
                body: row.text("response_body")?,
            })
        })
        .transpose()
}

/// Keeps `answer` for `(principal, key)` (inside the creating transaction), after removing
/// an expired row of the same key and a batch of other expired rows.
pub fn keep(
    db: &Database,
    principal: &str,
    key: &str,
    answer: &KeptAnswer,
    client_id: &str,
    now: &str,
    expires_at: &str,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, \
         response_body, client_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            text(principal),
            text(key),
            text(&answer.request_hash),
            Value::Int(i64::from(answer.status)),
            text(&answer.body),
            text(client_id),
            text(now),
            text(expires_at),
        ],
    )?;
    Ok(())
}

/// Removes expired rows: the one of `(principal, key)` and at most a batch of others.
pub fn sweep(db: &Database, principal: &str, key: &str, now: &str) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND expires_at <= $3",
        &[text(principal), text(key), text(now)],
    )?;
    db.execute(
        "DELETE FROM idempotency_keys WHERE (principal, idem_key) IN \
         (SELECT principal, idem_key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)",
        &[text(now), Value::Int(SWEEP_BATCH)],
    )?;
    Ok(())
}
