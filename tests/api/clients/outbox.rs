//! The Loops outbox, read straight from the app's database: every successful write leaves
//! exactly one new `loops_outbox` row for its client (create, update or delete, with the
//! documented payload and a fresh idempotency key), a refused one none. A purge erases the
//! personal data everywhere it was kept and leaves a `client.erased` history entry.

use super::support::*;
use crm_tests::TestApp;
use crm_tests::backends::{BackendSet, backend_sets};
use reqwest::Method;
use serde_json::{Value, json};

/// The outbox as last seen, to find the rows each write adds.
struct Outbox<'a> {
    set: &'a BackendSet,
    app: &'a TestApp,
    seen: Vec<OutboxRow>,
}

impl<'a> Outbox<'a> {
    async fn new(set: &'a BackendSet, app: &'a TestApp) -> Outbox<'a> {
        let seen = outbox(set, app).await;
        Outbox { set, app, seen }
    }

    /// The rows added since the last look.
    async fn added(&mut self) -> Vec<OutboxRow> {
        let now = outbox(self.set, self.app).await;
        let added = new_rows(&self.seen, &now);
        for row in &added {
            assert_eq!(row.status, "pending", "a new row is pending: {row:?}");
            assert!(
                !row.idempotency_key.is_empty(),
                "an idempotency key: {row:?}"
            );
            assert!(
                self.seen
                    .iter()
                    .all(|old| old.idempotency_key != row.idempotency_key),
                "a fresh idempotency key: {row:?}"
            );
        }
        self.seen = now;
        added
    }

    /// Asserts exactly one new row, for `client_id` and `operation`; returns it.
    async fn one(&mut self, client_id: &str, operation: &str, context: &str) -> OutboxRow {
        let added = self.added().await;
        assert_eq!(
            added.len(),
            1,
            "{context}: exactly one new outbox row: {added:#?}"
        );
        let row = added[0].clone();
        assert_eq!(row.client_id, client_id, "{context}: {row:?}");
        assert_eq!(row.operation, operation, "{context}: {row:?}");
        row
    }

    /// Asserts one new upsert row carrying `{"client": client}`.
    async fn upsert(&mut self, client: &Value, operation: &str, context: &str) {
        let row = self.one(&id_of(client), operation, context).await;
        assert_eq!(
            row.payload,
            json!({ "client": client }),
            "{context}: the payload"
        );
    }

    /// Asserts one new delete row carrying `{"client_id": id}`.
    async fn deletion(&mut self, id: &str, context: &str) {
        let row = self.one(id, "delete", context).await;
        assert_eq!(
            row.payload,
            json!({ "client_id": id }),
            "{context}: the payload"
        );
    }

    async fn none(&mut self, context: &str) {
        let added = self.added().await;
        assert!(added.is_empty(), "{context}: no outbox row: {added:#?}");
    }
}

