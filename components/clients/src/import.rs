//! `POST /api/clients/import` (admin): NDJSON or CSV rows, each validated alone; a row whose
//! e-mail belongs to a live client updates it (merge), otherwise it creates one. Valid rows
//! are written in batches of [`BATCH_ROWS`], one transaction each; a batch that fails is
//! rolled back and its rows are written one by one, so one bad row never takes others with
//! it. The answer reports every row.
//!
//! An import works within a time budget (the `import_time_budget_ms` variable), kept well
//! under the platform's request deadline: between batches, once the budget is spent, it
//! stops and reports each row it did not reach as `not_processed` (or `rejected` when the
//! row is invalid on its own), so a slow database yields a precise partial answer instead
//! of a request killed with committed batches and no report. At least one batch is always
//! written, so re-sending the unreached rows always makes progress.

use crate::Call;
use crate::store::writes::{self, IMPORTED};
use crate::store::{self, ClientRecord};
use crm_domain::FieldError;
use crm_domain::clients::{ClientDraft, draft_from_json, merge_patch};
use crm_platform::clock::Stopwatch;
use crm_platform::db::DbError;
use crm_platform::http_kit::{self, ApiError};
use serde_json::{Map, Value as Json, json};
use spin_sdk::http::Response;

/// Largest import body.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Most rows in one import.
pub const MAX_ROWS: usize = 10_000;
/// Rows per transaction.
pub const BATCH_ROWS: usize = 100;
/// The variable holding the time budget, in milliseconds.
pub const TIME_BUDGET_VARIABLE: &str = "import_time_budget_ms";
/// The budget when the variable is unset or unreadable (crm-host's request timeout is 30 s).
pub const DEFAULT_TIME_BUDGET_MS: u64 = 20_000;

const CSV_COLUMNS: [&str; 11] = crm_domain::clients::model::WRITABLE_FIELDS;

/// One row of the file: its line and its fields, or why it cannot be read.
struct InputRow {
    line: u64,
    fields: Result<Json, Vec<FieldError>>,
}

/// What a valid row will do.
enum Plan {
    Create(ClientDraft),
    Update(Box<ClientRecord>, ClientDraft),
    Unchanged(String),
}

/// The outcome of one row, as reported.
enum Outcome {
    Created(String),
    Updated(String),
    Unchanged(String),
    Rejected(Vec<FieldError>),
    /// A valid row the import did not reach within its time budget.
    NotProcessed,
}

pub fn import(call: &Call<'_>) -> Result<Response, ApiError> {
    let clock = Stopwatch::start();
    let budget_ms = time_budget_ms();
    let text = std::str::from_utf8(call.request.body())
        .map_err(|_| ApiError::BadRequest("The import must be UTF-8 text.".into()))?;
    let rows = match media_type(call)?.as_str() {
        "text/csv" => csv_rows(text)?,
        _ => ndjson_rows(text),
    };
    if rows.is_empty() {
        return Err(ApiError::BadRequest("The import has no rows.".into()));
    }
    if rows.len() > MAX_ROWS {
        return Err(ApiError::BadRequest(format!(
            "The import has {} rows; at most {MAX_ROWS} are accepted at once.",
            rows.len()
        )));
    }
    let mut outcomes = Vec::with_capacity(rows.len());
    for batch in rows.chunks(BATCH_ROWS) {
        if !outcomes.is_empty() && clock.elapsed_ms() >= budget_ms {
            outcomes.extend(batch.iter().map(unreached));
        } else {
            outcomes.extend(import_batch(call, batch)?);
        }
    }
    report(call, &rows, &outcomes)
}

/// The `import_time_budget_ms` variable; the default when unset, empty or not a number.
fn time_budget_ms() -> u64 {
    spin_sdk::variables::get(TIME_BUDGET_VARIABLE)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_TIME_BUDGET_MS)
}

/// A row past the budget: rejected when it is invalid on its own, else not processed.
fn unreached(row: &InputRow) -> Outcome {
    match &row.fields {
        Err(errors) => Outcome::Rejected(errors.clone()),
        Ok(fields) => match draft_from_json(fields) {
            Err(errors) => Outcome::Rejected(errors),
            Ok(_) => Outcome::NotProcessed,
        },
    }
}

