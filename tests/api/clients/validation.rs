//! Bad bodies are 4xx problems naming every offending field by its JSON path — on create,
//! replace and merge-patch alike — never a 500, and nothing is written: no client, no
//! change, no outbox row. Bodies that are not JSON are 415 or 400, too big ones 413. The
//! limits themselves are accepted.

use super::support::*;
use crm_tests::backends::backend_sets;
use reqwest::Method;
use serde_json::{Map, Value, json};

/// A bad body: `changes` merged into a valid one (minus `drop`), refused with 422 naming
/// each of `fields`; `on_patch` when it is a bad merge patch too.
struct BadBody {
    why: &'static str,
    changes: Value,
    drop: &'static [&'static str],
    fields: &'static [&'static str],
    on_patch: bool,
}

fn bad(why: &'static str, changes: Value, fields: &'static [&'static str]) -> BadBody {
    BadBody {
        why,
        changes,
        drop: &[],
        fields,
        on_patch: true,
    }
}

fn keys(count: usize, value: impl Fn(usize) -> Value) -> Value {
    Value::Object((0..count).map(|i| (format!("key_{i}"), value(i))).collect())
}

fn bad_bodies() -> Vec<BadBody> {
    let tags: Vec<String> = (0..21).map(|i| format!("tag-{i}")).collect();
    let notes = format!("{}a", "é".repeat(5120));
    vec![
        bad(
            "a bad e-mail",
            json!({ "email": "not-an-email" }),
            &["email"],
        ),
        bad("two @", json!({ "email": "ada@@example.com" }), &["email"]),
        bad("an empty e-mail", json!({ "email": "  " }), &["email"]),
        bad("a null e-mail", json!({ "email": null }), &["email"]),
        BadBody {
            why: "no e-mail",
            changes: json!({ "first_name": "Ada" }),
            drop: &["email"],
            fields: &["email"],
            on_patch: false,
        },
        bad("an unknown status", json!({ "status": "vip" }), &["status"]),
        bad("21 tags", json!({ "tags": tags }), &["tags"]),
        bad(
            "a tag with a space",
            json!({ "tags": ["ok", "bad tag"] }),
            &["tags"],
        ),
        bad(
            "a tag starting with -",
            json!({ "tags": ["-dash"] }),
            &["tags"],
        ),
        bad(
            "a 33-character tag",
            json!({ "tags": ["t".repeat(33)] }),
            &["tags"],
        ),
        bad(
            "notes of 10241 bytes",
            json!({ "notes": notes }),
            &["notes"],
        ),
        bad(
            "a 101-character first name",
            json!({ "first_name": "f".repeat(101) }),
            &["first_name"],
        ),
        bad(
            "a 101-character last name",
            json!({ "last_name": "l".repeat(101) }),
            &["last_name"],
        ),
        bad(
            "a 201-character company",
            json!({ "company": "c".repeat(201) }),
            &["company"],
        ),
        bad(
            "a 101-character source",
            json!({ "source": "s".repeat(101) }),
            &["source"],
        ),
        bad(
            "a phone in words",
            json!({ "phone": "call me maybe" }),
            &["phone"],
        ),
        bad(
            "a phone of 18 digits",
            json!({ "phone": "+1 234 567 890 123 456 78" }),
            &["phone"],
        ),
        bad(
            "51 properties",
            json!({ "properties": keys(51, |i| json!(i)) }),
            &["properties"],
        ),
        bad(
            "properties over 8 KB",
            json!({ "properties": keys(2, |_| json!("p".repeat(4200))) }),
            &["properties"],
        ),
        bad(
            "a nested property",
            json!({ "properties": { "plan": { "tier": "pro" } } }),
            &["properties"],
        ),
        bad(
            "an array property",
            json!({ "properties": { "seats": [1, 2] } }),
            &["properties"],
        ),
        bad(
            "a property key with a space",
            json!({ "properties": { "has space": 1 } }),
            &["properties"],
        ),
        bad(
            "a property key starting with a digit",
            json!({ "properties": { "1st": 1 } }),
            &["properties"],
        ),
        bad(
            "a 65-character property key",
            json!({ "properties": { "k".repeat(65): 1 } }),
            &["properties"],
        ),
        bad(
            "properties as an array",
            json!({ "properties": [] }),
            &["properties"],
        ),
        bad("a number for an e-mail", json!({ "email": 5 }), &["email"]),
        bad(
            "a string for subscribed",
            json!({ "subscribed": "yes" }),
            &["subscribed"],
        ),
        bad("a string for tags", json!({ "tags": "a" }), &["tags"]),
        bad("a number for a tag", json!({ "tags": [7] }), &["tags"]),
        bad(
            "a number for a name",
            json!({ "first_name": 5 }),
            &["first_name"],
        ),
        bad(
            "a number for the status",
            json!({ "status": 1 }),
            &["status"],
        ),
        bad(
            "an unknown field",
            json!({ "nickname": "Ada" }),
            &["nickname"],
        ),
        bad(
            "a read-only id",
            json!({ "id": "0192f7c4-0000-7000-8000-000000000000" }),
            &["id"],
        ),
        bad("a read-only version", json!({ "version": 7 }), &["version"]),
        bad(
            "a read-only created_at",
            json!({ "created_at": "2026-01-01T00:00:00.000Z" }),
            &["created_at"],
        ),
        bad(
            "a read-only updated_at",
            json!({ "updated_at": "2026-01-01T00:00:00.000Z" }),
            &["updated_at"],
        ),
        bad(
            "a read-only created_by",
            json!({ "created_by": "someone" }),
            &["created_by"],
        ),
        bad(
            "several bad fields at once",
            json!({ "email": "nope", "status": "vip", "tags": "a", "nickname": 1 }),
            &["email", "status", "tags", "nickname"],
        ),
    ]
}

/// `changes` over `base`, without the `drop`ped fields.
fn body_of(base: &Value, bad: &BadBody) -> Value {
    let mut body: Map<String, Value> = base.as_object().cloned().unwrap_or_default();
    for field in bad.drop {
        body.remove(*field);
    }
    for (field, value) in bad.changes.as_object().cloned().unwrap_or_default() {
        body.insert(field, value);
    }
    Value::Object(body)
}

#[tokio::test]
async fn bad_bodies_are_422_naming_every_offending_field_and_write_nothing() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let target = create_ok(app, admin, &new_client("target")).await;
        let id = id_of(&target);
        let outbox_before = outbox(&set, app).await;

        for bad in bad_bodies() {
            let fresh = json!({ "email": format!("fresh-{}@example.com", tag()) });
            let own = json!({ "email": target["email"] });
            let mut attempts = vec![
                (
                    "POST",
                    create_client(app, admin, &body_of(&fresh, &bad)).await,
                ),
                (
                    "PUT",
                    put_client(app, admin, &id, Some("*"), &body_of(&own, &bad)).await,
                ),
            ];
            if bad.on_patch {
                let patch = body_of(&json!({}), &bad);
                attempts.push((
                    "PATCH",
                    patch_client(app, admin, &id, Some("*"), &patch).await,
                ));
            }
            for (method, reply) in attempts {
                let context = format!("{name}: {method}: {}", bad.why);
                for field in bad.fields {
                    assert_field_error(&reply, 422, field, &context);
                }
                assert!(
                    reply.text.len() < 4096,
                    "{context}: the body is not echoed: {reply}"
                );
            }
        }

        // Bodies that are not JSON objects at all.
        for (text, why) in [
            ("[]", "an array"),
            ("\"ada\"", "a string"),
            ("null", "null"),
            ("42", "a number"),
        ] {
            let body = Body::Raw("application/json", text.as_bytes().to_vec());
            let reply = call(app, Method::POST, "/api/clients", admin, &[], body).await;
            let context = format!("{name}: a body that is {why}");
            assert!(matches!(reply.status, 400 | 422), "{context}: {reply}");
            assert_problem(&reply, reply.status, &context);
        }

        assert_nothing_written(&set, &book, &target, &outbox_before, name).await;
    }
}

