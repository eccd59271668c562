//! `GET /api/clients/{id}/history`: audit entries, oldest first, also for deleted clients;
//! tagged by its bytes (304 on a matching `If-None-Match`), not kept server-side.

use super::{page_representation, read_response};
use crate::{Call, not_found, store};
use crm_domain::clients::PageQuery;
use crm_domain::clients::list::DEFAULT_HISTORY_LIMIT;
use crm_platform::http_kit::ApiError;
use spin_sdk::http::Response;

pub fn history(call: &Call<'_>) -> Result<Response, ApiError> {
    let id = call.client_id()?;
    let query = PageQuery::parse(call.request.query(), id, DEFAULT_HISTORY_LIMIT)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if store::find_any(call.db, id)?.is_none() {
        return Err(not_found(id));
    }
    let page = store::history::page(call.db, id, &query)?;
    let next = page.next.map(|position| query.cursor_after(&position));
    let representation = page_representation(&page.entries, next)?;
    Ok(read_response(call.request, call.request_id, representation))
}