#[tokio::test]
async fn every_write_leaves_one_outbox_row_and_a_refused_write_none() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let mut rows = Outbox::new(&set, app).await;
        assert!(
            rows.seen.is_empty(),
            "{name}: a new book has an empty outbox"
        );

        // Create (with a key), and its replay.
        let body = new_client("outboxed");
        let headers = [("idempotency-key", "outbox-1")];
        let reply = call(
            app,
            Method::POST,
            "/api/clients",
            admin,
            &headers,
            Body::Json(&body),
        )
        .await;
        let created = assert_client(&reply, 201, 1, name);
        let id = id_of(&created);
        rows.upsert(&created, "create", &format!("{name}: create"))
            .await;
        let reply = call(
            app,
            Method::POST,
            "/api/clients",
            admin,
            &headers,
            Body::Json(&body),
        )
        .await;
        assert_eq!(
            reply.header("idempotency-replayed"),
            "true",
            "{name}: {reply}"
        );
        rows.none(&format!("{name}: a replay")).await;

        // Replace and patch.
        let replacement = json!({
            "email": created["email"], "first_name": "Augusta", "status": "active",
        });
        let reply = put_client(app, admin, &id, Some("\"1\""), &replacement).await;
        let replaced = assert_client(&reply, 200, 2, name);
        rows.upsert(&replaced, "update", &format!("{name}: replace"))
            .await;
        let patch = json!({ "tags": ["vip"], "properties": { "plan": "pro" } });
        let reply = patch_client(app, admin, &id, Some("\"2\""), &patch).await;
        let patched = assert_client(&reply, 200, 3, name);
        rows.upsert(&patched, "update", &format!("{name}: patch"))
            .await;

        // Refused writes.
        let reply = patch_client(app, admin, &id, Some("\"1\""), &patch).await;
        assert_precondition_failed(&reply, 3, name);
        rows.none(&format!("{name}: a 412")).await;
        let reply = patch_client(app, admin, &id, None, &patch).await;
        assert_problem(&reply, 428, name);
        rows.none(&format!("{name}: a 428")).await;
        let reply = create_client(app, admin, &json!({ "email": created["email"] })).await;
        assert_field_error(&reply, 409, "email", name);
        rows.none(&format!("{name}: a 409")).await;
        let reply = create_client(app, admin, &json!({ "email": "nope" })).await;
        assert_field_error(&reply, 422, "email", name);
        rows.none(&format!("{name}: a 422 create")).await;
        let reply = patch_client(app, admin, &id, Some("\"3\""), &json!({ "status": "vip" })).await;
        assert_field_error(&reply, 422, "status", name);
        rows.none(&format!("{name}: a 422 patch")).await;
        let reply = call(
            app,
            Method::POST,
            "/api/clients",
            admin,
            &headers,
            Body::Json(&new_client("x")),
        )
        .await;
        assert_problem(&reply, 422, name);
        rows.none(&format!("{name}: a 422 for the key")).await;

        // Import: one row created, one updated, one rejected.
        let live = create_ok(app, admin, &new_client("live")).await;
        rows.upsert(&live, "create", &format!("{name}: create another"))
            .await;
        let fresh = new_client("imported");
        let file = ndjson(&[
            fresh.clone(),
            json!({ "email": live["email"], "company": "Imported Ltd" }),
            json!({ "email": "not-an-email" }),
        ]);
        let reply = import(app, admin, NDJSON, &file).await;
        let report = assert_report(&reply, 1, 1, 1, &format!("{name}: import"));
        let imported_id = report[0]["id"].as_str().unwrap_or_default().to_owned();
        let added = rows.added().await;
        assert_eq!(
            added.len(),
            2,
            "{name}: one row per written import row: {added:#?}"
        );
        let of = |client_id: &str| added.iter().find(|r| r.client_id == client_id).cloned();
        let created_row = of(&imported_id).unwrap_or_else(|| panic!("{name}: {added:#?}"));
        assert_eq!(created_row.operation, "create", "{name}: {created_row:?}");
        assert_eq!(
            created_row.payload["client"]["email"], fresh["email"],
            "{name}"
        );
        assert_eq!(
            created_row.payload["client"]["id"],
            imported_id.as_str(),
            "{name}"
        );
        let updated_row = of(&id_of(&live)).unwrap_or_else(|| panic!("{name}: {added:#?}"));
        assert_eq!(updated_row.operation, "update", "{name}: {updated_row:?}");
        assert_eq!(
            updated_row.payload["client"]["company"], "Imported Ltd",
            "{name}"
        );
        assert_eq!(updated_row.payload["client"]["version"], 2, "{name}");

        // Delete, a refused second delete, and purges (of the deleted client and of a
        // live one).
        let reply = delete_client(app, admin, &id, Some("\"3\"")).await;
        assert_eq!(reply.status, 204, "{name}: {reply}");
        rows.deletion(&id, &format!("{name}: delete")).await;
        let reply = delete_client(app, admin, &id, Some("\"3\"")).await;
        assert!(
            matches!(reply.status, 404 | 412),
            "{name}: delete again: {reply}"
        );
        rows.none(&format!("{name}: a refused delete")).await;
        let reply = purge_client(app, admin, &id, Some("*")).await;
        assert_eq!(reply.status, 204, "{name}: purge a deleted client: {reply}");
        rows.deletion(&id, &format!("{name}: purge a deleted client"))
            .await;
        let reply = purge_client(app, admin, &id_of(&live), Some("\"2\"")).await;
        assert_eq!(reply.status, 204, "{name}: purge a live client: {reply}");
        rows.deletion(&id_of(&live), &format!("{name}: purge a live client"))
            .await;
    }
}

