//! spin.toml (manifest v2): parsing and validation of the parts crm-host serves.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A validated application manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The directory holding spin.toml; relative paths resolve against it.
    pub base_dir: PathBuf,
    pub application: Application,
    pub variables: BTreeMap<String, VariableDecl>,
    pub components: BTreeMap<String, ComponentDecl>,
    pub http_triggers: Vec<HttpTrigger>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
}

/// An application variable declared under `[variables]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

/// A `[component.<id>]` table.
#[derive(Debug, Clone, Deserialize)]
pub struct ComponentDecl {
    pub source: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub build: Option<BuildDecl>,
}

/// A component's `build` table, as `spin build` reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildDecl {
    pub command: String,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    pub component: String,
    /// The route as written; `None` for `route = { private = true }`.
    pub route: Option<String>,
}

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: toml::Value,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, ComponentDecl>,
}

#[derive(Default, Deserialize)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: RawRoute,
    component: toml::Value,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

impl Manifest {
    /// Read and validate the manifest at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Failed to read the manifest {}", path.display()))?;
        let base_dir = base_dir_of(path);
        Self::parse(&text, base_dir).with_context(|| format!("Invalid manifest {}", path.display()))
    }

    /// Parse and validate manifest text; `base_dir` anchors relative paths.
    pub fn parse(text: &str, base_dir: PathBuf) -> anyhow::Result<Manifest> {
        let raw: RawManifest = toml::from_str(text)?;
        if raw.spin_manifest_version.as_integer() != Some(2) {
            bail!("`spin_manifest_version` must be 2 (crm-host reads manifest v2 only)");
        }
        for (name, decl) in &raw.variables {
            validate_variable_name(name).with_context(|| format!("`variables.{name}`"))?;
            if decl.required && decl.default.is_some() {
                bail!(
                    "`variables.{name}`: a variable cannot be both `required` and have a `default`"
                );
            }
        }
        for (id, component) in &raw.component {
            validate_component(id, component, &raw.variables)?;
        }
        let http_triggers = parse_triggers(raw.trigger.http, &raw.component)?;
        Ok(Manifest {
            base_dir,
            application: raw.application,
            variables: raw.variables,
            components: raw.component,
            http_triggers,
        })
    }

    /// Absolute path of a component's `source`.
    pub fn source_path(&self, component: &ComponentDecl) -> PathBuf {
        self.base_dir.join(&component.source)
    }
}

fn parse_triggers(
    raw: Vec<RawHttpTrigger>,
    components: &BTreeMap<String, ComponentDecl>,
) -> anyhow::Result<Vec<HttpTrigger>> {
    let mut triggers = Vec::with_capacity(raw.len());
    for (index, trigger) in raw.into_iter().enumerate() {
        let field = format!("`trigger.http[{index}]`");
        let Some(component) = trigger.component.as_str().map(str::to_owned) else {
            bail!("{field}.component: must be the id of a `[component.<id>]` table");
        };
        if !components.contains_key(&component) {
            bail!("{field}.component: no `[component.{component}]` is defined");
        }
        let route = match trigger.route {
            RawRoute::Path(path) => {
                crate::http::routes::validate(&path).with_context(|| {
                    format!("{field}.route: Error parsing route {path} associated with component {component}")
                })?;
                Some(path)
            }
            RawRoute::Private { private: true } => None,
            RawRoute::Private { private: false } => bail!(
                "{field}.route: route must be a string pattern or '{{ private = true }}': '{component}' has {{ private = false }}"
            ),
        };
        triggers.push(HttpTrigger { component, route });
    }
    Ok(triggers)
}

fn validate_component(
    id: &str,
    component: &ComponentDecl,
    variables: &BTreeMap<String, VariableDecl>,
) -> anyhow::Result<()> {
    let valid_id = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_id {
        bail!("`component.{id}`: ids use lowercase letters, digits, `-` and `_`");
    }
    if component.source.trim().is_empty() {
        bail!("`component.{id}.source`: must name a .wasm file");
    }
    for (name, template) in &component.variables {
        validate_variable_name(name)
            .with_context(|| format!("`component.{id}.variables.{name}`"))?;
        for reference in crate::variables::template::references(template)
            .with_context(|| format!("`component.{id}.variables.{name}`"))?
        {
            if !variables.contains_key(&reference) {
                bail!(
                    "`component.{id}.variables.{name}`: unknown application variable `{reference}`"
                );
            }
        }
    }
    for host in &component.allowed_outbound_hosts {
        crate::variables::template::references(host)
            .with_context(|| format!("`component.{id}.allowed_outbound_hosts`: `{host}`"))?;
    }
    Ok(())
}

/// The directory holding the manifest, absolute when it can be resolved:
/// `spin.toml` (no parent) means the working directory, never an empty path.
pub fn base_dir_of(manifest: &Path) -> PathBuf {
    let dir = match manifest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// Spin's variable-name rule: lowercase ASCII letters, digits and `_`, starting with a letter.
pub fn validate_variable_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !starts_with_letter || !rest_ok {
        bail!(
            "invalid variable name `{name}`: use lowercase letters, digits and `_`, starting with a letter"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_manifest_name_lives_in_the_working_directory() {
        let here = std::fs::canonicalize(".").unwrap();
        assert_eq!(base_dir_of(Path::new("spin.toml")), here);
        assert_eq!(base_dir_of(Path::new("./spin.toml")), here);
        assert!(base_dir_of(Path::new("/nowhere/at/all/spin.toml")).ends_with("nowhere/at/all"));
    }
}
