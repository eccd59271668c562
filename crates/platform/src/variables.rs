//! Reading Spin variables' text as settings.

/// Whether a switch variable's value turns it off (`false`, `0`, `no`, `off`, any case);
/// anything else, and no value, leaves it on.
pub fn is_off(value: Option<String>) -> bool {
    matches!(
        value.map(|v| v.trim().to_ascii_lowercase()),
        Some(v) if v == "false" || v == "0" || v == "no" || v == "off"
    )
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
}
