//! The `api_keys` table: the public prefix and the SHA-256 hex of the whole key (so the
//! shared cache entry `cache:api-key:<key_hash>` can be deleted at revocation), a tier and
//! a role (never admin).

use super::{text, undecodable};
use crate::cursor::PageRequest;
use crm_domain::auth::{Role, Tier};
use crm_platform::db::{Database, DbError, Row, Value};

const COLUMNS: &str =
    "id, name, prefix, key_hash, tier, role, created_at, last_used_at, expires_at, revoked_at";

/// A stored key (its hash never leaves the component).
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub tier: Tier,
    pub role: Role,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A key to insert.
pub struct ApiKeyRow<'a> {
    pub id: &'a str,
    pub owner_id: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub tier: Tier,
    pub role: Role,
    pub now: &'a str,
}

fn decode(row: Row<'_>) -> Result<ApiKeyRecord, DbError> {
    let tier = row.text("tier")?;
    let role = row.text("role")?;
    Ok(ApiKeyRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        key_hash: row.text("key_hash")?,
        tier: Tier::parse(&tier).map_err(|error| undecodable("tier", error))?,
        role: Role::parse(&role).map_err(|error| undecodable("role", error))?,
        created_at: row.text("created_at")?,
        last_used_at: row.opt_text("last_used_at")?,
        expires_at: row.opt_text("expires_at")?,
        revoked_at: row.opt_text("revoked_at")?,
    })
}

pub fn insert(db: &Database, key: &ApiKeyRow<'_>) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, tier, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            text(key.id),
            text(key.owner_id),
            text(key.name),
            text(key.prefix),
            text(key.key_hash),
            text(key.tier.as_str()),
            text(key.role.as_str()),
            text(key.now),
        ],
    )?;
    Ok(())
}

pub fn find_by_id(db: &Database, id: &str) -> Result<Option<ApiKeyRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
    db.query(&sql, &[text(id)])?.first().map(decode).transpose()
}

/// The key with this hash if it is neither revoked nor expired at `now`.
pub fn find_usable_by_hash(
    db: &Database,
    key_hash: &str,
    now: &str,
) -> Result<Option<ApiKeyRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $2)"
    );
    db.query(&sql, &[text(key_hash), text(now)])?
        .first()
        .map(decode)
        .transpose()
}

/// Up to `page.limit + 1` keys after the cursor, oldest first.
pub fn page(db: &Database, page: &PageRequest) -> Result<Vec<ApiKeyRecord>, DbError> {
    let fetch = Value::Int(i64::from(page.limit) + 1);
    let rows = match &page.after {
        None => db.query(
            &format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id LIMIT $1"),
            &[fetch],
        )?,
        Some(after) => db.query(
            &format!(
                "SELECT {COLUMNS} FROM api_keys WHERE created_at > $1 \
                 OR (created_at = $1 AND id > $2) ORDER BY created_at, id LIMIT $3"
            ),
            &[text(&after.created_at), text(&after.id), fetch],
        )?,
    };
    rows.iter().map(decode).collect()
}

/// Revokes the key if it is live; `false` when it already was revoked.
pub fn revoke(db: &Database, id: &str, now: &str) -> Result<bool, DbError> {
    let changed = db.execute(
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[text(id), text(now)],
    )?;
    Ok(changed > 0)
}

pub fn touch(db: &Database, id: &str, now: &str) -> Result<(), DbError> {
    db.execute(
        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1",
        &[text(id), text(now)],
    )?;
    Ok(())
}
