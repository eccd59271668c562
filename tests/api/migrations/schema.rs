//! The schema behaves the same on SQLite and PostgreSQL: the same shape, and the same
//! rows accepted and refused, at 0002 (the owned clients of 0001) and at the newest
//! version (0003's shared client book).

use super::support::{TestDb, databases};

/// Fresh databases of both dialects, migrated up to and including `to` (all when `None`).
pub async fn migrated_to(to: Option<i64>) -> Vec<TestDb> {
    let dbs = databases().await;
    for db in &dbs {
        db.up(to).await;
    }
    dbs
}

async fn migrated() -> Vec<TestDb> {
    migrated_to(None).await
}

#[tokio::test]
async fn both_dialects_define_the_same_tables_columns_and_indexes() {
    let dbs = migrated().await;
    let [sqlite, postgres] = &dbs[..] else {
        eprintln!("notice: PostgreSQL is not configured: nothing to compare SQLite with");
        return;
    };

    let sqlite_shape = sqlite.shape().await;
    let postgres_shape = postgres.shape().await;

    for expected in [
        "index clients_live_email_key on clients unique (email) where deleted_at is null",
        "index clients_live_last_name_idx on clients (coalesce(last_name, ''), id) where deleted_at is null",
        "fk client_tags (client_id) -> clients (id) on delete CASCADE",
        "pk idempotency_keys (principal, idem_key)",
    ] {
        assert!(
            sqlite_shape.iter().any(|line| line == expected),
            "{expected}: {sqlite_shape:#?}"
        );
    }
    assert_eq!(sqlite_shape, postgres_shape);
}

#[tokio::test]
async fn both_dialects_define_the_same_shape_at_0002() {
    let dbs = migrated_to(Some(2)).await;
    let [sqlite, postgres] = &dbs[..] else {
        eprintln!("notice: PostgreSQL is not configured: nothing to compare SQLite with");
        return;
    };

    let sqlite_shape = sqlite.shape().await;

    assert!(
        sqlite_shape.iter().any(|line| line
            == "index clients_owner_email_key on clients unique (owner_user_id, lower(email)) where deleted_at is null"),
        "{sqlite_shape:#?}"
    );
    assert_eq!(sqlite_shape, postgres.shape().await);
}

const USER: &str = "INSERT INTO users (id, email, password_hash, display_name) \
                    VALUES ('u1', 'ada@example.com', 'h', 'Ada')";
const CLIENT: &str = "INSERT INTO clients (id, owner_user_id, email, subscribed) \
                      VALUES ('c1', 'u1', 'bob@example.com', TRUE)";

