//! Migration 0003 (the shared client book) on both dialects: its data migration from
//! 0002's owned clients, and up → down → up with rows written under 0002 and under 0003.

use super::schema::migrated_to;
use crm_host::migrate::Migrations;

/// Two admins (the older one inherits what API keys created, on down) and an editor.
const USERS: &str = "INSERT INTO users (id, email, password_hash, display_name, role, created_at) VALUES \
    ('u-admin', 'admin@example.com', 'h', 'Admin', 'admin', '2024-01-01T00:00:00.000Z'), \
    ('u-admin2', 'admin2@example.com', 'h', 'Admin 2', 'admin', '2024-02-01T00:00:00.000Z'), \
    ('u-editor', 'editor@example.com', 'h', 'Editor', 'editor', '2024-01-02T00:00:00.000Z')";

/// 0002's clients, owned: ada@ is live for three owners (0002 allowed it), and once more
/// soft-deleted; two dan@ share a created_at.
const CLIENTS_0002: &str = "INSERT INTO clients \
    (id, owner_user_id, email, subscribed, user_group, properties, created_at, updated_at, deleted_at, version) VALUES \
    ('c-new', 'u-editor', 'ada@example.com', TRUE, 'active', '{}', '2025-01-03T00:00:00.000Z', '2025-01-03T00:00:00.000Z', NULL, 1), \
    ('c-mid', 'u-admin', 'ada@example.com', TRUE, 'vip', '{}', '2025-01-02T00:00:00.000Z', '2025-01-02T00:00:00.000Z', NULL, 1), \
    ('c-old', 'u-admin2', 'ada@example.com', TRUE, 'churned', '{}', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', NULL, 3), \
    ('c-gone', 'u-editor', 'ada@example.com', TRUE, NULL, '{}', '2025-01-04T00:00:00.000Z', '2025-02-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z', 2), \
    ('c-bob', 'u-admin', 'bob@example.com', FALSE, NULL, '{\"plan\": \"pro\"}', '2025-01-05T00:00:00.000Z', '2025-01-05T00:00:00.000Z', NULL, 1), \
    ('c-carol', 'u-editor', 'carol@example.com', TRUE, 'Active', '{}', '2025-01-06T00:00:00.000Z', '2025-01-06T00:00:00.000Z', NULL, 1), \
    ('c-dan-a', 'u-admin', 'dan@example.com', TRUE, 'inactive', '{}', '2025-01-07T00:00:00.000Z', '2025-01-07T00:00:00.000Z', NULL, 1), \
    ('c-dan-b', 'u-editor', 'dan@example.com', TRUE, 'inactive', '{}', '2025-01-07T00:00:00.000Z', '2025-01-07T00:00:00.000Z', NULL, 1)";

/// 0003's clients: one created by an API key (with what only 0003 holds), one erased.
const CLIENTS_0003: &str = "INSERT INTO clients \
    (id, email, status, tags, notes, source, created_by, created_at, updated_at, deleted_at, erased_at) VALUES \
    ('c-key', 'erin@example.com', 'active', '[\"vip\"]', 'met at a fair', 'import', 'key-1', \
     '2025-03-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z', NULL, NULL), \
    ('c-erased', NULL, 'churned', '[]', NULL, NULL, 'u-editor', \
     '2025-03-02T00:00:00.000Z', '2025-03-03T00:00:00.000Z', '2025-03-03T00:00:00.000Z', '2025-03-03T00:00:00.000Z'); \
    INSERT INTO client_tags (client_id, tag) VALUES ('c-key', 'vip'); \
    INSERT INTO client_search_terms (term, client_id) VALUES ('erin', 'c-key'); \
    INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, response_body, client_id, expires_at) \
    VALUES ('api_key:key-1', 'k-1', 'h', 201, '{}', 'c-key', '2025-03-02T00:00:00.000Z')";

/// A 0003 client: `id email status created_by state vN`, where state is `live`,
/// `deleted`, or `deleted-now` (deleted by the migration: deleted_at = updated_at, later
/// than every seeded time).
const BOOK: &str = "SELECT id || ' ' || coalesce(email, '-') || ' ' || status || ' ' || created_by || ' ' \
    || CASE WHEN deleted_at IS NULL THEN 'live' \
       WHEN deleted_at = updated_at AND deleted_at > '2025-06-01T00:00:00.000Z' THEN 'deleted-now' \
       ELSE 'deleted' END || ' v' || version FROM clients ORDER BY id";

/// The 0003 fields that 0002 never had, and those it had that must survive.
const BOOK_DETAILS: &str = "SELECT id || ' tags=' || CAST(tags AS TEXT) || ' notes=' || coalesce(notes, '-') \
    || ' source=' || coalesce(source, '-') || ' erased=' || CASE WHEN erased_at IS NULL THEN 'no' ELSE 'yes' END \
    || ' subscribed=' || CASE WHEN subscribed THEN 'yes' ELSE 'no' END \
    || ' properties=' || CAST(properties AS TEXT) FROM clients WHERE id IN ('c-bob', 'c-key', 'c-erased') ORDER BY id";

