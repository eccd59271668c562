//! A client's life over HTTP: create, read, replace, merge-patch and delete with their
//! headers and bodies; conditional requests (304, 412, 428, `*`); malformed and unknown
//! ids; idempotent creation per caller; one live e-mail per book; twenty racing writers;
//! roles, anonymous callers and an editor API key.

use super::support::*;
use crm_tests::backends::backend_sets;
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn a_client_is_created_read_replaced_patched_and_deleted() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let t = tag();

        // Create: strings trimmed, e-mail lowercased, phone normalised to E.164, tags a
        // sorted set of lowercased slugs, an empty string stored as null.
        let input = json!({
            "email": format!("  Ada.{t}@Example.COM "),
            "first_name": " Ada ",
            "last_name": "Lovelace",
            "phone": "+44 (20) 7123-4567",
            "company": "Analytical Engines",
            "status": "active",
            "tags": ["VIP", "beta-2", "vip"],
            "notes": "Met at the Royal Society.",
            "source": "",
            "subscribed": false,
            "properties": { "plan": "pro", "seats": 5, "trial": false },
        });
        let email = format!("ada.{t}@example.com");
        let reply = create_client(app, admin, &input).await;
        let context = format!("{name}: create");
        let created = assert_client(&reply, 201, 1, &context);
        let id = id_of(&created);
        assert_eq!(
            reply.header("location"),
            client_path(&id),
            "{context}: {reply}"
        );
        let expected = json!({
            "id": id, "email": email, "first_name": "Ada", "last_name": "Lovelace",
            "phone": "+442071234567", "company": "Analytical Engines", "status": "active",
            "tags": ["beta-2", "vip"], "notes": "Met at the Royal Society.", "source": null,
            "subscribed": false, "properties": { "plan": "pro", "seats": 5, "trial": false },
            "created_at": created["created_at"], "updated_at": created["updated_at"],
            "created_by": book.admin_id, "version": 1,
        });
        assert_eq!(created, expected, "{context}: {reply}");
        assert_eq!(created["created_at"], created["updated_at"], "{context}");

        // Defaults: status lead, subscribed, no tags or properties, absent fields null.
        let minimal_email = format!("minimal-{t}@example.com");
        let minimal = create_ok(app, admin, &json!({ "email": minimal_email })).await;
        for (field, value) in [
            ("status", json!("lead")),
            ("subscribed", json!(true)),
            ("tags", json!([])),
            ("properties", json!({})),
            ("first_name", Value::Null),
            ("last_name", Value::Null),
            ("phone", Value::Null),
            ("company", Value::Null),
            ("notes", Value::Null),
            ("source", Value::Null),
        ] {
            assert_eq!(minimal[field], value, "{name}: default {field}: {minimal}");
        }

        // Read, and the conditional read.
        let reply = get_client(app, admin, &id).await;
        let read = assert_client(&reply, 200, 1, &format!("{name}: read"));
        assert_eq!(read, created, "{name}: read back as created");
        for tags in ["\"1\"", "*", "\"7\", \"1\""] {
            let headers = [("if-none-match", tags)];
            let path = client_path(&id);
            let reply = call(app, Method::GET, &path, admin, &headers, Body::Empty).await;
            let context = format!("{name}: If-None-Match {tags}");
            assert_eq!(reply.status, 304, "{context}: {reply}");
            assert_eq!(reply.header("etag"), etag(1), "{context}: {reply}");
            assert!(reply.text.is_empty(), "{context}: no body: {reply}");
        }
        let headers = [("if-none-match", "\"2\"")];
        let reply = call(
            app,
            Method::GET,
            &client_path(&id),
            admin,
            &headers,
            Body::Empty,
        )
        .await;
        assert_client(
            &reply,
            200,
            1,
            &format!("{name}: If-None-Match of another version"),
        );

        // Replace: If-Match required; absent optional fields become null or defaults;
        // the client's own e-mail (any case) is no conflict.
        let replacement = json!({
            "email": format!("ADA.{t}@example.com"),
            "first_name": "Augusta Ada",
            "last_name": "King",
            "status": "inactive",
        });
        let reply = put_client(app, admin, &id, None, &replacement).await;
        assert_problem(&reply, 428, &format!("{name}: PUT without If-Match"));
        let reply = put_client(app, admin, &id, Some("\"1\""), &replacement).await;
        let context = format!("{name}: PUT");
        let replaced = assert_client(&reply, 200, 2, &context);
        let expected = json!({
            "id": id, "email": email, "first_name": "Augusta Ada", "last_name": "King",
            "phone": null, "company": null, "status": "inactive", "tags": [], "notes": null,
            "source": null, "subscribed": true, "properties": {},
            "created_at": created["created_at"], "updated_at": replaced["updated_at"],
            "created_by": book.admin_id, "version": 2,
        });
        assert_eq!(replaced, expected, "{context}: {reply}");
        let reply = put_client(app, admin, &id, Some("\"1\""), &replacement).await;
        assert_precondition_failed(&reply, 2, &format!("{name}: PUT with a stale tag"));

        // Merge patches: a field set, then nulled; properties merged key by key, a null
        // removing its key.
        let first_patch = json!({
            "company": "Analytical Engines",
            "tags": ["b2b"],
            "properties": { "plan": "pro", "seats": 5, "trial": true },
        });
        let reply = patch_client(app, admin, &id, Some("\"2\""), &first_patch).await;
        assert_client(&reply, 200, 3, &format!("{name}: first PATCH"));
        let second_patch = json!({
            "company": null,
            "notes": "Prefers letters.",
            "properties": { "seats": 6, "trial": null, "region": "eu" },
        });
        let reply = patch_client(app, admin, &id, None, &second_patch).await;
        assert_problem(&reply, 428, &format!("{name}: PATCH without If-Match"));
        let reply = patch_client(app, admin, &id, Some("\"2\""), &second_patch).await;
        assert_precondition_failed(&reply, 3, &format!("{name}: PATCH with a stale tag"));
        let reply = patch_client(app, admin, &id, Some("\"3\""), &second_patch).await;
        let context = format!("{name}: second PATCH");
        let patched = assert_client(&reply, 200, 4, &context);
        let expected = json!({
            "id": id, "email": email, "first_name": "Augusta Ada", "last_name": "King",
            "phone": null, "company": null, "status": "inactive", "tags": ["b2b"],
            "notes": "Prefers letters.", "source": null, "subscribed": true,
            "properties": { "plan": "pro", "seats": 6, "region": "eu" },
            "created_at": created["created_at"], "updated_at": patched["updated_at"],
            "created_by": book.admin_id, "version": 4,
        });
        assert_eq!(patched, expected, "{context}: {reply}");
        let reply = get_client(app, admin, &id).await;
        let read = assert_client(&reply, 200, 4, &format!("{name}: read after PATCH"));
        assert_eq!(read, patched, "{name}: the patch was stored");

        // `If-Match: *` matches any live client.
        let reply =
            patch_client(app, admin, &id, Some("*"), &json!({ "source": "referral" })).await;
        let starred = assert_client(&reply, 200, 5, &format!("{name}: PATCH If-Match *"));
        assert_eq!(starred["source"], "referral", "{name}: {reply}");

        // Delete: If-Match required and checked; then 404 everywhere but the history.
        let reply = delete_client(app, admin, &id, None).await;
        assert_problem(&reply, 428, &format!("{name}: DELETE without If-Match"));
        let reply = delete_client(app, admin, &id, Some("\"4\"")).await;
        assert_precondition_failed(&reply, 5, &format!("{name}: DELETE with a stale tag"));
        let reply = get_client(app, admin, &id).await;
        assert_client(
            &reply,
            200,
            5,
            &format!("{name}: refused writes changed nothing"),
        );
        let reply = delete_client(app, admin, &id, Some("\"5\"")).await;
        assert_eq!(reply.status, 204, "{name}: DELETE: {reply}");
        assert!(reply.text.is_empty(), "{name}: a 204 has no body: {reply}");
        let reply = get_client(app, admin, &id).await;
        assert_problem(&reply, 404, &format!("{name}: GET a deleted client"));
        let reply = patch_client(app, admin, &id, Some("*"), &json!({ "notes": "x" })).await;
        assert!(
            matches!(reply.status, 404 | 412),
            "{name}: PATCH a deleted client: {reply}"
        );
        assert_problem(
            &reply,
            reply.status,
            &format!("{name}: PATCH a deleted client"),
        );
        let listed: Vec<String> = list_all(app, admin, "", 100)
            .await
            .iter()
            .map(id_of)
            .collect();
        assert_eq!(
            listed,
            [id_of(&minimal)],
            "{name}: a deleted client is not listed"
        );

        // Malformed and unknown ids.
        let unknown_v7 = {
            let mut other = id.clone();
            let last = if other.ends_with('0') { "1" } else { "0" };
            other.replace_range(other.len() - 1.., last);
            other
        };
        let long = "7".repeat(300);
        let random = uuid::Uuid::new_v4().to_string();
        for (bad, why) in [
            ("not-a-uuid", "not a UUID"),
            (unknown_v7.as_str(), "a UUIDv7 nobody was given"),
            (random.as_str(), "a random UUID"),
            ("0", "a number"),
            ("%27%20OR%20%271%27%3D%271", "an SQL injection"),
            (long.as_str(), "a very long id"),
        ] {
            let context = format!("{name}: {why}");
            let reply = get_client(app, admin, bad).await;
            assert_problem(&reply, 404, &format!("{context}: GET"));
            let path = format!("{}/history", client_path(bad));
            let reply = call(app, Method::GET, &path, admin, &[], Body::Empty).await;
            assert_problem(&reply, 404, &format!("{context}: history"));
            for reply in [
                put_client(app, admin, bad, Some("\"1\""), &replacement).await,
                patch_client(app, admin, bad, Some("\"1\""), &json!({ "notes": "x" })).await,
                delete_client(app, admin, bad, Some("\"1\"")).await,
            ] {
                assert!(matches!(reply.status, 404 | 412), "{context}: {reply}");
                assert_problem(&reply, reply.status, &context);
            }
        }
    }
}

