//! The outbox as the sync reads and writes it (`loops_outbox`, `loops_leases`,
//! `loops_backfill_jobs`; migrations 0001 and 0005). One SQL text for both dialects:
//! `$n` placeholders, RFC 3339 text timestamps compared as text.

use crm_platform::db::{Backend, Database, DbError, Row, Value, text};

/// Statuses of a row that still has to reach Loops.
const OPEN: &str = "('pending', 'in_flight')";

/// A row about to be sent.
pub struct OutboxRow {
    pub id: String,
    pub client_id: String,
    pub operation: String,
    pub payload: String,
    pub attempts: i64,
    pub created_at: String,
}

fn int(value: i64) -> Value {
    Value::Int(value)
}

/// `$first, $first+1, …` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Clients with a row due at `now`, oldest due first: only `among` when given (leased ones
/// included, the caller waits for them), else those without a live lease.
pub fn due_clients(
    db: &Database,
    now: &str,
    limit: i64,
    among: Option<&[String]>,
) -> Result<Vec<String>, DbError> {
    let mut params = vec![text(now), int(limit)];
    let filter = match among {
        Some(ids) if !ids.is_empty() => {
            params.extend(ids.iter().map(|id| text(id)));
            format!("AND o.client_id IN ({})", placeholders(3, ids.len()))
        }
        Some(_) => return Ok(Vec::new()),
        None => "AND NOT EXISTS (SELECT 1 FROM loops_leases l \
                 WHERE l.client_id = o.client_id AND l.expires_at > $1)"
            .to_owned(),
    };
    let rows = db.query(
        &format!(
            "SELECT o.client_id, MIN(o.next_attempt_at) AS due FROM loops_outbox o \
             WHERE o.status IN {OPEN} AND o.next_attempt_at <= $1 {filter} \
             GROUP BY o.client_id ORDER BY due, o.client_id LIMIT $2"
        ),
        &params,
    )?;
    rows.iter().map(|row| row.text("client_id")).collect()
}

/// Takes the client's lease until `until` unless another holder's is live. One
/// conditional upsert: true when this holder now owns it (also on a retried statement).
pub fn claim(
    db: &Database,
    client_id: &str,
    holder: &str,
    now: &str,
    until: &str,
) -> Result<bool, DbError> {
    let changed = db.execute(
        "INSERT INTO loops_leases (client_id, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (client_id) DO UPDATE SET holder = excluded.holder, \
         expires_at = excluded.expires_at \
         WHERE loops_leases.expires_at <= $4 OR loops_leases.holder = excluded.holder",
        &[text(client_id), text(holder), text(until), text(now)],
    )?;
    Ok(changed == 1)
}

pub fn release(db: &Database, client_id: &str, holder: &str) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM loops_leases WHERE client_id = $1 AND holder = $2",
        &[text(client_id), text(holder)],
    )?;
    Ok(())
}

fn outbox_row(row: Row<'_>) -> Result<OutboxRow, DbError> {
    Ok(OutboxRow {
        id: row.text("id")?,
        client_id: row.text("client_id")?,
        operation: row.text("operation")?,
        payload: row.text("payload")?,
        attempts: row.i64("attempts")?,
        created_at: row.text("created_at")?,
    })
}

/// The client's newest open row when it is due (older open rows are folded into it).
pub fn newest_due(db: &Database, client_id: &str, now: &str) -> Result<Option<OutboxRow>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT id, client_id, operation, CAST(payload AS TEXT) AS payload, attempts, \
             created_at, next_attempt_at FROM loops_outbox \
             WHERE client_id = $1 AND status IN {OPEN} \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        &[text(client_id)],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    if row.text("next_attempt_at")?.as_str() > now {
        return Ok(None);
    }
    outbox_row(row).map(Some)
}

/// The id of a row of the same client, newer than `row`, that was already sent: `row`
/// is stale (a replayed dead letter) and is folded into it instead of being sent.
pub fn sent_after(db: &Database, row: &OutboxRow) -> Result<Option<String>, DbError> {
    let rows = db.query(
        "SELECT id FROM loops_outbox WHERE client_id = $1 AND status = 'done' \
         AND sent_at IS NOT NULL AND (created_at > $2 OR (created_at = $2 AND id > $3)) \
         ORDER BY created_at DESC, id DESC LIMIT 1",
        &[text(&row.client_id), text(&row.created_at), text(&row.id)],
    )?;
    rows.first().map(|r| r.text("id")).transpose()
}