/// A 0002 client: `id owner email user_group state vN`.
const OWNED: &str = "SELECT id || ' ' || owner_user_id || ' ' || email || ' ' || coalesce(user_group, '-') || ' ' \
    || CASE WHEN deleted_at IS NULL THEN 'live' ELSE 'deleted' END || ' v' || version FROM clients ORDER BY id";

const AFTER_FIRST_UP: &[&str] = &[
    "c-bob bob@example.com lead u-admin live v1",
    "c-carol carol@example.com lead u-editor live v1",
    "c-dan-a dan@example.com inactive u-admin deleted-now v2",
    "c-dan-b dan@example.com inactive u-editor live v1",
    "c-gone ada@example.com lead u-editor deleted v2",
    "c-mid ada@example.com lead u-admin deleted-now v2",
    "c-new ada@example.com active u-editor live v1",
    "c-old ada@example.com churned u-admin2 deleted-now v4",
];

#[tokio::test]
async fn migrating_0002_clients_maps_owner_and_group_and_keeps_one_live_email() {
    for db in migrated_to(Some(2)).await {
        db.exec(USERS).await.unwrap();
        db.exec(CLIENTS_0002).await.unwrap();

        db.up(None).await;
        let book = db.strings(BOOK).await;
        let details = db.strings(BOOK_DETAILS).await;

        assert_eq!(book, AFTER_FIRST_UP, "{}", db.name());
        assert_eq!(
            details,
            [
                "c-bob tags=[] notes=- source=- erased=no subscribed=no properties={\"plan\": \"pro\"}"
            ],
            "{}",
            db.name()
        );
    }
}

#[tokio::test]
async fn migration_0003_goes_up_down_and_up_again_keeping_what_the_spec_keeps() {
    for db in migrated_to(Some(2)).await {
        let name = db.name();
        let schema_0002 = db.schema().await;
        db.exec(USERS).await.unwrap();
        db.exec(CLIENTS_0002).await.unwrap();

        db.up(None).await;
        let schema_0003 = db.schema().await;
        db.exec(CLIENTS_0003).await.unwrap();
        db.down(2).await;
        let schema_down = db.schema().await;
        let owned = db.strings(OWNED).await;
        db.up(None).await;
        let schema_up_again = db.schema().await;
        let book = db.strings(BOOK).await;
        let details = db.strings(BOOK_DETAILS).await;

        assert_eq!(schema_down, schema_0002, "{name}: 0003 down is not 0002");
        assert_eq!(schema_up_again, schema_0003, "{name}: up, down, up differs");
        assert_eq!(
            owned,
            [
                // created_by was a user: the owner again; status kept in user_group.
                "c-bob u-admin bob@example.com lead live v1",
                "c-carol u-editor carol@example.com lead live v1",
                "c-dan-a u-admin dan@example.com inactive deleted v2",
                "c-dan-b u-editor dan@example.com inactive live v1",
                // Erased: a placeholder e-mail, still deleted.
                "c-erased u-editor c-erased@erased.invalid churned deleted v1",
                "c-gone u-editor ada@example.com lead deleted v2",
                // Created by an API key: the oldest admin owns it.
                "c-key u-admin erin@example.com active live v1",
                "c-mid u-admin ada@example.com lead deleted v2",
                "c-new u-editor ada@example.com active live v1",
                "c-old u-admin2 ada@example.com churned deleted v4",
            ],
            "{name}: after 0003 down"
        );
        // Rows the first up soft-deleted keep that deleted_at (still `deleted-now`).
        let mut expected = AFTER_FIRST_UP.to_vec();
        expected.extend([
            "c-erased c-erased@erased.invalid churned u-editor deleted v1",
            "c-key erin@example.com active u-admin live v1",
        ]);
        expected.sort();
        assert_eq!(book, expected, "{name}: after up, down, up");
        assert_eq!(
            details,
            [
                "c-bob tags=[] notes=- source=- erased=no subscribed=no properties={\"plan\": \"pro\"}",
                // What down loses: erased_at (the e-mail stays a placeholder), tags, notes,
                // source; and the tag, search and idempotency rows.
                "c-erased tags=[] notes=- source=- erased=no subscribed=yes properties={}",
                "c-key tags=[] notes=- source=- erased=no subscribed=yes properties={}",
            ],
            "{name}: after up, down, up"
        );
        assert_eq!(
            db.strings(
                "SELECT 'tag' FROM client_tags UNION ALL SELECT 'term' FROM client_search_terms \
                 UNION ALL SELECT 'key' FROM idempotency_keys"
            )
            .await,
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn down_refuses_and_changes_nothing_when_a_key_created_client_has_no_admin_to_own_it() {
    for db in migrated_to(None).await {
        let name = db.name();
        db.exec(
            "INSERT INTO clients (id, email, created_by) VALUES ('c-key', 'erin@example.com', 'key-1')",
        )
        .await
        .unwrap();
        let migrations = Migrations::load(&db.repo_migrations()).await.unwrap();

        let result = migrations.down(&db.database, Some(2)).await;
        let status = migrations.status(&db.database).await.unwrap();
        let book = db.strings(BOOK).await;

        assert!(result.is_err(), "{name}: {result:?}");
        assert_eq!(status.current_version(), 3, "{name}");
        assert_eq!(
            book,
            ["c-key erin@example.com lead key-1 live v1"],
            "{name}"
        );
    }
}
