//! A page of a Loops backfill job (`POST /api/loops/backfill` in loops-sync, which asks
//! for pages here by service chaining): the next live clients by id, each enqueued as an
//! `update` with its current representation, and the job's cursor moved — in one
//! transaction, and only if nobody moved the cursor meanwhile (two drains continuing the
//! same job never enqueue a page twice).

use super::writes::enqueue_all;
use super::{CLIENT_COLUMNS, ClientRecord, text};
use crm_platform::db::{Database, DbError, Value};
use serde_json::{Value as Json, json};

/// What a page did.
pub struct PageDone {
    pub enqueued: u64,
    /// No live client is left after this page (or the job is not running).
    pub finished: bool,
}

pub fn page(db: &Database, job_id: &str, limit: i64, now: &str) -> Result<PageDone, DbError> {
    let lost_race = || DbError::Query("the backfill cursor moved meanwhile".into());
    let outcome = db.transaction(|db| {
        let jobs = db.query(
            "SELECT status, COALESCE(cursor, '') AS cursor FROM loops_backfill_jobs WHERE id = $1",
            &[text(job_id)],
        )?;
        let Some(job) = jobs.first() else {
            return Ok(PageDone {
                enqueued: 0,
                finished: true,
            });
        };
        if job.text("status")? != "running" {
            return Ok(PageDone {
                enqueued: 0,
                finished: true,
            });
        }
        let cursor = job.text("cursor")?;
        let rows = db.query(
            &format!(
                "SELECT {CLIENT_COLUMNS} FROM clients c WHERE c.deleted_at IS NULL \
                 AND c.id > $1 ORDER BY c.id LIMIT $2"
            ),
            &[text(&cursor), Value::Int(limit)],
        )?;
        let records: Vec<ClientRecord> = rows
            .iter()
            .map(|row| ClientRecord::from_row(&row))
            .collect::<Result<_, _>>()?;
        let changes: Vec<(&str, &str, Json)> = records
            .iter()
            .map(|r| (r.id.as_str(), "update", json!({ "client": r.to_json() })))
            .collect();
        enqueue_all(db, now, Some(job_id), &changes)?;
        let finished = (records.len() as i64) < limit;
        let last = records.last().map_or(cursor.clone(), |r| r.id.clone());
        let moved = db.execute(
            "UPDATE loops_backfill_jobs SET total = total + $2, cursor = $3, status = $4, \
             updated_at = $5 WHERE id = $1 AND COALESCE(cursor, '') = $6",
            &[
                text(job_id),
                Value::Int(records.len() as i64),
                text(&last),
                text(if finished { "enqueued" } else { "running" }),
                text(now),
                text(&cursor),
            ],
        )?;
        if moved != 1 {
            return Err(lost_race());
        }
        Ok(PageDone {
            enqueued: records.len() as u64,
            finished,
        })
    });
    match outcome {
        Err(DbError::Query(message)) if message == "the backfill cursor moved meanwhile" => {
            Ok(PageDone {
                enqueued: 0,
                finished: false,
            })
        }
        other => other,
    }
}
