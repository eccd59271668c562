//! Variable providers in Spin's order: `--variable`, `SPIN_VARIABLE_*` environment,
//! the `.env` file, then the manifest's defaults.

use super::dotenv::read_dotenv;
use crate::app::manifest::{VariableDecl, validate_variable_name};
use anyhow::{Context, bail};
use std::collections::BTreeMap;

/// Where variable values come from, highest priority first: `--variable`,
/// `SPIN_VARIABLE_*` environment, the `.env` file, then manifest defaults.
#[derive(Debug, Clone, Default)]
pub struct VariableSources {
    pub cli: Vec<(String, String)>,
    pub env: Vec<(String, String)>,
    pub dotenv: Option<std::path::PathBuf>,
}

/// Every application variable with its resolved value (if any).
#[derive(Debug, Default)]
pub struct Variables {
    values: BTreeMap<String, String>,
}

impl Variables {
    /// Resolve all declared variables; a required one without a value is an error naming it.
    pub fn resolve(
        decls: &BTreeMap<String, VariableDecl>,
        sources: &VariableSources,
    ) -> anyhow::Result<Variables> {
        let dotenv = match &sources.dotenv {
            Some(path) => read_dotenv(path)?,
            None => Vec::new(),
        };
        // Later entries win: the process environment overrides `.env`.
        let mut env = BTreeMap::new();
        for (key, value) in dotenv.iter().chain(sources.env.iter()) {
            if let Some(name) = env_key_to_name(key) {
                env.insert(name, value.clone());
            }
        }
        let mut cli = BTreeMap::new();
        for (name, value) in &sources.cli {
            validate_variable_name(name).context("--variable")?;
            if !decls.contains_key(name) {
                bail!("--variable {name}: the manifest declares no variable `{name}`");
            }
            cli.insert(name.clone(), value.clone());
        }
        let mut values = BTreeMap::new();
        for (name, decl) in decls {
            let value = cli
                .get(name)
                .or_else(|| env.get(name))
                .cloned()
                .or_else(|| decl.default.clone());
            match value {
                Some(value) => {
                    values.insert(name.clone(), value);
                }
                None if decl.required => bail!(
                    "required variable `{name}` has no value: set SPIN_VARIABLE_{} or pass --variable {name}=...",
                    name.to_uppercase()
                ),
                None => {}
            }
        }
        Ok(Variables { values })
    }

    /// The value of an application variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Render a `{{ var }}` template against these values.
    pub fn render(&self, template: &str) -> anyhow::Result<String> {
        crate::variables::template::render(template, |name| {
            self.get(name)
                .map(str::to_owned)
                .ok_or_else(|| format!("variable `{name}` has no value"))
        })
        .map_err(|e| match e {
            crate::variables::template::RenderError::Syntax(e) => e,
            crate::variables::template::RenderError::Lookup(msg) => anyhow::anyhow!(msg),
        })
    }
}

/// `SPIN_VARIABLE_API_TOKEN` -> `api_token`.
fn env_key_to_name(key: &str) -> Option<String> {
    key.strip_prefix("SPIN_VARIABLE_").map(str::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls() -> BTreeMap<String, VariableDecl> {
        let mut decls = BTreeMap::new();
        decls.insert(
            "greeting".into(),
            VariableDecl {
                default: Some("default".into()),
                ..Default::default()
            },
        );
        decls.insert(
            "token".into(),
            VariableDecl {
                required: true,
                secret: true,
                ..Default::default()
            },
        );
        decls
    }

    #[test]
    fn cli_beats_env_beats_default() {
        let sources = VariableSources {
            cli: vec![("token".into(), "from-cli".into())],
            env: vec![
                ("SPIN_VARIABLE_TOKEN".into(), "from-env".into()),
                ("SPIN_VARIABLE_GREETING".into(), "from-env".into()),
            ],
            dotenv: None,
        };
        let vars = Variables::resolve(&decls(), &sources).unwrap();
        assert_eq!(vars.get("token"), Some("from-cli"));
        assert_eq!(vars.get("greeting"), Some("from-env"));
    }

    #[test]
    fn missing_required_variable_is_named_in_the_error() {
        let err = Variables::resolve(&decls(), &VariableSources::default()).unwrap_err();
        assert!(err.to_string().contains("`token`"), "{err}");
    }
}