/// Whether client `client_id` is gone (soft-deleted or erased), and erased. An upsert for a
/// gone client is sent as a delete instead: a backfill page that read the client just before
/// its deletion committed must not bring the contact back at Loops.
pub fn client_gone(db: &Database, client_id: &str) -> Result<Option<bool>, DbError> {
    let rows = db.query(
        "SELECT CASE WHEN erased_at IS NULL THEN 0 ELSE 1 END AS erased FROM clients \
         WHERE id = $1 AND deleted_at IS NOT NULL",
        &[text(client_id)],
    )?;
    rows.first()
        .map(|row| Ok(row.i64("erased")? == 1))
        .transpose()
}

/// An erased client's row keeps only its id (as the erasure does for the rows it saw).
pub fn scrub_payload(db: &Database, row: &OutboxRow) -> Result<(), DbError> {
    let payload = serde_json::json!({ "client_id": row.client_id }).to_string();
    let cast = match db.backend() {
        Backend::Postgres => "CAST(CAST($2 AS TEXT) AS JSONB)",
        Backend::Sqlite => "$2",
    };
    db.execute(
        &format!("UPDATE loops_outbox SET payload = {cast} WHERE id = $1"),
        &[text(&row.id), text(&payload)],
    )?;
    Ok(())
}

/// Marks the row as being sent, claimable again after `until` should this drain die.
pub fn mark_in_flight(db: &Database, id: &str, until: &str, now: &str) -> Result<(), DbError> {
    db.execute(
        "UPDATE loops_outbox SET status = 'in_flight', next_attempt_at = $2, updated_at = $3 \
         WHERE id = $1",
        &[text(id), text(until), text(now)],
    )?;
    Ok(())
}

/// The row was sent; every older open row of the client is folded into it.
pub fn record_sent(db: &Database, row: &OutboxRow, now: &str) -> Result<u64, DbError> {
    db.transaction(|db| {
        db.execute(
            "UPDATE loops_outbox SET status = 'done', attempts = attempts + 1, sent_at = $2, \
             last_error = NULL, updated_at = $2 WHERE id = $1 AND status = 'in_flight'",
            &[text(&row.id), text(now)],
        )?;
        coalesce_older(db, row, &row.id, now)
    })
}

/// Folds `row` and every older open row of its client into `into` (a sent row).
pub fn record_superseded(
    db: &Database,
    row: &OutboxRow,
    into: &str,
    now: &str,
) -> Result<u64, DbError> {
    db.transaction(|db| {
        db.execute(
            "UPDATE loops_outbox SET status = 'done', coalesced_into = $2, updated_at = $3 \
             WHERE id = $1",
            &[text(&row.id), text(into), text(now)],
        )?;
        Ok(1 + coalesce_older(db, row, into, now)?)
    })
}

fn coalesce_older(db: &Database, row: &OutboxRow, into: &str, now: &str) -> Result<u64, DbError> {
    db.execute(
        &format!(
            "UPDATE loops_outbox SET status = 'done', coalesced_into = $4, updated_at = $5 \
             WHERE client_id = $1 AND status IN {OPEN} \
             AND (created_at < $2 OR (created_at = $2 AND id < $3))"
        ),
        &[
            text(&row.client_id),
            text(&row.created_at),
            text(&row.id),
            text(into),
            text(now),
        ],
    )
}

/// The attempt failed: pending again at `next_at`, with the client's older open rows
/// moved to the same time (they wait for the newest).
pub fn record_retry(
    db: &Database,
    row: &OutboxRow,
    next_at: &str,
    error: &str,
    now: &str,
) -> Result<(), DbError> {
    db.transaction(|db| {
        db.execute(
            "UPDATE loops_outbox SET status = 'pending', attempts = attempts + 1, \
             next_attempt_at = $2, last_error = $3, updated_at = $4 \
             WHERE id = $1 AND status = 'in_flight'",
            &[text(&row.id), text(next_at), text(error), text(now)],
        )?;
        db.execute(
            &format!(
                "UPDATE loops_outbox SET status = 'pending', next_attempt_at = $3, \
                 updated_at = $4 WHERE client_id = $1 AND status IN {OPEN} \
                 AND next_attempt_at < $3 \
                 AND (created_at < $5 OR (created_at = $5 AND id < $2))"
            ),
            &[
                text(&row.client_id),
                text(&row.id),
                text(next_at),
                text(now),
                text(&row.created_at),
            ],
        )?;
        Ok(())
    })
}

