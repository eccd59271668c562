//! Database migrations (`crm_host::migrate`) on SQLite, and on PostgreSQL when configured.

mod clients;
mod plans;
mod schema;
mod support;

use crm_host::migrate::{MigrationFile, Migrations, Problem, ValidationError, pending_count};
use support::{TestDb, databases, edit};

fn versions(files: &[MigrationFile]) -> Vec<i64> {
    files.iter().map(|m| m.version).collect()
}

fn problems(result: anyhow::Result<()>, db: &TestDb) -> Vec<Problem> {
    let err = result.expect_err(db.name());
    err.downcast_ref::<ValidationError>()
        .unwrap_or_else(|| panic!("{}: not a ValidationError: {err:#}", db.name()))
        .problems
        .clone()
}

#[tokio::test]
async fn migrating_up_then_down_to_zero_then_up_again_leaves_an_identical_schema() {
    for db in databases().await {
        let migrations = Migrations::load(&db.repo_migrations()).await.unwrap();

        migrations.up(&db.database, None).await.unwrap();
        let first = db.schema().await;
        let reverted = migrations.down(&db.database, Some(0)).await.unwrap();
        let empty = db.schema().await;
        migrations.up(&db.database, None).await.unwrap();
        let second = db.schema().await;

        let name = db.name();
        for table in [
            "users",
            "refresh_tokens",
            "api_keys",
            "clients",
            "loops_outbox",
            "audit_log",
            "client_tags",
            "client_search_terms",
            "idempotency_keys",
        ] {
            assert!(
                first.iter().any(|line| line.contains(table)),
                "{name}: no {table}: {first:#?}"
            );
        }
        let mut newest_first = versions(&migrations.files());
        newest_first.reverse();
        assert_eq!(
            versions(&reverted),
            newest_first,
            "{name}: reverted newest first"
        );
        assert_eq!(
            empty,
            Vec::<String>::new(),
            "{name}: down to 0 left objects behind"
        );
        assert_eq!(
            first, second,
            "{name}: the schema differs after down and up"
        );
    }
}

