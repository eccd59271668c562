//! A client's audit entries, oldest first, in keyset pages over `(created_at, id)`.

use super::text;
use crm_domain::clients::{PageQuery, Position};
use crm_platform::db::{Database, DbError, Value};
use serde_json::{Value as Json, json};

pub struct HistoryPage {
    pub entries: Vec<Json>,
    pub next: Option<Position>,
}

pub fn page(db: &Database, client_id: &str, query: &PageQuery) -> Result<HistoryPage, DbError> {
    let mut params = vec![text(client_id)];
    let mut after = String::new();
    if let Some(position) = &query.after {
        params.push(text(&position.key));
        params.push(text(&position.id));
        after = " AND (created_at, id) > ($2, $3)".into();
    }
    params.push(Value::Int(i64::from(query.limit) + 1));
    let sql = format!(
        "SELECT id, action, actor_user_id, actor_api_key_id, request_id, created_at, \
         CAST(details AS TEXT) AS details FROM audit_log \
         WHERE entity_type = 'client' AND entity_id = $1{after} \
         ORDER BY created_at, id LIMIT ${}",
        params.len()
    );
    let rows = db.query(&sql, &params)?;
    let mut entries = Vec::new();
    let mut last = None;
    for row in rows.iter().take(query.limit as usize) {
        let (kind, actor) = match (
            row.opt_text("actor_user_id")?,
            row.opt_text("actor_api_key_id")?,
        ) {
            (Some(user), _) => ("user", Some(user)),
            (None, Some(key)) => ("api_key", Some(key)),
            (None, None) => ("system", None),
        };
        let details: Json = serde_json::from_str(&row.text("details")?).unwrap_or(Json::Null);
        let fields = details.get("fields").cloned().unwrap_or_else(|| json!([]));
        let (id, at) = (row.text("id")?, row.text("created_at")?);
        entries.push(json!({
            "id": id,
            "action": row.text("action")?,
            "actor": {"kind": kind, "id": actor},
            "at": at,
            "fields": fields,
            "request_id": row.opt_text("request_id")?,
        }));
        last = Some(Position { key: at, id });
    }
    let next = if rows.len() > query.limit as usize {
        last
    } else {
        None
    };
    Ok(HistoryPage { entries, next })
}
