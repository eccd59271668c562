//! Database migrations: reversible `NNNN_name.up.sql` / `NNNN_name.down.sql` files in
//! `migrations/<dialect>/`, applied and reverted by sqlx's migrator, which keeps its
//! history (version, description, checksum, applied time) in `_sqlx_migrations`.

mod cli;
mod database;
mod status;

pub use cli::{MigrateAction, MigrateArgs, apply_on_start, run};
pub use database::{Database, Dialect};
pub use status::{AppliedMigration, MigrationFile, Problem, Status, ValidationError};

use anyhow::{Context, bail};
use sqlx::migrate::{MigrationType, Migrator};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A loaded migrations directory.
pub struct Migrations {
    dir: PathBuf,
    migrator: Migrator,
}

/// The migrations directory beside a manifest: `<manifest dir>/migrations/<dialect>`.
pub fn default_dir(manifest_path: &Path, dialect: Dialect) -> PathBuf {
    let base = manifest_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    base.join("migrations").join(dialect.dir_name())
}

/// How many migrations in `dir` are not applied to `database` yet.
pub async fn pending_count(database: &Database, dir: &Path) -> anyhow::Result<usize> {
    Ok(Migrations::load(dir)
        .await?
        .status(database)
        .await?
        .pending
        .len())
}

impl Migrations {
    /// Read `dir`; every version needs exactly one `.up.sql` and one `.down.sql`.
    pub async fn load(dir: &Path) -> anyhow::Result<Migrations> {
        if !dir.is_dir() {
            bail!("migrations directory {} does not exist", dir.display());
        }
        let migrator = Migrator::new(dir.to_path_buf())
            .await
            .with_context(|| format!("Failed to read migrations from {}", dir.display()))?;
        check_reversible(&migrator).with_context(|| format!("In {}", dir.display()))?;
        Ok(Migrations {
            dir: dir.to_path_buf(),
            migrator,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The migrations on disk, oldest first.
    pub fn files(&self) -> Vec<MigrationFile> {
        self.migrator
            .iter()
            .filter(|m| m.migration_type == MigrationType::ReversibleUp)
            .map(|m| MigrationFile {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect()
    }

    /// Applied and pending migrations, and any disagreement between history and files.
    pub async fn status(&self, database: &Database) -> anyhow::Result<Status> {
        let history = match database.connect(false).await? {
            Some(mut conn) => {
                let history = conn.history().await;
                conn.close().await;
                history.context("Failed to read the migration history")?
            }
            None => vec![],
        };
        Ok(self.compare(history))
    }

    /// Ok when every applied migration is on disk, unchanged, and finished.
    pub async fn validate(&self, database: &Database) -> anyhow::Result<()> {
        Ok(self.status(database).await?.check()?)
    }

    /// Apply pending migrations up to `to` (all when `None`); returns what was applied.
    pub async fn up(
        &self,
        database: &Database,
        to: Option<i64>,
    ) -> anyhow::Result<Vec<MigrationFile>> {
        if let Some(to) = to {
            self.require_version(to)?;
        }
        let before = self.status(database).await?;
        before.check()?;
        let Some(mut conn) = database.connect(true).await? else {
            bail!("cannot create {}", database.describe());
        };
        let result = conn.run(&self.migrator, to).await;
        conn.close().await;
        result.context("Failed to apply migrations")?;
        let after = self.status(database).await?;
        Ok(after
            .applied
            .iter()
            .filter(|m| !before.applied.iter().any(|b| b.version == m.version))
            .map(|m| self.file_of(m.version, &m.description))
            .collect())
    }

    /// Revert the newest applied migration, or every one above `to`, newest first;
    /// returns what was reverted.
    pub async fn down(
        &self,
        database: &Database,
        to: Option<i64>,
    ) -> anyhow::Result<Vec<MigrationFile>> {
        if let Some(to) = to.filter(|&to| to != 0) {
            self.require_version(to)?;
        }
        let before = self.status(database).await?;
        before.check()?;
        let target = match to {
            Some(to) => to,
            None => match before.applied.iter().rev().nth(1) {
                Some(previous) => previous.version,
                None => 0,
            },
        };
        if before.applied.iter().all(|m| m.version <= target) {
            return Ok(vec![]);
        }
        let Some(mut conn) = database.connect(false).await? else {
            return Ok(vec![]);
        };
        let result = conn.undo(&self.migrator, target).await;
        conn.close().await;
        result.context("Failed to revert migrations")?;
        let after = self.status(database).await?;
        Ok(before
            .applied
            .iter()
            .rev()
            .filter(|m| !after.applied.iter().any(|a| a.version == m.version))
            .map(|m| self.file_of(m.version, &m.description))
            .collect())
    }

    fn require_version(&self, version: i64) -> anyhow::Result<()> {
        if self.migrator.version_exists(version) {
            Ok(())
        } else {
            bail!(
                "there is no migration {version:04} in {}",
                self.dir.display()
            )
        }
    }

    fn file_of(&self, version: i64, description: &str) -> MigrationFile {
        MigrationFile {
            version,
            description: description.to_owned(),
        }
    }

    fn compare(&self, history: Vec<database::HistoryRow>) -> Status {
        let ups: BTreeMap<i64, &sqlx::migrate::Migration> = self
            .migrator
            .iter()
            .filter(|m| m.migration_type == MigrationType::ReversibleUp)
            .map(|m| (m.version, m))
            .collect();
        let mut status = Status::default();
        for row in &history {
            let file = self.file_of(row.version, &row.description);
            match ups.get(&row.version) {
                None => status.problems.push(Problem::Missing(file.clone())),
                Some(up) if *up.checksum != *row.checksum => {
                    status.problems.push(Problem::Edited(file.clone()))
                }
                Some(_) => {}
            }
            if !row.success {
                status.problems.push(Problem::Failed(file));
            }
            status.applied.push(AppliedMigration {
                version: row.version,
                description: row.description.clone(),
                applied_at: row.applied_at.clone(),
            });
        }
        status.pending = self
            .files()
            .into_iter()
            .filter(|f| !history.iter().any(|h| h.version == f.version))
            .collect();
        status
    }
}

/// Each version: one up and one down file with the same description; no simple `.sql`.
fn check_reversible(migrator: &Migrator) -> anyhow::Result<()> {
    let mut by_version: BTreeMap<i64, Vec<&sqlx::migrate::Migration>> = BTreeMap::new();
    for migration in migrator.iter() {
        by_version
            .entry(migration.version)
            .or_default()
            .push(migration);
    }
    for (version, files) in by_version {
        let kinds: Vec<MigrationType> = files.iter().map(|m| m.migration_type).collect();
        match kinds.as_slice() {
            [MigrationType::ReversibleUp, MigrationType::ReversibleDown]
                if files[0].description == files[1].description => {}
            [MigrationType::ReversibleUp, MigrationType::ReversibleDown] => bail!(
                "migration {version:04}: the up and down files have different names (`{}` and `{}`)",
                files[0].description,
                files[1].description
            ),
            _ if kinds.contains(&MigrationType::Simple) => bail!(
                "migration {version:04}: name it NNNN_name.up.sql with a NNNN_name.down.sql (every migration must be reversible)"
            ),
            [MigrationType::ReversibleUp] => {
                bail!("migration {version:04} has an .up.sql but no .down.sql")
            }
            [MigrationType::ReversibleDown] => {
                bail!("migration {version:04} has a .down.sql but no .up.sql")
            }
            _ => bail!("version {version:04} is used by more than one migration"),
        }
    }
    Ok(())
}