/// `text/csv` or NDJSON (`application/x-ndjson`, `application/ndjson`, `application/jsonl`).
fn media_type(call: &Call<'_>) -> Result<String, ApiError> {
    let essence = http_kit::media_type(call.request);
    match essence.as_str() {
        "text/csv" | "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            Ok(essence)
        }
        _ => Err(ApiError::UnsupportedMediaType(
            "An import is NDJSON (`content-type: application/x-ndjson`) or CSV (`text/csv`)."
                .into(),
        )),
    }
}

fn ndjson_rows(text: &str) -> Vec<InputRow> {
    text.split('\n')
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| InputRow {
            line: index as u64 + 1,
            fields: serde_json::from_str::<Json>(line.trim_end_matches('\r'))
                .map_err(|e| vec![FieldError::new("$", format!("is not a JSON object: {e}"))]),
        })
        .collect()
}

fn csv_rows(text: &str) -> Result<Vec<InputRow>, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("The CSV header row cannot be read: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    for (i, name) in headers.iter().enumerate() {
        if !CSV_COLUMNS.contains(&name.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "CSV column `{name}` is not a field of a client; columns: {}",
                CSV_COLUMNS.join(", ")
            )));
        }
        if headers[..i].contains(name) {
            return Err(ApiError::BadRequest(format!(
                "CSV column `{name}` appears twice."
            )));
        }
    }
    if !headers.iter().any(|h| h == "email") {
        return Err(ApiError::BadRequest(
            "The CSV header row must name an `email` column.".into(),
        ));
    }
    let mut rows = Vec::new();
    // The csv crate's position is where it started reading (before the previous
    // terminator's tail and any blank lines), and its line count skips blank lines: count
    // the newlines before the record's first byte instead.
    let bytes = text.as_bytes();
    let line_at = |position: Option<&csv::Position>| {
        let mut byte = position.map_or(0, |p| p.byte() as usize).min(bytes.len());
        while byte < bytes.len() && matches!(bytes[byte], b'\r' | b'\n') {
            byte += 1;
        }
        bytes[..byte].iter().filter(|b| **b == b'\n').count() as u64 + 1
    };
    for record in reader.records() {
        let row = match record {
            Ok(record) => {
                let line = line_at(record.position());
                let fields = csv_fields(&headers, &record);
                InputRow { line, fields }
            }
            Err(error) => InputRow {
                line: line_at(error.position()),
                fields: Err(vec![FieldError::new(
                    "$",
                    format!("is not a CSV row: {error}"),
                )]),
            },
        };
        rows.push(row);
        if rows.len() > MAX_ROWS {
            break;
        }
    }
    Ok(rows)
}

/// A CSV record as the JSON fields of a client: an empty cell is null, `tags` split on
/// `;`, `subscribed` a boolean, `properties` a JSON object.
fn csv_fields(headers: &[String], record: &csv::StringRecord) -> Result<Json, Vec<FieldError>> {
    let mut fields = Map::new();
    let mut errors = Vec::new();
    for (name, cell) in headers.iter().zip(record.iter()) {
        let value = if cell.is_empty() {
            Json::Null
        } else {
            match name.as_str() {
                "tags" => Json::Array(
                    cell.split(';')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(|t| Json::String(t.to_owned()))
                        .collect(),
                ),
                "subscribed" => match cell.to_ascii_lowercase().as_str() {
                    "true" => Json::Bool(true),
                    "false" => Json::Bool(false),
                    _ => Json::String(cell.to_owned()),
                },
                "properties" => match serde_json::from_str(cell) {
                    Ok(value) => value,
                    Err(_) => {
                        errors.push(FieldError::new("properties", "must be a JSON object"));
                        continue;
                    }
                },
                _ => Json::String(cell.to_owned()),
            }
        };
        fields.insert(name.clone(), value);
    }
    if errors.is_empty() {
        Ok(Json::Object(fields))
    } else {
        Err(errors)
    }
}