/// Every personal value of a client, as a search for it in stored text would spell it.
fn personal_values(client: &Value) -> Vec<String> {
    let mut values: Vec<String> = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "company",
        "notes",
        "source",
    ]
    .iter()
    .filter_map(|field| client[*field].as_str().map(str::to_owned))
    .collect();
    let local_part = client["email"].as_str().unwrap_or_default();
    values.push(local_part.split('@').next().unwrap_or_default().to_owned());
    values
}

/// Asserts that the client `id` is erased in the database and over HTTP; `personal` are
/// the values it held.
async fn assert_erased(set: &BackendSet, book: &Book, id: &str, personal: &[String], name: &str) {
    let (app, admin) = (&book.app, book.admin());
    let context = format!("{name}: the erased client {id}");
    let sql = format!(
        "SELECT email, first_name, last_name, phone, company, notes, source, \
         CAST(tags AS TEXT), CAST(properties AS TEXT), erased_at, deleted_at, status, \
         created_by FROM clients WHERE id = {}",
        sql_text(id)
    );
    let rows = db_rows(set, app, &sql).await;
    assert_eq!(rows.len(), 1, "{context}: its row stays");
    let row = &rows[0];
    for (i, column) in [
        "email",
        "first_name",
        "last_name",
        "phone",
        "company",
        "notes",
        "source",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(row[i], None, "{context}: {column} is NULL: {row:?}");
    }
    let json_of = |i: usize| -> Value {
        serde_json::from_str(row[i].as_deref().unwrap_or("null")).unwrap_or(Value::Null)
    };
    assert_eq!(json_of(7), json!([]), "{context}: no tags: {row:?}");
    assert_eq!(json_of(8), json!({}), "{context}: no properties: {row:?}");
    assert!(row[9].is_some(), "{context}: erased_at is set: {row:?}");
    assert!(row[10].is_some(), "{context}: deleted_at is set: {row:?}");
    assert!(
        row[11].is_some() && row[12].is_some(),
        "{context}: status and created_by stay"
    );
    let id_literal = sql_text(id);
    for table in ["client_tags", "client_search_terms"] {
        let count = count_rows(set, app, table, &format!("client_id = {id_literal}")).await;
        assert_eq!(count, 0, "{context}: no {table} rows");
    }
    let kept = count_rows(
        set,
        app,
        "idempotency_keys",
        &format!("client_id = {id_literal}"),
    )
    .await;
    assert_eq!(kept, 0, "{context}: no kept idempotency answer");
    for row in outbox(set, app).await.iter().filter(|r| r.client_id == id) {
        for value in personal {
            assert!(
                !row.payload_text.contains(value.as_str()),
                "{context}: no outbox payload holds {value:?}: {row:?}"
            );
        }
    }

    // Over HTTP: 404 to everything but its history, which ends with the erasure.
    let reply = get_client(app, admin, id).await;
    assert_problem(&reply, 404, &format!("{context}: GET"));
    let reply = patch_client(app, admin, id, Some("*"), &json!({ "notes": "back?" })).await;
    assert_problem(&reply, 404, &format!("{context}: PATCH"));
    let path = format!("{}/history", client_path(id));
    let reply = call(app, Method::GET, &path, admin, &[], Body::Empty).await;
    assert_json(&reply, 200, &format!("{context}: history"));
    for value in personal {
        assert!(
            !reply.text.contains(value.as_str()),
            "{context}: history holds {value:?}"
        );
    }
    let entries = history_of(app, admin, id).await;
    let erased: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "client.erased")
        .collect();
    assert_eq!(
        erased.len(),
        1,
        "{context}: one client.erased entry: {entries:#?}"
    );
    assert_eq!(entries.last(), Some(erased[0]), "{context}: the last entry");
    assert_eq!(
        erased[0]["actor"],
        json!({ "kind": "user", "id": book.admin_id }),
        "{context}: the admin erased it"
    );
}