/// At 0002 (clients owned by a user, 0001's table): (what the row is, the statement,
/// whether the schema accepts it), run in order.
const CASES_0002: &[(&str, &str, bool)] = &[
    ("a user with defaults", USER, true),
    (
        "a second user whose email differs only in case",
        "INSERT INTO users (id, email, password_hash, display_name) VALUES ('u2', 'ADA@example.com', 'h', 'A')",
        false,
    ),
    (
        "a user with an unknown role",
        "INSERT INTO users (id, email, password_hash, display_name, role) VALUES ('u3', 'c@example.com', 'h', 'C', 'owner')",
        false,
    ),
    (
        "a user whose timestamp is not fixed-width ISO-8601 UTC",
        "INSERT INTO users (id, email, password_hash, display_name, created_at) VALUES ('u4', 'd@example.com', 'h', 'D', '2025-01-01 00:00:00')",
        false,
    ),
    ("a client", CLIENT, true),
    (
        "a client of an owner that does not exist",
        "INSERT INTO clients (id, owner_user_id, email, subscribed) VALUES ('c2', 'nobody', 'x@example.com', FALSE)",
        false,
    ),
    (
        "a live duplicate of a client's email, in another case",
        "INSERT INTO clients (id, owner_user_id, email, subscribed) VALUES ('c3', 'u1', 'BOB@example.com', TRUE)",
        false,
    ),
    (
        "soft-deleting the client",
        "UPDATE clients SET deleted_at = '2025-01-01T00:00:00.000Z', version = version + 1 WHERE id = 'c1'",
        true,
    ),
    (
        "the same email again once the first is soft-deleted",
        "INSERT INTO clients (id, owner_user_id, email, subscribed) VALUES ('c4', 'u1', 'bob@example.com', TRUE)",
        true,
    ),
    (
        "client properties that are not a JSON object",
        "INSERT INTO clients (id, owner_user_id, email, subscribed, properties) VALUES ('c5', 'u1', 'e@example.com', TRUE, '[1]')",
        false,
    ),
    (
        "a refresh token that expires before it is issued",
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, issued_at, expires_at) VALUES ('r1', 'u1', 'f1', 'h1', '2025-01-02T00:00:00.000Z', '2025-01-01T00:00:00.000Z')",
        false,
    ),
    (
        "an outbox entry",
        "INSERT INTO loops_outbox (id, client_id, operation, payload, idempotency_key) VALUES ('o1', 'c1', 'create', '{\"email\": \"bob@example.com\"}', 'k1')",
        true,
    ),
    (
        "an outbox entry with an unknown status",
        "INSERT INTO loops_outbox (id, client_id, operation, payload, status, idempotency_key) VALUES ('o2', 'c1', 'create', '{}', 'sent', 'k2')",
        false,
    ),
    (
        "an outbox entry reusing an idempotency key",
        "INSERT INTO loops_outbox (id, client_id, operation, payload, idempotency_key) VALUES ('o3', 'c1', 'update', '{}', 'k1')",
        false,
    ),
    (
        "deleting a user who still owns clients",
        "DELETE FROM users WHERE id = 'u1'",
        false,
    ),
];

#[tokio::test]
async fn constraints_at_0002_accept_and_reject_the_same_rows_on_both_dialects() {
    for db in migrated_to(Some(2)).await {
        for (what, sql, accepted) in CASES_0002 {
            let result = db.exec(sql).await;

            assert_eq!(
                result.is_ok(),
                *accepted,
                "{}: {what}: {result:?}",
                db.name()
            );
        }
    }
}

const BOOK_CLIENT: &str =
    "INSERT INTO clients (id, email, created_by) VALUES ('c1', 'bob@example.com', 'u1')";
const TIME: &str = "'2025-01-01T00:00:00.000Z'";

