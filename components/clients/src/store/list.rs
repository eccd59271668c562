//! `GET /api/clients` as one keyset query: filters, search words (prefix range scans of
//! `client_search_terms`), the sort and the position after the cursor, `limit + 1` rows
//! (the extra row says whether there is a next page). Export pages reuse it.

use super::{CLIENT_COLUMNS, ClientRecord, text};
use crm_domain::clients::search::prefix_upper_bound;
use crm_domain::clients::{ListQuery, Position, Sort};
use crm_platform::db::{Database, DbError, Value};

/// A page and the position after its last row when more rows follow.
pub struct Page {
    pub clients: Vec<ClientRecord>,
    pub next: Option<Position>,
}

/// The SQL expression a sort orders by (the indexes are on exactly these).
fn sort_key(sort: Sort) -> &'static str {
    match sort {
        Sort::CreatedAt | Sort::CreatedAtDesc => "c.created_at",
        Sort::LastName => "coalesce(c.last_name, '')",
        Sort::Email => "c.email",
    }
}

/// The sort value of a record, as the cursor keeps it.
fn sort_value(sort: Sort, record: &ClientRecord) -> String {
    match sort {
        Sort::CreatedAt | Sort::CreatedAtDesc => record.created_at.clone(),
        Sort::LastName => record.draft.last_name.clone().unwrap_or_default(),
        Sort::Email => record.draft.email.as_str().to_owned(),
    }
}

/// One page of `query`.
pub fn page(db: &Database, query: &ListQuery) -> Result<Page, DbError> {
    let mut params: Vec<Value> = Vec::new();
    let mut bind = |value: Value| {
        params.push(value);
        format!("${}", params.len())
    };
    let mut conditions = vec!["c.deleted_at IS NULL".to_owned()];
    if let Some(status) = query.status {
        conditions.push(format!("c.status = {}", bind(text(status.as_str()))));
    }
    if let Some(after) = &query.created_after {
        conditions.push(format!("c.created_at > {}", bind(text(after))));
    }
    if let Some(before) = &query.created_before {
        conditions.push(format!("c.created_at < {}", bind(text(before))));
    }
    if let Some(tag) = &query.tag {
        conditions.push(format!(
            "c.id IN (SELECT t.client_id FROM client_tags t WHERE t.tag = {})",
            bind(text(tag.as_str()))
        ));
    }
    for word in &query.words {
        let lower = bind(text(word));
        let range = match prefix_upper_bound(word) {
            Some(upper) => format!("s.term >= {lower} AND s.term < {}", bind(text(&upper))),
            None => format!("s.term >= {lower}"),
        };
        conditions.push(format!(
            "c.id IN (SELECT s.client_id FROM client_search_terms s WHERE {range})"
        ));
    }
    let key = sort_key(query.sort);
    let (comparison, direction) = if query.sort.descending() {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(after) = &query.after {
        let (k, i) = (bind(text(&after.key)), bind(text(&after.id)));
        conditions.push(if query.sort == Sort::LastName {
            // SQLite cannot seek an expression index with a row value (it would scan the
            // index from its start on every page); the expanded form seeks on both.
            format!("{key} >= {k} AND ({key} > {k} OR c.id > {i})")
        } else {
            format!("({key}, c.id) {comparison} ({k}, {i})")
        });
    }
    let limit = bind(Value::Int(i64::from(query.limit) + 1));
    let sql = format!(
        "SELECT {CLIENT_COLUMNS} FROM clients c WHERE {} \
         ORDER BY {key} {direction}, c.id {direction} LIMIT {limit}",
        conditions.join(" AND ")
    );
    let rows = db.query(&sql, &params)?;
    let mut clients = rows
        .iter()
        .map(|row| ClientRecord::from_row(&row))
        .collect::<Result<Vec<_>, _>>()?;
    let more = clients.len() > query.limit as usize;
    clients.truncate(query.limit as usize);
    let next = match clients.last() {
        Some(last) if more => Some(Position {
            key: sort_value(query.sort, last),
            id: last.id.clone(),
        }),
        _ => None,
    };
    Ok(Page { clients, next })
}
