//! `GET /api/clients` as one keyset query: filters, search words (prefix range scans of
//! `client_search_terms`), the sort and the position after the cursor, `limit + 1` rows
//! (the extra row says whether there is a next page). A search in `created_at` order
//! without status or tag filter picks the page's ids from the search rows alone (they
//! carry `created_at`, migration 0004). Export pages reuse it.

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
    let key = sort_key(query.sort);
    let (comparison, direction) = if query.sort.descending() {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    // Each word's prefix range over `term`, with its bound placeholders.
    let word_ranges: Vec<(String, Option<String>)> = query
        .words
        .iter()
        .map(|word| {
            let lower = bind(text(word));
            let upper = prefix_upper_bound(word).map(|upper| bind(text(&upper)));
            (lower, upper)
        })
        .collect();
    let range = |column: &str, (lower, upper): &(String, Option<String>)| match upper {
        Some(upper) => format!("{column} >= {lower} AND {column} < {upper}"),
        None => format!("{column} >= {lower}"),
    };
    let mut word_ranges = word_ranges.iter();
    let by_created_at = matches!(query.sort, Sort::CreatedAt | Sort::CreatedAtDesc);
    if by_created_at && query.status.is_none() && query.tag.is_none() {
        // The page's ids from the search rows alone (they carry created_at and exist only
        // for live clients): a range scan of the first word, the other words as
        // semi-joins, the window, the cursor and the limit — then only those clients.
        if let Some(first) = word_ranges.next() {
            let mut inner = vec![range("s.term", first)];
            inner.extend(word_ranges.by_ref().map(|word| {
                format!(
                    "s.client_id IN (SELECT client_id FROM client_search_terms WHERE {})",
                    range("term", word)
                )
            }));
            if let Some(after) = &query.created_after {
                inner.push(format!("s.created_at > {}", bind(text(after))));
            }
            if let Some(before) = &query.created_before {
                inner.push(format!("s.created_at < {}", bind(text(before))));
            }
            if let Some(after) = &query.after {
                let (k, i) = (bind(text(&after.key)), bind(text(&after.id)));
                inner.push(format!(
                    "(s.created_at, s.client_id) {comparison} ({k}, {i})"
                ));
            }
            let limit = bind(Value::Int(i64::from(query.limit) + 1));
            conditions.push(format!(
                "c.id IN (SELECT m.client_id FROM (SELECT DISTINCT s.client_id, s.created_at \
                 FROM client_search_terms s WHERE {}) m \
                 ORDER BY m.created_at {direction}, m.client_id {direction} LIMIT {limit})",
                inner.join(" AND ")
            ));
        }
    }
    for word in word_ranges {
        conditions.push(format!(
            "c.id IN (SELECT client_id FROM client_search_terms WHERE {})",
            range("term", word)
        ));
    }
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
