//! Import (admin): NDJSON and CSV files, each row validated alone and reported by its line
//! (created, updated — a row whose e-mail is live merges into that client — or rejected
//! with its field errors), blank lines skipped. Export (admin): every live client, one
//! NDJSON line each, in `created_at, id` order, across more than one 500-row read. An
//! import past its time budget stops between batches and reports the rows it did not reach.

use super::support::*;
use crm_tests::backends::backend_sets;
use serde_json::{Value, json};

/// Asserts a report row: its line and status, and for rejected rows that the errors name
/// each of `fields` (any field when empty); returns the row's client id ("" if rejected).
fn assert_row(row: &Value, line: u64, status: &str, fields: &[&str], context: &str) -> String {
    let context = format!("{context}: line {line}");
    assert_eq!(row["line"], line, "{context}: {row}");
    assert_eq!(row["status"], status, "{context}: {row}");
    if status == "rejected" {
        let errors = row["errors"].as_array().cloned().unwrap_or_default();
        assert!(!errors.is_empty(), "{context}: errors: {row}");
        let named: Vec<String> = errors
            .iter()
            .filter_map(|e| e["field"].as_str().map(str::to_owned))
            .collect();
        assert!(
            errors
                .iter()
                .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())),
            "{context}: every error has a message: {row}"
        );
        for field in fields {
            assert!(
                named.iter().any(|n| names_field(n, field)),
                "{context}: the errors name {field}: {row}"
            );
        }
        String::new()
    } else {
        let id = id_of(row);
        assert!(
            uuid::Uuid::parse_str(&id).is_ok(),
            "{context}: the client's id: {row}"
        );
        id
    }
}

#[tokio::test]
async fn an_ndjson_import_reports_each_line_and_merges_rows_of_live_emails() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let t = tag();
        let existing = create_ok(
            app,
            admin,
            &json!({
                "email": format!("grace-{t}@example.com"),
                "first_name": "Grace", "last_name": "Hopper", "company": "US Navy",
            }),
        )
        .await;
        let new_email = |label: &str| format!("{label}-{t}@example.com");
        let lines = [
            json!({ "email": new_email("alan"), "first_name": "Alan", "tags": ["B2B", "eu"] }).to_string(),
            String::new(),
            json!({ "email": "not-an-email", "first_name": "Nobody" }).to_string(),
            json!({ "email": format!("GRACE-{t}@example.com"), "company": "Remington Rand" }).to_string(),
            "{\"email\": ".to_owned(),
            json!({ "email": new_email("nick"), "nickname": "x" }).to_string(),
            json!({ "email": new_email("linus"), "status": "active", "properties": { "seats": 3 } }).to_string(),
            json!({ "email": new_email("readonly"), "id": "0192f7c4-0000-7000-8000-000000000000" }).to_string(),
            json!({ "email": new_email("two"), "status": "vip", "subscribed": "yes" }).to_string(),
            "[1, 2]".to_owned(),
        ];
        let file = format!("{}\n", lines.join("\n"));
        let reply = import(app, admin, NDJSON, &file).await;
        let context = format!("{name}: NDJSON import");
        let rows = assert_report(&reply, 2, 1, 6, &context);
        let lines_reported: Vec<u64> = rows.iter().filter_map(|r| r["line"].as_u64()).collect();
        assert_eq!(
            lines_reported,
            [1, 3, 4, 5, 6, 7, 8, 9, 10],
            "{context}: blank line 2 skipped"
        );
        let alan = assert_row(&rows[0], 1, "created", &[], &context);
        assert_row(&rows[1], 3, "rejected", &["email"], &context);
        let grace = assert_row(&rows[2], 4, "updated", &[], &context);
        assert_row(&rows[3], 5, "rejected", &[], &context);
        assert_row(&rows[4], 6, "rejected", &["nickname"], &context);
        let linus = assert_row(&rows[5], 7, "created", &[], &context);
        assert_row(&rows[6], 8, "rejected", &["id"], &context);
        assert_row(&rows[7], 9, "rejected", &["status", "subscribed"], &context);
        assert_row(&rows[8], 10, "rejected", &[], &context);
        assert_eq!(
            grace,
            id_of(&existing),
            "{context}: the live e-mail's client was updated"
        );

        let reply = get_client(app, admin, &alan).await;
        let client = assert_client(&reply, 200, 1, &context);
        assert_eq!(client["email"], new_email("alan"), "{context}: {client}");
        assert_eq!(client["first_name"], "Alan", "{context}: {client}");
        assert_eq!(client["tags"], json!(["b2b", "eu"]), "{context}: {client}");
        assert_eq!(client["status"], "lead", "{context}: {client}");
        assert_eq!(
            client["created_by"],
            book.admin_id.as_str(),
            "{context}: {client}"
        );
        let reply = get_client(app, admin, &linus).await;
        let client = assert_client(&reply, 200, 1, &context);
        assert_eq!(
            client["properties"],
            json!({ "seats": 3 }),
            "{context}: {client}"
        );
        assert_eq!(client["status"], "active", "{context}: {client}");
        let reply = get_client(app, admin, &grace).await;
        let merged = assert_client(&reply, 200, 2, &format!("{context}: the merged row"));
        assert_eq!(
            merged["company"], "Remington Rand",
            "{context}: the row's field: {merged}"
        );
        for field in [
            "email",
            "first_name",
            "last_name",
            "created_at",
            "created_by",
        ] {
            assert_eq!(
                merged[field], existing[field],
                "{context}: {field} kept: {merged}"
            );
        }

        let listed: Vec<String> = list_all(app, admin, "", 100)
            .await
            .iter()
            .map(id_of)
            .collect();
        let mut expected = vec![id_of(&existing), alan.clone(), linus.clone()];
        expected.sort();
        let mut listed_sorted = listed.clone();
        listed_sorted.sort();
        assert_eq!(
            listed_sorted, expected,
            "{context}: rejected rows wrote nothing"
        );

        // The history records the import's writes.
        for (id, actions) in [
            (&alan, ["client.imported", "client.created"]),
            (&grace, ["client.imported", "client.updated"]),
        ] {
            let entries = history_of(app, admin, id).await;
            let last = entries.last().cloned().unwrap_or_default();
            assert!(
                actions.iter().any(|a| last["action"] == *a),
                "{context}: the import is in the history ({actions:?}): {entries:#?}"
            );
        }

        // Not NDJSON or CSV: 415.
        let reply = import(
            app,
            admin,
            "application/json",
            "{\"email\": \"a@example.com\"}",
        )
        .await;
        assert_problem(
            &reply,
            415,
            &format!("{name}: an import sent as application/json"),
        );
    }
}

