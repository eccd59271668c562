//! Real answers of the running app against the document: each answer's status must be
//! documented for its operation, its media type listed, its JSON body valid against the
//! documented schema (JSON Schema 2020-12, formats checked, `$ref`s resolved in the
//! document's `components`) and its documented headers valid against theirs.

use super::{document, documented_response, fetch, resolve};
use crate::auth::support::{Account, Auth, Reply, auth_app, create_api_key, create_user, sign_in};
use crm_tests::backends::backend_sets;
use crm_tests::{Manifest, app};
use serde_json::{Value, json};

/// A validator of `schema`, whose `$ref`s point into `document`'s components: the schema is
/// the root, with the document's `components` beside its own keywords.
pub fn validator_for(document: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = match schema {
        Value::Object(map) => map.clone(),
        Value::Bool(true) => serde_json::Map::new(),
        other => panic!("a schema object: {other}"),
    };
    assert!(!root.contains_key("components"), "{schema}");
    root.insert("components".into(), document["components"].clone());
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap_or_else(|e| panic!("{schema} does not compile: {e}"))
}

/// A validator of the schema at `pointer` (e.g. `/components/schemas/Client`).
pub fn schema_validator(document: &Value, pointer: &str) -> jsonschema::Validator {
    assert!(
        document.pointer(pointer).is_some(),
        "#{pointer} is in the document"
    );
    validator_for(document, &json!({ "$ref": format!("#{pointer}") }))
}

/// Asserts `instance` is valid against the schema at `pointer`, naming every error.
pub fn validate(document: &Value, pointer: &str, instance: &Value, context: &str) {
    let validator = schema_validator(document, pointer);
    let errors = validator.iter_errors(instance).into_errors();
    assert!(
        errors.is_empty(),
        "{context}: not a valid #{pointer}:\n{errors}\n{instance}"
    );
}

/// Asserts `reply` is what the document says `method path` answers with its status.
pub fn assert_conforms(document: &Value, method: &str, path: &str, reply: &Reply) {
    let shown: String = reply.text.chars().take(600).collect();
    let context = format!(
        "{} -> {} {shown} (documented as {method} {path})",
        reply.request, reply.status
    );
    let status = reply.status.to_string();
    let response = documented_response(document, method, path, &status)
        .unwrap_or_else(|| panic!("{context}: status {status} is not documented"));

    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        let Some(value) = reply.headers.get(name.as_str()) else {
            continue;
        };
        let value = Value::String(value.to_str().unwrap_or_default().to_owned());
        let schema = &resolve(document, header)["schema"];
        let validator = validator_for(document, schema);
        let errors = validator.iter_errors(&value).into_errors();
        assert!(errors.is_empty(), "{context}: header {name}: {errors}");
    }

    let Some(content) = response["content"].as_object() else {
        assert!(
            reply.text.is_empty(),
            "{context}: the document gives this answer no body"
        );
        return;
    };
    let content_type = reply.header("content-type");
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let Some(entry) = content.get(media) else {
        panic!(
            "{context}: media type {content_type:?} is not documented (documented: {:?})",
            content.keys().collect::<Vec<_>>()
        );
    };
    if media == "application/json" || media.ends_with("+json") {
        let body: Value = serde_json::from_str(&reply.text)
            .unwrap_or_else(|e| panic!("{context}: not JSON: {e}"));
        let validator = validator_for(document, &entry["schema"]);
        let errors = validator.iter_errors(&body).into_errors();
        assert!(
            errors.is_empty(),
            "{context}: the body does not match {}:\n{errors}",
            entry["schema"]
        );
    }
}

#[tokio::test]
async fn health_responses_match_the_document() {
    let document = document();
    for set in backend_sets().await {
        let app = app(Manifest::App).backends(&set).start().await;
        for path in ["/health", "/health/live", "/health/ready"] {
            let reply = fetch(&app, "GET", path, Auth::Anonymous, &[], None).await;
            assert_eq!(reply.status, 200, "{}: {reply}", set.name());
            assert_conforms(&document, "GET", path, &reply);
        }
        // Unknown paths and methods answer problem+json like every error.
        let reply = fetch(&app, "POST", "/health", Auth::Anonymous, &[], None).await;
        assert_eq!(reply.status, 405, "{reply}");
        validate(
            &document,
            "/components/schemas/Problem",
            &reply.body,
            "a 405",
        );
    }
}

