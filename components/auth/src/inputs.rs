//! Request bodies as sent, and their checked forms: every invalid field is reported at once
//! (422). Pure: no host calls.

use crm_domain::FieldError;
use crm_domain::auth::{ApiKeyRole, EmailAddress, Role, Tier, check_password};
use crm_platform::http_kit::ApiError;
use serde::Deserialize;

/// Longest display name, in characters (the column's check).
const MAX_DISPLAY_NAME_CHARS: usize = 200;
/// Longest API key name, in characters (the column's check).
const MAX_KEY_NAME_CHARS: usize = 100;

/// `POST /api/auth/token`.
#[derive(Debug, Deserialize)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// `POST /api/auth/refresh` and `POST /api/auth/revoke`.
#[derive(Debug, Deserialize)]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// `POST /api/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    pub email: String,
    pub password: String,
    pub role: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `PATCH /api/users/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// `PUT /api/users/me/password`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyBody {
    pub name: String,
    pub tier: String,
    #[serde(default)]
    pub role: Option<String>,
}

/// A user to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: EmailAddress,
    pub password: String,
    pub role: Role,
    pub display_name: String,
}

/// What a PATCH changes, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// An API key to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub tier: Tier,
    pub role: ApiKeyRole,
}

/// Collects field errors; `finish` turns them into a 422 if there are any.
#[derive(Default)]
struct Checks(Vec<FieldError>);

impl Checks {
    fn take<T, E: ToString>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        result
            .map_err(|error| self.0.push(FieldError::new(field, error.to_string())))
            .ok()
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(ApiError::Unprocessable(self.0)),
        }
    }
}

impl CreateUserBody {
    pub fn check(self) -> Result<NewUser, ApiError> {
        let mut checks = Checks::default();
        let email = checks.take("email", EmailAddress::parse(&self.email));
        let password = checks.take("password", check_password(&self.password));
        let role = checks.take("role", Role::parse(&self.role));
        let display_name = match (&self.display_name, &email) {
            (Some(name), _) => checks.take("display_name", display_name(name)),
            (None, Some(email)) => Some(email.local_part().to_owned()),
            (None, None) => None,
        };
        let user = match (email, password, role, display_name) {
            (Some(email), Some(()), Some(role), Some(display_name)) => Some(NewUser {
                email,
                password: self.password,
                role,
                display_name,
            }),
            _ => None,
        };
        checks.finish(user)
    }
}

impl UpdateUserBody {
    pub fn check(self) -> Result<UserChanges, ApiError> {
        let mut checks = Checks::default();
        let role = match &self.role {
            Some(role) => checks.take("role", Role::parse(role)).map(Some),
            None => Some(None),
        };
        let changes = role.map(|role| UserChanges {
            role,
            disabled: self.disabled,
        });
        checks.finish(changes)
    }
}

impl CreateApiKeyBody {
    pub fn check(self) -> Result<NewApiKey, ApiError> {
        let mut checks = Checks::default();
        let name = checks.take("name", bounded_text(&self.name, MAX_KEY_NAME_CHARS));
        let tier = checks.take("tier", Tier::parse(&self.tier));
        let role = match &self.role {
            Some(role) => checks.take("role", ApiKeyRole::parse(role)),
            None => Some(ApiKeyRole::default()),
        };
        let key = match (name, tier, role) {
            (Some(name), Some(tier), Some(role)) => Some(NewApiKey { name, tier, role }),
            _ => None,
        };
        checks.finish(key)
    }
}

/// The new password's policy errors, as field errors of `new_password`.
pub fn new_password_errors(new_password: &str) -> Vec<FieldError> {
    let mut checks = Checks::default();
    checks.take("new_password", check_password(new_password));
    checks.0
}

fn display_name(name: &str) -> Result<String, String> {
    bounded_text(name, MAX_DISPLAY_NAME_CHARS)
}

/// Trimmed text of 1 to `max` characters without control characters.
fn bounded_text(text: &str, max: usize) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("must not be blank".to_owned());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests;
