//! What responses say: users and API keys without secrets, token pairs, pages; and the
//! response shapes (201 + `Location`, 204, `Cache-Control: no-store` on tokens).

use crate::cursor::Cursor;
use crate::store::api_keys::ApiKeyRecord;
use crate::store::users::UserRecord;
use crm_domain::RequestId;
use crm_domain::auth::{Role, Tier};
use crm_platform::http_kit::{ApiError, REQUEST_ID_HEADER, json_response};
use serde::Serialize;
use spin_sdk::http::Response;

/// A user as the API shows it: never its hash.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&UserRecord> for UserView {
    fn from(user: &UserRecord) -> Self {
        UserView {
            id: user.id.clone(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            role: user.role,
            disabled: user.disabled,
            created_at: user.created_at.clone(),
            updated_at: user.updated_at.clone(),
        }
    }
}

/// An API key as listed: the public prefix, never the key or its hash.
#[derive(Debug, Serialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub tier: Tier,
    pub role: Role,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<&ApiKeyRecord> for ApiKeyView {
    fn from(key: &ApiKeyRecord) -> Self {
        ApiKeyView {
            id: key.id.clone(),
            name: key.name.clone(),
            tier: key.tier,
            role: key.role,
            prefix: key.prefix.clone(),
            created_at: key.created_at.clone(),
            last_used_at: key.last_used_at.clone(),
            expires_at: key.expires_at.clone(),
            revoked_at: key.revoked_at.clone(),
        }
    }
}

/// A new API key: the only time `key` is shown.
#[derive(Debug, Serialize)]
pub struct CreatedApiKeyView {
    pub id: String,
    pub name: String,
    pub tier: Tier,
    pub role: Role,
    pub prefix: String,
    pub key: String,
    pub created_at: String,
}

/// The answer of login and refresh.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// One page of a listing; `next_cursor` is null on the last page.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// From up to `limit + 1` rows: the extra row only says that another page exists.
    pub fn of<R>(
        mut rows: Vec<R>,
        limit: u32,
        cursor_of: impl Fn(&R) -> Cursor,
        view: impl Fn(&R) -> T,
    ) -> Page<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = more
            .then(|| rows.last().map(|row| cursor_of(row).encode()))
            .flatten();
        Page {
            data: rows.iter().map(view).collect(),
            next_cursor,
        }
    }
}

/// 200 with a token pair; tokens are never cached (RFC 6749 §5.1).
pub fn token_response(pair: &TokenPair, request_id: &RequestId) -> Result<Response, ApiError> {
    let mut response = json_response(200, pair, request_id)?;
    response.set_header("cache-control", "no-store");
    response.set_header("pragma", "no-cache");
    Ok(response)
}

/// 201 with `Location`.
pub fn created(
    body: &impl Serialize,
    location: &str,
    request_id: &RequestId,
) -> Result<Response, ApiError> {
    let mut response = json_response(201, body, request_id)?;
    response.set_header("location", location);
    Ok(response)
}

/// 204 without a body.
pub fn no_content(request_id: &RequestId) -> Response {
    Response::builder()
        .status(204)
        .header(REQUEST_ID_HEADER, request_id.as_str())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor_of(n: &u32) -> Cursor {
        Cursor {
            created_at: "2025-01-01T00:00:00.000Z".into(),
            id: n.to_string(),
        }
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_more_rows_exist() {
        let cases = [
            (
                vec![1, 2, 3],
                2,
                vec![1, 2],
                Some("2"),
                "one row more than the limit",
            ),
            (vec![1, 2], 2, vec![1, 2], None, "exactly the limit"),
            (vec![], 2, vec![], None, "empty"),
        ];
        for (rows, limit, data, next_id, reason) in cases {
            let page: Page<u32> = Page::of(rows, limit, cursor_of, |n| *n);

            assert_eq!(page.data, data, "{reason}");
            let next = page
                .next_cursor
                .and_then(|c| Cursor::decode(&c))
                .map(|c| c.id);
            assert_eq!(next.as_deref(), next_id, "{reason}");
        }
    }
}
