//! `GET /api/clients`: filters, search, sort and keyset pages (docs/clients.md).

use super::page_response;
use crate::{Call, store};
use crm_domain::clients::ListQuery;
use crm_platform::http_kit::ApiError;
use spin_sdk::http::Response;

pub fn list(call: &Call<'_>) -> Result<Response, ApiError> {
    let query_text = call.request.query();
    let query = ListQuery::parse(query_text).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let page = store::list::page(call.db, &query)?;
    let next = page.next.map(|position| query.cursor_after(&position));
    page_response(
        call.request.path(),
        query_text,
        &page.clients,
        next,
        call.request_id,
    )
}
