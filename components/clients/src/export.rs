//! `GET /api/clients/export` (admin): every live client as NDJSON, in `created_at, id`
//! order, read and written [`PAGE_ROWS`] at a time so memory stays bounded whatever the
//! size of the book. The caller, the role and the first page are checked before the 200
//! is sent (so those failures are ordinary problem responses); a database failure after
//! that ends the guest without finishing the body, so the client sees a cut transfer,
//! never an export that looks complete.

use crate::body;
use crate::store::list;
use crate::{COMPONENT, store};
use crm_domain::auth::Role;
use crm_domain::clients::{ListQuery, Sort};
use crm_domain::{Level, LogLine};
use crm_platform::auth;
use crm_platform::db::Database;
use crm_platform::http_kit::{self, ApiError, REQUEST_ID_HEADER};
use futures::SinkExt;
use spin_sdk::http::{IncomingRequest, OutgoingResponse, Response, ResponseOutparam};

/// Rows per database read and per body chunk.
pub const PAGE_ROWS: u32 = 500;

const NDJSON: &str = "application/x-ndjson";

pub async fn stream(incoming: IncomingRequest, response_out: ResponseOutparam) {
    let (request, _) = body::read(incoming, 0).await;
    let mut started: Option<(Database, list::Page, crm_domain::RequestId)> = None;
    let response = http_kit::serve_public_async(COMPONENT, request, async |request, request_id| {
        if !request.query().is_empty() {
            return Err(ApiError::BadRequest(
                "The export takes no parameters.".into(),
            ));
        }
        let principal = auth::authenticate(request).await?;
        auth::require(&principal, Role::Admin)?;
        let db = Database::open()?;
        let first = store::list::page(&db, &page_query(None))?;
        started = Some((db, first, request_id.clone()));
        Ok(Response::builder()
            .status(200)
            .header("content-type", NDJSON)
            .header("cache-control", "no-store")
            .header(REQUEST_ID_HEADER, request_id.as_str())
            .build())
    })
    .await;
    let Some((db, first, request_id)) = started else {
        body::send(response_out, response).await;
        return;
    };
    let outgoing = match OutgoingResponse::try_from(response) {
        Ok(outgoing) => outgoing,
        Err(error) => {
            eprintln!("clients: the export response could not be built: {error}");
            return;
        }
    };
    let mut sink = outgoing.take_body();
    response_out.set(outgoing);
    let mut page = first;
    let mut sent = 0usize;
    loop {
        let mut chunk = Vec::new();
        for client in &page.clients {
            serde_json::to_writer(&mut chunk, client).unwrap_or_default();
            chunk.push(b'\n');
        }
        sent += page.clients.len();
        if !chunk.is_empty() && sink.send(chunk).await.is_err() {
            log(
                Level::Warn,
                "export: the client went away",
                &request_id,
                sent,
            );
            return;
        }
        let Some(next) = page.next else { break };
        page = match store::list::page(&db, &page_query(Some(next))) {
            Ok(page) => page,
            Err(error) => {
                log(
                    Level::Error,
                    "export: a page could not be read; the transfer is cut",
                    &request_id,
                    sent,
                );
                eprintln!("clients: export failed after {sent} rows: {error}");
                // Unwinding is not available on wasm: this traps, and the host ends the
                // response without its final chunk.
                std::process::abort();
            }
        };
    }
    drop(sink);
    log(Level::Info, "export finished", &request_id, sent);
}

fn page_query(after: Option<crm_domain::clients::Position>) -> ListQuery {
    ListQuery {
        limit: PAGE_ROWS,
        after,
        words: Vec::new(),
        status: None,
        tag: None,
        created_after: None,
        created_before: None,
        sort: Sort::CreatedAt,
    }
}

fn log(level: Level, message: &str, request_id: &crm_domain::RequestId, rows: usize) {
    crm_platform::log::emit(
        LogLine::new(level, COMPONENT, message)
            .field("request_id", request_id.as_str())
            .field("rows", rows as u64),
    );
}