/// A raw request: method, path, content type, body, the status it gets, why.
type RawCase<'a> = (Method, &'a str, &'a str, Vec<u8>, u16, &'a str);

#[tokio::test]
async fn bodies_that_are_not_json_or_too_big_are_415_400_or_413() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let target = create_ok(app, admin, &new_client("target")).await;
        let id = id_of(&target);
        let path = client_path(&id);
        let path = path.as_str();
        let outbox_before = outbox(&set, app).await;
        let huge = json!({
            "email": format!("huge-{}@example.com", tag()),
            "notes": "n".repeat(1 << 20),
        })
        .to_string()
        .into_bytes();
        let huge_patch = json!({ "notes": "n".repeat(1 << 20) })
            .to_string()
            .into_bytes();
        let valid = new_client("valid").to_string().into_bytes();
        let form = b"email=ada%40example.com".to_vec();

        let cases: Vec<RawCase> = vec![
            (
                Method::POST,
                "/api/clients",
                "text/plain",
                valid.clone(),
                415,
                "text/plain",
            ),
            (
                Method::POST,
                "/api/clients",
                "application/x-www-form-urlencoded",
                form,
                415,
                "a form",
            ),
            (
                Method::POST,
                "/api/clients",
                "application/json",
                b"{\"email\": ".to_vec(),
                400,
                "malformed JSON",
            ),
            (
                Method::POST,
                "/api/clients",
                "application/json",
                vec![],
                400,
                "an empty body",
            ),
            (
                Method::POST,
                "/api/clients",
                "application/json",
                huge.clone(),
                413,
                "over 1 MiB",
            ),
            (
                Method::PUT,
                path,
                "text/plain",
                valid.clone(),
                415,
                "text/plain",
            ),
            (
                Method::PUT,
                path,
                "application/json",
                b"{\"email\" \"x\"}".to_vec(),
                400,
                "malformed JSON",
            ),
            (
                Method::PUT,
                path,
                "application/json",
                huge,
                413,
                "over 1 MiB",
            ),
            (
                Method::PATCH,
                path,
                "application/json",
                br#"{"notes": "x"}"#.to_vec(),
                415,
                "application/json",
            ),
            (
                Method::PATCH,
                path,
                "text/plain",
                br#"{"notes": "x"}"#.to_vec(),
                415,
                "text/plain",
            ),
            (
                Method::PATCH,
                path,
                MERGE_PATCH,
                b"{\"notes\": ".to_vec(),
                400,
                "malformed JSON",
            ),
            (
                Method::PATCH,
                path,
                MERGE_PATCH,
                huge_patch,
                413,
                "over 1 MiB",
            ),
        ];
        for (method, path, content_type, bytes, status, why) in cases {
            let headers = [("if-match", "*")];
            let context = format!("{name}: {method} {why}");
            let body = Body::Raw(content_type, bytes);
            let reply = call(app, method, path, admin, &headers, body).await;
            assert_problem(&reply, status, &context);
            assert!(reply.text.len() < 4096, "{context}: the body is not echoed");
        }

        assert_nothing_written(&set, &book, &target, &outbox_before, name).await;
    }
}