/// The row is a dead letter: kept, visible and replayable. The client's older open rows
/// are folded into it — they must not go out after it (an older upsert after a refused
/// delete would bring the contact back); replaying the dead letter is the way forward.
pub fn record_dead(db: &Database, row: &OutboxRow, error: &str, now: &str) -> Result<(), DbError> {
    db.transaction(|db| {
        db.execute(
            "UPDATE loops_outbox SET status = 'failed', attempts = attempts + 1, \
             last_error = $2, updated_at = $3 WHERE id = $1",
            &[text(&row.id), text(error), text(now)],
        )?;
        coalesce_older(db, row, &row.id, now)?;
        Ok(())
    })
}

/// The row was not attempted after all (the run stopped first): pending again, due now.
pub fn unclaim(db: &Database, row: &OutboxRow, now: &str) -> Result<(), DbError> {
    db.execute(
        "UPDATE loops_outbox SET status = 'pending', next_attempt_at = $2, updated_at = $2 \
         WHERE id = $1 AND status = 'in_flight'",
        &[text(&row.id), text(now)],
    )?;
    Ok(())
}

/// Retention: deletes up to `limit` done rows last changed before `done_before`, and the
/// leases of drains that died, expired before `leases_before`. `(rows, leases)` deleted.
pub fn prune(
    db: &Database,
    done_before: &str,
    leases_before: &str,
    limit: i64,
) -> Result<(u64, u64), DbError> {
    // A client's newest sent row is kept whatever its age: it is what tells a replayed old
    // dead letter that it is stale (`sent_after`).
    let rows = db.execute(
        "DELETE FROM loops_outbox WHERE id IN (SELECT o.id FROM loops_outbox o \
         WHERE o.status = 'done' AND o.updated_at < $1 AND EXISTS (SELECT 1 FROM loops_outbox n \
             WHERE n.client_id = o.client_id AND n.status = 'done' AND n.sent_at IS NOT NULL \
             AND (n.created_at > o.created_at OR (n.created_at = o.created_at AND n.id > o.id))) \
         ORDER BY o.updated_at LIMIT $2)",
        &[text(done_before), int(limit)],
    )?;
    let leases = db.execute(
        "DELETE FROM loops_leases WHERE expires_at < $1",
        &[text(leases_before)],
    )?;
    Ok((rows, leases))
}

/// `GET /api/loops/status` figures.
pub struct Status {
    pub pending: i64,
    pub in_flight: i64,
    pub retrying: i64,
    pub dead_lettered: i64,
    pub sent_last_hour: i64,
    pub oldest_pending_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
}

pub fn status(db: &Database, hour_ago: &str) -> Result<Status, DbError> {
    let counts = db.query(
        "SELECT \
         COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
         COALESCE(SUM(CASE WHEN status = 'in_flight' THEN 1 ELSE 0 END), 0) AS in_flight, \
         COALESCE(SUM(CASE WHEN status IN ('pending', 'in_flight') AND attempts > 0 \
             THEN 1 ELSE 0 END), 0) AS retrying, \
         COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS dead_lettered, \
         MIN(CASE WHEN status IN ('pending', 'in_flight') THEN created_at END) AS oldest \
         FROM loops_outbox WHERE status <> 'done'",
        &[],
    )?;
    let sent = db.query(
        "SELECT COUNT(*) AS sent FROM loops_outbox WHERE sent_at >= $1",
        &[text(hour_ago)],
    )?;
    let last = db.query(
        "SELECT last_error, updated_at FROM loops_outbox WHERE last_error IS NOT NULL \
         ORDER BY updated_at DESC LIMIT 1",
        &[],
    )?;
    let row = counts
        .first()
        .ok_or_else(|| DbError::Query("no status row".into()))?;
    let last = last.first();
    Ok(Status {
        pending: row.i64("pending")?,
        in_flight: row.i64("in_flight")?,
        retrying: row.i64("retrying")?,
        dead_lettered: row.i64("dead_lettered")?,
        sent_last_hour: sent
            .first()
            .map(|r| r.i64("sent"))
            .transpose()?
            .unwrap_or(0),
        oldest_pending_at: row.opt_text("oldest")?,
        last_error: last
            .as_ref()
            .map(|r| r.opt_text("last_error"))
            .transpose()?
            .flatten(),
        last_error_at: last.as_ref().map(|r| r.text("updated_at")).transpose()?,
    })
}

