//! What `status` and `validate` report: applied and pending migrations, and problems.

use std::fmt;

/// One migration on disk (its up and down files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    pub version: i64,
    pub description: String,
}

/// One migration recorded as applied in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
    /// `YYYY-MM-DD HH:MM:SS UTC`.
    pub applied_at: String,
}

/// Why the applied history and the files on disk disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The up file of an applied migration changed since it was applied.
    Edited(MigrationFile),
    /// An applied migration has no file any more.
    Missing(MigrationFile),
    /// A migration started but did not finish (only possible with `-- no-transaction`).
    Failed(MigrationFile),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Edited(m) => write!(
                f,
                "migration {m} was edited after it was applied (checksum mismatch)"
            ),
            Problem::Missing(m) => write!(f, "migration {m} was applied but its files are missing"),
            Problem::Failed(m) => write!(
                f,
                "migration {m} failed part-way; repair the database by hand, then delete its row from _sqlx_migrations"
            ),
        }
    }
}

impl fmt::Display for MigrationFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04} ({})", self.version, self.description)
    }
}

/// `validate` failed: the problems, each naming its version.
#[derive(Debug, thiserror::Error)]
#[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ValidationError {
    pub problems: Vec<Problem>,
}

/// Where a database stands against a migrations directory.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Applied migrations, oldest first.
    pub applied: Vec<AppliedMigration>,
    /// Migrations on disk not applied yet, oldest first.
    pub pending: Vec<MigrationFile>,
    pub problems: Vec<Problem>,
}

impl Status {
    /// The newest applied version, 0 when none.
    pub fn current_version(&self) -> i64 {
        self.applied.last().map_or(0, |m| m.version)
    }

    /// Err naming every problem, if any.
    pub fn check(&self) -> Result<(), ValidationError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                problems: self.problems.clone(),
            })
        }
    }
}
