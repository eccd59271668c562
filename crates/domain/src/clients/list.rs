//! `GET /api/clients` and `…/history` query strings, and their keyset cursors.
//!
//! A cursor is `base64url(JSON [1, fingerprint, key, id]) "." checksum`: the position after
//! which the next page starts (the sort value and the id of the last row sent), tied to the
//! query it came from by `fingerprint` (a hash of the filters and the sort). The checksum
//! (SHA-256, truncated) makes an edited cursor a 400 instead of a silently different page;
//! cursors grant nothing, so they are integrity-checked, not secret.

use super::model::{STATUSES, Status, Tag};
use super::search::query_words;
use crate::timestamp::{rfc3339_utc_from_unix_millis, unix_millis_from_rfc3339};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub const MAX_LIMIT: u32 = 100;
pub const DEFAULT_LIMIT: u32 = 25;
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
const MAX_CURSOR_CHARS: usize = 2048;

/// The order of a client list; ties are broken by `id` in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    CreatedAt,
    CreatedAtDesc,
    LastName,
    Email,
}

impl Sort {
    pub fn parse(text: &str) -> Option<Sort> {
        match text {
            "created_at" => Some(Sort::CreatedAt),
            "-created_at" => Some(Sort::CreatedAtDesc),
            "last_name" => Some(Sort::LastName),
            "email" => Some(Sort::Email),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::CreatedAt => "created_at",
            Sort::CreatedAtDesc => "-created_at",
            Sort::LastName => "last_name",
            Sort::Email => "email",
        }
    }

    pub fn descending(self) -> bool {
        self == Sort::CreatedAtDesc
    }
}

/// Where the next page starts: after the row with this sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub key: String,
    pub id: String,
}

/// A query parameter that cannot be used, named for the 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{parameter}` {message}")]
pub struct QueryError {
    pub parameter: String,
    pub message: String,
}

fn query_error(parameter: &str, message: impl Into<String>) -> QueryError {
    QueryError {
        parameter: parameter.to_owned(),
        message: message.into(),
    }
}

/// A parsed `GET /api/clients` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub limit: u32,
    pub after: Option<Position>,
    /// The words of `q`; empty when there is no search.
    pub words: Vec<String>,
    pub status: Option<Status>,
    pub tag: Option<Tag>,
    /// Exclusive bounds, as stored timestamps (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub sort: Sort,
}

const LIST_PARAMETERS: [&str; 8] = [
    "limit",
    "cursor",
    "q",
    "status",
    "tag",
    "created_after",
    "created_before",
    "sort",
];

impl ListQuery {
    /// Parses a raw query string (`a=1&b=2`, percent-encoded).
    pub fn parse(query: &str) -> Result<ListQuery, QueryError> {
        let params = Params::parse(query, &LIST_PARAMETERS)?;
        let limit = params.limit(DEFAULT_LIMIT)?;
        let words = match params.get("q").map(str::trim) {
            None | Some("") => Vec::new(),
            Some(q) => query_words(q).map_err(|message| query_error("q", message))?,
        };
        let status = params
            .get("status")
            .map(|s| {
                Status::parse(s)
                    .ok_or_else(|| query_error("status", format!("must be one of: {STATUSES}")))
            })
            .transpose()?;
        let tag = params
            .get("tag")
            .map(|t| Tag::parse(t).map_err(|message| query_error("tag", message)))
            .transpose()?;
        let created_after = params.timestamp("created_after")?;
        let created_before = params.timestamp("created_before")?;
        let sort = params
            .get("sort")
            .map(|s| {
                Sort::parse(s).ok_or_else(|| {
                    query_error(
                        "sort",
                        "must be one of: created_at, -created_at, last_name, email",
                    )
                })
            })
            .transpose()?
            .unwrap_or(Sort::CreatedAt);
        let mut query = ListQuery {
            limit,
            after: None,
            words,
            status,
            tag,
            created_after,
            created_before,
            sort,
        };
        if let Some(cursor) = params.get("cursor") {
            query.after = Some(decode_cursor(cursor, &query.fingerprint())?);
        }
        Ok(query)
    }

    /// What the cursor of this query is tied to: every filter and the sort, not the limit.
    pub fn fingerprint(&self) -> String {
        let mut tied = vec![serde_json::json!("clients")];
        tied.extend(self.filters());
        fingerprint_of(&serde_json::Value::Array(tied))
    }