/// At the newest version (0003's book): (what the row is, the statement, whether the
/// schema accepts it), run in order.
fn cases() -> Vec<(&'static str, String, bool)> {
    vec![
        ("a user with defaults", USER.into(), true),
        ("a client with defaults, created by a user", BOOK_CLIENT.into(), true),
        (
            "a client without created_by",
            "INSERT INTO clients (id, email) VALUES ('c2', 'c2@example.com')".into(),
            false,
        ),
        (
            "a client created by an API key (created_by is not a foreign key)",
            "INSERT INTO clients (id, email, created_by) VALUES ('c3', 'carol@example.com', 'key-1')".into(),
            true,
        ),
        (
            "a live duplicate of an e-mail, by another creator (one book)",
            "INSERT INTO clients (id, email, created_by) VALUES ('c4', 'bob@example.com', 'key-1')".into(),
            false,
        ),
        (
            "making a live client's e-mail a duplicate",
            "UPDATE clients SET email = 'bob@example.com' WHERE id = 'c3'".into(),
            false,
        ),
        (
            "a client without an e-mail that is not erased",
            "INSERT INTO clients (id, email, created_by) VALUES ('c5', NULL, 'u1')".into(),
            false,
        ),
        (
            "an erased client (no e-mail) that is not deleted",
            format!("INSERT INTO clients (id, email, created_by, erased_at) VALUES ('c6', NULL, 'u1', {TIME})"),
            false,
        ),
        (
            "a client with erased_at but no deleted_at",
            format!("INSERT INTO clients (id, email, created_by, erased_at) VALUES ('c7', 'c7@example.com', 'u1', {TIME})"),
            false,
        ),
        (
            "an erased client: no e-mail, deleted and erased",
            format!("INSERT INTO clients (id, email, created_by, deleted_at, erased_at) VALUES ('c8', NULL, 'u1', {TIME}, {TIME})"),
            true,
        ),
        (
            "a client with an unknown status",
            "INSERT INTO clients (id, email, created_by, status) VALUES ('c9', 'c9@example.com', 'u1', 'prospect')".into(),
            false,
        ),
        (
            "a client with each known status",
            "INSERT INTO clients (id, email, created_by, status) VALUES \
             ('s1', 's1@example.com', 'u1', 'lead'), ('s2', 's2@example.com', 'u1', 'active'), \
             ('s3', 's3@example.com', 'u1', 'inactive'), ('s4', 's4@example.com', 'u1', 'churned')".into(),
            true,
        ),
        (
            "tags that are a JSON object, not an array",
            "INSERT INTO clients (id, email, created_by, tags) VALUES ('c10', 'c10@example.com', 'u1', '{\"vip\": true}')".into(),
            false,
        ),
        (
            "tags that are a JSON string, not an array",
            "INSERT INTO clients (id, email, created_by, tags) VALUES ('c11', 'c11@example.com', 'u1', '\"vip\"')".into(),
            false,
        ),
        (
            "tags that are a JSON array",
            "INSERT INTO clients (id, email, created_by, tags) VALUES ('c12', 'c12@example.com', 'u1', '[\"beta-2\", \"vip\"]')".into(),
            true,
        ),
        (
            "properties that are a JSON array, not an object",
            "INSERT INTO clients (id, email, created_by, properties) VALUES ('c13', 'c13@example.com', 'u1', '[1]')".into(),
            false,
        ),
        (
            "properties that are a JSON object",
            "INSERT INTO clients (id, email, created_by, properties) VALUES ('c14', 'c14@example.com', 'u1', '{\"plan\": \"pro\", \"seats\": 5}')".into(),
            true,
        ),
        (
            "an e-mail shorter than 3 characters",
            "INSERT INTO clients (id, email, created_by) VALUES ('c15', 'a@', 'u1')".into(),
            false,
        ),
        (
            "a first name of 101 characters",
            format!("INSERT INTO clients (id, email, created_by, first_name) VALUES ('c16', 'c16@example.com', 'u1', '{}')", "a".repeat(101)),
            false,
        ),
        (
            "a first and last name of 100 characters, a company of 200, a source of 100",
            format!(
                "INSERT INTO clients (id, email, created_by, first_name, last_name, company, source) \
                 VALUES ('c17', 'c17@example.com', 'u1', '{a}', '{a}', '{a}{a}', '{a}')",
                a = "é".repeat(100)
            ),
            true,
        ),
        (
            "a company of 201 characters",
            format!("INSERT INTO clients (id, email, created_by, company) VALUES ('c18', 'c18@example.com', 'u1', '{}')", "a".repeat(201)),
            false,
        ),
        (
            "a phone of 17 characters",
            "INSERT INTO clients (id, email, created_by, phone) VALUES ('c19', 'c19@example.com', 'u1', '+4420712345678901')".into(),
            false,
        ),
        (
            "notes of exactly 10240 UTF-8 bytes (5120 characters)",
            format!("INSERT INTO clients (id, email, created_by, notes) VALUES ('c20', 'c20@example.com', 'u1', '{}')", "é".repeat(5120)),
            true,
        ),
        (
            "notes of 10242 UTF-8 bytes (5121 characters)",
            format!("INSERT INTO clients (id, email, created_by, notes) VALUES ('c21', 'c21@example.com', 'u1', '{}')", "é".repeat(5121)),
            false,
        ),
        (
            "a version of 0",
            "INSERT INTO clients (id, email, created_by, version) VALUES ('c22', 'c22@example.com', 'u1', 0)".into(),
            false,
        ),
        (
            "a deleted_at that is not fixed-width ISO-8601 UTC",
            "INSERT INTO clients (id, email, created_by, deleted_at) VALUES ('c23', 'c23@example.com', 'u1', '2025-01-01 00:00:00')".into(),
            false,
        ),
        (
            "soft-deleting the client",
            format!("UPDATE clients SET deleted_at = {TIME}, version = version + 1 WHERE id = 'c1'"),
            true,
        ),
        (
            "the same e-mail again once the first is soft-deleted",
            "INSERT INTO clients (id, email, created_by) VALUES ('c24', 'bob@example.com', 'key-1')".into(),
            true,
        ),
        (
            "another soft-deleted client with that e-mail",
            format!("INSERT INTO clients (id, email, created_by, deleted_at) VALUES ('c25', 'bob@example.com', 'u1', {TIME})"),
            true,
        ),
        (
            "a tag row",
            "INSERT INTO client_tags (client_id, tag) VALUES ('c24', 'vip')".into(),
            true,
        ),
        (
            "the same tag twice on one client",
            "INSERT INTO client_tags (client_id, tag) VALUES ('c24', 'vip')".into(),
            false,
        ),
        (
            "a tag of a client that does not exist",
            "INSERT INTO client_tags (client_id, tag) VALUES ('nobody', 'vip')".into(),
            false,
        ),
        (
            "an empty tag",
            "INSERT INTO client_tags (client_id, tag) VALUES ('c24', '')".into(),
            false,
        ),
        (
            "a tag of 33 characters",
            format!("INSERT INTO client_tags (client_id, tag) VALUES ('c24', '{}')", "t".repeat(33)),
            false,
        ),
        (
            "a search term row",
            "INSERT INTO client_search_terms (term, client_id) VALUES ('bob', 'c24')".into(),
            true,
        ),
        (
            "the same search term twice for one client",
            "INSERT INTO client_search_terms (term, client_id) VALUES ('bob', 'c24')".into(),
            false,
        ),
        (
            "a search term of a client that does not exist",
            "INSERT INTO client_search_terms (term, client_id) VALUES ('bob', 'nobody')".into(),
            false,
        ),
        (
            "an empty search term",
            "INSERT INTO client_search_terms (term, client_id) VALUES ('', 'c24')".into(),
            false,
        ),
        (
            "an idempotency key",
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, response_body, client_id, expires_at) \
             VALUES ('user:u1', 'k-1', 'h', 201, '{}', 'c24', '2025-01-02T00:00:00.000Z')".into(),
            true,
        ),
        (
            "the same idempotency key again for the same principal",
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, response_body, expires_at) \
             VALUES ('user:u1', 'k-1', 'h2', 201, '{}', '2025-01-02T00:00:00.000Z')".into(),
            false,
        ),
        (
            "the same idempotency key for another principal",
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, response_body, expires_at) \
             VALUES ('api_key:key-1', 'k-1', 'h', 201, '{}', '2025-01-02T00:00:00.000Z')".into(),
            true,
        ),
        (
            "an empty idempotency key",
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, response_body, expires_at) \
             VALUES ('user:u1', '', 'h', 201, '{}', '2025-01-02T00:00:00.000Z')".into(),
            false,
        ),
        (
            "an idempotency key of 256 characters",
            format!(
                "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, response_body, expires_at) \
                 VALUES ('user:u1', '{}', 'h', 201, '{{}}', '2025-01-02T00:00:00.000Z')",
                "k".repeat(256)
            ),
            false,
        ),
        (
            "an idempotency key whose expiry is not fixed-width ISO-8601 UTC",
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, response_body, expires_at) \
             VALUES ('user:u1', 'k-2', 'h', 201, '{}', '2025-01-02')".into(),
            false,
        ),
        (
            "an outbox entry for a client",
            "INSERT INTO loops_outbox (id, client_id, operation, payload, idempotency_key) VALUES ('o1', 'c24', 'create', '{\"client\": {}}', 'ok1')".into(),
            true,
        ),
        (
            "deleting a user who created clients (the book has no owners)",
            "DELETE FROM users WHERE id = 'u1'".into(),
            true,
        ),
    ]
}