/// A dead letter as the admin API shows it.
#[derive(serde::Serialize)]
pub struct DeadLetter {
    pub id: String,
    pub client_id: String,
    pub operation: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub failed_at: String,
}

/// Dead letters by id (UUIDv7: oldest first), after `after`.
pub fn dead_letters(db: &Database, after: &str, limit: i64) -> Result<Vec<DeadLetter>, DbError> {
    let rows = db.query(
        "SELECT id, client_id, operation, attempts, last_error, created_at, updated_at \
         FROM loops_outbox WHERE status = 'failed' AND id > $1 ORDER BY id LIMIT $2",
        &[text(after), int(limit)],
    )?;
    rows.iter()
        .map(|row| {
            Ok(DeadLetter {
                id: row.text("id")?,
                client_id: row.text("client_id")?,
                operation: row.text("operation")?,
                attempts: row.i64("attempts")?,
                last_error: row.opt_text("last_error")?,
                created_at: row.text("created_at")?,
                failed_at: row.text("updated_at")?,
            })
        })
        .collect()
}

/// The row's status, if it exists.
pub fn row_status(db: &Database, id: &str) -> Result<Option<(String, String)>, DbError> {
    let rows = db.query(
        "SELECT status, client_id FROM loops_outbox WHERE id = $1",
        &[text(id)],
    )?;
    rows.first()
        .map(|r| Ok((r.text("status")?, r.text("client_id")?)))
        .transpose()
}

/// A dead letter back to pending, due now, its attempts reset. False when it is not (or
/// no longer) a dead letter.
pub fn replay(db: &Database, id: &str, now: &str) -> Result<bool, DbError> {
    let changed = db.execute(
        "UPDATE loops_outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, \
         updated_at = $2 WHERE id = $1 AND status = 'failed'",
        &[text(id), text(now)],
    )?;
    Ok(changed == 1)
}

/// A backfill job and its progress.
#[derive(serde::Serialize)]
pub struct Job {
    pub id: String,
    /// `running` while clients are still being enqueued, then `enqueued`; `done` once
    /// every row it enqueued has ended.
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub dead_lettered: i64,
    pub pending: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub fn create_job(db: &Database, id: &str, created_by: &str, now: &str) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO loops_backfill_jobs (id, status, total, cursor, created_by, created_at, \
         updated_at) VALUES ($1, 'running', 0, NULL, $2, $3, $3)",
        &[text(id), text(created_by), text(now)],
    )?;
    Ok(())
}

pub fn job(db: &Database, id: &str) -> Result<Option<Job>, DbError> {
    let rows = db.query(
        "SELECT j.id, j.status, j.total, j.created_at, j.updated_at, \
         (SELECT COUNT(*) FROM loops_outbox o WHERE o.job_id = j.id AND o.status = 'done') \
             AS done, \
         (SELECT COUNT(*) FROM loops_outbox o WHERE o.job_id = j.id AND o.status = 'failed') \
             AS dead_lettered, \
         (SELECT COUNT(*) FROM loops_outbox o WHERE o.job_id = j.id \
             AND o.status IN ('pending', 'in_flight')) AS pending \
         FROM loops_backfill_jobs j WHERE j.id = $1",
        &[text(id)],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let stored = row.text("status")?;
    let (total, done, dead, pending) = (
        row.i64("total")?,
        row.i64("done")?,
        row.i64("dead_lettered")?,
        row.i64("pending")?,
    );
    let status = if stored == "enqueued" && pending == 0 {
        "done".to_owned()
    } else {
        stored
    };
    Ok(Some(Job {
        id: row.text("id")?,
        status,
        total,
        done,
        dead_lettered: dead,
        pending,
        created_at: row.text("created_at")?,
        updated_at: row.text("updated_at")?,
    }))
}

/// Jobs still enqueueing, oldest first.
pub fn running_jobs(db: &Database) -> Result<Vec<String>, DbError> {
    let rows = db.query(
        "SELECT id FROM loops_backfill_jobs WHERE status = 'running' ORDER BY created_at, id \
         LIMIT 10",
        &[],
    )?;
    rows.iter().map(|r| r.text("id")).collect()
}
