//! The clients component's queries use 0003's and 0004's indexes, on both dialects: a book of
//! `ROWS` clients (5 % soft-deleted, tags and search terms for the live ones), ANALYZE
//! (VACUUM ANALYZE on PostgreSQL, as autovacuum would),
//! then each query's plan as the database really chooses it (no planner settings), with
//! the component's placeholders (`$1` on PostgreSQL, `?1` on SQLite) bound to a second
//! page's cursor. The plans are printed (`--no-capture`) for the record.

use super::schema::migrated_to;
use super::support::TestDb;
use crm_host::migrate::Dialect;

/// 2,000 rows were too few for PostgreSQL: it hash-joined a sequential scan of `clients`
/// for the tag and search filters (cheaper for a table of ~80 pages). 20,000 is the
/// smallest of 5,000 / 10,000 / 20,000 at which it walks the indexes.
const ROWS: i64 = 20_000;

const COLUMNS: &str = "id, email, first_name, last_name, company, phone, status, tags, notes, \
                       source, subscribed, properties, created_at, updated_at, created_by, version";

/// Shared by both dialects: columns of row `i`.
const FIRST_NAME: &str = "CASE i % 8 WHEN 0 THEN 'Ada' WHEN 1 THEN 'Grace' WHEN 2 THEN 'Alan' \
    WHEN 3 THEN 'Edsger' WHEN 4 THEN 'Barbara' WHEN 5 THEN 'Donald' WHEN 6 THEN 'Linus' ELSE 'Ken' END";
const LAST_NAME: &str = "CASE WHEN i % 17 = 0 THEN NULL ELSE 'Last' || (i % 500) END";
const EMAIL: &str = "'user' || i || '@example' || (i % 20) || '.com'";
const STATUS: &str =
    "CASE i % 4 WHEN 0 THEN 'lead' WHEN 1 THEN 'active' WHEN 2 THEN 'inactive' ELSE 'churned' END";
const TAGS: &str =
    "'[\"tag-' || (i % 50) || '\"' || CASE WHEN i % 10 = 0 THEN ',\"vip\"' ELSE '' END || ']'";
const DELETED: &str = "CASE WHEN i % 20 = 0 THEN '2025-06-01T00:00:00.000Z' END";

/// Dialect-specific: row `i`'s id (a UUID-shaped, lowercase hex text), created_at (minutes
/// after 2025-01-01 in a scrambled order), tags as the column's type, and the rows of a
/// client's tags array.
struct Dialected {
    id: &'static str,
    created_at: String,
    tags: String,
    tag_rows: &'static str,
}

fn dialected(dialect: Dialect) -> Dialected {
    let minutes = format!("((i * 7919) % {ROWS})");
    match dialect {
        Dialect::Sqlite => Dialected {
            id: "printf('%08x-0000-7000-8000-000000000000', i)",
            created_at: format!(
                "strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01 00:00:00', '+' || {minutes} || ' minutes')"
            ),
            tags: TAGS.to_owned(),
            tag_rows: "SELECT c.id, t.value FROM clients c, json_each(c.tags) t WHERE c.deleted_at IS NULL",
        },
        Dialect::Postgres => Dialected {
            id: "lpad(to_hex(i), 8, '0') || '-0000-7000-8000-000000000000'",
            created_at: format!(
                "to_char(timestamp '2025-01-01 00:00:00' + {minutes} * interval '1 minute', \
                 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            ),
            tags: format!("CAST({TAGS} AS jsonb)"),
            tag_rows: "SELECT c.id, t.value FROM clients c, jsonb_array_elements_text(c.tags) AS t(value) \
                       WHERE c.deleted_at IS NULL",
        },
    }
}

/// Fill the book: one INSERT … SELECT per table over a recursive CTE, then ANALYZE.
async fn populate(db: &TestDb) {
    let d = dialected(db.dialect);
    let seq = format!(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {ROWS})"
    );
    let clients = format!(
        "{seq} INSERT INTO clients (id, email, first_name, last_name, company, status, tags, \
         created_at, updated_at, created_by, deleted_at) \
         SELECT {id}, {EMAIL}, {FIRST_NAME}, {LAST_NAME}, 'Company ' || (i % 100), {STATUS}, {tags}, \
         {created_at}, {created_at}, 'u1', {DELETED} FROM seq",
        id = d.id,
        tags = d.tags,
        created_at = d.created_at,
    );
    let tags = format!("INSERT INTO client_tags (client_id, tag) {}", d.tag_rows);
    // What the component indexes: every word of the names, the e-mail (whole, its words,
    // its domain whole) and the company.
    let terms = format!(
        "{seq}, live(id, i) AS (SELECT {id}, i FROM seq WHERE i % 20 <> 0) \
         INSERT INTO client_search_terms (term, client_id, created_at) \
         SELECT t.term, t.id, c.created_at FROM ( \
           SELECT lower({FIRST_NAME}) AS term, id FROM live \
           UNION SELECT lower({LAST_NAME}), id FROM live WHERE i % 17 <> 0 \
           UNION SELECT {EMAIL}, id FROM live \
           UNION SELECT 'user' || i, id FROM live \
           UNION SELECT 'example' || (i % 20) || '.com', id FROM live \
           UNION SELECT 'example' || (i % 20), id FROM live \
           UNION SELECT 'com', id FROM live \
           UNION SELECT 'company', id FROM live \
           UNION SELECT CAST(i % 100 AS TEXT), id FROM live \
         ) AS t JOIN clients c ON c.id = t.id",
        id = d.id,
    );
    // As autovacuum would on PostgreSQL: statistics, and the visibility map that lets a
    // scan of a covering index skip the table (SQLite needs only the statistics).
    let analyze = match db.dialect {
        Dialect::Sqlite => "ANALYZE",
        Dialect::Postgres => "VACUUM ANALYZE",
    };
    for sql in [clients, tags, terms, analyze.to_owned()] {
        db.exec(&sql)
            .await
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", db.name()));
    }
}