#[tokio::test]
async fn creation_with_an_idempotency_key_is_replayed_per_caller() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let editor = book.staff("editor").await;
        let key = format!("order-{}", tag());
        let body = new_client("idempotent");
        let email = body["email"].as_str().unwrap_or_default().to_owned();
        let headers = [("idempotency-key", key.as_str())];

        let first = call(
            app,
            Method::POST,
            "/api/clients",
            admin,
            &headers,
            Body::Json(&body),
        )
        .await;
        let created = assert_client(&first, 201, 1, &format!("{name}: first request"));
        assert_ne!(
            first.header("idempotency-replayed"),
            "true",
            "{name}: the first answer is no replay: {first}"
        );

        // The same body, spelt differently (key order, spaces): a replay.
        let respelt = format!(
            "{{ \"last_name\" : {}, \"email\":{},\n \"first_name\": {} }}",
            body["last_name"], body["email"], body["first_name"]
        );
        let raw = Body::Raw("application/json", respelt.into_bytes());
        let replay = call(app, Method::POST, "/api/clients", admin, &headers, raw).await;
        let context = format!("{name}: the replay");
        assert_eq!(replay.status, 201, "{context}: {replay}");
        assert_eq!(replay.body, first.body, "{context}: the same body and id");
        assert_eq!(
            replay.header("idempotency-replayed"),
            "true",
            "{context}: {replay}"
        );
        assert_eq!(
            replay.header("location"),
            first.header("location"),
            "{context}"
        );
        assert_eq!(replay.header("etag"), first.header("etag"), "{context}");

        // The same key with another body: 422 naming the key.
        let other = new_client("other");
        let reply = call(
            app,
            Method::POST,
            "/api/clients",
            admin,
            &headers,
            Body::Json(&other),
        )
        .await;
        let context = format!("{name}: the key with another body");
        assert_problem(&reply, 422, &context);
        assert_eq!(
            reply.body["errors"][0]["field"], "Idempotency-Key",
            "{context}: {reply}"
        );

        // Keys are per caller: the editor's same key is a key of its own.
        let editor_body = new_client("editor-own");
        let reply = call(
            app,
            Method::POST,
            "/api/clients",
            editor.auth(),
            &headers,
            Body::Json(&editor_body),
        )
        .await;
        let context = format!("{name}: another caller, same key");
        let editors = assert_client(&reply, 201, 1, &context);
        assert_ne!(id_of(&editors), id_of(&created), "{context}: {reply}");
        assert_ne!(
            reply.header("idempotency-replayed"),
            "true",
            "{context}: {reply}"
        );
        assert_eq!(
            editors["created_by"],
            editor.id.as_str(),
            "{context}: {reply}"
        );

        // Concurrent requests with one key create one client.
        let race_key = format!("race-{}", tag());
        let race_body = new_client("race");
        let race_email = race_body["email"].as_str().unwrap_or_default().to_owned();
        let race_headers = [("idempotency-key", race_key.as_str())];
        let replies = join_all((0..6).map(|_| {
            call(
                app,
                Method::POST,
                "/api/clients",
                admin,
                &race_headers,
                Body::Json(&race_body),
            )
        }))
        .await;
        let mut ids: Vec<String> = vec![];
        for reply in &replies {
            let context = format!("{name}: racing with one key");
            if reply.status == 201 {
                ids.push(id_of(&assert_client(reply, 201, 1, &context)));
            } else {
                assert_problem(reply, 409, &context);
            }
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1, "{name}: one client for one key: {ids:?}");

        // Keys must be 1–255 visible ASCII characters.
        let too_long = "k".repeat(256);
        for (bad, why) in [
            (too_long.as_str(), "256 characters"),
            ("with space", "a space"),
            ("", "empty"),
        ] {
            let headers = [("idempotency-key", bad)];
            let body = new_client("bad-key");
            let reply = call(
                app,
                Method::POST,
                "/api/clients",
                admin,
                &headers,
                Body::Json(&body),
            )
            .await;
            let context = format!("{name}: an Idempotency-Key that is {why}");
            assert!(matches!(reply.status, 400 | 422), "{context}: {reply}");
            assert_problem(&reply, reply.status, &context);
            let detail = reply.body["detail"].as_str().unwrap_or_default();
            assert!(
                error_fields(&reply).iter().any(|f| f == "Idempotency-Key")
                    || detail.contains("Idempotency-Key"),
                "{context}: names the header: {reply}"
            );
        }

        let book_now = list_all(app, admin, "", 100).await;
        let count = |e: &str| book_now.iter().filter(|c| c["email"] == e).count();
        assert_eq!(count(&email), 1, "{name}: one client for the replayed key");
        assert_eq!(
            count(&race_email),
            1,
            "{name}: one client for the raced key"
        );
        assert_eq!(
            book_now.len(),
            3,
            "{name}: nothing else was created: {book_now:#?}"
        );
    }
}

