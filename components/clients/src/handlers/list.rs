//! `GET /api/clients`: filters, search, sort and keyset pages (docs/clients.md); served
//! through the response cache by `read::cached`.

use super::page_representation;
use crate::store;
use crm_domain::cache::Representation;
use crm_domain::clients::ListQuery;
use crm_platform::db::Database;
use crm_platform::http_kit::ApiError;

/// The page `query` asks for, read from the database.
pub fn representation(db: &Database, query: &ListQuery) -> Result<Representation, ApiError> {
    let page = store::list::page(db, query)?;
    let next = page.next.map(|position| query.cursor_after(&position));
    page_representation(&page.clients, next)
}