/// One of the component's queries: what it is, the statement (PostgreSQL placeholders),
/// and how to find its parameters: a query for the second page's cursor (the 26th row of
/// the first page, `value id`), and the parameters that come before the cursor.
struct Case {
    what: &'static str,
    sql: String,
    filter: &'static [&'static str],
    cursor: Option<&'static str>,
    /// An index the plan must name besides reading `clients` through an index.
    index: Option<&'static str>,
}

/// The second page's cursor of the search `q=gra` in the default order.
const GRA_CURSOR: &str = "SELECT created_at || ' ' || id FROM clients WHERE deleted_at IS NULL \
     AND id IN (SELECT client_id FROM client_search_terms WHERE term >= 'gra' AND term < 'grb') \
     ORDER BY created_at, id LIMIT 1 OFFSET 25";

fn cases() -> Vec<Case> {
    let live = format!("SELECT {COLUMNS} FROM clients WHERE deleted_at IS NULL");
    vec![
        Case {
            what: "(a) default order, keyset",
            sql: format!("{live} AND (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT 26"),
            filter: &[],
            cursor: Some(
                "SELECT created_at || ' ' || id FROM clients WHERE deleted_at IS NULL \
                 ORDER BY created_at, id LIMIT 1 OFFSET 25",
            ),
            index: None,
        },
        Case {
            what: "(b) sort=-created_at, keyset",
            sql: format!(
                "{live} AND (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT 26"
            ),
            filter: &[],
            cursor: Some(
                "SELECT created_at || ' ' || id FROM clients WHERE deleted_at IS NULL \
                 ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 25",
            ),
            index: None,
        },
        Case {
            what: "(c) status filter, default order, keyset",
            sql: format!(
                "{live} AND status = $1 AND (created_at, id) > ($2, $3) \
                 ORDER BY created_at, id LIMIT 26"
            ),
            filter: &["active"],
            cursor: Some(
                "SELECT created_at || ' ' || id FROM clients WHERE deleted_at IS NULL \
                 AND status = 'active' ORDER BY created_at, id LIMIT 1 OFFSET 25",
            ),
            index: None,
        },
        Case {
            what: "(d) sort=last_name, keyset",
            sql: format!(
                "{live} AND (coalesce(last_name, ''), id) > ($1, $2) \
                 ORDER BY coalesce(last_name, ''), id LIMIT 26"
            ),
            filter: &[],
            cursor: Some(
                "SELECT coalesce(last_name, '') || ' ' || id FROM clients WHERE deleted_at IS NULL \
                 ORDER BY coalesce(last_name, ''), id LIMIT 1 OFFSET 25",
            ),
            index: None,
        },
        Case {
            what: "(d2) sort=last_name, keyset written out (SQLite cannot range-scan a row value \
                   over an expression index)",
            sql: format!(
                "{live} AND coalesce(last_name, '') >= $1 \
                 AND (coalesce(last_name, '') > $1 OR id > $2) \
                 ORDER BY coalesce(last_name, ''), id LIMIT 26"
            ),
            filter: &[],
            cursor: Some(
                "SELECT coalesce(last_name, '') || ' ' || id FROM clients WHERE deleted_at IS NULL \
                 ORDER BY coalesce(last_name, ''), id LIMIT 1 OFFSET 25",
            ),
            index: None,
        },
        Case {
            what: "(e) sort=email, keyset",
            sql: format!("{live} AND (email, id) > ($1, $2) ORDER BY email, id LIMIT 26"),
            filter: &[],
            cursor: Some(
                "SELECT email || ' ' || id FROM clients WHERE deleted_at IS NULL \
                 ORDER BY email, id LIMIT 1 OFFSET 25",
            ),
            index: None,
        },
        Case {
            what: "(f) tag filter (2 % of the book), default order, keyset",
            sql: format!(
                "{live} AND id IN (SELECT client_id FROM client_tags WHERE tag = $1) \
                 AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT 26"
            ),
            filter: &["tag-7"],
            cursor: Some(
                "SELECT created_at || ' ' || id FROM clients WHERE deleted_at IS NULL \
                 AND id IN (SELECT client_id FROM client_tags WHERE tag = 'tag-7') \
                 ORDER BY created_at, id LIMIT 1 OFFSET 25",
            ),
            index: None,
        },
        Case {
            what: "(g) search q=gra (a word prefix: 12.5 % of the book), default order, keyset",
            sql: format!(
                "{live} AND id IN (SELECT client_id FROM client_search_terms \
                 WHERE term >= $1 AND term < $2) \
                 AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT 26"
            ),
            filter: &["gra", "grb"],
            cursor: Some(GRA_CURSOR),
            index: None,
        },
        Case {
            what: "(i) search q=gra, default order: the page's ids from the search rows (0004)",
            sql: format!(
                "{live} AND id IN (SELECT m.client_id FROM (SELECT DISTINCT s.client_id, \
                 s.created_at FROM client_search_terms s WHERE s.term >= $1 AND s.term < $2 \
                 AND (s.created_at, s.client_id) > ($3, $4)) m \
                 ORDER BY m.created_at, m.client_id LIMIT 26) \
                 AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT 26"
            ),
            filter: &["gra", "grb"],
            cursor: Some(GRA_CURSOR),
            index: Some("client_search_terms_term_created_idx"),
        },
        Case {
            what: "(h) the live client with an e-mail",
            sql: format!("SELECT {COLUMNS} FROM clients WHERE email = $1 AND deleted_at IS NULL"),
            filter: &["user1001@example1.com"],
            cursor: None,
            index: None,
        },
    ]
}