/// What a row will do, given the live client holding its e-mail (if any).
fn plan(
    fields: &Json,
    draft: ClientDraft,
    current: Option<&ClientRecord>,
) -> Result<Plan, Vec<FieldError>> {
    let Some(current) = current else {
        return Ok(Plan::Create(draft));
    };
    let mut merged = Json::Object(current.draft.to_json());
    merge_patch(&mut merged, fields);
    let merged = draft_from_json(&merged)?;
    Ok(if merged == current.draft {
        Plan::Unchanged(current.id.clone())
    } else {
        Plan::Update(Box::new(current.clone()), merged)
    })
}

/// The plans of a batch, judged against the book as it is now (one query for the live
/// clients of all its e-mails).
fn plan_batch(
    call: &Call<'_>,
    batch: &[InputRow],
) -> Result<Vec<Result<Plan, Vec<FieldError>>>, ApiError> {
    let drafts: Vec<Result<ClientDraft, Vec<FieldError>>> = batch
        .iter()
        .map(|row| match &row.fields {
            Ok(fields) => draft_from_json(fields),
            Err(errors) => Err(errors.clone()),
        })
        .collect();
    let emails: Vec<&str> = drafts.iter().flatten().map(|d| d.email.as_str()).collect();
    let live = store::find_live_by_emails(call.db, &emails)?;
    Ok(batch
        .iter()
        .zip(drafts)
        .map(|(row, draft)| {
            let fields = row.fields.as_ref().map_err(Clone::clone)?;
            let draft = draft?;
            let current = live.get(draft.email.as_str());
            plan(fields, draft, current)
        })
        .collect())
}

/// Writes the valid rows of `batch` in one transaction (the new clients with one
/// statement per table); on failure, row by row.
fn import_batch(call: &Call<'_>, batch: &[InputRow]) -> Result<Vec<Outcome>, ApiError> {
    let plans = plan_batch(call, batch)?;
    let actor = call.actor();
    let together = call.db.transaction(|db| {
        let creates: Vec<(String, &ClientDraft)> = plans
            .iter()
            .filter_map(|plan| match plan {
                Ok(Plan::Create(draft)) => Some((uuid::Uuid::now_v7().to_string(), draft)),
                _ => None,
            })
            .collect();
        writes::insert_all(db, &actor, &creates, IMPORTED)?;
        let mut created = creates.into_iter().map(|(id, _)| id);
        let mut outcomes = Vec::with_capacity(plans.len());
        for plan in &plans {
            outcomes.push(match plan {
                Err(errors) => Outcome::Rejected(errors.clone()),
                Ok(Plan::Create(_)) => Outcome::Created(created.next().unwrap_or_default()),
                Ok(plan) => match write(db, &actor, plan)? {
                    Some(outcome) => outcome,
                    // Changed meanwhile: roll back and go row by row.
                    None => return Err(DbError::Query("a row changed concurrently".into())),
                },
            });
        }
        Ok(outcomes)
    });
    match together {
        Ok(outcomes) => Ok(outcomes),
        Err(DbError::Unavailable(cause)) => Err(ApiError::dependency_unavailable(
            "The database is unavailable.",
            cause,
        )),
        Err(_) => batch
            .iter()
            .map(|row| import_row_alone(call, row))
            .collect(),
    }
}

/// One row in its own transaction, planned again (an earlier row may have created its
/// e-mail).
fn import_row_alone(call: &Call<'_>, row: &InputRow) -> Result<Outcome, ApiError> {
    let fields = match &row.fields {
        Ok(fields) => fields,
        Err(errors) => return Ok(Outcome::Rejected(errors.clone())),
    };
    let draft = match draft_from_json(fields) {
        Ok(draft) => draft,
        Err(errors) => return Ok(Outcome::Rejected(errors)),
    };
    let current = store::find_live_by_email(call.db, draft.email.as_str())?;
    let plan = match plan(fields, draft, current.as_ref()) {
        Ok(plan) => plan,
        Err(errors) => return Ok(Outcome::Rejected(errors)),
    };
    let actor = call.actor();
    match call.db.transaction(|db| write(db, &actor, &plan)) {
        Ok(Some(outcome)) => Ok(outcome),
        Ok(None) | Err(DbError::UniqueViolation { .. }) => {
            Ok(Outcome::Rejected(vec![FieldError::new(
                "email",
                "was changed by another request at the same time; retry the row",
            )]))
        }
        Err(error) => Err(error.into()),
    }
}

