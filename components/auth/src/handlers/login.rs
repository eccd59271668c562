//! `POST /api/auth/token`: e-mail and password for a token pair. Throttled per account and
//! per client address before any hashing; an unknown e-mail still costs one hash; the first
//! login attempt on an empty users table creates the bootstrap admin.

use crate::body;
use crate::bootstrap::ensure_first_admin;
use crate::client_address::{CLIENT_ADDR_HEADER, ip_of};
use crate::inputs::LoginBody;
use crate::kv::{self, AUTH_STORE};
use crate::now::Now;
use crate::password_hashing::{spend_one_verification, verify_password};
use crate::sessions;
use crate::settings::Settings;
use crate::store::users::{self, UserRecord};
use crate::throttle::LoginThrottle;
use crate::views::token_response;
use crm_domain::RequestId;
use crm_domain::auth::EmailAddress;
use crm_platform::db::Database;
use crm_platform::http_kit::ApiError;
use spin_sdk::http::{Request, Response};

const BAD_CREDENTIALS: &str = "The e-mail or password is wrong.";

pub fn create_token(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let login: LoginBody = body::json(request)?;
    let settings = Settings::from_variables()?;
    let now = Now::read();
    let account = login.email.trim().to_lowercase();
    let client = request
        .header(CLIENT_ADDR_HEADER)
        .and_then(|value| value.as_str());
    let throttle =
        LoginThrottle::for_login(&settings, &account, &ip_of(client), now.unix_seconds());
    let counters = kv::open(AUTH_STORE)?;
    throttle.check(&counters)?;

    let db = Database::open()?;
    ensure_first_admin(&db, request_id, &now)?;
    let Some(user) = verified_user(&db, &login)? else {
        throttle.record_failure(&counters)?;
        return Err(ApiError::unauthorized(BAD_CREDENTIALS));
    };
    if user.disabled {
        return Err(ApiError::unauthorized(BAD_CREDENTIALS));
    }
    let pair = sessions::open_family(&db, &user, &settings, &now, request_id)?;
    token_response(&pair, request_id)
}

/// The user whose password this is; exactly one hash is spent whether the e-mail is known
/// or not.
fn verified_user(db: &Database, login: &LoginBody) -> Result<Option<UserRecord>, ApiError> {
    let user = match EmailAddress::parse(&login.email) {
        Ok(email) => users::find_by_email(db, &email)?,
        Err(_) => None,
    };
    let verified = match &user {
        Some(user) => verify_password(&login.password, &user.password_hash),
        None => spend_one_verification(&login.password),
    };
    Ok(user.filter(|_| verified))
}