#[tokio::test]
async fn a_live_email_belongs_to_one_client_and_is_free_again_once_deleted() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let first = create_ok(app, admin, &new_client("taken")).await;
        let email = first["email"].as_str().unwrap_or_default().to_owned();
        let second = create_ok(app, admin, &new_client("second")).await;
        let second_id = id_of(&second);

        let reply = create_client(
            app,
            admin,
            &json!({ "email": format!(" {} ", email.to_uppercase()) }),
        )
        .await;
        assert_field_error(
            &reply,
            409,
            "email",
            &format!("{name}: create with a live e-mail"),
        );
        let reply = patch_client(
            app,
            admin,
            &second_id,
            Some("\"1\""),
            &json!({ "email": email }),
        )
        .await;
        assert_field_error(
            &reply,
            409,
            "email",
            &format!("{name}: patch to a live e-mail"),
        );
        let reply = put_client(
            app,
            admin,
            &second_id,
            Some("\"1\""),
            &json!({ "email": email }),
        )
        .await;
        assert_field_error(
            &reply,
            409,
            "email",
            &format!("{name}: replace with a live e-mail"),
        );
        let reply = get_client(app, admin, &second_id).await;
        let unchanged = assert_client(&reply, 200, 1, &format!("{name}: refused"));
        assert_eq!(
            unchanged, second,
            "{name}: the refused writes changed nothing"
        );

        let reply = delete_client(app, admin, &id_of(&first), Some("\"1\"")).await;
        assert_eq!(reply.status, 204, "{name}: {reply}");
        let again = create_ok(app, admin, &json!({ "email": email })).await;
        assert_ne!(id_of(&again), id_of(&first), "{name}: a new client");
        assert_eq!(again["email"], email.as_str(), "{name}: {again}");
        let reply = patch_client(
            app,
            admin,
            &second_id,
            Some("\"1\""),
            &json!({ "email": email }),
        )
        .await;
        assert_field_error(&reply, 409, "email", &format!("{name}: taken again"));
    }
}

