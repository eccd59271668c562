//! Response caching rules (docs/caching.md): `If-None-Match`, entity tags of bodies, and
//! the server-side cache's slots and entries.
//!
//! The server-side cache is direct-mapped: an entry's identity (generation, route, what
//! the caller may see, normalised query) picks one of a fixed number of slots, and the
//! entry written there carries that identity, its creation time and the representation.
//! A read that finds another identity in its slot (a collision, or an older generation)
//! or an entry past its TTL is a miss; so storage is bounded by the slot count and a
//! write invalidates every entry at once by moving the generation.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// Whether `if_none_match` names `etag` (RFC 9110 §13.1.2, so the answer is 304): `*`, or
/// one of its comma-separated tags equal to `etag` once a `W/` prefix is ignored (the weak
/// comparison a GET uses).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let value = if_none_match.trim();
    if value == "*" {
        return true;
    }
    let opaque = |tag: &str| {
        let tag = tag.trim();
        tag.strip_prefix("W/").unwrap_or(tag).to_owned()
    };
    let wanted = opaque(etag);
    value.split(',').any(|tag| opaque(tag) == wanted)
}

/// A strong entity tag for a body: the first 128 bits of its SHA-256, quoted.
pub fn body_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// A short, stable name of where answers come from (a database URL): 16 hex digits of
/// its SHA-256, so the URL (and any password in it) never appears in a key.
pub fn source_of(database_url: &str) -> String {
    let digest = Sha256::digest(database_url.trim().as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// What an entry is the answer to. Two requests share an entry only when every part is
/// equal; the generation moves on every write, so entries of an older one never match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity<'a> {
    pub generation: u64,
    /// The route template, e.g. `GET /api/clients/{id}`.
    pub route: &'a str,
    /// What the caller may see (callers with the same scope get the same answer).
    pub scope: &'a str,
    /// The request's parameters in one canonical text (the same for every spelling of
    /// the same query).
    pub normalised: &'a str,
}

impl Identity<'_> {
    /// The identity as one text (stored in the entry, compared on read).
    pub fn text(&self) -> String {
        // Unit separators cannot occur in a route, a scope or a normalised query (JSON
        // escapes control characters).
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.generation, self.route, self.scope, self.normalised
        )
    }

    /// The slot (0 ≤ slot < `slots`) this identity is kept in.
    pub fn slot(&self, slots: u32) -> u32 {
        let digest = Sha256::digest(self.text().as_bytes());
        let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        (head % u64::from(slots.max(1))) as u32
    }
}

/// A cached representation: the body, its entity tag and, for a page, the cursor of the
/// next page (the `Link` header is rebuilt from the request's own query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    pub body: Vec<u8>,
    pub etag: String,
    pub next_cursor: Option<String>,
}

/// The stored form's first line; a store holding anything else reads as empty.
const MAGIC: &[u8] = b"crm-cache/1\n";

#[derive(Serialize, Deserialize)]
struct Header<'a> {
    created_ms: u64,
    #[serde(borrow)]
    identity: Cow<'a, str>,
    #[serde(borrow)]
    etag: Cow<'a, str>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    next_cursor: Option<Cow<'a, str>>,
}

/// An entry as stored: `crm-cache/1`, a JSON header line (creation time, identity,
/// entity tag, next cursor), then the body's bytes as they are.
pub fn encode(identity: &str, created_ms: u64, representation: &Representation) -> Vec<u8> {
    let header = serde_json::to_vec(&Header {
        created_ms,
        identity: Cow::Borrowed(identity),
        etag: Cow::Borrowed(&representation.etag),
        next_cursor: representation.next_cursor.as_deref().map(Cow::Borrowed),
    })
    .expect("a header of strings and a number serialises");
    let mut out = Vec::with_capacity(MAGIC.len() + header.len() + 1 + representation.body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&header);
    out.push(b'\n');
    out.extend_from_slice(&representation.body);
    out
}

/// Why a stored entry cannot answer a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Not an entry of this format.
    Malformed,
    /// The entry of another identity (a collision or an older generation).
    Other,
    /// Created more than the TTL ago, or in the future by more than the TTL (a clock
    /// that jumped).
    Expired,
}

