//! Keyset pagination: `limit` (1..=100, default 25) and an opaque `cursor` naming the last
//! row of the previous page by its `created_at` and `id`. Pure: no host calls.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_domain::FieldError;

pub const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 100;
/// Longest cursor read (a timestamp and a UUID fit in far less).
const MAX_CURSOR_CHARS: usize = 256;
/// Characters of a `YYYY-MM-DDTHH:MM:SS.mmmZ` timestamp.
const TIMESTAMP_CHARS: usize = 24;

/// The row a page starts after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: String,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.created_at, self.id))
    }

    /// `None` unless `text` is a cursor [`Cursor::encode`] made.
    pub fn decode(text: &str) -> Option<Cursor> {
        if text.len() > MAX_CURSOR_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let decoded = String::from_utf8(bytes).ok()?;
        let (created_at, id) = decoded.split_once('|')?;
        let plausible = is_timestamp(created_at)
            && !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        plausible.then(|| Cursor {
            created_at: created_at.to_owned(),
            id: id.to_owned(),
        })
    }
}

/// What page the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Reads `limit` and `cursor` from a query string; other parameters are ignored.
    pub fn from_query(query: &str) -> Result<PageRequest, Vec<FieldError>> {
        let mut limit = Ok(DEFAULT_LIMIT);
        let mut after = Ok(None);
        for (name, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
            match name {
                "limit" => limit = parse_limit(value),
                "cursor" if value.is_empty() => after = Ok(None),
                "cursor" => after = Cursor::decode(value).map(Some).ok_or(()),
                _ => {}
            }
        }
        let mut errors = Vec::new();
        if limit.is_err() {
            errors.push(FieldError::new(
                "limit",
                format!("must be an integer from 1 to {MAX_LIMIT}"),
            ));
        }
        if after.is_err() {
            errors.push(FieldError::new(
                "cursor",
                "is not a cursor this API returned",
            ));
        }
        match (limit, after) {
            (Ok(limit), Ok(after)) => Ok(PageRequest { limit, after }),
            _ => Err(errors),
        }
    }
}

fn parse_limit(value: &str) -> Result<u32, ()> {
    value
        .parse::<u32>()
        .ok()
        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
        .ok_or(())
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, digits where digits belong.
fn is_timestamp(text: &str) -> bool {
    const PATTERN: &[u8; TIMESTAMP_CHARS] = b"0000-00-00T00:00:00.000Z";
    text.len() == TIMESTAMP_CHARS
        && text
            .bytes()
            .zip(PATTERN)
            .all(|(byte, pattern)| match pattern {
                b'0' => byte.is_ascii_digit(),
                other => byte == *other,
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor {
            created_at: "2025-01-02T03:04:05.678Z".into(),
            id: "3f2504e0-4f89-41d3-9a0c-0305e82c3301".into(),
        }
    }

    #[test]
    fn cursors_round_trip_and_are_url_safe() {
        let encoded = cursor().encode();

        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{encoded}"
        );
        assert_eq!(Cursor::decode(&encoded), Some(cursor()));
    }

    #[test]
    fn queries_give_their_page() {
        let encoded = cursor().encode();
        let with_cursor = format!("limit=10&cursor={encoded}");
        let cases = [
            ("", DEFAULT_LIMIT, None, "defaults"),
            ("limit=1", 1, None, "smallest limit"),
            ("limit=100", 100, None, "largest limit"),
            (with_cursor.as_str(), 10, Some(cursor()), "limit and cursor"),
            (
                "cursor=&x=1",
                DEFAULT_LIMIT,
                None,
                "empty cursor, other parameter",
            ),
        ];
        for (query, limit, after, reason) in cases {
            assert_eq!(
                PageRequest::from_query(query),
                Ok(PageRequest { limit, after }),
                "{reason}"
            );
        }
    }

    #[test]
    fn bad_limits_and_cursors_are_field_errors() {
        let not_a_timestamp = URL_SAFE_NO_PAD.encode("yesterday|abc");
        let no_separator = URL_SAFE_NO_PAD.encode("2025-01-02T03:04:05.678Z");
        let cases = [
            ("limit=0".to_owned(), vec!["limit"], "zero"),
            ("limit=101".to_owned(), vec!["limit"], "over the maximum"),
            ("limit=-1".to_owned(), vec!["limit"], "negative"),
            ("limit=ten".to_owned(), vec!["limit"], "not a number"),
            ("cursor=%%%".to_owned(), vec!["cursor"], "not base64url"),
            (
                format!("cursor={not_a_timestamp}"),
                vec!["cursor"],
                "bad timestamp",
            ),
            (format!("cursor={no_separator}"), vec!["cursor"], "no id"),
            (
                "limit=0&cursor=x".to_owned(),
                vec!["limit", "cursor"],
                "both",
            ),
        ];
        for (query, fields, reason) in cases {
            let errors = PageRequest::from_query(&query).err().unwrap_or_default();

            let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(named, fields, "{reason}");
        }
    }
}
