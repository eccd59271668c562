//! `If-None-Match` (RFC 9110 §13.1.2): a list of entity tags compared weakly, or `*`.

/// Whether `if_none_match` names `etag` (so the answer is 304): `*`, or one of its
/// comma-separated tags equal to `etag` once a `W/` prefix is ignored.
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
}
