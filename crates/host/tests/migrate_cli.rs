//! `crm-host migrate` as a user runs it: the binary, its output and its exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An app directory: the repository's spin.toml and SQLite migrations, no state yet.
fn app_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo_root().join("spin.toml"), dir.path().join("spin.toml")).unwrap();
    let migrations = dir.path().join("migrations/sqlite");
    std::fs::create_dir_all(&migrations).unwrap();
    for entry in std::fs::read_dir(repo_root().join("migrations/sqlite")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), migrations.join(entry.file_name())).unwrap();
    }
    dir
}

fn migrate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crm-host"))
        .current_dir(dir)
        .env_remove("CRM_DATABASE_URL")
        .arg("migrate")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn migrate_up_applies_to_the_apps_default_sqlite_database_and_status_lists_it() {
    let dir = app_dir();

    let up = migrate(dir.path(), &["up"]);
    let status = migrate(dir.path(), &["status"]);

    assert!(up.status.success(), "{up:?}");
    assert!(
        stdout(&up).contains("Applied 0001 (initial schema)"),
        "{up:?}"
    );
    assert!(dir.path().join(".spin/sqlite_db.db").is_file());
    assert!(status.status.success(), "{status:?}");
    let listed = stdout(&status);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("0001") && l.contains("applied") && l.contains(" UTC")),
        "{listed}"
    );
}

#[test]
fn migrate_validate_exits_non_zero_naming_an_edited_migration() {
    let dir = app_dir();
    let db = dir.path().join("state/app.db");
    let url = format!("sqlite://{}", db.display());
    let up = migrate(dir.path(), &["up", "--database-url", &url]);
    let clean = migrate(dir.path(), &["validate", "--database-url", &url]);
    let file = dir
        .path()
        .join("migrations/sqlite/0001_initial_schema.up.sql");
    let mut sql = std::fs::read_to_string(&file).unwrap();
    sql.push_str("\n-- edited\n");
    std::fs::write(&file, sql).unwrap();

    let edited = migrate(dir.path(), &["validate", "--database-url", &url]);

    assert!(up.status.success(), "{up:?}");
    assert!(clean.status.success(), "{clean:?}");
    assert_eq!(edited.status.code(), Some(1), "{edited:?}");
    let stderr = String::from_utf8_lossy(&edited.stderr);
    assert!(
        stderr.contains("0001") && stderr.contains("edited"),
        "{stderr}"
    );
}