    /// The words, every filter and the sort, as JSON values in a fixed order.
    fn filters(&self) -> [serde_json::Value; 6] {
        let tag = self.tag.as_ref().map(Tag::as_str);
        let status = self.status.map(Status::as_str);
        [
            serde_json::json!(self.words),
            serde_json::json!(status),
            serde_json::json!(tag),
            serde_json::json!(self.created_after),
            serde_json::json!(self.created_before),
            serde_json::json!(self.sort.as_str()),
        ]
    }

    /// The cursor of the page that starts after `position`.
    pub fn cursor_after(&self, position: &Position) -> String {
        encode_cursor(&self.fingerprint(), position)
    }

    /// The query as one canonical text: equal for every spelling of the same query
    /// (parameter order, percent-encoding, spacing of `q`), different when the answer
    /// may differ. The response cache's key.
    pub fn normalised(&self) -> String {
        let after = self
            .after
            .as_ref()
            .map(|position| [&position.key, &position.id]);
        serde_json::json!([self.limit, after, self.filters()]).to_string()
    }
}

/// A parsed `limit` + `cursor` query (history pages), the cursor tied to `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: u32,
    pub after: Option<Position>,
    fingerprint: String,
}

impl PageQuery {
    pub fn parse(query: &str, scope: &str, default_limit: u32) -> Result<PageQuery, QueryError> {
        let params = Params::parse(query, &["limit", "cursor"])?;
        let fingerprint = fingerprint_of(&serde_json::json!(["page", scope]));
        let after = params
            .get("cursor")
            .map(|cursor| decode_cursor(cursor, &fingerprint))
            .transpose()?;
        Ok(PageQuery {
            limit: params.limit(default_limit)?,
            after,
            fingerprint,
        })
    }

    pub fn cursor_after(&self, position: &Position) -> String {
        encode_cursor(&self.fingerprint, position)
    }
}

/// `query` with its `cursor` replaced by `cursor` (for a `Link: <…>; rel="next"`).
pub fn with_cursor(query: &str, cursor: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "cursor" {
            out.append_pair(&name, &value);
        }
    }
    out.append_pair("cursor", cursor);
    out.finish()
}

/// The decoded parameters of a query string: each known at most once, none unknown.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str, known: &[&str]) -> Result<Params, QueryError> {
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if !known.contains(&name.as_ref()) {
                return Err(query_error(
                    &name,
                    format!("is not a parameter here; parameters: {}", known.join(", ")),
                ));
            }
            if params.iter().any(|(n, _)| *n == name) {
                return Err(query_error(&name, "is given more than once"));
            }
            params.push((name.into_owned(), value.into_owned()));
        }
        Ok(Params(params))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn limit(&self, default: u32) -> Result<u32, QueryError> {
        match self.get("limit") {
            None => Ok(default),
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    query_error("limit", format!("must be an integer from 1 to {MAX_LIMIT}"))
                }),
        }
    }

    fn timestamp(&self, name: &str) -> Result<Option<String>, QueryError> {
        self.get(name)
            .map(|text| {
                unix_millis_from_rfc3339(text.trim())
                    .map(rfc3339_utc_from_unix_millis)
                    .ok_or_else(|| {
                        query_error(
                            name,
                            "must be an RFC 3339 timestamp such as 2026-11-26T07:00:00Z",
                        )
                    })
            })
            .transpose()
    }
}

fn fingerprint_of(value: &serde_json::Value) -> String {
    hex16(&Sha256::digest(value.to_string().as_bytes()))
}

fn checksum(payload: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"crm-api cursor v1\0");
    hasher.update(payload.as_bytes());
    hex16(&hasher.finalize())
}

