//! Persistence of the client book through `crm_platform::db` (one SQL text for SQLite and
//! PostgreSQL, `$n` placeholders; schema: migrations/*/0003_clients and 0004). Every write goes
//! through [`writes`], which keeps `clients`, `client_tags`, `client_search_terms`, the
//! Loops outbox and the audit trail in one transaction.

pub mod history;
pub mod idempotency;
pub mod list;
pub mod writes;

use crm_domain::clients::{ClientDraft, draft_from_json};
use crm_platform::db::{Backend, Database, DbError, Row};
pub use crm_platform::db::{opt_text, text};
use serde_json::{Map, Value as Json};

/// The columns every client read selects (JSON columns as text on both databases).
pub const CLIENT_COLUMNS: &str = "c.id, c.email, c.first_name, c.last_name, c.company, c.phone, \
     c.status, CAST(c.tags AS TEXT) AS tags, c.notes, c.source, c.subscribed, \
     CAST(c.properties AS TEXT) AS properties, c.created_at, c.updated_at, c.created_by, \
     c.version";

/// A live client as stored.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub id: String,
    pub draft: ClientDraft,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
    pub version: i64,
}

impl ClientRecord {
    /// The client's representation (docs/clients.md, "A client").
    pub fn to_json(&self) -> Json {
        let mut map = self.draft.to_json();
        map.insert("id".into(), Json::String(self.id.clone()));
        map.insert("created_at".into(), Json::String(self.created_at.clone()));
        map.insert("updated_at".into(), Json::String(self.updated_at.clone()));
        map.insert("created_by".into(), Json::String(self.created_by.clone()));
        map.insert("version".into(), Json::from(self.version));
        Json::Object(map)
    }

    /// The strong entity tag of this version: `"<version>"`.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    /// Decodes a row selected with [`CLIENT_COLUMNS`].
    pub fn from_row(row: &Row<'_>) -> Result<ClientRecord, DbError> {
        let mut fields = Map::new();
        for column in ["first_name", "last_name", "email", "phone", "company"] {
            fields.insert(column.into(), opt_json_text(row.opt_text(column)?));
        }
        fields.insert("status".into(), Json::String(row.text("status")?));
        fields.insert("tags".into(), parse_json(row, "tags")?);
        fields.insert("notes".into(), opt_json_text(row.opt_text("notes")?));
        fields.insert("source".into(), opt_json_text(row.opt_text("source")?));
        fields.insert("subscribed".into(), Json::Bool(row.bool("subscribed")?));
        fields.insert("properties".into(), parse_json(row, "properties")?);
        let draft = draft_from_json(&Json::Object(fields)).map_err(|errors| DbError::Decode {
            column: errors
                .first()
                .map_or_else(|| "client".to_owned(), |e| e.field.clone()),
            reason: "a stored client does not pass validation".into(),
        })?;
        Ok(ClientRecord {
            id: row.text("id")?,
            draft,
            created_at: row.text("created_at")?,
            updated_at: row.text("updated_at")?,
            created_by: row.text("created_by")?,
            version: row.i64("version")?,
        })
    }
}

/// The live client `id`, if any.
pub fn find_live(db: &Database, id: &str) -> Result<Option<ClientRecord>, DbError> {
    let sql =
        format!("SELECT {CLIENT_COLUMNS} FROM clients c WHERE c.id = $1 AND c.deleted_at IS NULL");
    let rows = db.query(&sql, &[text(id)])?;
    rows.first()
        .map(|row| ClientRecord::from_row(&row))
        .transpose()
}

/// The live client whose e-mail is `email`, if any.
pub fn find_live_by_email(db: &Database, email: &str) -> Result<Option<ClientRecord>, DbError> {
    Ok(find_live_by_emails(db, &[email])?.remove(email))
}

/// What is left of a client in any state: for purges and history.
#[derive(Debug, Clone)]
pub struct ClientState {
    pub version: i64,
    pub deleted: bool,
    pub erased: bool,
}

pub fn find_any(db: &Database, id: &str) -> Result<Option<ClientState>, DbError> {
    let rows = db.query(
        "SELECT version, deleted_at, erased_at FROM clients WHERE id = $1",
        &[text(id)],
    )?;
    rows.first()
        .map(|row| {
            Ok(ClientState {
                version: row.i64("version")?,
                deleted: row.opt_text("deleted_at")?.is_some(),
                erased: row.opt_text("erased_at")?.is_some(),
            })
        })
        .transpose()
}

/// `$n` as a JSON value: jsonb on PostgreSQL (bound as text, then cast), text on SQLite.
pub fn json_param(db: &Database, n: usize) -> String {
    json_cast(db, &format!("${n}"))
}

/// The placeholder `param` as a JSON value (see [`json_param`]).
pub fn json_cast(db: &Database, param: &str) -> String {
    match db.backend() {
        Backend::Postgres => format!("CAST(CAST({param} AS text) AS jsonb)"),
        Backend::Sqlite => param.to_owned(),
    }
}

/// The live clients whose e-mail is one of `emails`, by e-mail (one query).
pub fn find_live_by_emails(
    db: &Database,
    emails: &[&str],
) -> Result<std::collections::HashMap<String, ClientRecord>, DbError> {
    if emails.is_empty() {
        return Ok(Default::default());
    }
    let placeholders: Vec<String> = (1..=emails.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} FROM clients c WHERE c.email IN ({}) AND c.deleted_at IS NULL",
        placeholders.join(", ")
    );
    let params: Vec<_> = emails.iter().map(|email| text(email)).collect();
    db.query(&sql, &params)?
        .iter()
        .map(|row| {
            let record = ClientRecord::from_row(&row)?;
            Ok((record.draft.email.as_str().to_owned(), record))
        })
        .collect()
}

fn opt_json_text(value: Option<String>) -> Json {
    value.map_or(Json::Null, Json::String)
}

fn parse_json(row: &Row<'_>, column: &str) -> Result<Json, DbError> {
    serde_json::from_str(&row.text(column)?).map_err(|e| DbError::Decode {
        column: column.to_owned(),
        reason: e.to_string(),
    })
}
