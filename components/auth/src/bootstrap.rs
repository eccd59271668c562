//! The first admin: while the users table is empty, a login attempt creates an admin from
//! the secret variables `bootstrap_admin_email` and `bootstrap_admin_password` (checked like
//! any new user). Unset, it logs how to set them and the login fails as for bad credentials.

use crate::COMPONENT;
use crate::inputs::{CreateUserBody, NewUser};
use crate::now::Now;
use crate::password_hashing::{SALT_BYTES, hash_password};
use crate::random::random_bytes;
use crate::store::audit::{self, AuditEntry};
use crate::store::users::{self, UserRow};
use crm_domain::auth::Role;
use crm_domain::{Level, LogLine, RequestId};
use crm_platform::db::{Database, DbError};
use crm_platform::http_kit::ApiError;
use crm_platform::log;
use serde_json::json;

pub const EMAIL_VARIABLE: &str = "bootstrap_admin_email";
pub const PASSWORD_VARIABLE: &str = "bootstrap_admin_password";

const HOW_TO: &str = "no user exists yet: set SPIN_VARIABLE_BOOTSTRAP_ADMIN_EMAIL and \
     SPIN_VARIABLE_BOOTSTRAP_ADMIN_PASSWORD (from Key Vault on AKS), restart, and log in \
     with them to create the first admin";

/// Creates the first admin if no user exists and the variables allow it.
pub fn ensure_first_admin(
    db: &Database,
    request_id: &RequestId,
    now: &Now,
) -> Result<(), ApiError> {
    if users::any_exists(db)? {
        return Ok(());
    }
    let Some(admin) = configured_admin(request_id) else {
        return Ok(());
    };
    let password_hash = hash_password(&admin.password, &random_bytes::<SALT_BYTES>()?)
        .map_err(|reason| ApiError::internal("Failed to hash the bootstrap password", reason))?;
    let id = uuid::Uuid::new_v4().to_string();
    match insert_admin(db, &admin, &id, &password_hash, request_id, now) {
        Ok(()) => {
            log::emit(
                warning(
                    request_id,
                    "created the first admin; unset the bootstrap variables",
                )
                .field("user_id", id.as_str()),
            );
            Ok(())
        }
        // Another instance created it at the same moment.
        Err(DbError::UniqueViolation { .. }) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// The admin the variables describe; `None` (logged) when unset or invalid.
fn configured_admin(request_id: &RequestId) -> Option<NewUser> {
    let read = |name| spin_sdk::variables::get(name).unwrap_or_default();
    let (email, password) = (read(EMAIL_VARIABLE), read(PASSWORD_VARIABLE));
    if email.trim().is_empty() || password.is_empty() {
        log::emit(warning(request_id, HOW_TO));
        return None;
    }
    let body = CreateUserBody {
        email,
        password,
        role: Role::Admin.as_str().to_owned(),
        display_name: None,
    };
    match body.check() {
        Ok(admin) => Some(admin),
        Err(error) => {
            // Field names and policy messages only: never the values.
            let problems = match &error {
                ApiError::Unprocessable(errors) => errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            log::emit(
                warning(request_id, "the bootstrap admin variables are invalid")
                    .field("problems", problems),
            );
            None
        }
    }
}

fn insert_admin(
    db: &Database,
    admin: &NewUser,
    id: &str,
    password_hash: &str,
    request_id: &RequestId,
    now: &Now,
) -> Result<(), DbError> {
    let row = UserRow {
        id,
        email: &admin.email,
        password_hash,
        display_name: &admin.display_name,
        role: Role::Admin,
        now: &now.timestamp,
    };
    let entry = AuditEntry {
        actor: None,
        action: "user.bootstrap",
        entity_type: "user",
        entity_id: Some(id),
        details: json!({ "role": Role::Admin }),
    };
    db.transaction(|tx| {
        users::insert(tx, &row)?;
        audit::record(tx, &entry, request_id, &now.timestamp)
    })
}

/// A warning line of this component about `request_id`.
fn warning(request_id: &RequestId, message: &str) -> LogLine {
    LogLine::new(Level::Warn, COMPONENT, message).field("request_id", request_id.as_str())
}