fn hex16(digest: &[u8]) -> String {
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn encode_cursor(fingerprint: &str, position: &Position) -> String {
    let json = serde_json::json!([1, fingerprint, position.key, position.id]).to_string();
    let payload = URL_SAFE_NO_PAD.encode(json.as_bytes());
    let sum = checksum(&payload);
    format!("{payload}.{sum}")
}

fn decode_cursor(text: &str, fingerprint: &str) -> Result<Position, QueryError> {
    let invalid = || query_error("cursor", "is not a cursor this query returned");
    if text.len() > MAX_CURSOR_CHARS {
        return Err(invalid());
    }
    let (payload, sum) = text.split_once('.').ok_or_else(invalid)?;
    if checksum(payload) != sum {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
    let decoded: (u8, String, String, String) =
        serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let (version, cursor_fingerprint, key, id) = decoded;
    if version != 1 {
        return Err(invalid());
    }
    if cursor_fingerprint != fingerprint {
        return Err(query_error(
            "cursor",
            "belongs to a query with other filters or another sort",
        ));
    }
    Ok(Position { key, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(query: &str) -> String {
        ListQuery::parse(query).unwrap_err().parameter
    }

    #[test]
    fn defaults_and_every_parameter() {
        let q = ListQuery::parse("").unwrap();
        assert_eq!(
            (q.limit, q.sort, q.after.clone()),
            (25, Sort::CreatedAt, None)
        );
        let q = ListQuery::parse(
            "limit=7&q=Ada%20Lov&status=active&tag=VIP&created_after=2026-01-01T01:00:00%2B01:00\
             &created_before=2026-12-31T00:00:00Z&sort=-created_at",
        )
        .unwrap();
        assert_eq!(q.limit, 7);
        assert_eq!(q.words, ["ada", "lov"]);
        assert_eq!(q.status, Some(Status::Active));
        assert_eq!(q.tag.as_ref().map(Tag::as_str), Some("vip"));
        assert_eq!(q.created_after.as_deref(), Some("2026-01-01T00:00:00.000Z"));
        assert_eq!(q.sort, Sort::CreatedAtDesc);
        assert!(ListQuery::parse("q=").unwrap().words.is_empty());
    }

    #[test]
    fn bad_parameters_are_named() {
        for (query, parameter) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=x", "limit"),
            ("limit=1&limit=2", "limit"),
            ("sort=name", "sort"),
            ("status=gold", "status"),
            ("tag=a%20b", "tag"),
            ("created_after=yesterday", "created_after"),
            ("created_before=2026-02-30T00:00:00Z", "created_before"),
            ("q=%21%21", "q"),
            ("page=2", "page"),
            ("cursor=abc", "cursor"),
        ] {
            assert_eq!(err(query), parameter, "{query}");
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_tampering_and_other_queries() {
        let query = ListQuery::parse("status=lead&sort=email").unwrap();
        let position = Position {
            key: "ada@example.com".into(),
            id: "0192".into(),
        };
        let cursor = query.cursor_after(&position);
        let next = ListQuery::parse(&with_cursor("status=lead&sort=email&limit=3", &cursor));
        assert_eq!(next.unwrap().after, Some(position.clone()));

        let (payload, sum) = cursor.split_once('.').unwrap();
        let mut tampered = payload.as_bytes().to_vec();
        tampered[3] ^= 1;
        let tampered = format!("{}.{sum}", String::from_utf8(tampered).unwrap());
        assert_eq!(
            err(&format!("status=lead&sort=email&cursor={tampered}")),
            "cursor"
        );
        let other = with_cursor("status=active&sort=email", &cursor);
        let error = ListQuery::parse(&other).unwrap_err();
        assert!(error.message.contains("other filters"), "{error}");

        let history = PageQuery::parse("", "client-1", 50).unwrap();
        let cursor = history.cursor_after(&position);
        let again = PageQuery::parse(&with_cursor("", &cursor), "client-1", 50).unwrap();
        assert_eq!(again.after, Some(position));
        assert!(PageQuery::parse(&with_cursor("", &cursor), "client-2", 50).is_err());
    }

    #[test]
    fn the_normalised_text_ignores_spelling_and_follows_meaning() {
        let text = |query: &str| ListQuery::parse(query).unwrap().normalised();
        let base = text("q=Ada%20Lov&status=active&limit=10");
        assert_eq!(base, text("limit=10&status=active&q=ada+lov"));
        assert_eq!(base, text("status=active&q=%20ADA%20%20lov%20&limit=10"));
        for other in [
            "q=Ada%20Lov&status=active&limit=11",
            "q=Ada&status=active&limit=10",
            "q=Ada%20Lov&status=lead&limit=10",
            "q=Ada%20Lov&status=active&limit=10&sort=email",
            "q=Ada%20Lov&status=active&limit=10&tag=vip",
            "q=Ada%20Lov&status=active&limit=10&created_after=2026-01-01T00:00:00Z",
            "q=Ada%20Lov&status=active&limit=10&created_before=2026-01-01T00:00:00Z",
        ] {
            assert_ne!(base, text(other), "{other}");
        }
        assert_eq!(text(""), text("limit=25&sort=created_at"));
        let query = ListQuery::parse("limit=10").unwrap();
        let cursor = query.cursor_after(&Position {
            key: "2026-01-01T00:00:00.000Z".into(),
            id: "0192".into(),
        });
        assert_ne!(text("limit=10"), text(&with_cursor("limit=10", &cursor)));
    }

    #[test]
    fn with_cursor_replaces_the_old_cursor() {
        assert_eq!(
            with_cursor("limit=2&cursor=a&q=x%20y", "b.c"),
            "limit=2&q=x+y&cursor=b.c"
        );
    }
}
