//! Handlers, one module per resource; each returns `Result<Response, ApiError>`.

pub mod api_keys;
pub mod flags;
pub mod jwks;
pub mod login;
pub mod me;
pub mod recent_errors;
pub mod resolve;
pub mod session;
pub mod user_update;
pub mod users;

use crate::store::users::UserRecord;
use crm_domain::RequestId;
use crm_platform::db::Database;
use crm_platform::http_kit::ApiError;
use spin_sdk::http::Request;

/// A call to a protected route: the request, its id, the open database, the checked caller
/// and the `{id}` of the path, if any.
pub struct Call<'a> {
    pub request: &'a Request,
    pub request_id: &'a RequestId,
    pub db: &'a Database,
    pub caller: &'a UserRecord,
    pub path_id: Option<&'a str>,
}

impl Call<'_> {
    /// The `{id}` segment (routes with `{id}` always have one).
    pub fn path_id(&self) -> Result<&str, ApiError> {
        self.path_id
            .ok_or_else(|| ApiError::internal("Route without an id", self.request.path()))
    }
}
