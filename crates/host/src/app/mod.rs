//! A loaded application: manifest, compiled components, routes and backends.

pub mod builder;
pub mod manifest;
pub mod runtime_config;

use crate::allowed_hosts::{AllowedHost, OutboundPolicy};
use crate::app::manifest::{ComponentDecl, Manifest, VariableDecl};
use crate::app::runtime_config::RuntimeConfig;
use crate::bindings;
use crate::http::limits::{Counters, Limits};
use crate::http::routes::Router;
use crate::key_value::KvRegistry;
use crate::postgres::pool::{PgPoolSettings, PgPools};
use crate::sqlite::SqliteRegistry;
use crate::state::{ComponentContext, RequestState};
use crate::variables::{VariableSources, Variables};
use anyhow::{Context, bail};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;
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
    pub limits: Limits,
    pub counters: Counters,
    /// Permits for requests being served (`--max-in-flight`).
    pub in_flight: Semaphore,
    /// The address this app listens on: where relative (`self`) requests go.
    pub self_addr: SocketAddr,
}

/// What `App::load` needs besides the engine.
pub struct LoadOptions {
    pub manifest_path: PathBuf,
    pub runtime_config_file: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub variables: VariableSources,
    pub postgres: PgPoolSettings,
    pub limits: Limits,
    pub self_addr: SocketAddr,
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
        check_labels(&manifest, &runtime)?;
        let variables = Variables::resolve(&manifest.variables, &options.variables)?;
        let linker = build_linker(&engine)?;
        let component_ids: Vec<String> = manifest.components.keys().cloned().collect();
        let mut components = HashMap::new();
        for (id, decl) in &manifest.components {
            let context = Arc::new(component_context(
                id,
                decl,
                &variables,
                &manifest.variables,
                &component_ids,
            )?);
            let pre = prepare(&engine, &linker, &manifest, id, decl)?;
            components.insert(id.clone(), Arc::new(LoadedComponent { context, pre }));
        }
        let router = build_router(&manifest)?;
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
            in_flight: Semaphore::new(options.limits.max_in_flight),
            limits: options.limits.clone(),
            counters: Counters::default(),
            self_addr: options.self_addr,
        })
    }
}

/// Spin's router over the manifest's public routes; a route string used twice goes to
/// its last use, and the loser is logged as Spin logs it.
fn build_router(manifest: &Manifest) -> anyhow::Result<Router<String>> {
    let routes = manifest
        .http_triggers
        .iter()
        .filter_map(|t| t.route.clone().map(|r| (r, t.component.clone())))
        .collect();
    let (router, duplicates) = Router::build(routes)?;
    for duplicate in duplicates {
        crate::log::error(
            "The following component routes are duplicates and will never be used",
            &[
                ("route", duplicate.route.into()),
                ("replaced_component", duplicate.replaced.into()),
                ("effective_component", duplicate.effective.into()),
            ],
        );
    }
    Ok(router)
}

/// As `spin up`: a component granted a store or database label the runtime config does
/// not define stops the app at load (Spin's `factor-key-value` and `factor-sqlite`).
fn check_labels(manifest: &Manifest, runtime: &RuntimeConfig) -> anyhow::Result<()> {
    for (id, decl) in &manifest.components {
        if let Some(label) = decl
            .key_value_stores
            .iter()
            .find(|label| !runtime.key_value_stores.contains_key(*label))
        {
            bail!("unknown key_value_stores label {label:?} for component {id:?}");
        }
    }
    let missing: Vec<String> = manifest
        .components
        .iter()
        .flat_map(|(id, decl)| {
            decl.sqlite_databases
                .iter()
                .filter(|label| !runtime.sqlite_databases.contains_key(*label))
                .map(move |label| format!("- Component {id} uses database '{label}'"))
        })
        .collect();
    if !missing.is_empty() {
        bail!(
            "One or more components use SQLite databases which are not defined.\nCheck the spelling, or pass a runtime configuration file that defines these stores.\nSee https://spinframework.dev/dynamic-configuration#sqlite-storage-runtime-configuration\nDetails:\n{}",
            missing.join("\n")
        );
    }
    Ok(())
}

fn build_linker(engine: &Engine) -> anyhow::Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    // wasi:http types from wasmtime; outgoing-handler crm-host's own (see http/outgoing_handler.rs).
    let options = wasmtime_wasi_http::p2::bindings::LinkOptions::default();
    wasmtime_wasi_http::p2::bindings::http::types::add_to_linker::<_, wasmtime_wasi_http::WasiHttp>(
        &mut linker,
        &options.into(),
        <RequestState as wasmtime_wasi_http::WasiHttpView>::http,
    )?;
    crate::http::outgoing_handler::add_to_linker(&mut linker)?;
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

/// Whether a template refers to a variable declared `secret = true`.
fn uses_secret(template: &str, declared: &BTreeMap<String, VariableDecl>) -> bool {
    crate::variables::template::references(template)
        .unwrap_or_default()
        .iter()
        .any(|name| declared.get(name).is_some_and(|d| d.secret))
}

fn component_context(
    id: &str,
    decl: &ComponentDecl,
    variables: &Variables,
    declared: &BTreeMap<String, VariableDecl>,
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
        match AllowedHost::parse(&rendered) {
            Ok(host) => allowed.push(host),
            // Spin's messages quote the rendered value: never a secret one.
            Err(_) if uses_secret(entry, declared) => bail!(
                "{}: its value comes from a secret variable and is not a valid allowed host (the value is not shown)",
                context()
            ),
            Err(e) => return Err(e.context(context())),
        }
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