#[tokio::test]
async fn auth_responses_match_the_document() {
    let document = document();
    for set in backend_sets().await {
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let login = |account: &Account| {
            json!({"email": account.email, "password": account.password}).to_string()
        };
        let token_path = "/api/auth/token";
        let reply = fetch(
            &app,
            "POST",
            token_path,
            Auth::Anonymous,
            &[],
            Some(("application/json", login(&admin).into_bytes())),
        )
        .await;
        assert_eq!(reply.status, 200, "{}: {reply}", set.name());
        assert_conforms(&document, "POST", token_path, &reply);
        let token = reply.body["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();

        let wrong = Account {
            password: "not the password at all".into(),
            ..admin.clone()
        };
        let reply = fetch(
            &app,
            "POST",
            token_path,
            Auth::Anonymous,
            &[],
            Some(("application/json", login(&wrong).into_bytes())),
        )
        .await;
        assert_eq!(reply.status, 401, "{reply}");
        assert_conforms(&document, "POST", token_path, &reply);

        let me = "/api/users/me";
        let reply = fetch(&app, "GET", me, Auth::Bearer(&token), &[], None).await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "GET", me, &reply);
        let reply = fetch(&app, "GET", me, Auth::Anonymous, &[], None).await;
        assert_eq!(reply.status, 401, "{reply}");
        assert_conforms(&document, "GET", me, &reply);

        let editor = create_user(&app, &token, "editor").await;
        let reply = fetch(&app, "GET", "/api/users", Auth::Bearer(&token), &[], None).await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "GET", "/api/users", &reply);
        let editor_token = sign_in(&app, &editor.account).await.access_token;
        let reply = fetch(
            &app,
            "GET",
            "/api/users",
            Auth::Bearer(&editor_token),
            &[],
            None,
        )
        .await;
        assert_eq!(reply.status, 403, "{reply}");
        assert_conforms(&document, "GET", "/api/users", &reply);

        let jwks = "/.well-known/jwks.json";
        let reply = fetch(&app, "GET", jwks, Auth::Anonymous, &[], None).await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "GET", jwks, &reply);
    }
}

/// Sends `method path` with a JSON body (or none) and extra headers.
async fn call(
    app: &crm_tests::TestApp,
    method: &str,
    path: &str,
    auth: Auth<'_>,
    headers: &[(&str, &str)],
    body: Option<(&str, &Value)>,
) -> Reply {
    let body = body.map(|(content_type, value)| (content_type, value.to_string().into_bytes()));
    fetch(app, method, path, auth, headers, body).await
}

