//! The `users` table: `status` is `active` or `disabled`, `role` admin, editor or viewer.

use super::{text, undecodable};
use crate::cursor::PageRequest;
use crm_domain::auth::{EmailAddress, Role};
use crm_platform::db::{Database, DbError, Row, Value};

const COLUMNS: &str =
    "id, email, password_hash, display_name, role, status, created_at, updated_at";
const ACTIVE: &str = "active";
const DISABLED: &str = "disabled";

/// A stored user (the hash never leaves the component).
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A user to insert, its password already hashed.
pub struct UserRow<'a> {
    pub id: &'a str,
    pub email: &'a EmailAddress,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub now: &'a str,
}

fn decode(row: Row<'_>) -> Result<UserRecord, DbError> {
    let role = row.text("role")?;
    let status = row.text("status")?;
    Ok(UserRecord {
        id: row.text("id")?,
        email: row.text("email")?,
        password_hash: row.text("password_hash")?,
        display_name: row.text("display_name")?,
        role: Role::parse(&role).map_err(|error| undecodable("role", error))?,
        disabled: status == DISABLED,
        created_at: row.text("created_at")?,
        updated_at: row.text("updated_at")?,
    })
}

fn one(db: &Database, sql: &str, params: &[Value]) -> Result<Option<UserRecord>, DbError> {
    db.query(sql, params)?.first().map(decode).transpose()
}

pub fn find_by_id(db: &Database, id: &str) -> Result<Option<UserRecord>, DbError> {
    one(
        db,
        &format!("SELECT {COLUMNS} FROM users WHERE id = $1"),
        &[text(id)],
    )
}

/// Case-insensitively, through the `lower(email)` unique index.
pub fn find_by_email(db: &Database, email: &EmailAddress) -> Result<Option<UserRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE lower(email) = $1");
    one(db, &sql, &[text(email.as_str())])
}

pub fn any_exists(db: &Database) -> Result<bool, DbError> {
    Ok(!db.query("SELECT id FROM users LIMIT 1", &[])?.is_empty())
}

pub fn insert(db: &Database, user: &UserRow<'_>) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO users (id, email, password_hash, display_name, role, status, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        &[
            text(user.id),
            text(user.email.as_str()),
            text(user.password_hash),
            text(user.display_name),
            text(user.role.as_str()),
            text(ACTIVE),
            text(user.now),
        ],
    )?;
    Ok(())
}

/// Up to `page.limit + 1` users after the cursor, oldest first (the extra one says whether
/// another page exists).
pub fn page(db: &Database, page: &PageRequest) -> Result<Vec<UserRecord>, DbError> {
    let fetch = Value::Int(i64::from(page.limit) + 1);
    let rows = match &page.after {
        None => db.query(
            &format!("SELECT {COLUMNS} FROM users ORDER BY created_at, id LIMIT $1"),
            &[fetch],
        )?,
        Some(after) => db.query(
            &format!(
                "SELECT {COLUMNS} FROM users WHERE created_at > $1 OR (created_at = $1 AND id > $2) \
                 ORDER BY created_at, id LIMIT $3"
            ),
            &[text(&after.created_at), text(&after.id), fetch],
        )?,
    };
    rows.iter().map(decode).collect()
}

/// Sets role and status; `false` when the user does not exist.
pub fn update_access(
    db: &Database,
    id: &str,
    role: Role,
    disabled: bool,
    now: &str,
) -> Result<bool, DbError> {
    let status = if disabled { DISABLED } else { ACTIVE };
    let changed = db.execute(
        "UPDATE users SET role = $2, status = $3, updated_at = $4 WHERE id = $1",
        &[text(id), text(role.as_str()), text(status), text(now)],
    )?;
    Ok(changed > 0)
}

pub fn update_password_hash(
    db: &Database,
    id: &str,
    password_hash: &str,
    now: &str,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
        &[text(id), text(password_hash), text(now)],
    )?;
    Ok(())
}