#[tokio::test]
async fn a_csv_import_reports_each_line_counting_the_header() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let t = tag();
        let existing_email = format!("ada-{t}@example.com");
        let existing = create_ok(
            app,
            admin,
            &json!({ "email": existing_email, "first_name": "Ada", "last_name": "Lovelace", "notes": "kept" }),
        )
        .await;
        let email = |label: &str| format!("{label}-{t}@example.com");
        let file = [
            "email,first_name,last_name,company,tags,subscribed,properties,status".to_owned(),
            format!(
                "{},Grace,Hopper,\"Remington Rand, Inc.\",navy;COBOL,false,\"{{\"\"rank\"\": \"\"admiral\"\", \"\"years\"\": 43}}\",active",
                email("grace")
            ),
            "not-an-email,Nobody,Nowhere,Acme,vip,true,{},lead".to_owned(),
            format!("{},Ada,King,Engines Ltd,vip;b2b,true,{{}},inactive", existing_email.to_uppercase()),
            format!("{},Alan,Turing,Bletchley,vip,yes,{{}},lead", email("alan")),
            format!("{},Alan,Turing,Bletchley,vip,true,not json,lead", email("turing")),
            format!("{},Barbara,Liskov,MIT,bad tag!,true,{{}},lead", email("barbara")),
            String::new(),
            format!("{},Ken,Thompson,Bell Labs,unix,true,{{}},vip", email("ken")),
        ]
        .join("\n")
            + "\n";
        let reply = import(app, admin, "text/csv", &file).await;
        let context = format!("{name}: CSV import");
        let rows = assert_report(&reply, 1, 1, 5, &context);
        let grace = assert_row(&rows[0], 2, "created", &[], &context);
        assert_row(&rows[1], 3, "rejected", &["email"], &context);
        let updated = assert_row(&rows[2], 4, "updated", &[], &context);
        assert_row(&rows[3], 5, "rejected", &["subscribed"], &context);
        assert_row(&rows[4], 6, "rejected", &["properties"], &context);
        assert_row(&rows[5], 7, "rejected", &["tags"], &context);
        assert_row(&rows[6], 9, "rejected", &["status"], &context);
        assert_eq!(updated, id_of(&existing), "{context}: {reply}");

        let reply = get_client(app, admin, &grace).await;
        let client = assert_client(&reply, 200, 1, &context);
        let expected = json!({
            "email": email("grace"), "first_name": "Grace", "last_name": "Hopper",
            "company": "Remington Rand, Inc.", "tags": ["cobol", "navy"], "subscribed": false,
            "properties": { "rank": "admiral", "years": 43 }, "status": "active",
        });
        for (field, value) in expected.as_object().cloned().unwrap_or_default() {
            assert_eq!(client[&field], value, "{context}: {field}: {client}");
        }
        let reply = get_client(app, admin, &updated).await;
        let client = assert_client(&reply, 200, 2, &context);
        assert_eq!(client["last_name"], "King", "{context}: {client}");
        assert_eq!(client["company"], "Engines Ltd", "{context}: {client}");
        assert_eq!(client["tags"], json!(["b2b", "vip"]), "{context}: {client}");
        assert_eq!(client["status"], "inactive", "{context}: {client}");
        assert_eq!(
            client["notes"], "kept",
            "{context}: a column the file lacks is kept"
        );

        // A header naming a subset of the fields, CRLF line ends; an empty cell is null.
        let file = format!(
            "email,last_name\r\n{},Byron\r\n{},\r\n{},Hamilton\r\n",
            existing_email,
            email("margaret"),
            email("hamilton"),
        );
        let reply = import(app, admin, "text/csv", &file).await;
        let context = format!("{name}: CSV import of two columns");
        let rows = assert_report(&reply, 2, 1, 0, &context);
        assert_eq!(
            assert_row(&rows[0], 2, "updated", &[], &context),
            id_of(&existing)
        );
        let margaret = assert_row(&rows[1], 3, "created", &[], &context);
        assert_row(&rows[2], 4, "created", &[], &context);
        let reply = get_client(app, admin, &id_of(&existing)).await;
        let client = assert_client(&reply, 200, 3, &context);
        assert_eq!(client["last_name"], "Byron", "{context}: {client}");
        assert_eq!(client["first_name"], "Ada", "{context}: kept: {client}");
        assert_eq!(
            client["company"], "Engines Ltd",
            "{context}: kept: {client}"
        );
        let reply = get_client(app, admin, &margaret).await;
        let client = assert_client(&reply, 200, 1, &context);
        assert_eq!(
            client["last_name"],
            Value::Null,
            "{context}: an empty cell: {client}"
        );
        assert_eq!(client["status"], "lead", "{context}: defaults: {client}");
        assert_eq!(client["subscribed"], true, "{context}: defaults: {client}");
        assert_eq!(client["tags"], json!([]), "{context}: defaults: {client}");
    }
}

