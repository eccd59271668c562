//! Pure SQL text helpers: placeholder dialects and log-safe statement summaries.

/// Rewrite `$N` placeholders as SQLite's `?N`, leaving string literals,
/// quoted identifiers and comments untouched.
pub fn to_sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '-' && chars.peek() == Some(&'-') => {
                out.push(c);
                for rest in chars.by_ref() {
                    out.push(rest);
                    if rest == '\n' {
                        break;
                    }
                }
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
            None => out.push(c),
        }
    }
    out
}

/// The statement for a log line: whitespace folded, at most 200 characters.
/// Parameter values are never part of it.
pub fn summarize(sql: &str) -> String {
    let folded = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_sqlite_positional_parameters() {
        for (input, want, why) in [
            ("SELECT $1", "SELECT ?1", "simple"),
            (
                "a = $2 AND b = $1",
                "a = ?2 AND b = ?1",
                "order is kept by number",
            ),
            ("x = '$1'", "x = '$1'", "inside a string literal"),
            ("\"$1\" = $1", "\"$1\" = ?1", "inside a quoted identifier"),
            ("-- $1\nSELECT $1", "-- $1\nSELECT ?1", "inside a comment"),
            ("SELECT $$", "SELECT $$", "not a placeholder"),
            ("it''s $1", "it''s ?1", "escaped quote"),
        ] {
            assert_eq!(to_sqlite_placeholders(input), want, "{why}");
        }
    }

    #[test]
    fn summaries_fold_whitespace_and_stay_short() {
        assert_eq!(summarize("SELECT\n  1\tFROM x"), "SELECT 1 FROM x");
        let long = "x".repeat(500);
        assert_eq!(summarize(&long).chars().count(), 201);
    }
}