fn write(
    db: &crm_platform::db::Database,
    actor: &writes::Actor<'_>,
    plan: &Plan,
) -> Result<Option<Outcome>, DbError> {
    match plan {
        Plan::Create(draft) => {
            let id = uuid::Uuid::now_v7().to_string();
            writes::insert(db, actor, &id, draft, IMPORTED)?;
            Ok(Some(Outcome::Created(id)))
        }
        Plan::Update(current, draft) => Ok(writes::update(db, actor, current, draft, IMPORTED)?
            .map(|record| Outcome::Updated(record.id))),
        Plan::Unchanged(id) => Ok(Some(Outcome::Unchanged(id.clone()))),
    }
}

fn report(call: &Call<'_>, rows: &[InputRow], outcomes: &[Outcome]) -> Result<Response, ApiError> {
    let (mut created, mut updated, mut unchanged, mut rejected) = (0, 0, 0, 0);
    let mut not_processed = 0;
    let reported: Vec<Json> = rows
        .iter()
        .zip(outcomes)
        .map(|(row, outcome)| match outcome {
            Outcome::Created(id) => {
                created += 1;
                json!({"line": row.line, "status": "created", "id": id})
            }
            Outcome::Updated(id) => {
                updated += 1;
                json!({"line": row.line, "status": "updated", "id": id})
            }
            Outcome::Unchanged(id) => {
                unchanged += 1;
                json!({"line": row.line, "status": "unchanged", "id": id})
            }
            Outcome::Rejected(errors) => {
                rejected += 1;
                json!({"line": row.line, "status": "rejected", "errors": errors})
            }
            Outcome::NotProcessed => {
                not_processed += 1;
                json!({"line": row.line, "status": "not_processed"})
            }
        })
        .collect();
    let body = json!({
        "created": created, "updated": updated, "unchanged": unchanged, "rejected": rejected,
        "not_processed": not_processed, "rows": reported,
    });
    http_kit::json_response(200, &body, call.request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(text: &str) -> Vec<(u64, Result<Json, Vec<String>>)> {
        let rows = csv_rows(text).unwrap();
        rows.into_iter()
            .map(|row| {
                let fields = row
                    .fields
                    .map_err(|errors| errors.into_iter().map(|e| e.field).collect());
                (row.line, fields)
            })
            .collect()
    }

    #[test]
    fn csv_cells_become_client_fields_with_their_lines() {
        let rows = statuses(
            "email,tags,subscribed,properties,first_name\n\
             a@b.co, x ; y ,FALSE,\"{\"\"n\"\": 1}\",\n\
             c@d.co,,true,not json,\"two\nlines\"\n\
             e@f.co,,,,\n",
        );
        assert_eq!(rows[0].0, 2);
        assert_eq!(
            rows[0].1.as_ref().unwrap(),
            &json!({"email": "a@b.co", "tags": ["x", "y"], "subscribed": false,
                    "properties": {"n": 1}, "first_name": null})
        );
        assert_eq!(rows[1], (3, Err(vec!["properties".to_owned()])));
        assert_eq!(rows[2].0, 5, "the quoted newline counts as a line");
        let rows = statuses("email\r\n\r\na@b.co\r\n\nc@d.co\n");
        let lines: Vec<u64> = rows.iter().map(|row| row.0).collect();
        assert_eq!(lines, [3, 5], "blank lines and CRLF still count");
    }

    #[test]
    fn csv_headers_must_be_known_fields_and_name_email() {
        for text in ["email,nickname\n", "first_name\n", "email,email\n"] {
            assert_eq!(csv_rows(text).err().unwrap().status_code(), 400, "{text}");
        }
    }

    #[test]
    fn ndjson_rows_keep_their_line_numbers_and_skip_blank_lines() {
        let rows = ndjson_rows("{\"email\":\"a@b.co\"}\r\n\n  \nnot json\n");
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 4]);
        assert!(rows[0].fields.is_ok() && rows[1].fields.is_err());
    }
}