#[tokio::test]
async fn client_responses_match_the_document() {
    const JSON: &str = "application/json";
    const MERGE_PATCH: &str = "application/merge-patch+json";
    let document = document();
    let (collection, one, history) = (
        "/api/clients",
        "/api/clients/{id}",
        "/api/clients/{id}/history",
    );
    for set in backend_sets().await {
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let editor = create_user(&app, &admin_token, "editor").await;
        let editor_token = sign_in(&app, &editor.account).await.access_token;
        let editor = Auth::Bearer(&editor_token);
        let viewer_key = create_api_key(&app, &admin_token, "viewer", "standard").await;
        let viewer = Auth::ApiKey(&viewer_key.key);
        let admin = Auth::Bearer(&admin_token);
        let tag = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        let email = format!("ada-{tag}@example.com");

        // Create, with every writable field and an idempotency key; then the replay.
        let full = json!({
            "first_name": " Ada ", "last_name": "Lovelace", "email": email.to_uppercase(),
            "phone": "+44 20 7123 4567", "company": "Analytical Engines", "status": "active",
            "tags": ["VIP", "beta-2"], "notes": "Met at the webinar.", "source": "webinar",
            "subscribed": true, "properties": {"plan": "pro", "seats": 5, "trial": false}
        });
        let key = format!("create-{tag}");
        let idempotent = [("idempotency-key", key.as_str())];
        let created = call(
            &app,
            "POST",
            collection,
            editor,
            &idempotent,
            Some((JSON, &full)),
        )
        .await;
        assert_eq!(created.status, 201, "{}: {created}", set.name());
        assert_conforms(&document, "POST", collection, &created);
        let id = created.body["id"].as_str().unwrap_or_default().to_owned();
        let etag = created.header("etag").to_owned();
        assert!(
            created
                .header("location")
                .ends_with(&format!("/api/clients/{id}")),
            "{created}"
        );
        let replay = call(
            &app,
            "POST",
            collection,
            editor,
            &idempotent,
            Some((JSON, &full)),
        )
        .await;
        assert_eq!(replay.status, 201, "{replay}");
        assert_eq!(replay.header("idempotency-replayed"), "true", "{replay}");
        assert_conforms(&document, "POST", collection, &replay);

        // Refusals of a create: a duplicate e-mail, an unknown field, a viewer, no credentials.
        let duplicate = json!({"email": email});
        let reply = call(
            &app,
            "POST",
            collection,
            editor,
            &[],
            Some((JSON, &duplicate)),
        )
        .await;
        assert_eq!(reply.status, 409, "{reply}");
        assert_conforms(&document, "POST", collection, &reply);
        let unknown = json!({"email": format!("b-{tag}@example.com"), "nickname": "B"});
        let reply = call(
            &app,
            "POST",
            collection,
            editor,
            &[],
            Some((JSON, &unknown)),
        )
        .await;
        assert_eq!(reply.status, 422, "{reply}");
        assert_conforms(&document, "POST", collection, &reply);
        let second = json!({"email": format!("grace-{tag}@example.com"), "last_name": "Hopper"});
        let reply = call(&app, "POST", collection, viewer, &[], Some((JSON, &second))).await;
        assert_eq!(reply.status, 403, "{reply}");
        assert_conforms(&document, "POST", collection, &reply);
        let reply = call(
            &app,
            "POST",
            collection,
            Auth::Anonymous,
            &[],
            Some((JSON, &second)),
        )
        .await;
        assert_eq!(reply.status, 401, "{reply}");
        assert_conforms(&document, "POST", collection, &reply);
        let reply = call(&app, "POST", collection, editor, &[], Some((JSON, &second))).await;
        assert_eq!(reply.status, 201, "{reply}");
        assert_conforms(&document, "POST", collection, &reply);

        // Read one: 200, 304 on its ETag, 404 for an unknown id.
        let path = format!("/api/clients/{id}");
        let reply = call(&app, "GET", &path, viewer, &[], None).await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "GET", one, &reply);
        let reply = call(
            &app,
            "GET",
            &path,
            viewer,
            &[("if-none-match", &etag)],
            None,
        )
        .await;
        assert_eq!(reply.status, 304, "{reply}");
        assert_conforms(&document, "GET", one, &reply);
        let unknown_path = "/api/clients/00000000-0000-7000-8000-000000000000";
        let reply = call(&app, "GET", unknown_path, viewer, &[], None).await;
        assert_eq!(reply.status, 404, "{reply}");
        assert_conforms(&document, "GET", one, &reply);

        // Patch: 200 with If-Match, 428 without, 412 with a stale tag.
        let patch =
            json!({"company": null, "tags": ["vip"], "properties": {"seats": 6, "trial": null}});
        let reply = call(
            &app,
            "PATCH",
            &path,
            editor,
            &[("if-match", &etag)],
            Some((MERGE_PATCH, &patch)),
        )
        .await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "PATCH", one, &reply);
        let patched_etag = reply.header("etag").to_owned();
        let reply = call(
            &app,
            "PATCH",
            &path,
            editor,
            &[],
            Some((MERGE_PATCH, &patch)),
        )
        .await;
        assert_eq!(reply.status, 428, "{reply}");
        assert_conforms(&document, "PATCH", one, &reply);
        let reply = call(
            &app,
            "PATCH",
            &path,
            editor,
            &[("if-match", &etag)],
            Some((MERGE_PATCH, &patch)),
        )
        .await;
        assert_eq!(reply.status, 412, "{reply}");
        assert_conforms(&document, "PATCH", one, &reply);

        // Replace.
        let replacement = json!({"email": email, "first_name": "Ada", "status": "inactive"});
        let reply = call(
            &app,
            "PUT",
            &path,
            editor,
            &[("if-match", &patched_etag)],
            Some((JSON, &replacement)),
        )
        .await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "PUT", one, &reply);
        let replaced_etag = reply.header("etag").to_owned();

        // List (a page of one, so there is a next page and a Link), search, a bad parameter.
        let reply = call(&app, "GET", "/api/clients?limit=1", viewer, &[], None).await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "GET", collection, &reply);
        assert!(reply.body["next_cursor"].is_string(), "{reply}");
        let search = "/api/clients?q=ada&sort=-created_at&status=inactive&tag=vip&limit=100";
        let reply = call(&app, "GET", search, viewer, &[], None).await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "GET", collection, &reply);
        let page_tag = reply.header("etag").to_owned();
        let reply = call(
            &app,
            "GET",
            search,
            viewer,
            &[("if-none-match", &page_tag)],
            None,
        )
        .await;
        assert_eq!(reply.status, 304, "{reply}");
        assert_conforms(&document, "GET", collection, &reply);
        let reply = call(&app, "GET", "/api/clients?limit=0", viewer, &[], None).await;
        assert_eq!(reply.status, 400, "{reply}");
        assert_conforms(&document, "GET", collection, &reply);

        // History.
        let history_path = format!("/api/clients/{id}/history");
        let reply = call(&app, "GET", &history_path, viewer, &[], None).await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "GET", history, &reply);
        assert!(
            reply.body["data"].as_array().is_some_and(|d| d.len() >= 3),
            "created, updated, replaced: {reply}"
        );
        let history_tag = reply.header("etag").to_owned();
        let headers = [("if-none-match", history_tag.as_str())];
        let reply = call(&app, "GET", &history_path, viewer, &headers, None).await;
        assert_eq!(reply.status, 304, "{reply}");
        assert_conforms(&document, "GET", history, &reply);

        // Export and import (admin).
        let reply = call(&app, "GET", "/api/clients/export", admin, &[], None).await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "GET", "/api/clients/export", &reply);
        for line in reply.text.lines().filter(|l| !l.trim().is_empty()) {
            let client: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("an exported line is JSON: {e}: {line}"));
            validate(
                &document,
                "/components/schemas/Client",
                &client,
                "an exported client",
            );
        }
        let rows = format!(
            "{}\n{}\n",
            json!({"email": format!("imported-{tag}@example.com"), "tags": ["import"]}),
            json!({"email": "not an e-mail address"})
        );
        let reply = fetch(
            &app,
            "POST",
            "/api/clients/import",
            admin,
            &[],
            Some(("application/x-ndjson", rows.into_bytes())),
        )
        .await;
        assert_eq!(reply.status, 200, "{reply}");
        assert_conforms(&document, "POST", "/api/clients/import", &reply);
        let reply = fetch(&app, "GET", "/api/clients/export", viewer, &[], None).await;
        assert_eq!(reply.status, 403, "{reply}");
        assert_conforms(&document, "GET", "/api/clients/export", &reply);

        // Delete.
        let reply = call(
            &app,
            "DELETE",
            &path,
            editor,
            &[("if-match", &replaced_etag)],
            None,
        )
        .await;
        assert_eq!(reply.status, 204, "{reply}");
        assert_conforms(&document, "DELETE", one, &reply);
        let reply = call(&app, "GET", &path, viewer, &[], None).await;
        assert_eq!(reply.status, 404, "{reply}");
        assert_conforms(&document, "GET", one, &reply);
    }
}