/// The book holds `target` alone, unchanged, and the outbox no new row.
async fn assert_nothing_written(
    set: &crm_tests::backends::BackendSet,
    book: &Book,
    target: &Value,
    outbox_before: &[OutboxRow],
    name: &str,
) {
    let (app, admin) = (&book.app, book.admin());
    let listed = list_all(app, admin, "", 100).await;
    assert_eq!(
        listed,
        std::slice::from_ref(target),
        "{name}: no client was written or changed"
    );
    let reply = get_client(app, admin, &id_of(target)).await;
    let stored = assert_client(&reply, 200, 1, name);
    assert_eq!(&stored, target, "{name}: the target is unchanged");
    assert_eq!(
        count_rows(set, app, "clients", "1 = 1").await,
        1,
        "{name}: one clients row"
    );
    let fresh = new_rows(outbox_before, &outbox(set, app).await);
    assert!(fresh.is_empty(), "{name}: no outbox row: {fresh:#?}");
}

#[tokio::test]
async fn the_limits_themselves_are_accepted() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let tags: Vec<String> = (0..20)
            .map(|i| format!("t{i:02}-{}", "x".repeat(28)))
            .collect();
        let properties = keys(50, |i| match i % 3 {
            0 => json!(format!("value {i}")),
            1 => json!(i as f64 + 0.5),
            _ => json!(i % 2 == 0),
        });
        let body = json!({
            "email": format!("limits-{}@example.com", tag()),
            "first_name": "é".repeat(100),
            "last_name": "l".repeat(100),
            "company": "c".repeat(200),
            "source": "s".repeat(100),
            "notes": "é".repeat(5120),
            "phone": "+1 (415) 555-0100",
            "tags": tags,
            "properties": properties,
        });
        let client = create_ok(app, admin, &body).await;
        let context = format!("{name}: a client at every limit");
        assert_eq!(client["tags"], body["tags"], "{context}: {client}");
        assert_eq!(
            client["properties"], body["properties"],
            "{context}: {client}"
        );
        assert_eq!(
            client["notes"], body["notes"],
            "{context}: 10240 bytes of notes"
        );
        assert_eq!(
            client["first_name"], body["first_name"],
            "{context}: 100 characters"
        );
        assert_eq!(client["phone"], "+14155550100", "{context}: {client}");
    }
}