#[tokio::test]
async fn status_lists_applied_migrations_with_their_time_and_pending_ones() {
    for db in databases().await {
        let dir = db.extended_migrations();
        let migrations = Migrations::load(dir.path()).await.unwrap();
        let name = db.name();

        let fresh = migrations.status(&db.database).await.unwrap();
        assert_eq!(fresh.applied, vec![], "{name}");
        assert_eq!(versions(&fresh.pending), [1, 2, 3], "{name}");
        assert_eq!(
            pending_count(&db.database, dir.path()).await.unwrap(),
            3,
            "{name}"
        );

        let applied = migrations.up(&db.database, Some(2)).await.unwrap();
        let status = migrations.status(&db.database).await.unwrap();

        assert_eq!(versions(&applied), [1, 2], "{name}");
        let applied: Vec<(i64, &str)> = status
            .applied
            .iter()
            .map(|m| (m.version, m.description.as_str()))
            .collect();
        assert_eq!(applied, [(1, "initial schema"), (2, "add tags")], "{name}");
        for m in &status.applied {
            assert!(
                m.applied_at.ends_with(" UTC") && m.applied_at.len() == 23,
                "{name}: {m:?}"
            );
        }
        assert_eq!(versions(&status.pending), [3], "{name}");
        assert_eq!(status.current_version(), 2, "{name}");
        assert_eq!(status.problems, vec![], "{name}");
        assert_eq!(
            pending_count(&db.database, dir.path()).await.unwrap(),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn down_to_a_version_reverts_exactly_the_migrations_above_it_newest_first() {
    for db in databases().await {
        let dir = db.extended_migrations();
        let migrations = Migrations::load(dir.path()).await.unwrap();
        migrations.up(&db.database, None).await.unwrap();
        let name = db.name();

        let reverted = migrations.down(&db.database, Some(1)).await.unwrap();
        let status = migrations.status(&db.database).await.unwrap();
        let schema = db.schema().await;

        assert_eq!(versions(&reverted), [3, 2], "{name}");
        assert_eq!(
            status.applied.iter().map(|m| m.version).collect::<Vec<_>>(),
            [1],
            "{name}"
        );
        assert_eq!(versions(&status.pending), [2, 3], "{name}");
        assert!(
            !schema.iter().any(|line| line.contains("tags")),
            "{name}: {schema:#?}"
        );
        assert!(
            schema.iter().any(|line| line.contains("users")),
            "{name}: {schema:#?}"
        );
    }
}

#[tokio::test]
async fn down_without_a_target_reverts_only_the_newest_migration() {
    for db in databases().await {
        let dir = db.extended_migrations();
        let migrations = Migrations::load(dir.path()).await.unwrap();
        migrations.up(&db.database, None).await.unwrap();

        let reverted = migrations.down(&db.database, None).await.unwrap();
        let status = migrations.status(&db.database).await.unwrap();

        assert_eq!(versions(&reverted), [3], "{}", db.name());
        assert_eq!(status.current_version(), 2, "{}", db.name());
        assert_eq!(versions(&status.pending), [3], "{}", db.name());
    }
}

#[tokio::test]
async fn validate_passes_after_a_clean_run() {
    for db in databases().await {
        let dir = db.extended_migrations();
        let migrations = Migrations::load(dir.path()).await.unwrap();

        let before = migrations.validate(&db.database).await;
        migrations.up(&db.database, None).await.unwrap();
        let after = migrations.validate(&db.database).await;

        assert!(before.is_ok(), "{}: {before:?}", db.name());
        assert!(after.is_ok(), "{}: {after:?}", db.name());
    }
}

#[tokio::test]
async fn validate_fails_naming_the_version_when_an_applied_file_was_edited() {
    for db in databases().await {
        let dir = db.extended_migrations();
        Migrations::load(dir.path())
            .await
            .unwrap()
            .up(&db.database, None)
            .await
            .unwrap();
        edit(dir.path(), "0002_add_tags.up.sql");
        let edited = Migrations::load(dir.path()).await.unwrap();

        let result = edited.validate(&db.database).await;
        let message = format!("{:#}", result.as_ref().unwrap_err());
        let found = problems(result, &db);
        let up = edited.up(&db.database, None).await;

        assert!(
            matches!(&found[..], [Problem::Edited(m)] if m.version == 2),
            "{}: {found:?}",
            db.name()
        );
        assert!(
            message.contains("0002") && message.contains("edited"),
            "{message}"
        );
        assert!(
            up.is_err(),
            "{}: up must refuse an edited history",
            db.name()
        );
    }
}

#[tokio::test]
async fn validate_fails_naming_the_version_when_an_applied_file_is_missing() {
    for db in databases().await {
        let dir = db.extended_migrations();
        Migrations::load(dir.path())
            .await
            .unwrap()
            .up(&db.database, None)
            .await
            .unwrap();
        for file in [
            "0003_index_tag_names.up.sql",
            "0003_index_tag_names.down.sql",
        ] {
            std::fs::remove_file(dir.path().join(file)).unwrap();
        }
        let shortened = Migrations::load(dir.path()).await.unwrap();

        let result = shortened.validate(&db.database).await;
        let message = format!("{:#}", result.as_ref().unwrap_err());
        let found = problems(result, &db);

        assert!(
            matches!(&found[..], [Problem::Missing(m)] if m.version == 3),
            "{}: {found:?}",
            db.name()
        );
        assert!(
            message.contains("0003") && message.contains("missing"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_migration_without_a_down_file_is_rejected_when_loading() {
    let db = &databases().await[0];
    let dir = db.extended_migrations();
    std::fs::remove_file(dir.path().join("0002_add_tags.down.sql")).unwrap();

    let err = Migrations::load(dir.path())
        .await
        .err()
        .expect("load must fail");

    let message = format!("{err:#}");
    assert!(
        message.contains("0002") && message.contains(".down.sql"),
        "{message}"
    );
}

#[tokio::test]
async fn up_to_an_unknown_version_is_refused_before_touching_the_database() {
    for db in databases().await {
        let migrations = Migrations::load(&db.repo_migrations()).await.unwrap();

        let err = migrations.up(&db.database, Some(42)).await.unwrap_err();
        let status = migrations.status(&db.database).await.unwrap();

        assert!(format!("{err:#}").contains("no migration 0042"), "{err:#}");
        assert_eq!(status.applied, vec![], "{}", db.name());
    }
}
