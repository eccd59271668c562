//! The `refresh_tokens` table: one family per login; a rotated token is revoked and points
//! at its successor (`replaced_by`), which keeps the family's `expires_at`.

use super::text;
use crm_platform::db::{Database, DbError, Row};

/// A stored token, as far as rotation needs it.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub expires_at: String,
    pub revoked: bool,
    pub rotated: bool,
}

/// A token to insert.
pub struct RefreshRow<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub family_id: &'a str,
    pub token_hash: &'a str,
    pub issued_at: &'a str,
    pub expires_at: &'a str,
}

fn decode(row: Row<'_>) -> Result<RefreshRecord, DbError> {
    Ok(RefreshRecord {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        family_id: row.text("family_id")?,
        expires_at: row.text("expires_at")?,
        revoked: row.opt_text("revoked_at")?.is_some(),
        rotated: row.opt_text("replaced_by")?.is_some(),
    })
}

pub fn insert(db: &Database, token: &RefreshRow<'_>) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            text(token.id),
            text(token.user_id),
            text(token.family_id),
            text(token.token_hash),
            text(token.issued_at),
            text(token.expires_at),
        ],
    )?;
    Ok(())
}

pub fn find_by_hash(db: &Database, token_hash: &str) -> Result<Option<RefreshRecord>, DbError> {
    db.query(
        "SELECT id, user_id, family_id, expires_at, revoked_at, replaced_by \
         FROM refresh_tokens WHERE token_hash = $1",
        &[text(token_hash)],
    )?
    .first()
    .map(decode)
    .transpose()
}

/// Revokes `id` if it is still live; `false` when another request got there first.
pub fn claim(db: &Database, id: &str, now: &str) -> Result<bool, DbError> {
    let changed = db.execute(
        "UPDATE refresh_tokens SET revoked_at = $2 \
         WHERE id = $1 AND revoked_at IS NULL AND replaced_by IS NULL",
        &[text(id), text(now)],
    )?;
    Ok(changed > 0)
}

pub fn link_successor(db: &Database, id: &str, successor_id: &str) -> Result<(), DbError> {
    db.execute(
        "UPDATE refresh_tokens SET replaced_by = $2 WHERE id = $1",
        &[text(id), text(successor_id)],
    )?;
    Ok(())
}

/// Revokes every live token of a family; how many were live.
pub fn revoke_family(db: &Database, family_id: &str, now: &str) -> Result<u64, DbError> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
        &[text(family_id), text(now)],
    )
}

/// Revokes every live token of a user; how many were live.
pub fn revoke_all_of_user(db: &Database, user_id: &str, now: &str) -> Result<u64, DbError> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        &[text(user_id), text(now)],
    )
}