/// The report's counts and each row's status, by line.
fn statuses(reply: &Reply, context: &str) -> (Value, Vec<(u64, String)>) {
    assert_json(reply, 200, context);
    let counts = json!({
        "created": reply.body["created"], "updated": reply.body["updated"],
        "unchanged": reply.body["unchanged"], "rejected": reply.body["rejected"],
        "not_processed": reply.body["not_processed"],
    });
    let rows = reply.body["rows"].as_array().cloned().unwrap_or_default();
    let rows = rows
        .iter()
        .map(|row| {
            let line = row["line"].as_u64().unwrap_or(0);
            (line, row["status"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    (counts, rows)
}

#[tokio::test]
async fn an_import_past_its_time_budget_stops_between_batches_and_reports_the_rest() {
    for set in backend_sets().await {
        let name = set.name();
        // A budget of 0 ms is spent as soon as the first batch is written.
        let book = Book::open_with(&set, &[("import_time_budget_ms", "0")]).await;
        let (app, admin) = (&book.app, book.admin());
        let t = tag();
        let email = |i: usize| format!("budget-{i:03}-{t}@example.com");
        let slug = format!("b{t}");
        // 250 rows (3 batches): line 50 (first batch) and line 180 (unreached) invalid.
        let row = |i: usize| match i {
            50 | 180 => json!({ "email": format!("not-an-email-{i}") }),
            _ => json!({ "email": email(i), "first_name": format!("Row{i}"), "tags": [&slug] }),
        };
        let outbox_before = outbox(&set, app).await.len();
        let file: Vec<Value> = (1..=250).map(row).collect();
        let reply = import(app, admin, NDJSON, &ndjson(&file)).await;
        let context = format!("{name}: import with a spent budget");
        let (counts, rows) = statuses(&reply, &context);
        assert_eq!(
            counts,
            json!({"created": 99, "updated": 0, "unchanged": 0, "rejected": 2, "not_processed": 149}),
            "{context}: {reply}"
        );
        let expected: Vec<(u64, String)> = (1..=250u64)
            .map(|line| {
                let status = match line {
                    50 | 180 => "rejected",
                    1..=100 => "created",
                    _ => "not_processed",
                };
                (line, status.to_owned())
            })
            .collect();
        assert_eq!(rows, expected, "{context}: every line, in order");
        let written = outbox(&set, app).await.len() - outbox_before;
        assert_eq!(written, 99, "{context}: only the first batch was written");

        // Sending the unreached rows again makes progress: 100 more, then the last 49.
        let rest: Vec<Value> = (101..=250).filter(|i| *i != 180).map(row).collect();
        let reply = import(app, admin, NDJSON, &ndjson(&rest)).await;
        let (counts, _) = statuses(&reply, &format!("{name}: second import"));
        assert_eq!(
            counts,
            json!({"created": 100, "updated": 0, "unchanged": 0, "rejected": 0, "not_processed": 49}),
            "{name}: second import: {reply}"
        );
        let reply = import(app, admin, NDJSON, &ndjson(&rest[100..])).await;
        let (counts, _) = statuses(&reply, &format!("{name}: third import"));
        assert_eq!(
            counts,
            json!({"created": 49, "updated": 0, "unchanged": 0, "rejected": 0, "not_processed": 0}),
            "{name}: third import: {reply}"
        );
        let book_rows = list_all(app, admin, &query(&[("tag", &slug)]), 100).await;
        assert_eq!(
            book_rows.len(),
            248,
            "{name}: every valid row is in the book once"
        );
    }
}

#[tokio::test]
async fn the_export_streams_every_live_client_as_ndjson() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let t = tag();

        // More than one 500-row read: 600 imported, 3 created, 2 deleted.
        let rows: Vec<Value> = (0..600)
            .map(|i| json!({ "email": format!("export-{i:03}-{t}@example.com"), "first_name": format!("Row{i}") }))
            .collect();
        let reply = import(app, admin, NDJSON, &ndjson(&rows)).await;
        let report = assert_report(&reply, 600, 0, 0, &format!("{name}: import 600"));
        let mut created = vec![];
        for label in ["late-1", "late-2", "late-3"] {
            created.push(create_ok(app, admin, &new_client(label)).await);
        }
        let imported_gone = id_of(&report[250]);
        let reply = delete_client(app, admin, &imported_gone, Some("*")).await;
        assert_eq!(reply.status, 204, "{name}: {reply}");
        let created_gone = id_of(&created[1]);
        let reply = delete_client(app, admin, &created_gone, Some("*")).await;
        assert_eq!(reply.status, 204, "{name}: {reply}");

        let reply = export(app, admin).await;
        let context = format!("{name}: export");
        assert_eq!(reply.status, 200, "{context}: {}", reply.status);
        assert!(
            reply.header("content-type").starts_with(NDJSON),
            "{context}: content type {:?}",
            reply.header("content-type")
        );
        let lines: Vec<&str> = reply.text.split('\n').collect();
        let (last, lines) = lines.split_last().unwrap_or((&"", &[]));
        assert!(last.is_empty(), "{context}: every line ends with a newline");
        let exported: Vec<Value> = lines
            .iter()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{context}: a JSON line ({e}): {line}"))
            })
            .collect();
        for client in &exported {
            assert_client_shape(client, &context);
        }
        assert_eq!(exported.len(), 601, "{context}: every live client, once");
        let ids: Vec<String> = exported.iter().map(id_of).collect();
        assert!(
            !ids.contains(&imported_gone) && !ids.contains(&created_gone),
            "{context}: deleted ones absent"
        );
        let order: Vec<(i64, String)> = exported
            .iter()
            .map(|c| {
                (
                    millis(c["created_at"].as_str().unwrap_or_default()),
                    id_of(c),
                )
            })
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "{context}: created_at, id order"
        );
        let listed = list_all(app, admin, "", 100).await;
        assert_eq!(
            exported, listed,
            "{context}: the same clients as the list, in its order"
        );
    }
}