#[tokio::test]
async fn of_twenty_concurrent_patches_with_one_etag_exactly_one_wins() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let client = create_ok(app, admin, &new_client("contended")).await;
        let id = id_of(&client);
        let patches: Vec<Value> = (0..20)
            .map(|i| json!({ "notes": format!("writer {i}") }))
            .collect();
        let replies = join_all(
            patches
                .iter()
                .map(|p| patch_client(app, admin, &id, Some("\"1\""), p)),
        )
        .await;

        let mut winners = vec![];
        for reply in &replies {
            if reply.status == 200 {
                winners.push(assert_client(reply, 200, 2, &format!("{name}: the winner")));
            } else {
                assert_precondition_failed(reply, 2, &format!("{name}: a loser"));
            }
        }
        assert_eq!(winners.len(), 1, "{name}: exactly one 200");
        let reply = get_client(app, admin, &id).await;
        let stored = assert_client(&reply, 200, 2, &format!("{name}: after the race"));
        assert_eq!(
            stored, winners[0],
            "{name}: the winner's write is the one stored"
        );
    }
}

/// One request to one route, well formed, so that only the caller decides the answer.
struct RouteCall {
    what: &'static str,
    method: Method,
    path: String,
    /// `If-Match: *` (the writes).
    if_match: bool,
    /// Content type and body.
    body: Option<(&'static str, String)>,
}

/// A call to every route, on the client `id`; `import_body` is an NDJSON file.
fn route_calls(id: &str, import_body: &str) -> Vec<RouteCall> {
    let route = |what, method, path: String, if_match, body| RouteCall {
        what,
        method,
        path,
        if_match,
        body,
    };
    let json_body = |label: &str| Some(("application/json", new_client(label).to_string()));
    let history = format!("{}/history", client_path(id));
    let purge = format!("{}?purge=true", client_path(id));
    let patch = Some((MERGE_PATCH, r#"{"notes": "by role"}"#.to_owned()));
    let import_body = Some((NDJSON, import_body.to_owned()));
    vec![
        route("list", Method::GET, "/api/clients".into(), false, None),
        route("get", Method::GET, client_path(id), false, None),
        route("history", Method::GET, history, false, None),
        route(
            "create",
            Method::POST,
            "/api/clients".into(),
            false,
            json_body("by-role"),
        ),
        route(
            "replace",
            Method::PUT,
            client_path(id),
            true,
            json_body("replaced"),
        ),
        route("patch", Method::PATCH, client_path(id), true, patch),
        route("purge", Method::DELETE, purge, true, None),
        route(
            "export",
            Method::GET,
            "/api/clients/export".into(),
            false,
            None,
        ),
        route(
            "import",
            Method::POST,
            "/api/clients/import".into(),
            false,
            import_body,
        ),
        route("delete", Method::DELETE, client_path(id), true, None),
    ]
}

async fn send_route(app: &crm_tests::TestApp, auth: Auth<'_>, route: &RouteCall) -> Reply {
    let headers: &[(&str, &str)] = if route.if_match {
        &[("if-match", "*")]
    } else {
        &[]
    };
    let body = match &route.body {
        Some((content_type, text)) => Body::Raw(content_type, text.clone().into_bytes()),
        None => Body::Empty,
    };
    call(app, route.method.clone(), &route.path, auth, headers, body).await
}

#[tokio::test]
async fn viewers_read_editors_write_admins_purge_export_and_import() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let viewer = book.staff("viewer").await;
        let editor = book.staff("editor").await;
        let seed = create_ok(app, admin, &new_client("seed")).await;
        let seed_id = id_of(&seed);
        let import_body = ndjson(&[new_client("imported")]);

        // Nobody (and a garbage token): 401 everywhere.
        for (who, auth) in [
            ("nobody", Auth::Anonymous),
            ("a garbage token", Auth::Bearer("not.a.token")),
        ] {
            for route in route_calls(&seed_id, &import_body) {
                let reply = send_route(app, auth, &route).await;
                assert_unauthenticated(&reply, &format!("{name}: {who}: {}", route.what));
            }
        }

        // A viewer reads; every write and admin route is 403.
        for route in route_calls(&seed_id, &import_body) {
            let reply = send_route(app, viewer.auth(), &route).await;
            let context = format!("{name}: a viewer: {}", route.what);
            match route.what {
                "list" | "get" | "history" => assert_json(&reply, 200, &context),
                _ => assert_problem(&reply, 403, &context),
            }
        }
        let reply = get_client(app, admin, &seed_id).await;
        assert_eq!(
            assert_client(&reply, 200, 1, name),
            seed,
            "{name}: the viewer changed nothing"
        );

        // An editor writes but neither purges, exports nor imports.
        let own = create_ok(app, editor.auth(), &new_client("editors")).await;
        assert_eq!(own["created_by"], editor.id.as_str(), "{name}: {own}");
        for route in route_calls(&id_of(&own), &import_body) {
            let reply = send_route(app, editor.auth(), &route).await;
            let context = format!("{name}: an editor: {}", route.what);
            match route.what {
                "list" | "get" | "history" | "replace" | "patch" => {
                    assert_json(&reply, 200, &context)
                }
                "create" => assert_json(&reply, 201, &context),
                "delete" => assert_eq!(reply.status, 204, "{context}: {reply}"),
                _ => assert_problem(&reply, 403, &context),
            }
        }
        let reply = get_client(app, admin, &id_of(&own)).await;
        assert_problem(
            &reply,
            404,
            &format!("{name}: the editor deleted its client"),
        );

        // The admin may do it all.
        let reply = export(app, admin).await;
        assert_eq!(reply.status, 200, "{name}: the admin exports: {reply}");
        let reply = import(app, admin, NDJSON, &import_body).await;
        assert_report(&reply, 1, 0, 0, &format!("{name}: the admin imports"));
        let reply = purge_client(app, admin, &seed_id, Some("\"1\"")).await;
        assert_eq!(reply.status, 204, "{name}: the admin purges: {reply}");
    }
}

#[tokio::test]
async fn an_editor_api_key_works_like_an_editor_and_a_viewer_key_like_a_viewer() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let key = create_api_key(app, &book.admin_token, "editor", "standard").await;
        let viewer_key = create_api_key(app, &book.admin_token, "viewer", "free").await;
        let auth = Auth::ApiKey(&key.key);

