//! A client's history: `GET /api/clients/{id}/history` lists its created, updated and
//! deleted entries oldest first, each with its actor (user or API key), time, request id
//! and the names of the fields it changed — never their values; paged like lists, also
//! for a deleted client.

use super::support::*;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The fields a client's body may write.
const WRITABLE: [&str; 11] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "status",
    "tags",
    "notes",
    "source",
    "subscribed",
    "properties",
];

/// The writable fields whose values differ between two states of a client.
fn changed(before: &Value, after: &Value) -> BTreeSet<String> {
    WRITABLE
        .iter()
        .filter(|field| before[**field] != after[**field])
        .map(|field| (*field).to_owned())
        .collect()
}

/// An entry's `fields`, as a set, without the bookkeeping columns a write always touches.
fn fields_of(entry: &Value) -> BTreeSet<String> {
    assert!(entry["fields"].is_array(), "fields is an array: {entry}");
    strings(&entry["fields"])
        .into_iter()
        .filter(|f| f != "updated_at" && f != "version")
        .collect()
}

/// Asserts an entry's documented shape and its action, actor and request id.
fn assert_entry(entry: &Value, action: &str, actor: &Value, request_id: &str, context: &str) {
    let mut keys: Vec<&str> = entry
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["action", "actor", "at", "fields", "id", "request_id"],
        "{context}: the entry's fields: {entry}"
    );
    assert!(!id_of(entry).is_empty(), "{context}: an id: {entry}");
    assert_eq!(entry["action"], action, "{context}: {entry}");
    assert_eq!(&entry["actor"], actor, "{context}: {entry}");
    assert_eq!(entry["request_id"], request_id, "{context}: {entry}");
    millis(entry["at"].as_str().unwrap_or_default());
    assert!(
        strings(&entry["fields"]).len() == entry["fields"].as_array().map_or(0, Vec::len),
        "{context}: fields are names: {entry}"
    );
}

#[tokio::test]
async fn history_names_who_changed_which_fields_and_when_never_the_values() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let editor = book.staff("editor").await;
        let viewer = book.staff("viewer").await;
        let key = create_api_key(app, &book.admin_token, "editor", "standard").await;
        let t = tag();
        let secret_notes = format!("SecretNotes{t}");
        let body = json!({
            "email": format!("chronicled-{t}@example.com"),
            "first_name": format!("Hedy{t}"),
            "last_name": "Lamarr",
            "phone": "+1 310 555 0199",
            "notes": secret_notes,
        });

        // Created by the editor, patched by the admin, replaced with the API key,
        // deleted by the editor.
        let reply = create_client(app, editor.auth(), &body).await;
        let created = assert_client(&reply, 201, 1, name);
        let id = id_of(&created);
        let created_request = reply.header("x-request-id").to_owned();
        let patch = json!({ "notes": format!("OtherNotes{t}"), "tags": ["inventor"] });
        let reply = patch_client(app, admin, &id, Some("\"1\""), &patch).await;
        let patched = assert_client(&reply, 200, 2, name);
        let patched_request = reply.header("x-request-id").to_owned();
        let replacement = json!({
            "email": created["email"],
            "first_name": created["first_name"],
            "last_name": "Markey",
            "status": "active",
            "tags": ["inventor"],
        });
        let reply = put_client(
            app,
            Auth::ApiKey(&key.key),
            &id,
            Some("\"2\""),
            &replacement,
        )
        .await;
        let replaced = assert_client(&reply, 200, 3, name);
        let replaced_request = reply.header("x-request-id").to_owned();
        let reply = delete_client(app, editor.auth(), &id, Some("\"3\"")).await;
        assert_eq!(reply.status, 204, "{name}: {reply}");
        let deleted_request = reply.header("x-request-id").to_owned();
        for request_id in [
            &created_request,
            &patched_request,
            &replaced_request,
            &deleted_request,
        ] {
            assert!(
                !request_id.is_empty(),
                "{name}: every answer has an x-request-id"
            );
        }

        // Read by a viewer, after the delete.
        let entries = history_of(app, viewer.auth(), &id).await;
        assert_eq!(entries.len(), 4, "{name}: four entries: {entries:#?}");
        let as_user = |user_id: &str| json!({ "kind": "user", "id": user_id });
        let as_key = json!({ "kind": "api_key", "id": key.id });
        let context = format!("{name}: created");
        assert_entry(
            &entries[0],
            "client.created",
            &as_user(&editor.id),
            &created_request,
            &context,
        );
        assert!(
            fields_of(&entries[0]).contains("email"),
            "{context}: names the fields set: {}",
            entries[0]
        );
        let context = format!("{name}: patched");
        assert_entry(
            &entries[1],
            "client.updated",
            &as_user(&book.admin_id),
            &patched_request,
            &context,
        );
        assert_eq!(
            fields_of(&entries[1]),
            changed(&created, &patched),
            "{context}: {}",
            entries[1]
        );
        let context = format!("{name}: replaced");
        assert_entry(
            &entries[2],
            "client.updated",
            &as_key,
            &replaced_request,
            &context,
        );
        assert_eq!(
            fields_of(&entries[2]),
            changed(&patched, &replaced),
            "{context}: {}",
            entries[2]
        );
        let context = format!("{name}: deleted");
        assert_entry(
            &entries[3],
            "client.deleted",
            &as_user(&editor.id),
            &deleted_request,
            &context,
        );

        let times: Vec<i64> = entries
            .iter()
            .map(|e| millis(e["at"].as_str().unwrap_or_default()))
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{name}: oldest first: {entries:#?}"
        );
        let created_at = millis(created["created_at"].as_str().unwrap_or_default());
        assert!(
            (times[0] - created_at).abs() < 60_000,
            "{name}: `at` is the write's time"
        );
        let ids: BTreeSet<String> = entries.iter().map(id_of).collect();
        assert_eq!(ids.len(), 4, "{name}: entries have ids of their own");

        // Never a value.
        let text = Value::Array(entries.clone()).to_string();
        let values = [
            secret_notes.clone(),
            format!("OtherNotes{t}"),
            format!("chronicled-{t}"),
            format!("Hedy{t}"),
            "Lamarr".to_owned(),
            "Markey".to_owned(),
            "5550199".to_owned(),
            "inventor".to_owned(),
        ];
        for value in &values {
            assert!(
                !text.contains(value.as_str()),
                "{name}: the history holds {value:?}: {text}"
            );
        }

        // Paged: one entry at a time, following cursors and then Link headers.
        let path = format!("{}/history", client_path(&id));
        for follow in [Follow::Cursor, Follow::Link] {
            let paged = collect_pages(app, admin, &path, "", 1, follow).await;
            assert_eq!(paged, entries, "{name}: the same entries, one page each");
        }
        for limit in ["0", "101", "x"] {
            let reply = call(
                app,
                Method::GET,
                &format!("{path}?limit={limit}"),
                admin,
                &[],
                Body::Empty,
            )
            .await;
            assert_names_parameter(&reply, "limit", &format!("{name}: history limit={limit}"));
        }
        let reply = call(
            app,
            Method::GET,
            &format!("{path}?cursor=bogus"),
            admin,
            &[],
            Body::Empty,
        )
        .await;
        assert_names_parameter(&reply, "cursor", &format!("{name}: a bogus history cursor"));
        let reply = call(app, Method::GET, &path, Auth::Anonymous, &[], Body::Empty).await;
        assert_unauthenticated(&reply, &format!("{name}: history without credentials"));
    }
}
