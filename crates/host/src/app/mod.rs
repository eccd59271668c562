//! A loaded application: manifest, compiled components, routes and backends.

pub mod builder;
pub mod manifest;
pub mod runtime_config;

use crate::allowed_hosts::{AllowedHost, OutboundPolicy};
use crate::app::manifest::{ComponentDecl, Manifest};
use crate::app::runtime_config::RuntimeConfig;
use crate::bindings;
use crate::http::routes::Router;
use crate::key_value::KvRegistry;
use crate::postgres::pool::{PgPoolSettings, PgPools};
use crate::sqlite::SqliteRegistry;
use crate::state::{ComponentContext, RequestState};
use crate::variables::{VariableSources, Variables};
use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Backends shared by every request of the application.
pub struct AppServices {
    pub variables: Variables,
    pub key_value: KvRegistry,
    pub sqlite: SqliteRegistry,
    pub postgres: PgPools,
}

/// A component ready to serve: its grants and its pre-instantiated proxy.
pub struct LoadedComponent {
    pub context: Arc<ComponentContext>,
    pub pre: ProxyPre<RequestState>,
}

/// Everything the server needs to route and run requests.
pub struct App {
    pub manifest: Manifest,
    pub engine: Engine,
    pub services: Arc<AppServices>,
    pub components: HashMap<String, Arc<LoadedComponent>>,
    pub router: Router<String>,
}

/// What `App::load` needs besides the engine.
pub struct LoadOptions {
    pub manifest_path: PathBuf,
    pub runtime_config_file: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub variables: VariableSources,
    pub postgres: PgPoolSettings,
}

impl App {
    /// Read the manifest and runtime config, resolve variables, compile every component.
    pub fn load(options: &LoadOptions, engine: Engine) -> anyhow::Result<App> {
        let manifest = Manifest::load(&options.manifest_path)?;
        let state_dir = options
            .state_dir
            .clone()
            .unwrap_or_else(|| manifest.base_dir.join(".spin"));
        let runtime = RuntimeConfig::load(options.runtime_config_file.as_deref(), &state_dir)?;
        let variables = Variables::resolve(&manifest.variables, &options.variables)?;
        let linker = build_linker(&engine)?;
        let component_ids: Vec<String> = manifest.components.keys().cloned().collect();
        let mut components = HashMap::new();
        for (id, decl) in &manifest.components {
            let context = Arc::new(component_context(id, decl, &variables, &component_ids)?);
            let pre = prepare(&engine, &linker, &manifest, id, decl)?;
            components.insert(id.clone(), Arc::new(LoadedComponent { context, pre }));
        }
        let router = Router::new(
            manifest
                .http_triggers
                .iter()
                .filter_map(|t| t.route.clone().map(|r| (r, t.component.clone())))
                .collect(),
        );
        let services = Arc::new(AppServices {
            variables,
            key_value: KvRegistry::new(runtime.key_value_stores),
            sqlite: SqliteRegistry::new(runtime.sqlite_databases),
            postgres: PgPools::new(options.postgres),
        });
        Ok(App {
            manifest,
            engine,
            services,
            components,
            router,
        })
    }
}

fn build_linker(engine: &Engine) -> anyhow::Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    bindings::Host_::add_to_linker::<RequestState, HasSelf<RequestState>>(&mut linker, |s| s)?;
    Ok(linker)
}

fn prepare(
    engine: &Engine,
    linker: &Linker<RequestState>,
    manifest: &Manifest,
    id: &str,
    decl: &ComponentDecl,
) -> anyhow::Result<ProxyPre<RequestState>> {
    let path = manifest.source_path(decl);
    if !path.is_file() {
        bail!(
            "component `{id}`: source {} does not exist; build it first with `crm-host build` (or `crm-host up --build`)",
            path.display()
        );
    }
    let component = Component::from_file(engine, &path)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("component `{id}`: failed to compile {}", path.display()))?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!("component `{id}`: imports an interface crm-host does not provide")
        })?;
    ProxyPre::new(pre)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("component `{id}`: does not export wasi:http/incoming-handler"))
}

fn component_context(
    id: &str,
    decl: &ComponentDecl,
    variables: &Variables,
    component_ids: &[String],
) -> anyhow::Result<ComponentContext> {
    let mut allowed = Vec::new();
    for entry in &decl.allowed_outbound_hosts {
        let context = || format!("`component.{id}.allowed_outbound_hosts` is malformed: `{entry}`");
        let rendered = variables.render(entry).with_context(context)?;
        // As Spin 4: an entry whose variables leave no host is skipped, not an error.
        if matches!(rendered.trim(), "" | "http://" | "https://") {
            continue;
        }
        allowed.push(AllowedHost::parse(&rendered).with_context(context)?);
    }
    Ok(ComponentContext {
        id: id.into(),
        key_value_stores: decl.key_value_stores.clone(),
        sqlite_databases: decl.sqlite_databases.clone(),
        variables: decl.variables.clone(),
        environment: decl.environment.clone().into_iter().collect(),
        outbound: Arc::new(OutboundPolicy::new(allowed, component_ids)),
    })
}