#[tokio::test]
async fn a_purge_erases_the_personal_data_and_keeps_a_client_erased_entry() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let t = tag();

        // A client with every personal field, created with a key, patched, then deleted
        // and purged.
        let body = json!({
            "email": format!("erasable-{t}@example.com"),
            "first_name": format!("Firstname{t}"),
            "last_name": format!("Lastname{t}"),
            "phone": "+44 20 7946 0958",
            "company": format!("Company{t}"),
            "notes": format!("Notes{t}"),
            "source": format!("Source{t}"),
            "tags": ["vip"],
            "properties": { "secret": format!("Property{t}") },
        });
        let key = format!("erase-{t}");
        let headers = [("idempotency-key", key.as_str())];
        let reply = call(
            app,
            Method::POST,
            "/api/clients",
            admin,
            &headers,
            Body::Json(&body),
        )
        .await;
        let deleted_one = assert_client(&reply, 201, 1, name);
        let id = id_of(&deleted_one);
        let reply = patch_client(
            app,
            admin,
            &id,
            Some("\"1\""),
            &json!({ "status": "churned" }),
        )
        .await;
        assert_client(&reply, 200, 2, name);
        let mut personal = personal_values(&deleted_one);
        personal.push(format!("Property{t}"));
        personal.push("442079460958".into());
        let reply = delete_client(app, admin, &id, Some("\"2\"")).await;
        assert_eq!(reply.status, 204, "{name}: {reply}");
        let reply = purge_client(app, admin, &id, Some("*")).await;
        assert_eq!(reply.status, 204, "{name}: purge a deleted client: {reply}");
        assert_erased(&set, &book, &id, &personal, name).await;
        // The key's kept answer went with it: the same request is new again.
        let reply = call(
            app,
            Method::POST,
            "/api/clients",
            admin,
            &headers,
            Body::Json(&body),
        )
        .await;
        let again = assert_client(&reply, 201, 1, &format!("{name}: the key after erasure"));
        assert_ne!(id_of(&again), id, "{name}: a new client, no replay");
        assert_ne!(
            reply.header("idempotency-replayed"),
            "true",
            "{name}: {reply}"
        );

        // A live client purged at once.
        let live = create_ok(app, admin, &new_client("purged-live")).await;
        let reply = purge_client(app, admin, &id_of(&live), Some("\"1\"")).await;
        assert_eq!(reply.status, 204, "{name}: purge a live client: {reply}");
        assert_erased(&set, &book, &id_of(&live), &personal_values(&live), name).await;
        let listed: Vec<String> = list_all(app, admin, "", 100)
            .await
            .iter()
            .map(id_of)
            .collect();
        assert_eq!(
            listed,
            [id_of(&again)],
            "{name}: erased clients are not listed"
        );
        let reply = export(app, admin).await;
        assert_eq!(reply.status, 200, "{name}: {reply}");
        for value in personal_values(&live).iter().chain(&personal) {
            assert!(
                !reply.text.contains(value.as_str()) || again.to_string().contains(value.as_str()),
                "{name}: the export holds no erased value {value:?}"
            );
        }
    }
}
