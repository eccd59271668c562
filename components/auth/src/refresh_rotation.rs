//! Refresh tokens (RFC 9700 §4.14): their text, the hash they are stored as, their family's
//! absolute expiry, and what presenting one leads to. Pure: no host calls.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_domain::timestamp::rfc3339_utc_from_unix_millis;

/// Random bytes in a refresh token.
pub const REFRESH_TOKEN_BYTES: usize = 32;
/// Characters of a refresh token: 32 bytes in unpadded base64url.
const REFRESH_TOKEN_CHARS: usize = 43;
const MILLIS_PER_DAY: u64 = 86_400_000;

/// The token handed to the client.
pub fn token_text(random: &[u8; REFRESH_TOKEN_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// Whether `text` could be a token we issued (checked before any lookup).
pub fn is_well_formed(text: &str) -> bool {
    text.len() == REFRESH_TOKEN_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What is stored instead of the token: its SHA-256, hex.
pub fn token_hash(text: &str) -> String {
    crm_platform::auth::sha256_hex(text.as_bytes())
}

/// When a family started at `first_issue_millis` stops refreshing, whatever its rotations.
pub fn family_expiry(first_issue_millis: u64, ttl_days: u64) -> String {
    let ttl_millis = ttl_days.saturating_mul(MILLIS_PER_DAY);
    rfc3339_utc_from_unix_millis(first_issue_millis.saturating_add(ttl_millis))
}

/// What the store knows about a presented token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedToken<'a> {
    /// It already has a successor.
    pub rotated: bool,
    /// It was revoked (logout, password change, disabled user, reuse).
    pub revoked: bool,
    /// Its family's absolute expiry, as a fixed-width timestamp.
    pub expires_at: &'a str,
    /// Its user exists and is active.
    pub user_active: bool,
}

/// What to do with a presented token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presentation {
    /// Issue a successor and mark this one rotated.
    Rotate,
    /// A rotated token came back: it was copied. Revoke the family, record it, refuse.
    ReuseDetected,
    /// Revoked already: revoke the family (again) and refuse.
    Revoked,
    /// Past the family's absolute expiry: refuse.
    Expired,
    /// Its user is gone or disabled: revoke the family and refuse.
    UserInactive,
}

impl Presentation {
    /// `now` is a fixed-width timestamp, so text order is time order.
    pub fn of(token: &PresentedToken<'_>, now: &str) -> Presentation {
        if token.rotated {
            Presentation::ReuseDetected
        } else if token.revoked {
            Presentation::Revoked
        } else if token.expires_at <= now {
            Presentation::Expired
        } else if !token.user_active {
            Presentation::UserInactive
        } else {
            Presentation::Rotate
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2025-06-01T12:00:00.000Z";
    const LATER: &str = "2025-06-30T12:00:00.000Z";
    const EARLIER: &str = "2025-05-01T12:00:00.000Z";

    fn token(
        rotated: bool,
        revoked: bool,
        expires_at: &str,
        user_active: bool,
    ) -> PresentedToken<'_> {
        PresentedToken {
            rotated,
            revoked,
            expires_at,
            user_active,
        }
    }

    #[test]
    fn each_presented_token_leads_to_its_decision() {
        let cases = [
            (
                token(false, false, LATER, true),
                Presentation::Rotate,
                "live token",
            ),
            (
                token(true, true, LATER, true),
                Presentation::ReuseDetected,
                "rotated token",
            ),
            (
                token(true, true, EARLIER, true),
                Presentation::ReuseDetected,
                "rotated beats expired",
            ),
            (
                token(false, true, LATER, true),
                Presentation::Revoked,
                "logged out",
            ),
            (
                token(false, false, EARLIER, true),
                Presentation::Expired,
                "expired",
            ),
            (
                token(false, false, NOW, true),
                Presentation::Expired,
                "expires right now",
            ),
            (
                token(false, false, LATER, false),
                Presentation::UserInactive,
                "disabled user",
            ),
        ];
        for (presented, expected, reason) in cases {
            assert_eq!(Presentation::of(&presented, NOW), expected, "{reason}");
        }
    }

    #[test]
    fn tokens_are_43_base64url_characters_and_stored_as_their_sha256() {
        let text = token_text(&[0xfb; REFRESH_TOKEN_BYTES]);

        assert_eq!(text.len(), 43);
        assert!(is_well_formed(&text), "{text}");
        assert_eq!(token_hash(&text).len(), 64);
        assert_ne!(token_hash(&text), text);
    }

    #[test]
    fn malformed_tokens_are_recognised_before_any_lookup() {
        let good = token_text(&[1; REFRESH_TOKEN_BYTES]);
        let cases = [
            (String::new(), "empty"),
            (good[1..].to_owned(), "42 characters"),
            (format!("{good}A"), "44 characters"),
            (format!("{}+", &good[1..]), "standard base64 alphabet"),
            (format!("{}=", &good[1..]), "padding"),
        ];
        for (text, reason) in cases {
            assert!(!is_well_formed(&text), "{reason}");
        }
    }

    #[test]
    fn a_family_expires_ttl_days_after_its_first_issue() {
        let cases = [
            (0, 30, "1970-01-31T00:00:00.000Z", "thirty days"),
            (
                1_000,
                1,
                "1970-01-02T00:00:01.000Z",
                "one day, milliseconds kept",
            ),
        ];
        for (first_issue, days, expected, reason) in cases {
            assert_eq!(family_expiry(first_issue, days), expected, "{reason}");
        }
    }
}