#[tokio::test]
async fn constraints_accept_and_reject_the_same_rows_on_both_dialects() {
    for db in migrated().await {
        for (what, sql, accepted) in cases() {
            let result = db.exec(&sql).await;

            assert_eq!(
                result.is_ok(),
                accepted,
                "{}: {what}: {result:?}",
                db.name()
            );
        }
    }
}

/// 0004: a search row carries its client's created_at; a writer that gives none (the
/// previous release during a rollout) gets the client's; a given one is kept.
#[tokio::test]
async fn a_search_row_written_without_created_at_takes_its_clients() {
    for db in migrated().await {
        db.exec(
            "INSERT INTO clients (id, email, created_by, created_at, updated_at) VALUES \
             ('c1', 'ada@example.com', 'u1', '2025-01-02T03:04:05.678Z', '2025-01-02T03:04:05.678Z'); \
             INSERT INTO client_search_terms (term, client_id) VALUES ('ada', 'c1'); \
             INSERT INTO client_search_terms (term, client_id, created_at) \
             VALUES ('lovelace', 'c1', '2025-01-02T03:04:05.678Z')",
        )
        .await
        .unwrap();

        let rows = db
            .strings(
                "SELECT term || ' ' || client_id || ' ' || created_at \
                 FROM client_search_terms ORDER BY term",
            )
            .await;

        assert_eq!(
            rows,
            [
                "ada c1 2025-01-02T03:04:05.678Z",
                "lovelace c1 2025-01-02T03:04:05.678Z"
            ],
            "{}",
            db.name()
        );
        let orphan = db
            .exec("INSERT INTO client_search_terms (term, client_id) VALUES ('bob', 'nobody')")
            .await;
        assert!(orphan.is_err(), "{}: a row of no client", db.name());
    }
}