/// Whether `plan` reads `clients` through an index only (never a full scan of its rows).
fn uses_an_index(dialect: Dialect, plan: &[String]) -> bool {
    let text = plan.join("\n");
    match dialect {
        Dialect::Sqlite => {
            let full_scan = plan.iter().any(|line| {
                let line = line.trim();
                (line == "SCAN clients" || line.starts_with("SCAN clients "))
                    && !line.contains(" USING ")
            });
            (text.contains("USING INDEX") || text.contains("USING COVERING INDEX")) && !full_scan
        }
        Dialect::Postgres => text.contains("Index") && !text.contains("Seq Scan on clients"),
    }
}

#[tokio::test]
async fn query_plans_use_the_indexes() {
    for db in migrated_to(None).await {
        populate(&db).await;
        let live = db
            .strings("SELECT CAST(count(*) AS TEXT) FROM clients WHERE deleted_at IS NULL")
            .await;
        println!(
            "== {} ({ROWS} clients, {} live; ANALYZEd)",
            db.name(),
            live[0]
        );

        let mut failures = Vec::new();
        for case in cases() {
            let mut params: Vec<String> = case.filter.iter().map(|p| (*p).to_owned()).collect();
            if let Some(cursor) = case.cursor {
                let row = db.strings(cursor).await;
                let (value, id) = row[0].rsplit_once(' ').expect("value id");
                params.extend([value.to_owned(), id.to_owned()]);
            }
            let params: Vec<&str> = params.iter().map(String::as_str).collect();
            let plan = db.plan(&case.sql, &params).await;

            println!("\n-- {} [{}]", case.what, db.name());
            match db.dialect {
                Dialect::Sqlite => {
                    println!("-- {}", super::support::sqlite_placeholders(&case.sql))
                }
                Dialect::Postgres => println!("-- {}", case.sql),
            }
            println!("-- parameters: {params:?}");
            for line in &plan {
                println!("{line}");
            }
            let named = case
                .index
                .is_none_or(|index| plan.iter().any(|l| l.contains(index)));
            if !uses_an_index(db.dialect, &plan) || !named {
                failures.push(format!(
                    "{}: {}:\n{}",
                    db.name(),
                    case.what,
                    plan.join("\n")
                ));
            }
        }

        assert!(
            failures.is_empty(),
            "plans without an index on clients (or without the index named):\n{}",
            failures.join("\n\n")
        );
    }
}
