//! An e-mail address as accounts use it: trimmed, lowercased, `local@domain`.

use std::fmt;

/// A normalised e-mail address; built only by [`EmailAddress::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("is required")]
    Empty,
    #[error("is longer than 320 characters")]
    TooLong,
    #[error("is not an e-mail address")]
    Invalid,
}

impl EmailAddress {
    /// Trim, lowercase, and check the shape: one `@`, a local part of at most 64 and a
    /// domain of at most 255 characters with a dot, no spaces or control characters.
    pub fn parse(raw: &str) -> Result<EmailAddress, EmailError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.chars().count() > 320 {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(EmailError::Invalid);
        };
        let plausible = !local.is_empty()
            && local.len() <= 64
            && domain.len() <= 255
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !plausible {
            return Err(EmailError::Invalid);
        }
        Ok(EmailAddress(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, for a default display name.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lowercased() {
        let email = EmailAddress::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
        assert_eq!(email.local_part(), "ada.lovelace");
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        let long = format!("{}@example.com", "a".repeat(320));
        for (raw, want, why) in [
            ("", EmailError::Empty, "empty"),
            ("   ", EmailError::Empty, "blank"),
            ("ada", EmailError::Invalid, "no @"),
            ("@example.com", EmailError::Invalid, "no local part"),
            ("ada@", EmailError::Invalid, "no domain"),
            ("ada@localhost", EmailError::Invalid, "no dot in the domain"),
            ("ada@@example.com", EmailError::Invalid, "two @"),
            ("ada lovelace@example.com", EmailError::Invalid, "a space"),
            ("ada@example..com", EmailError::Invalid, "empty label"),
            ("ada@.example.com", EmailError::Invalid, "leading dot"),
            (long.as_str(), EmailError::TooLong, "too long"),
        ] {
            assert_eq!(EmailAddress::parse(raw), Err(want), "{why}: {raw:?}");
        }
    }
}
