//! Persistence of the client book through `crm_platform::db` (one SQL text for SQLite and
//! PostgreSQL, `$n` placeholders; schema: migrations/*/0003_clients and 0004). Every write goes
//! through [`writes`], which keeps `clients`, `client_tags`, `client_search_terms`, the
//! Loops outbox and the audit trail in one transaction.

pub mod backfill;
pub mod history;
pub mod idempotency;
pub mod list;
pub mod writes;

use crm_domain::clients::{ClientDraft, StoredDraft};
use crm_platform::db::{Backend, Database, DbError, Row};
pub use crm_platform::db::{opt_text, text};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value as Json;

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
        let stored = StoredDraft {
            first_name: row.opt_text("first_name")?,
            last_name: row.opt_text("last_name")?,
            email: row.text("email")?,
            phone: row.opt_text("phone")?,
            company: row.opt_text("company")?,
            status: row.text("status")?,
            tags: row.text("tags")?,
            notes: row.opt_text("notes")?,
            source: row.opt_text("source")?,
            subscribed: row.bool("subscribed")?,
            properties: row.text("properties")?,
        };
        let draft = stored
            .into_draft()
            .map_err(|(column, reason)| DbError::Decode {
                column: column.to_owned(),
                reason: format!("a stored client does not decode: {reason}"),
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

/// The representation of [`ClientRecord::to_json`], written without building it: the same
/// keys in the same (sorted) order, so a response is byte for byte what `to_json` gives.
impl Serialize for ClientRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let draft = &self.draft;
        let mut map = serializer.serialize_map(Some(16))?;
        map.serialize_entry("company", &draft.company)?;
        map.serialize_entry("created_at", &self.created_at)?;
        map.serialize_entry("created_by", &self.created_by)?;
        map.serialize_entry("email", draft.email.as_str())?;
        map.serialize_entry("first_name", &draft.first_name)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("last_name", &draft.last_name)?;
        map.serialize_entry("notes", &draft.notes)?;
        map.serialize_entry("phone", &draft.phone.as_ref().map(|p| p.as_str()))?;
        map.serialize_entry("properties", draft.properties.as_map())?;
        map.serialize_entry("source", &draft.source)?;
        map.serialize_entry("status", draft.status.as_str())?;
        map.serialize_entry("subscribed", &draft.subscribed)?;
        let tags: Vec<&str> = draft.tags.iter().map(|t| t.as_str()).collect();
        map.serialize_entry("tags", &tags)?;
        map.serialize_entry("updated_at", &self.updated_at)?;
        map.serialize_entry("version", &self.version)?;
        map.end()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crm_domain::clients::draft_from_json;

    fn record(body: Json) -> ClientRecord {
        ClientRecord {
            id: "0190a5e2-7b7c-7cc0-8000-000000000001".into(),
            draft: draft_from_json(&body).unwrap(),
            created_at: "2026-11-26T10:00:00.000Z".into(),
            updated_at: "2026-11-26T11:00:00.000Z".into(),
            created_by: "user:1".into(),
            version: 3,
        }
    }

    #[test]
    fn the_serialized_record_is_byte_for_byte_its_json() {
        let full = serde_json::json!({
            "first_name": "Zoë", "last_name": "O\"Brien", "email": "zoe@example.com",
            "phone": "+442071234567", "company": "Acme", "status": "churned",
            "tags": ["vip", "a-1"], "notes": "line\nbreak", "source": "web",
            "subscribed": false, "properties": {"plan": "pro", "seats": 5, "x": 1.5, "t": true}
        });
        for body in [full, serde_json::json!({"email": "a@b.co"})] {
            let record = record(body);
            assert_eq!(
                serde_json::to_string(&record).unwrap(),
                record.to_json().to_string()
            );
        }
    }
}