        let client = create_ok(app, auth, &new_client("by-key")).await;
        let id = id_of(&client);
        assert_eq!(client["created_by"], key.id.as_str(), "{name}: {client}");
        let reply = get_client(app, Auth::Bearer(&key.key), &id).await;
        assert_client(
            &reply,
            200,
            1,
            &format!("{name}: read with the key as Bearer"),
        );
        let reply = patch_client(
            app,
            auth,
            &id,
            Some("\"1\""),
            &json!({ "status": "active" }),
        )
        .await;
        assert_client(&reply, 200, 2, &format!("{name}: patch with the key"));
        let reply = put_client(
            app,
            auth,
            &id,
            Some("\"2\""),
            &new_client("replaced-by-key"),
        )
        .await;
        assert_client(&reply, 200, 3, &format!("{name}: replace with the key"));
        let listed = list_all(app, auth, "", 100).await;
        assert_eq!(listed.len(), 1, "{name}: list with the key: {listed:?}");
        let entries = history_of(app, auth, &id).await;
        assert!(
            entries
                .iter()
                .all(|e| e["actor"] == json!({ "kind": "api_key", "id": key.id })),
            "{name}: the key is the actor: {entries:#?}"
        );

        let reply = purge_client(app, auth, &id, Some("*")).await;
        assert_problem(&reply, 403, &format!("{name}: an editor key purges"));
        let reply = export(app, auth).await;
        assert_problem(&reply, 403, &format!("{name}: an editor key exports"));
        let reply = import(app, auth, NDJSON, &ndjson(&[new_client("key-import")])).await;
        assert_problem(&reply, 403, &format!("{name}: an editor key imports"));

        let viewer_auth = Auth::ApiKey(&viewer_key.key);
        let reply = get_client(app, viewer_auth, &id).await;
        assert_client(&reply, 200, 3, &format!("{name}: a viewer key reads"));
        let reply = create_client(app, viewer_auth, &new_client("by-viewer-key")).await;
        assert_problem(&reply, 403, &format!("{name}: a viewer key creates"));

        let reply = delete_client(app, auth, &id, Some("\"3\"")).await;
        assert_eq!(reply.status, 204, "{name}: delete with the key: {reply}");
        let reply = get_client(app, admin, &id).await;
        assert_problem(&reply, 404, &format!("{name}: deleted by the key"));
    }
}
