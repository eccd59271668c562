//! The password policy: 12 to 128 characters, not a well-known password.

/// Fewest characters a password may have (OWASP ASVS 2.1.1 asks for 12).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters a password may have (bounds the hashing work per request).
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least 12 characters")]
    TooShort,
    #[error("must be at most 128 characters")]
    TooLong,
    #[error("is too common; choose another")]
    TooCommon,
}

/// Well-known passwords of 12 characters or more (from public breach-frequency lists),
/// compared case-insensitively.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789123",
    "111111111111",
    "000000000000",
    "123123123123",
    "121212121212",
    "123456123456",
    "987654321098",
    "password1234",
    "password12345",
    "password123!",
    "passwordpassword",
    "password1!",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwerty123456",
    "qwertyqwerty",
    "1qaz2wsx3edc",
    "1q2w3e4r5t6y",
    "q1w2e3r4t5y6",
    "zaq12wsxcde3",
    "asdfghjkl123",
    "zxcvbnm12345",
    "iloveyou1234",
    "iloveyouforever",
    "letmein12345",
    "welcome12345",
    "welcome1234!",
    "administrator",
    "admin1234567",
    "adminadmin12",
    "changeme1234",
    "changemenow!",
    "trustno1trustno1",
    "football1234",
    "baseball1234",
    "superman1234",
    "sunshine1234",
    "princess1234",
    "starwars1234",
    "whatever1234",
    "monkey123456",
    "dragon123456",
    "abcdefghijkl",
    "abcdefgh1234",
    "abc123abc123",
    "aaaaaaaaaaaa",
    "correcthorsebatterystaple",
    "p@ssw0rd1234",
    "p@ssword1234",
    "passw0rd1234",
    "mypassword12",
    "secret123456",
];

/// Check a new password against the policy (the error is the field's message).
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordError::TooLong);
    }
    let lowered = password.to_lowercase();
    if COMMON.contains(&lowered.as_str()) {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_against_the_policy() {
        let long = "x".repeat(129);
        for (password, want, why) in [
            ("short", Err(PasswordError::TooShort), "5 characters"),
            ("elevenchars", Err(PasswordError::TooShort), "11 characters"),
            ("twelve chars", Ok(()), "12 characters"),
            ("ünïcödé-pässwörd", Ok(()), "characters, not bytes"),
            (long.as_str(), Err(PasswordError::TooLong), "129 characters"),
            (
                "Password1234",
                Err(PasswordError::TooCommon),
                "common, any case",
            ),
            (
                "correcthorsebatterystaple",
                Err(PasswordError::TooCommon),
                "famous",
            ),
            ("a long passphrase of yours", Ok(()), "a passphrase"),
        ] {
            assert_eq!(check_password(password), want, "{why}");
        }
    }
}
