//! runtime-config.toml in Spin's format: where each KV store and SQLite database lives.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Resolved backing for every store and database label.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    pub key_value_stores: BTreeMap<String, StoreBackend>,
    pub sqlite_databases: BTreeMap<String, StoreBackend>,
}

/// Where one labelled store or database lives.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreBackend {
    /// Spin's `type = "spin"`: a local SQLite file.
    SqliteFile(PathBuf),
    /// Spin's `type = "redis"` key-value store.
    Redis { url: String },
}

#[derive(Deserialize)]
struct RawRuntimeConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
    #[serde(default)]
    sqlite_database: BTreeMap<String, RawStore>,
    /// Spin's `[[config_provider]]` (Vault, Azure Key Vault): production only.
    #[serde(default)]
    config_provider: Vec<toml::Value>,
}

#[derive(Deserialize)]
struct RawStore {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: Option<PathBuf>,
    #[serde(default)]
    url: Option<String>,
}

/// Spin's default file for the `default` key-value store.
pub const DEFAULT_KV_FILE: &str = "sqlite_key_value.db";
/// Spin's default file for the `default` SQLite database.
pub const DEFAULT_SQLITE_FILE: &str = "sqlite_db.db";

impl RuntimeConfig {
    /// Spin's defaults: `default` store and database as files in the state dir.
    pub fn defaults(state_dir: &Path) -> RuntimeConfig {
        RuntimeConfig {
            key_value_stores: BTreeMap::from([(
                "default".to_owned(),
                StoreBackend::SqliteFile(state_dir.join(DEFAULT_KV_FILE)),
            )]),
            sqlite_databases: BTreeMap::from([(
                "default".to_owned(),
                StoreBackend::SqliteFile(state_dir.join(DEFAULT_SQLITE_FILE)),
            )]),
        }
    }

    /// Load `file` over Spin's defaults. Relative paths resolve as Spin resolves them:
    /// a key-value store's against the file's own directory, a SQLite database's against
    /// the working directory.
    pub fn load(file: Option<&Path>, state_dir: &Path) -> anyhow::Result<RuntimeConfig> {
        let mut config = Self::defaults(state_dir);
        let Some(file) = file else {
            return Ok(config);
        };
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("Failed to read runtime config {}", file.display()))?;
        let base = file.parent().unwrap_or(Path::new("."));
        config
            .merge(&text, base, state_dir)
            .with_context(|| format!("Invalid runtime config {}", file.display()))?;
        Ok(config)
    }

    fn merge(&mut self, text: &str, base: &Path, state_dir: &Path) -> anyhow::Result<()> {
        let raw: RawRuntimeConfig = toml::from_str(text)?;
        if !raw.config_provider.is_empty() {
            crate::log::warn(
                "[[config_provider]] is not supported by crm-host and is ignored: set secrets with SPIN_VARIABLE_* or --variable",
                &[("providers", raw.config_provider.len().into())],
            );
        }
        for (label, store) in raw.key_value_store {
            let backend = store
                .resolve(base, state_dir, DEFAULT_KV_FILE, &label)
                .with_context(|| format!("`key_value_store.{label}`"))?;
            self.key_value_stores.insert(label, backend);
        }
        // As Spin (`crates/runtime-config`, `sqlite_config_resolver`, 3.6 and 4.x): a relative
        // database path resolves against the working directory, unlike a key-value
        // store's, which resolves against this file's directory.
        let working_dir =
            std::env::current_dir().context("Failed to read the working directory")?;
        for (label, db) in raw.sqlite_database {
            if db.kind == "redis" {
                bail!(
                    "`sqlite_database.{label}`: `type = \"redis\"` is a key-value store type; SQLite databases support \"spin\""
                );
            }
            let backend = db
                .resolve(&working_dir, state_dir, DEFAULT_SQLITE_FILE, &label)
                .with_context(|| format!("`sqlite_database.{label}`"))?;
            self.sqlite_databases.insert(label, backend);
        }
        Ok(())
    }
}

impl RawStore {
    fn resolve(
        self,
        base: &Path,
        state_dir: &Path,
        default_file: &str,
        label: &str,
    ) -> anyhow::Result<StoreBackend> {
        match self.kind.as_str() {
            "spin" => {
                let path = match self.path {
                    Some(path) if path.is_absolute() => path,
                    Some(path) => base.join(path),
                    None if label == "default" => state_dir.join(default_file),
                    None => bail!("`path` is required for a `spin` store other than `default`"),
                };
                Ok(StoreBackend::SqliteFile(path))
            }
            "redis" => match self.url {
                Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                    Ok(StoreBackend::Redis { url })
                }
                Some(url) => bail!("`url` must be a redis:// or rediss:// URL, not `{url}`"),
                None => bail!("`url` is required for `type = \"redis\"`"),
            },
            other => bail!(
                "`type = \"{other}\"` is not supported by crm-host; supported: \"spin\", \"redis\""
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_config_file() {
        let mut config = RuntimeConfig::defaults(Path::new("/state"));
        let text = "[key_value_store.cache]\ntype = \"spin\"\npath = \"data/cache.db\"\n";
        config
            .merge(text, Path::new("/etc/app"), Path::new("/state"))
            .unwrap();
        assert_eq!(
            config.key_value_stores["cache"],
            StoreBackend::SqliteFile(PathBuf::from("/etc/app/data/cache.db"))
        );
        assert_eq!(
            config.sqlite_databases["default"],
            StoreBackend::SqliteFile(PathBuf::from("/state/sqlite_db.db"))
        );
    }

    #[test]
    fn a_relative_database_path_resolves_against_the_working_directory_as_on_spin() {
        let mut config = RuntimeConfig::defaults(Path::new("/state"));
        let text = "[sqlite_database.default]\ntype = \"spin\"\npath = \"data/app.db\"\n\n[key_value_store.default]\ntype = \"spin\"\npath = \"data/kv.db\"\n";
        config
            .merge(text, Path::new("/etc/app"), Path::new("/state"))
            .unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            config.sqlite_databases["default"],
            StoreBackend::SqliteFile(cwd.join("data/app.db"))
        );
        assert_eq!(
            config.key_value_stores["default"],
            StoreBackend::SqliteFile(PathBuf::from("/etc/app/data/kv.db"))
        );
    }

    #[test]
    fn redis_stores_need_a_redis_url() {
        for (text, why) in [
            ("[key_value_store.default]\ntype = \"redis\"\n", "no url"),
            (
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"http://x\"\n",
                "not redis://",
            ),
            (
                "[sqlite_database.default]\ntype = \"redis\"\nurl = \"redis://x\"\n",
                "redis is no database",
            ),
        ] {
            let mut config = RuntimeConfig::defaults(Path::new("/state"));
            assert!(
                config
                    .merge(text, Path::new("/"), Path::new("/state"))
                    .is_err(),
                "{why}"
            );
        }
        let mut config = RuntimeConfig::defaults(Path::new("/state"));
        let text =
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n";
        config
            .merge(text, Path::new("/"), Path::new("/state"))
            .unwrap();
        assert_eq!(
            config.key_value_stores["default"],
            StoreBackend::Redis {
                url: "redis://127.0.0.1:6379".into()
            }
        );
    }

    #[test]
    fn unknown_store_types_are_rejected_by_name() {
        let mut config = RuntimeConfig::defaults(Path::new("/state"));
        let text = "[key_value_store.default]\ntype = \"dynamo\"\n";
        let err = config
            .merge(text, Path::new("/"), Path::new("/state"))
            .unwrap_err();
        assert!(format!("{err:#}").contains("dynamo"), "{err:#}");
    }
}
