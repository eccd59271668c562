//! Reading Spin variables' text as settings.

/// Whether a switch variable's value turns it off (`false`, `0`, `no`, `off`, any case);
/// anything else, and no value, leaves it on.
pub fn is_off(value: Option<String>) -> bool {
    matches!(
        value.map(|v| v.trim().to_ascii_lowercase()),
        Some(v) if v == "false" || v == "0" || v == "no" || v == "off"
    )
}

/// A number variable's value through `get`: its text parsed, or `default` when it is
/// absent or not a number.
pub fn number(get: &impl Fn(&str) -> Option<String>, name: &str, default: u64) -> u64 {
    get(name)
        .and_then(|text| text.trim().parse::<u64>().ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_off_words_turn_a_switch_off() {
        for off in ["false", " FALSE ", "0", "no", "Off"] {
            assert!(is_off(Some(off.to_owned())), "{off}");
        }
        for on in ["true", "1", "yes", "", "nope"] {
            assert!(!is_off(Some(on.to_owned())), "{on}");
        }
        assert!(!is_off(None));
    }

    #[test]
    fn numbers_fall_back_to_their_default() {
        let get = |name: &str| match name {
            "set" => Some(" 42 ".to_owned()),
            "bad" => Some("forty".to_owned()),
            _ => None,
        };
        assert_eq!(number(&get, "set", 7), 42);
        assert_eq!(number(&get, "bad", 7), 7);
        assert_eq!(number(&get, "absent", 7), 7);
    }
}
