//! The cached reads (docs/caching.md): `GET /api/clients/{id}` and `GET /api/clients`
//! (list and search). The answer comes from the response cache when it holds it for this
//! query and what the caller may see, else from the database (and is kept); 304 when
//! `If-None-Match` names its tag. `X-Cache` says which.

use super::{client_representation, list, read_response};
use crate::{canonical_client_id, not_found, store};
use crm_domain::RequestId;
use crm_domain::auth::Principal;
use crm_domain::clients::ListQuery;
use crm_domain::clients::routes::read_scope;
use crm_platform::db::Database;
use crm_platform::http_kit::ApiError;
use crm_platform::response_cache::{self, X_CACHE_HEADER};
use spin_sdk::http::{Request, Response};

/// The response cache's namespace of the client book (moved by every write).
pub const CACHE_NAMESPACE: &str = "clients";

/// What a cached read asks for.
enum Read<'a> {
    Client(&'a str),
    Page(ListQuery),
}

/// Serves `GET template` (one of `CACHED_ROUTES`) for `principal`.
pub fn cached(
    request: &Request,
    request_id: &RequestId,
    principal: &Principal,
    template: &str,
    path_id: Option<&str>,
) -> Result<Response, ApiError> {
    let read = if template == "/api/clients/{id}" {
        Read::Client(canonical_client_id(path_id)?)
    } else {
        Read::Page(
            ListQuery::parse(request.query()).map_err(|e| ApiError::BadRequest(e.to_string()))?,
        )
    };
    let normalised = match &read {
        Read::Client(id) => (*id).to_owned(),
        Read::Page(query) => query.normalised(),
    };
    let mut lookup = response_cache::lookup(
        CACHE_NAMESPACE,
        template,
        read_scope(principal.role),
        &normalised,
    );
    let representation = match lookup.take_hit() {
        Some(representation) => representation,
        None => {
            let db = Database::open()?;
            let representation = match &read {
                Read::Client(id) => {
                    let record = store::find_live(&db, id)?.ok_or_else(|| not_found(id))?;
                    client_representation(&record)?
                }
                Read::Page(query) => list::representation(&db, query)?,
            };
            lookup.keep(&representation);
            representation
        }
    };
    let mut response = read_response(request, request_id, representation);
    response.set_header(X_CACHE_HEADER, lookup.outcome().as_str());
    if lookup.outcome() != response_cache::Outcome::Bypass {
        crm_platform::metrics::record_cache(lookup.outcome().as_str());
    }
    Ok(response)
}
