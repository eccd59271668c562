//! The append-only `audit_log`: who did what to which entity, in which request. Details are
//! JSON without secrets.

use super::{opt_text, text};
use crm_domain::RequestId;
use crm_platform::db::{Backend, Database, DbError};
use serde_json::Value as Json;

/// One audited write.
pub struct AuditEntry<'a> {
    /// The acting user; `None` for the system (bootstrap) or an anonymous caller.
    pub actor: Option<&'a str>,
    /// E.g. `user.create`, `api_key.revoke`, `refresh_token.reuse_detected`.
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<&'a str>,
    pub details: Json,
}

/// Appends `entry` (call it inside the write's transaction).
pub fn record(
    db: &Database,
    entry: &AuditEntry<'_>,
    request_id: &RequestId,
    now: &str,
) -> Result<(), DbError> {
    // `details` is jsonb on PostgreSQL: the parameter is bound as text, then cast.
    let details = match db.backend() {
        Backend::Postgres => "CAST(CAST($7 AS text) AS jsonb)",
        Backend::Sqlite => "$7",
    };
    let sql = format!(
        "INSERT INTO audit_log (id, actor_user_id, action, entity_type, entity_id, request_id, \
         details, created_at) VALUES ($1, $2, $3, $4, $5, $6, {details}, $8)"
    );
    db.execute(
        &sql,
        &[
            text(&uuid::Uuid::new_v4().to_string()),
            opt_text(entry.actor),
            text(entry.action),
            text(entry.entity_type),
            opt_text(entry.entity_id),
            text(request_id.as_str()),
            text(&entry.details.to_string()),
            text(now),
        ],
    )?;
    Ok(())
}
