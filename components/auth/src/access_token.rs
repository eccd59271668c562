//! Access tokens: EdDSA JWTs with `iss`, `aud`, `sub`, `role`, `iat`, `nbf`, `exp` and `jti`,
//! signed with the active key and naming it in `kid`. Pure: no host calls.

use crate::signing_keys::SigningKey;
use crm_domain::auth::Role;
use crm_platform::auth::{AccessClaims, TokenRules};
use crm_platform::http_kit::ApiError;
use jwt_simple::prelude::{Claims, Duration, EdDSAKeyPairLike};

/// What one access token says about its user.
#[derive(Debug, Clone, Copy)]
pub struct AccessGrant<'a> {
    pub user_id: &'a str,
    pub role: Role,
    pub ttl_seconds: u64,
    /// A unique id (`jti`).
    pub token_id: &'a str,
}

/// The signed token; `iat` and `nbf` are now, `exp` now + `ttl_seconds`.
pub fn sign_access_token(
    key: &SigningKey,
    rules: &TokenRules,
    grant: &AccessGrant<'_>,
) -> Result<String, ApiError> {
    let claims = Claims::with_custom_claims(
        AccessClaims { role: grant.role },
        Duration::from_secs(grant.ttl_seconds),
    )
    .with_issuer(&rules.issuer)
    .with_audience(&rules.audience)
    .with_subject(grant.user_id)
    .with_jwt_id(grant.token_id);
    key.key_pair()
        .sign(claims)
        .map_err(|error| ApiError::internal("Failed to sign an access token", error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_keys::{SigningKeys, encode_entry};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use crm_domain::auth::Principal;
    use crm_platform::auth::verify_access_token;
    use serde_json::Value;

    fn rules() -> TokenRules {
        TokenRules {
            issuer: "crm-api".into(),
            audience: "crm-api".into(),
        }
    }

    fn keys(entries: &[(&str, u8)]) -> SigningKeys {
        let text: Vec<String> = entries
            .iter()
            .map(|(kid, byte)| encode_entry(kid, &[*byte; 32]))
            .collect();
        SigningKeys::parse(&text.join(","))
            .ok()
            .flatten()
            .expect("valid keys")
    }

    fn grant() -> AccessGrant<'static> {
        AccessGrant {
            user_id: "user-1",
            role: Role::Editor,
            ttl_seconds: 900,
            token_id: "jti-1",
        }
    }

    fn part(token: &str, index: usize) -> Value {
        let segment = token.split('.').nth(index).unwrap_or_default();
        let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    #[test]
    fn a_signed_token_verifies_with_the_jwks_as_its_user() {
        let keys = keys(&[("k1", 1)]);

        let token = sign_access_token(keys.active(), &rules(), &grant()).expect("signs");

        let principal = verify_access_token(&token, &keys.jwks(), &rules());
        assert_eq!(principal, Ok(Principal::user("user-1", Role::Editor)));
    }

    #[test]
    fn the_token_carries_the_documented_header_and_claims() {
        let keys = keys(&[("active", 1), ("retired", 2)]);

        let token = sign_access_token(keys.active(), &rules(), &grant()).expect("signs");

        let header = part(&token, 0);
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], "active");
        let claims = part(&token, 1);
        for name in ["iss", "aud", "sub", "role", "iat", "nbf", "exp", "jti"] {
            assert!(claims.get(name).is_some(), "claim {name} in {claims}");
        }
        assert_eq!(claims["role"], "editor");
        let lifetime = claims["exp"].as_u64().zip(claims["iat"].as_u64());
        assert_eq!(lifetime.map(|(exp, iat)| exp - iat), Some(900));
    }

    #[test]
    fn a_token_is_refused_once_its_key_leaves_the_list() {
        let before = keys(&[("old", 1)]);
        let after = keys(&[("new", 2)]);
        let token = sign_access_token(before.active(), &rules(), &grant()).expect("signs");

        let verdict = verify_access_token(&token, &after.jwks(), &rules());

        assert!(verdict.is_err(), "{verdict:?}");
    }
}
