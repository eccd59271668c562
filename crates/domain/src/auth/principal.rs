//! Who is making a request, as the verification kit establishes it.

use super::role::{Role, Tier};
use serde::{Deserialize, Serialize};

/// A signed-in user or an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    ApiKey,
}

/// The caller of a request: a user id or an API key id, with what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub tier: Tier,
    pub kind: PrincipalKind,
}

impl Principal {
    /// A signed-in user: users are not rate-limited by a key tier, so they count as premium.
    pub fn user(subject: impl Into<String>, role: Role) -> Principal {
        Principal {
            subject: subject.into(),
            role,
            tier: Tier::Premium,
            kind: PrincipalKind::User,
        }
    }

    pub fn api_key(subject: impl Into<String>, role: Role, tier: Tier) -> Principal {
        Principal {
            subject: subject.into(),
            role,
            tier,
            kind: PrincipalKind::ApiKey,
        }
    }

    /// Whether this principal may do what `required` may.
    pub fn may(&self, required: Role) -> bool {
        self.role.includes(required)
    }
}