#[tokio::test]
async fn loops_responses_match_the_document() {
    use crate::loops::support::{FakeLoops, synced_book};
    let document = document();
    for set in backend_sets().await {
        let loops = FakeLoops::start().await;
        loops.always(Some(400));
        let book = synced_book(&set, &loops, &[("loops_max_attempts", "1")]).await;
        let admin = Auth::Bearer(&book.admin_token);
        let editor = book.staff("editor").await;
        let client = call(
            &book.app,
            "POST",
            "/api/clients",
            admin,
            &[],
            Some(("application/json", &json!({"email": "dead@example.com"}))),
        )
        .await;
        assert_eq!(client.status, 201, "{client}");

        let check = async |method: &str, path: &str, template: &str, auth: Auth<'_>, want: u16| {
            let reply = call(&book.app, method, path, auth, &[], None).await;
            assert_eq!(reply.status, want, "{reply}");
            assert_conforms(&document, method, template, &reply);
            reply
        };
        // The delivery after the write runs once the 201 is out: wait for its dead letter.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut status = check("GET", "/api/loops/status", "/api/loops/status", admin, 200).await;
        while status.body["dead_lettered"] != 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            status = check("GET", "/api/loops/status", "/api/loops/status", admin, 200).await;
        }
        assert_eq!(status.body["dead_lettered"], 1, "{status}");
        check(
            "GET",
            "/api/loops/status",
            "/api/loops/status",
            Auth::Anonymous,
            401,
        )
        .await;
        check(
            "GET",
            "/api/loops/status",
            "/api/loops/status",
            editor.auth(),
            403,
        )
        .await;
        let letters = "/api/loops/dead-letters";
        let page = check("GET", letters, letters, admin, 200).await;
        check(
            "GET",
            "/api/loops/dead-letters?limit=0",
            letters,
            admin,
            400,
        )
        .await;
        let id = page.body["data"][0]["id"].as_str().unwrap().to_owned();
        let replay = "/api/loops/dead-letters/{id}/replay";
        loops.always(None);
        let path = format!("/api/loops/dead-letters/{id}/replay");
        check("POST", &path, replay, admin, 200).await;
        check("POST", &path, replay, admin, 409).await;
        let unknown = "/api/loops/dead-letters/0190a0a0-0000-7000-8000-000000000000/replay";
        check("POST", unknown, replay, admin, 404).await;
        let started = check(
            "POST",
            "/api/loops/backfill",
            "/api/loops/backfill",
            admin,
            202,
        )
        .await;
        let job = format!(
            "/api/loops/backfill/{}",
            started.body["id"].as_str().unwrap()
        );
        check("GET", &job, "/api/loops/backfill/{id}", admin, 200).await;
        check(
            "GET",
            "/api/loops/backfill/nope",
            "/api/loops/backfill/{id}",
            admin,
            404,
        )
        .await;
        check("POST", "/api/loops/drain", "/api/loops/drain", admin, 200).await;
        check(
            "POST",
            "/api/loops/drain",
            "/api/loops/drain",
            editor.auth(),
            403,
        )
        .await;
    }
}
