//! Which database migrations are still pending, from the versions a build
//! ships and the versions the database records as applied.

/// Versions in `expected` that are not in `applied`, in ascending order.
pub fn pending_migrations(expected: &[i64], applied: &[i64]) -> Vec<i64> {
    let mut pending: Vec<i64> = expected
        .iter()
        .copied()
        .filter(|v| !applied.contains(v))
        .collect();
    pending.sort_unstable();
    pending.dedup();
    pending
}

/// Parse a migration file name (`0001_initial.up.sql`) into its version.
pub fn migration_version(file_name: &str) -> Option<i64> {
    let stem = file_name.strip_suffix(".up.sql")?;
    let (digits, _) = stem.split_once('_')?;
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_are_the_expected_versions_not_yet_applied() {
        assert_eq!(pending_migrations(&[1, 2, 3], &[1]), vec![2, 3]);
        assert_eq!(pending_migrations(&[1, 2], &[1, 2]), Vec::<i64>::new());
        assert_eq!(pending_migrations(&[2, 1], &[]), vec![1, 2]);
        // A database ahead of the build (a newer release migrated it) has nothing pending.
        assert_eq!(pending_migrations(&[1], &[1, 2]), Vec::<i64>::new());
    }

    #[test]
    fn versions_come_from_up_file_names_only() {
        for (name, want) in [
            ("0001_initial.up.sql", Some(1)),
            ("20261125_add_index.up.sql", Some(20261125)),
            ("0001_initial.down.sql", None),
            ("README.md", None),
            ("abc_initial.up.sql", None),
        ] {
            assert_eq!(migration_version(name), want, "{name}");
        }
    }
}
