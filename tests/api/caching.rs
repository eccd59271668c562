//! Response caching (docs/caching.md) black-box over HTTP on every backend set: a read is a
//! miss, then a hit with the same body; a write (also on a second crm-host process sharing
//! PostgreSQL and Redis) makes the next read a miss with the new body; 304 on a matching
//! `ETag` for a client, a page and a history page; entries expire by their TTL; the cache
//! switched off is a bypass; `Cache-Control` per route.

use crate::auth::support::{Account, Auth, Reply, Target, auth_app, create_api_key, me, sign_in};
use crate::clients::support::{
    Body, call, create_ok, db_rows, get_client, id_of, new_client, patch_client, sql_text, tag,
};
use crm_tests::backends::{BackendSet, backend_sets};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

/// `GET path` with `auth` and extra `headers`.
async fn get(target: &impl Target, path: &str, auth: Auth<'_>, headers: &[(&str, &str)]) -> Reply {
    call(target, Method::GET, path, auth, headers, Body::Empty).await
}

/// Asserts a 200 read answered with `x_cache`, its `Cache-Control` and an `ETag`.
fn assert_read(reply: &Reply, x_cache: &str, context: &str) {
    assert_eq!(reply.status, 200, "{context}: {reply}");
    assert_eq!(reply.header("x-cache"), x_cache, "{context}: {reply}");
    assert_eq!(
        reply.header("cache-control"),
        "private, max-age=5",
        "{context}: {reply}"
    );
    assert!(
        !reply.header("etag").is_empty(),
        "{context}: an ETag: {reply}"
    );
}

#[tokio::test]
async fn miss_then_hit_then_a_write_on_another_process_makes_the_next_read_a_miss() {
    for set in backend_sets().await {
        let admin = Account::new("admin");
        if matches!(set, BackendSet::PostgresRedis { .. }) {
            // Two crm-host processes on one database and one Redis, as two replicas: what
            // one caches the other reads, what one writes the other sees at once.
            let first = auth_app(&set, &admin).start_process().await;
            let second = auth_app(&set, &admin).start_process().await;
            read_write_read(set.name(), &admin, &first, &second).await;
            first.stop();
            second.stop();
        } else {
            // SQLite: one app (its key-value store is a file of its own).
            let app = auth_app(&set, &admin).start().await;
            read_write_read(set.name(), &admin, &app, &app).await;
        }
    }
}

/// The scenario on `a` and `b` (two processes sharing the backends, or one app twice).
async fn read_write_read(name: &str, admin: &Account, a: &impl Target, b: &impl Target) {
    let token = sign_in(a, admin).await.access_token;
    let viewer = create_api_key(a, &token, "viewer", "premium").await.key;
    let surname = format!("Cachewell{}", tag());
    let mut body = new_client("cache");
    body["last_name"] = json!(surname);
    let client = create_ok(a, Auth::Bearer(&token), &body).await;
    let id = id_of(&client);
    let path = format!("/api/clients/{id}");
    let search = format!("/api/clients?q={}&limit=10", surname.to_lowercase());

    // Miss, then hit with the same body; the viewer's key shares the admin's answer
    // (every role sees every client).
    let missed = get(a, &path, Auth::Bearer(&token), &[]).await;
    assert_read(&missed, "miss", &format!("{name}: first read"));
    let hit = get(a, &path, Auth::ApiKey(&viewer), &[]).await;
    assert_read(&hit, "hit", &format!("{name}: second read"));
    assert_eq!(hit.text, missed.text, "{name}: the same body");
    assert_eq!(hit.header("etag"), "\"1\"");
    let page = get(a, &search, Auth::ApiKey(&viewer), &[]).await;
    assert_read(&page, "miss", &format!("{name}: first search"));
    assert_eq!(page.body["data"][0]["id"], json!(id), "{page}");
    let page_again = get(b, &search, Auth::Bearer(&token), &[]).await;
    assert_read(&page_again, "hit", &format!("{name}: search again, on b"));
    assert_eq!(page_again.text, page.text);
    assert_eq!(page_again.header("etag"), page.header("etag"));

    // The same query spelled otherwise is the same entry.
    let respelled = format!("/api/clients?limit=10&q=%20{}%20", surname.to_uppercase());
    let respelled = get(a, &respelled, Auth::ApiKey(&viewer), &[]).await;
    assert_read(&respelled, "hit", &format!("{name}: the query respelled"));
    assert_eq!(respelled.text, page.text);

    // 304 on a matching ETag, for the client and for the page (from the cache).
    let etag = missed.header("etag").to_owned();
    let not_modified = get(a, &path, Auth::ApiKey(&viewer), &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status, 304, "{name}: {not_modified}");
    assert!(not_modified.text.is_empty(), "{not_modified}");
    assert_eq!(not_modified.header("etag"), etag);
    assert_eq!(not_modified.header("x-cache"), "hit");
    let page_tag = page.header("etag").to_owned();
    let weak = format!("W/{page_tag}");
    let page_304 = get(
        a,
        &search,
        Auth::ApiKey(&viewer),
        &[("if-none-match", &weak)],
    )
    .await;
    assert_eq!(page_304.status, 304, "{name}: {page_304}");
    assert!(page_304.text.is_empty());
    let other = get(
        a,
        &search,
        Auth::ApiKey(&viewer),
        &[("if-none-match", "\"0\"")],
    )
    .await;
    assert_eq!(other.status, 200, "{name}: another tag: {other}");

    // A write on the other process: the next read on the first is a miss, new body.
    let patched = patch_client(
        b,
        Auth::Bearer(&token),
        &id,
        Some("\"1\""),
        &json!({"company": "Analytical Engines"}),
    )
    .await;
    assert_eq!(patched.status, 200, "{name}: {patched}");
    assert_eq!(patched.header("cache-control"), "private, no-cache");
    let after = get(a, &path, Auth::ApiKey(&viewer), &[]).await;
    assert_read(&after, "miss", &format!("{name}: read after the write"));
    assert_eq!(after.body["company"], "Analytical Engines", "{after}");
    assert_eq!(after.header("etag"), "\"2\"");
    let stale = get(a, &path, Auth::ApiKey(&viewer), &[("if-none-match", &etag)]).await;
    assert_read(
        &stale,
        "hit",
        &format!("{name}: the old ETag no longer matches"),
    );
    let page_after = get(a, &search, Auth::ApiKey(&viewer), &[]).await;
    assert_read(
        &page_after,
        "miss",
        &format!("{name}: search after the write"),
    );
    assert_eq!(
        page_after.body["data"][0]["company"], "Analytical Engines",
        "{page_after}"
    );
    assert_ne!(
        page_after.header("etag"),
        page_tag,
        "{name}: a new page tag"
    );
    let page_304 = get(
        b,
        &search,
        Auth::Bearer(&token),
        &[("if-none-match", &page_tag)],
    )
    .await;
    assert_eq!(page_304.status, 200, "{name}: the old page tag: {page_304}");

    // Deleting the client: a read is a 404 at once, never the cached client.
    let version = after.header("etag").to_owned();
    let deleted = call(
        b,
        Method::DELETE,
        &path,
        Auth::Bearer(&token),
        &[("if-match", version.as_str())],
        Body::Empty,
    )
    .await;
    assert_eq!(deleted.status, 204, "{name}: {deleted}");
    let gone = get_client(a, Auth::ApiKey(&viewer), &id).await;
    assert_eq!(gone.status, 404, "{name}: {gone}");
}

