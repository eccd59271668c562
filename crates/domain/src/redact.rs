//! What a log line must never hold, taken out where the line is built
//! ([`crate::LogLine::field`]): values of fields named like a secret, bearer tokens (JWTs),
//! API keys (`crm_<prefix>_<secret>`: the prefix is kept, it identifies the key) and the
//! local part of email addresses (`j***@example.com`).

use serde_json::Value;
use std::borrow::Cow;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Words that make a field name sensitive (its value is dropped); `*_id` names are ids.
const SENSITIVE_NAME_PARTS: [&str; 7] = [
    "password",
    "token",
    "secret",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
];

/// Whether a field called `name` holds a secret.
pub fn is_sensitive_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !name.ends_with("_id") && SENSITIVE_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// `value` with every string in it masked ([`mask_text`]).
pub fn mask_value(value: Value) -> Value {
    match value {
        Value::String(text) => match mask_text(&text) {
            Cow::Borrowed(_) => Value::String(text),
            Cow::Owned(masked) => Value::String(masked),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(mask_value).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = if is_sensitive_name(&key) {
                        Value::String(REDACTED.into())
                    } else {
                        mask_value(value)
                    };
                    (key, value)
                })
                .collect(),
        ),
        other => other,
    }
}

/// `text` with JWTs and API key secrets replaced and email local parts masked.
pub fn mask_text(text: &str) -> Cow<'_, str> {
    if !text.contains('@') && !text.contains("eyJ") && !text.contains("crm_") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    // Words: runs of characters that can be part of an email, a JWT or an API key.
    let is_word = |c: char| c.is_ascii_alphanumeric() || "._%+-@=".contains(c);
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(is_word).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        match mask_word(word) {
            Some(masked) => {
                out.push_str(&masked);
                changed = true;
            }
            None => out.push_str(word),
        }
        rest = &rest[end..];
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

fn mask_word(word: &str) -> Option<String> {
    // Punctuation that ends a sentence is not part of the word.
    let core = word.trim_end_matches(['.', '-', '=']);
    mask_core(core).map(|masked| format!("{masked}{}", &word[core.len()..]))
}

fn mask_core(word: &str) -> Option<String> {
    if let Some(at) = word.find('@') {
        let (local, domain) = (&word[..at], &word[at + 1..]);
        if !local.is_empty() && domain.contains('.') && !domain.contains('@') {
            let first = local.chars().next().unwrap_or('*');
            return Some(format!("{first}***@{domain}"));
        }
    }
    // A JWT: three base64url segments, the header starting `eyJ` (`{"`).
    if let Some(at) = word.find("eyJ") {
        let jwt = &word[at..];
        if jwt.split('.').count() >= 2 {
            return Some(format!("{}{REDACTED}", &word[..at]));
        }
    }
    // An API key: `crm_<8>_<32>`; its prefix names the key, its secret goes.
    if let Some(at) = word.find("crm_") {
        let key = &word[at + 4..];
        if let Some((prefix, secret)) = key.split_once('_')
            && prefix.len() == 8
            && secret.len() >= 16
        {
            return Some(format!("{}crm_{prefix}_{REDACTED}", &word[..at]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_field_names_are_recognised_but_ids_are_not() {
        for name in [
            "password",
            "new_password",
            "access_token",
            "Authorization",
            "api_key",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
        for name in ["api_key_id", "request_id", "kid", "status", "family_id"] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }

    #[test]
    fn emails_jwts_and_api_keys_are_masked_inside_text() {
        let key = "crm_AbCd1234_0123456789abcdefghijABCDEFGHIJ";
        let jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl";
        let text = format!("user jane.doe@example.com sent Bearer {jwt} and key={key}.");
        assert_eq!(
            mask_text(&text),
            "user j***@example.com sent Bearer [redacted] and key=crm_AbCd1234_[redacted]."
        );
    }

    #[test]
    fn text_without_secrets_is_left_alone() {
        for text in [
            "request handled",
            "/api/clients/0192-ab",
            "a @ b",
            "me@localhost",
        ] {
            assert!(matches!(mask_text(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn nested_values_are_masked_and_secret_keys_dropped() {
        let value = json!({ "who": ["a@b.io"], "password": "hunter2", "n": 3 });
        assert_eq!(
            mask_value(value),
            json!({ "who": ["a***@b.io"], "password": REDACTED, "n": 3 })
        );
    }
}