#[tokio::test]
async fn deleting_a_client_row_deletes_its_tag_and_search_rows() {
    for db in migrated().await {
        db.exec(
            "INSERT INTO clients (id, email, created_by, tags) VALUES \
             ('c1', 'ada@example.com', 'u1', '[\"vip\"]'), ('c2', 'bob@example.com', 'u1', '[\"vip\"]'); \
             INSERT INTO client_tags (client_id, tag) VALUES ('c1', 'vip'), ('c2', 'vip'); \
             INSERT INTO client_search_terms (term, client_id) VALUES \
             ('ada', 'c1'), ('ada@example.com', 'c1'), ('example.com', 'c1'), ('bob', 'c2')",
        )
        .await
        .unwrap();

        db.exec("DELETE FROM clients WHERE id = 'c1'")
            .await
            .unwrap();
        let left = db
            .strings(
                "SELECT 'tag ' || client_id FROM client_tags \
                 UNION ALL SELECT 'term ' || client_id FROM client_search_terms ORDER BY 1",
            )
            .await;

        assert_eq!(left, ["tag c2", "term c2"], "{}", db.name());
    }
}

#[tokio::test]
async fn deleting_a_user_without_clients_removes_their_tokens_and_keys() {
    for db in migrated().await {
        db.exec(USER).await.unwrap();
        db.exec(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) \
             VALUES ('r1', 'u1', 'f1', 'h1', '2999-01-01T00:00:00.000Z'); \
             INSERT INTO api_keys (id, user_id, name, prefix, key_hash) \
             VALUES ('k1', 'u1', 'ci', 'crm_abc', 'h')",
        )
        .await
        .unwrap();

        db.exec("DELETE FROM users WHERE id = 'u1'").await.unwrap();
        let left = db
            .strings("SELECT id FROM refresh_tokens UNION ALL SELECT id FROM api_keys")
            .await;

        assert_eq!(left, Vec::<String>::new(), "{}", db.name());
    }
}
