//! Roles of users (`admin | editor | viewer`), the roles an API key may have, and the
//! rate-limit tiers of API keys.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value outside an enumeration, named for the error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {allowed}")]
pub struct UnknownValue {
    pub allowed: &'static str,
}

/// What a user may do; each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Result<Role, UnknownValue> {
        match text {
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            _ => Err(UnknownValue {
                allowed: "admin, editor, viewer",
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role may do what `required` may.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of an API key: keys are for machines and are never admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiKeyRole(Role);

impl ApiKeyRole {
    pub fn parse(text: &str) -> Result<ApiKeyRole, UnknownValue> {
        match Role::parse(text) {
            Ok(Role::Admin) | Err(_) => Err(UnknownValue {
                allowed: "editor, viewer",
            }),
            Ok(role) => Ok(ApiKeyRole(role)),
        }
    }

    pub fn role(self) -> Role {
        self.0
    }
}

impl Default for ApiKeyRole {
    fn default() -> Self {
        ApiKeyRole(Role::Editor)
    }
}

/// The rate-limit tier of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Free,
    Standard,
    Premium,
}

impl Tier {
    pub fn parse(text: &str) -> Result<Tier, UnknownValue> {
        match text {
            "free" => Ok(Tier::Free),
            "standard" => Ok(Tier::Standard),
            "premium" => Ok(Tier::Premium),
            _ => Err(UnknownValue {
                allowed: "free, standard, premium",
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Standard => "standard",
            Tier::Premium => "premium",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_roles_below_them() {
        for (role, required, want) in [
            (Role::Admin, Role::Admin, true),
            (Role::Admin, Role::Viewer, true),
            (Role::Editor, Role::Editor, true),
            (Role::Editor, Role::Admin, false),
            (Role::Viewer, Role::Editor, false),
            (Role::Viewer, Role::Viewer, true),
        ] {
            assert_eq!(role.includes(required), want, "{role} needs {required}");
        }
    }

    #[test]
    fn values_round_trip_and_unknown_ones_are_named() {
        for role in [Role::Admin, Role::Editor, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        for tier in [Tier::Free, Tier::Standard, Tier::Premium] {
            assert_eq!(Tier::parse(tier.as_str()), Ok(tier));
        }
        assert_eq!(
            Role::parse("member").unwrap_err().allowed,
            "admin, editor, viewer"
        );
        assert_eq!(
            Tier::parse("gold").unwrap_err().allowed,
            "free, standard, premium"
        );
        assert!(ApiKeyRole::parse("admin").is_err(), "keys are never admins");
        assert_eq!(
            ApiKeyRole::parse("viewer").map(ApiKeyRole::role),
            Ok(Role::Viewer)
        );
        assert_eq!(ApiKeyRole::default().role(), Role::Editor);
    }
}
