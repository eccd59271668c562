//! `crm-host migrate up | down [--to N] | status | validate`, and the start-up migration
//! of `crm-host up`.

use super::{Database, Dialect, MigrationFile, Migrations, Status, default_dir};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Arguments of `crm-host migrate`.
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub action: MigrateAction,
    /// The database: postgres://… or sqlite:///absolute/path.db. Default: the app's
    /// `default` SQLite database, resolved as `crm-host up` resolves it.
    #[arg(
        long = "database-url",
        env = "CRM_DATABASE_URL",
        global = true,
        conflicts_with_all = ["runtime_config_file", "state_dir"]
    )]
    pub database_url: Option<String>,
    /// The application manifest (locates the default database and migrations).
    #[arg(short = 'f', long = "from", default_value = "spin.toml", global = true)]
    pub from: PathBuf,
    /// Spin runtime config file, as for `crm-host up`.
    #[arg(long = "runtime-config-file", global = true)]
    pub runtime_config_file: Option<PathBuf>,
    /// State directory, as for `crm-host up` (default: `.spin/` beside the manifest).
    #[arg(long = "state-dir", global = true)]
    pub state_dir: Option<PathBuf>,
    /// Migrations directory (default: `migrations/<sqlite|postgres>` beside the manifest).
    #[arg(long = "migrations", global = true)]
    pub migrations: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug, Clone, Copy)]
pub enum MigrateAction {
    /// Apply pending migrations (all, or up to and including `--to N`).
    Up {
        #[arg(long)]
        to: Option<i64>,
    },
    /// Revert the newest applied migration, or every one above `--to N` (0 = all).
    Down {
        #[arg(long)]
        to: Option<i64>,
    },
    /// List applied (with when) and pending migrations.
    Status,
    /// Fail if an applied migration's file was edited or removed.
    Validate,
}

/// Run `crm-host migrate …`; an error (including a failed validation) exits non-zero.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let database = match &args.database_url {
        Some(url) => Database::from_url(url)?,
        None => Database::app_default(
            &args.from,
            args.runtime_config_file.as_deref(),
            args.state_dir.as_deref(),
        )?,
    };
    let dir = args
        .migrations
        .clone()
        .unwrap_or_else(|| default_dir(&args.from, database.dialect()));
    let migrations = Migrations::load(&dir).await?;
    println!("Database:   {}", database.describe());
    println!("Migrations: {}", dir.display());
    match args.action {
        MigrateAction::Up { to } => {
            let applied = migrations.up(&database, to).await?;
            report("Applied", &applied, "Nothing to apply");
        }
        MigrateAction::Down { to } => {
            let reverted = migrations.down(&database, to).await?;
            report("Reverted", &reverted, "Nothing to revert");
        }
        MigrateAction::Status => {
            print_status(&migrations.status(&database).await?);
            return Ok(());
        }
        MigrateAction::Validate => {
            let status = migrations.status(&database).await?;
            status.check()?;
            println!(
                "Valid: {} applied migration(s) match their files; {} pending.",
                status.applied.len(),
                status.pending.len()
            );
            return Ok(());
        }
    }
    let status = migrations.status(&database).await?;
    println!(
        "Database is at version {:04} ({} pending).",
        status.current_version(),
        status.pending.len()
    );
    Ok(())
}

fn report(verb: &str, migrations: &[MigrationFile], nothing: &str) {
    if migrations.is_empty() {
        println!("{nothing}.");
    }
    for m in migrations {
        println!("{verb} {m}");
    }
}

fn print_status(status: &Status) {
    println!();
    println!(
        "{:<8} {:<10} {:<24} Description",
        "Version", "State", "Applied at"
    );
    for m in &status.applied {
        println!(
            "{:<8} {:<10} {:<24} {}",
            format!("{:04}", m.version),
            "applied",
            m.applied_at,
            m.description
        );
    }
    for m in &status.pending {
        println!(
            "{:<8} {:<10} {:<24} {}",
            format!("{:04}", m.version),
            "pending",
            "",
            m.description
        );
    }
    if status.applied.is_empty() && status.pending.is_empty() {
        println!("(no migrations)");
    }
    for problem in &status.problems {
        println!("Problem: {problem}");
    }
}

/// For `crm-host up`: apply pending migrations to the app's `default` SQLite database
/// when `migrations/sqlite` exists beside the manifest and that database is a local file.
pub async fn apply_on_start(
    manifest_path: &Path,
    runtime_config_file: Option<&Path>,
    state_dir: Option<&Path>,
) -> anyhow::Result<()> {
    let dir = default_dir(manifest_path, Dialect::Sqlite);
    if !dir.is_dir() {
        return Ok(());
    }
    let Some(path) =
        super::database::app_default_sqlite_file(manifest_path, runtime_config_file, state_dir)?
    else {
        return Ok(());
    };
    let database = Database::Sqlite(path);
    let applied = Migrations::load(&dir)
        .await?
        .up(&database, None)
        .await
        .with_context(|| {
            format!(
                "Failed to migrate {} (see `crm-host migrate status`)",
                database.describe()
            )
        })?;
    for m in applied {
        println!("Applied migration {m} to {}", database.describe());
    }
    Ok(())
}