/// The representation stored in `stored` when it answers `identity` at `now_ms`.
pub fn decode(
    stored: &[u8],
    identity: &str,
    now_ms: u64,
    ttl_ms: u64,
) -> Result<Representation, Unusable> {
    let rest = stored.strip_prefix(MAGIC).ok_or(Unusable::Malformed)?;
    let end = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(Unusable::Malformed)?;
    let header: Header<'_> =
        serde_json::from_slice(&rest[..end]).map_err(|_| Unusable::Malformed)?;
    if header.identity != identity {
        return Err(Unusable::Other);
    }
    if now_ms.abs_diff(header.created_ms) >= ttl_ms {
        return Err(Unusable::Expired);
    }
    Ok(Representation {
        body: rest[end + 1..].to_vec(),
        etag: header.etag.into_owned(),
        next_cursor: header.next_cursor.map(Cow::into_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_weakly_in_a_list_or_by_star() {
        let etag = "\"1a-00ff\"";
        for (header, want) in [
            ("\"1a-00ff\"", true),
            ("W/\"1a-00ff\"", true),
            ("\"other\", \"1a-00ff\"", true),
            (" * ", true),
            ("\"other\"", false),
            ("1a-00ff", false),
            ("", false),
            ("\"1a-00ff", false),
        ] {
            assert_eq!(none_match(header, etag), want, "{header:?}");
        }
    }

    #[test]
    fn body_tags_are_quoted_and_follow_every_byte() {
        let tag = body_etag(b"{\"data\":[]}");
        assert_eq!(tag.len(), 34);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert_eq!(tag, body_etag(b"{\"data\":[]}"));
        assert_ne!(tag, body_etag(b"{\"data\":[ ]}"));
    }

    #[test]
    fn sources_are_short_stable_and_never_show_the_url() {
        let url = "postgres://crm:s3cret@db:5432/crm";
        assert_eq!(source_of(url), source_of(&format!(" {url} ")));
        assert_eq!(source_of(url).len(), 16);
        assert!(!source_of(url).contains("s3cret"));
        assert_ne!(
            source_of(url),
            source_of("postgres://crm:s3cret@db:5432/staging")
        );
    }

    fn identity(generation: u64, normalised: &str) -> Identity<'_> {
        Identity {
            generation,
            route: "GET /api/clients",
            scope: "all",
            normalised,
        }
    }

    #[test]
    fn a_new_generation_changes_the_identity_and_usually_the_slot() {
        let query = "[25,null,[\"ada\"]]";
        assert_ne!(identity(1, query).text(), identity(2, query).text());
        let slots: std::collections::HashSet<u32> =
            (0..64).map(|g| identity(g, query).slot(1024)).collect();
        assert!(slots.len() > 48, "64 generations spread over {slots:?}");
        assert!((0..1000).all(|g| identity(g, query).slot(7) < 7));
        assert_eq!(identity(3, query).slot(0), 0, "no slots count as one");
    }

    #[test]
    fn an_entry_answers_only_its_identity_within_its_ttl() {
        let representation = Representation {
            body: b"{\"data\":[],\n\"next_cursor\":\"abc\"}".to_vec(),
            etag: body_etag(b"x"),
            next_cursor: Some("abc".to_owned()),
        };
        let id = identity(7, "q").text();
        let stored = encode(&id, 1_000_000, &representation);

        assert_eq!(
            decode(&stored, &id, 1_000_000, 30_000),
            Ok(representation.clone())
        );
        assert_eq!(decode(&stored, &id, 1_029_999, 30_000), Ok(representation));
        assert_eq!(
            decode(&stored, &id, 1_030_000, 30_000),
            Err(Unusable::Expired)
        );
        assert_eq!(
            decode(&stored, &id, 960_000, 30_000),
            Err(Unusable::Expired)
        );
        let next_generation = identity(8, "q").text();
        assert_eq!(
            decode(&stored, &next_generation, 1_000_000, 30_000),
            Err(Unusable::Other)
        );
        for broken in [&b""[..], b"crm-cache/1\n", b"crm-cache/1\n{}\n", b"GET"] {
            assert_eq!(
                decode(broken, &id, 1_000_000, 30_000),
                Err(Unusable::Malformed)
            );
        }
    }

    #[test]
    fn a_page_without_a_next_cursor_keeps_none() {
        let representation = Representation {
            body: Vec::new(),
            etag: "\"1\"".to_owned(),
            next_cursor: None,
        };
        let stored = encode("id", 5, &representation);
        assert_eq!(decode(&stored, "id", 5, 1), Ok(representation));
    }
}