#[tokio::test]
async fn an_entry_answers_until_its_ttl_and_a_cache_switched_off_is_bypassed() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin)
            .variable("response_cache_ttl_seconds", "1")
            .start()
            .await;
        let token = sign_in(&app, &admin).await.access_token;
        let client = create_ok(&app, Auth::Bearer(&token), &new_client("ttl")).await;
        let id = id_of(&client);
        let path = format!("/api/clients/{id}");
        let first = get(&app, &path, Auth::Bearer(&token), &[]).await;
        assert_read(&first, "miss", name);
        // A change the app never made (as if its invalidation had been lost): the entry
        // answers until its TTL, then the database does.
        let update = format!(
            "UPDATE clients SET company = 'Behind the cache' WHERE id = {} RETURNING id",
            sql_text(&id)
        );
        assert_eq!(db_rows(&set, &app, &update).await.len(), 1, "{name}");
        let cached = get(&app, &path, Auth::Bearer(&token), &[]).await;
        assert_read(&cached, "hit", name);
        assert_eq!(cached.text, first.text, "{name}: the entry answers");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let expired = get(&app, &path, Auth::Bearer(&token), &[]).await;
        assert_read(&expired, "miss", &format!("{name}: past the TTL"));
        assert_eq!(expired.body["company"], "Behind the cache", "{expired}");

        let off = auth_app(&set, &admin)
            .variable("response_cache_enabled", "false")
            .start()
            .await;
        let token = sign_in(&off, &admin).await.access_token;
        for n in 0..2 {
            let reply = get(&off, "/api/clients?limit=5", Auth::Bearer(&token), &[]).await;
            assert_read(&reply, "bypass", &format!("{name}: cache off, read {n}"));
        }
    }
}

#[tokio::test]
async fn auth_answers_are_never_stored_and_history_pages_revalidate() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let token = sign_in(&app, &admin).await.access_token;
        for reply in [
            me(&app, &token).await,
            me(&app, "not-a-token").await,
            get(&app, "/api/users", Auth::Bearer(&token), &[]).await,
        ] {
            assert_eq!(reply.header("cache-control"), "no-store", "{name}: {reply}");
        }
        let client = create_ok(&app, Auth::Bearer(&token), &new_client("history")).await;
        let path = format!("/api/clients/{}/history", id_of(&client));
        let history = get(&app, &path, Auth::Bearer(&token), &[]).await;
        assert_eq!(history.status, 200, "{name}: {history}");
        assert_eq!(history.header("cache-control"), "private, max-age=5");
        assert_eq!(
            history.header("x-cache"),
            "",
            "history is not kept server-side"
        );
        let tag = history.header("etag").to_owned();
        let again = get(
            &app,
            &path,
            Auth::Bearer(&token),
            &[("if-none-match", &tag)],
        )
        .await;
        assert_eq!(again.status, 304, "{name}: {again}");
        assert!(again.text.is_empty());
        assert_eq!(again.header("etag"), tag);
    }
}
