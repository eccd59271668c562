//! The 0001 schema behaves the same on SQLite and PostgreSQL.

use super::support::{TestDb, databases};
use crm_host::migrate::Migrations;

async fn migrated() -> Vec<TestDb> {
    let dbs = databases().await;
    for db in &dbs {
        let migrations = Migrations::load(&db.repo_migrations()).await.unwrap();
        migrations.up(&db.database, None).await.unwrap();
    }
    dbs
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

    assert!(sqlite_shape.len() > 6, "{sqlite_shape:#?}");
    assert_eq!(sqlite_shape, postgres_shape);
}

const USER: &str = "INSERT INTO users (id, email, password_hash, display_name) \
                    VALUES ('u1', 'ada@example.com', 'h', 'Ada')";
const CLIENT: &str = "INSERT INTO clients (id, owner_user_id, email, subscribed) \
                      VALUES ('c1', 'u1', 'bob@example.com', TRUE)";

/// (what the row is, the statement, whether the schema accepts it), run in order.
const CASES: &[(&str, &str, bool)] = &[
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
async fn constraints_accept_and_reject_the_same_rows_on_both_dialects() {
    for db in migrated().await {
        for (what, sql, accepted) in CASES {
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
