//! Per-request store data: WASI contexts, the resource table, and the
//! component's grants.

use crate::allowed_hosts::OutboundPolicy;
use crate::app::{App, AppServices};
use crate::http::invoke::RequestContext;
use crate::http::outbound::OutboundHooks;
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What a component was granted in spin.toml, resolved at start-up.
#[derive(Debug)]
pub struct ComponentContext {
    pub id: Arc<str>,
    pub key_value_stores: Vec<String>,
    pub sqlite_databases: Vec<String>,
    /// Component variable name -> template over application variables.
    pub variables: BTreeMap<String, String>,
    pub environment: Vec<(String, String)>,
    pub outbound: Arc<OutboundPolicy>,
}

/// The `T` of `Store<T>`: one per request.
pub struct RequestState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) hooks: OutboundHooks,
    pub(crate) limits: StoreLimits,
    pub(crate) component: Arc<ComponentContext>,
    pub(crate) app: Arc<AppServices>,
}

impl RequestState {
    pub fn new(
        app: &Arc<App>,
        component: Arc<ComponentContext>,
        ctx: RequestContext,
        max_memory: usize,
    ) -> RequestState {
        let mut wasi = WasiCtx::builder();
        if crate::log::capturing() {
            wasi.stdout(crate::log::CapturedStream { stderr: false })
                .stderr(crate::log::CapturedStream { stderr: true });
        } else {
            wasi.inherit_stdout().inherit_stderr();
        }
        for (key, value) in &component.environment {
            wasi.env(key, value);
        }
        RequestState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHooks {
                policy: component.outbound.clone(),
                component: component.id.clone(),
                ctx,
                app: Arc::downgrade(app),
            },
            limits: wasmtime::StoreLimitsBuilder::new()
                .memory_size(max_memory)
                .build(),
            component,
            app: app.services.clone(),
        }
    }

    /// The id of the request this store serves (shared by its chained requests).
    pub(crate) fn request_id(&self) -> &str {
        &self.hooks.ctx.request_id
    }

    /// Log a backend failure with the request's context; the guest gets only the error variant.
    pub(crate) fn log_backend_error(&self, interface: &str, label: &str, error: &str) {
        crate::log::error(
            "backend error",
            &[
                ("target_component", self.component.id.as_ref().into()),
                ("request_id", self.request_id().into()),
                ("interface", interface.into()),
                ("label", label.into()),
                ("error", error.into()),
            ],
        );
    }
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
