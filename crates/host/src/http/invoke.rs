//! Running one component for one request: a fresh store whose guest yields to the runtime
//! at every epoch tick (so a busy guest cannot hold a worker thread), stopped at the
//! request deadline, and stopped when the client goes away before the response.

use crate::app::{App, LoadedComponent};
use crate::engine::MAX_GUEST_MEMORY;
use crate::http::body_limit::Exceeded;
use crate::http::limits::{Counters, GaugeGuard};
use crate::http::problem::{self, HostResponse};
use crate::state::RequestState;
use hyper::Request;
use hyper::body::Body;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

/// What one request carries through the host, chained requests included.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: Arc<str>,
    /// When the guest (and every component it chains to) must have finished.
    pub deadline: Instant,
    /// Service-chaining hops above this request (0 for a client's request).
    pub depth: u32,
}

impl RequestContext {
    /// The context of a request this one chains to: same id and deadline, one hop deeper.
    pub fn chained(&self) -> RequestContext {
        RequestContext {
            depth: self.depth + 1,
            ..self.clone()
        }
    }
}

type GuestTask = JoinHandle<wasmtime::Result<()>>;

/// Aborts the guest if dropped armed: the client went away before the response.
struct AbortOnDrop(Option<GuestTask>);

impl AbortOnDrop {
    fn disarm(mut self) -> Option<GuestTask> {
        self.0.take()
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// Instantiate `component` in a fresh store and let it answer `req`. `body_exceeded`
/// reports a request body cut off at the size limit: the answer is then 413.
pub async fn run_component<B>(
    app: &Arc<App>,
    component: &Arc<LoadedComponent>,
    req: Request<B>,
    ctx: RequestContext,
    body_exceeded: Option<Exceeded>,
) -> HostResponse
where
    B: Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let state = RequestState::new(
        app,
        component.context.clone(),
        ctx.clone(),
        MAX_GUEST_MEMORY,
    );
    let mut store = Store::new(&app.engine, state);
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let prepared = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
        .and_then(|req| Ok((req, store.data_mut().http().new_response_outparam(sender)?)));
    let (req, out) = match prepared {
        Ok(pair) => pair,
        Err(e) => return failed(component, &ctx, e.into()),
    };
    let pre = component.pre.clone();
    let running = app.clone();
    let guard = AbortOnDrop(Some(tokio::spawn(async move {
        let _running = GaugeGuard::enter(&running.counters.guests_running);
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, req, out)
            .await
    })));
    let answered = tokio::time::timeout_at(ctx.deadline, receiver).await;
    let exceeded = body_exceeded.is_some_and(|flag| flag.happened());
    match answered {
        Err(_elapsed) => {
            drop(guard);
            deadline_exceeded(app, component, &ctx, "before answering");
            problem::empty(500)
        }
        Ok(Ok(Ok(response))) => {
            if let Some(task) = guard.disarm() {
                watch_the_rest(app.clone(), component.clone(), ctx.clone(), task);
            }
            if exceeded {
                Counters::add(&app.counters.rejected_body_too_large);
                return problem::body_too_large(app.limits.max_request_body);
            }
            response
        }
        Ok(Ok(Err(code))) => failed(
            component,
            &ctx,
            anyhow::anyhow!("guest answered with error code {code:?}"),
        ),
        Ok(Err(_no_response)) => {
            let cause = match guard.disarm() {
                Some(task) => why_no_response(task, ctx.deadline).await,
                None => anyhow::anyhow!("guest task lost"),
            };
            if exceeded {
                Counters::add(&app.counters.rejected_body_too_large);
                return problem::body_too_large(app.limits.max_request_body);
            }
            failed(component, &ctx, cause)
        }
    }
}

/// The guest may still be streaming its body after the response head: bound that by the
/// deadline too, and log a late trap.
fn watch_the_rest(
    app: Arc<App>,
    component: Arc<LoadedComponent>,
    ctx: RequestContext,
    mut task: GuestTask,
) {
    tokio::spawn(async move {
        match tokio::time::timeout_at(ctx.deadline, &mut task).await {
            Err(_elapsed) => {
                task.abort();
                deadline_exceeded(&app, &component, &ctx, "while sending its body");
            }
            Ok(Ok(Err(e))) => log_failure(&component, &ctx, &e.into()),
            Ok(Err(join)) if join.is_panic() => {
                log_failure(&component, &ctx, &anyhow::anyhow!("guest task panicked"))
            }
            Ok(_) => {}
        }
    });
}

/// Why the guest ended without setting a response (it has ended, or ends by the deadline).
async fn why_no_response(mut task: GuestTask, deadline: Instant) -> anyhow::Error {
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(Ok(Ok(()))) => anyhow::anyhow!("guest returned without setting a response"),
        Ok(Ok(Err(e))) => e.into(),
        Ok(Err(join)) => anyhow::anyhow!("guest task failed: {join}"),
        Err(_elapsed) => {
            task.abort();
            anyhow::anyhow!("guest dropped its response and ran past the request deadline")
        }
    }
}

fn deadline_exceeded(app: &App, component: &LoadedComponent, ctx: &RequestContext, when: &str) {
    Counters::add(&app.counters.guest_deadline_exceeded);
    crate::log::error(
        "guest stopped at the request deadline",
        &[
            ("target_component", component.context.id.as_ref().into()),
            ("request_id", ctx.request_id.as_ref().into()),
            ("when", when.into()),
            (
                "request_timeout_ms",
                (app.limits.request_timeout.as_millis() as u64).into(),
            ),
        ],
    );
}

fn log_failure(component: &LoadedComponent, ctx: &RequestContext, error: &anyhow::Error) {
    crate::log::error(
        "component failed",
        &[
            ("target_component", component.context.id.as_ref().into()),
            ("request_id", ctx.request_id.as_ref().into()),
            ("error", format!("{error:#}").into()),
        ],
    );
}

/// A failed guest, as Spin answers it: 500 with an empty body; the cause goes to the log.
fn failed(component: &LoadedComponent, ctx: &RequestContext, error: anyhow::Error) -> HostResponse {
    log_failure(component, ctx, &error);
    problem::empty(500)
}
