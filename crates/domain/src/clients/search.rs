//! Search words: a client is found by `q` when every word of `q` is the prefix of one of
//! the client's words (first name, last name, e-mail, company). Both databases store the
//! client's words in `client_search_terms` and find a prefix with a B-tree range scan
//! `term >= word AND term < prefix_upper_bound(word)`, so both answer exactly alike.

use super::model::ClientDraft;
use std::collections::BTreeSet;

/// Most words a `q` may have.
pub const MAX_QUERY_WORDS: usize = 8;
/// Most characters a `q` may have.
pub const MAX_QUERY_CHARS: usize = 100;

/// The words of a text: runs of letters and digits, lowercased.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Every word a client is found by.
pub fn client_terms(draft: &ClientDraft) -> BTreeSet<String> {
    [
        draft.first_name.as_deref(),
        draft.last_name.as_deref(),
        Some(draft.email.as_str()),
        draft.company.as_deref(),
    ]
    .into_iter()
    .flatten()
    .flat_map(words)
    .collect()
}

/// The words of a `q`, distinct, in order; an error message when `q` is unusable.
pub fn query_words(q: &str) -> Result<Vec<String>, String> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("must be at most {MAX_QUERY_CHARS} characters"));
    }
    let mut found: Vec<String> = Vec::new();
    for word in words(q) {
        if !found.contains(&word) {
            found.push(word);
        }
    }
    match found.len() {
        0 => Err("must contain a letter or a digit".into()),
        n if n > MAX_QUERY_WORDS => Err(format!("must have at most {MAX_QUERY_WORDS} words")),
        _ => Ok(found),
    }
}

/// The least string greater than every string that starts with `prefix` (in UTF-8 byte
/// order, which is code point order): the last character that can be incremented is, and
/// what follows it is dropped. `None` when no such string exists (all `char::MAX`).
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::input::draft_from_json;
    use serde_json::json;

    #[test]
    fn a_client_is_found_by_the_words_of_its_names_email_and_company() {
        let draft = draft_from_json(&json!({
            "first_name": "Ada", "last_name": "Lovelace-Byron", "email": "ada.l@Example.com",
            "company": "Analytical Engines Ltd."
        }))
        .unwrap();
        let terms: Vec<String> = client_terms(&draft).into_iter().collect();
        assert_eq!(
            terms,
            [
                "ada",
                "analytical",
                "byron",
                "com",
                "engines",
                "example",
                "l",
                "lovelace",
                "ltd"
            ]
        );
    }

    #[test]
    fn query_words_are_distinct_lowercase_and_bounded() {
        assert_eq!(query_words("Ada  ada@EX").unwrap(), ["ada", "ex"]);
        assert_eq!(query_words("Émile").unwrap(), ["émile"]);
        assert!(query_words("  !? ").is_err());
        assert!(query_words("a b c d e f g h i").is_err());
        assert!(query_words(&"a".repeat(101)).is_err());
    }

    #[test]
    fn the_upper_bound_is_the_next_prefix() {
        assert_eq!(prefix_upper_bound("ada").as_deref(), Some("adb"));
        assert_eq!(prefix_upper_bound("az").as_deref(), Some("a{"));
        assert_eq!(prefix_upper_bound("\u{d7ff}").as_deref(), Some("\u{e000}"));
        assert_eq!(
            prefix_upper_bound("a\u{10ffff}").as_deref(),
            Some("b"),
            "a maximal last character is dropped"
        );
        assert_eq!(prefix_upper_bound("\u{10ffff}"), None);
        for word in ["ada", "émile", "z9"] {
            let upper = prefix_upper_bound(word).unwrap();
            for longer in [
                word.to_string(),
                format!("{word}zz"),
                format!("{word}\u{10ffff}"),
            ] {
                assert!(
                    longer.as_str() >= word && longer < upper,
                    "{longer} in [{word}, {upper})"
                );
            }
        }
    }
}
