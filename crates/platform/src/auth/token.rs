//! Pure verification of an EdDSA access token against a JWKS (no I/O): the algorithm, the
//! `kid`, the signature, `iss`, `aud`, `exp` and `nbf` (at most 5 s tolerance), `sub`, `role`.

use super::jwks::Jwks;
use crate::api_error::ApiError;
use crm_domain::auth::{Principal, Role};
use jwt_simple::prelude::{
    Duration, EdDSAPublicKeyLike, HashSet, JWTClaims, Token, UnixTimeStamp, VerificationOptions,
};
use serde::{Deserialize, Serialize};

/// Spin variable naming the issuer every access token must carry.
pub const JWT_ISSUER_VARIABLE: &str = "jwt_issuer";
/// Spin variable naming the audience every access token must carry.
pub const JWT_AUDIENCE_VARIABLE: &str = "jwt_audience";
/// The only algorithm accepted.
pub const ACCESS_TOKEN_ALGORITHM: &str = "EdDSA";
/// Clock tolerance applied to `exp`, `nbf` and `iat`.
pub const CLOCK_TOLERANCE_SECONDS: u64 = 5;
/// Longest access token considered at all.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The custom claim of an access token (jwt-simple custom claims): the user's role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub role: Role,
}

/// What a token must say: issuer and audience (variables `jwt_issuer`, `jwt_audience`).
#[derive(Debug, Clone)]
pub struct TokenRules {
    pub issuer: String,
    pub audience: String,
}

impl TokenRules {
    /// Reads `jwt_issuer` and `jwt_audience`; a missing or empty one is a 500 (misconfigured).
    pub fn from_variables() -> Result<TokenRules, ApiError> {
        Ok(TokenRules {
            issuer: required_variable(JWT_ISSUER_VARIABLE)?,
            audience: required_variable(JWT_AUDIENCE_VARIABLE)?,
        })
    }
}

fn required_variable(name: &str) -> Result<String, ApiError> {
    let value = spin_sdk::variables::get(name)
        .map_err(|error| ApiError::internal(&format!("Failed to read variable {name}"), error))?;
    if value.trim().is_empty() {
        return Err(ApiError::Internal(format!("variable {name} is empty")));
    }
    Ok(value)
}

/// Why a token was refused. `UnknownKey` carries the token's `kid` (never the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWS at all (truncated, garbage, too long, undecodable header).
    #[error("malformed token")]
    Malformed,
    /// The `kid` is not in the JWKS: a refetch may help.
    #[error("unknown key id {0:?}")]
    UnknownKey(String),
    /// Well-formed but refused; the reason is safe to log.
    #[error("token refused: {0}")]
    Rejected(String),
}

/// Verifies `token` against `jwks` and `rules` at the current time; see
/// [`verify_access_token_at`].
pub fn verify_access_token(
    token: &str,
    jwks: &Jwks,
    rules: &TokenRules,
) -> Result<Principal, TokenError> {
    verify_access_token_at(token, jwks, rules, crate::clock::unix_seconds_now())
}

/// Verifies `token` as if the time were `now` (unix seconds): EdDSA only, a `kid` found in
/// `jwks`, the signature, `iss` and `aud`, `exp` (required) and `nbf` within 5 s, and a
/// non-empty `sub` and a known `role`. A user principal on success.
pub fn verify_access_token_at(
    token: &str,
    jwks: &Jwks,
    rules: &TokenRules,
    now: u64,
) -> Result<Principal, TokenError> {
    if !is_compact_jws(token) {
        return Err(TokenError::Malformed);
    }
    let metadata = Token::decode_metadata(token).map_err(|_| TokenError::Malformed)?;
    if metadata.algorithm() != ACCESS_TOKEN_ALGORITHM {
        return Err(rejected("algorithm is not EdDSA"));
    }
    let kid = metadata.key_id().ok_or_else(|| rejected("no kid"))?;
    let jwk = jwks
        .find(kid)
        .ok_or_else(|| TokenError::UnknownKey(kid.to_owned()))?;
    let key = jwk
        .public_key()
        .map_err(|_| rejected("the JWKS entry for the kid is unusable"))?;
    let claims = key
        .verify_token::<AccessClaims>(token, Some(options(rules, kid, now)))
        .map_err(|error| classify(&error))?;
    principal(claims)
}

fn options(rules: &TokenRules, kid: &str, now: u64) -> VerificationOptions {
    VerificationOptions {
        allowed_issuers: Some(HashSet::from([rules.issuer.clone()])),
        allowed_audiences: Some(HashSet::from([rules.audience.clone()])),
        time_tolerance: Some(Duration::from_secs(CLOCK_TOLERANCE_SECONDS)),
        required_key_id: Some(kid.to_owned()),
        max_token_length: Some(MAX_TOKEN_BYTES),
        artificial_time: Some(UnixTimeStamp::from_secs(now)),
        ..VerificationOptions::default()
    }
}

fn principal(claims: JWTClaims<AccessClaims>) -> Result<Principal, TokenError> {
    if claims.expires_at.is_none() {
        return Err(rejected("no exp"));
    }
    match claims.subject {
        Some(subject) if !subject.trim().is_empty() => {
            Ok(Principal::user(subject, claims.custom.role))
        }
        _ => Err(rejected("no sub")),
    }
}

/// Three dot-separated base64url segments, the first two non-empty, within the size cap.
fn is_compact_jws(token: &str) -> bool {
    let segments: Vec<&str> = token.split('.').collect();
    token.len() <= MAX_TOKEN_BYTES
        && segments.len() == 3
        && !segments[0].is_empty()
        && !segments[1].is_empty()
        && token.bytes().all(|byte| {
            byte == b'.' || byte == b'-' || byte == b'_' || byte.is_ascii_alphanumeric()
        })
}

fn rejected(reason: &str) -> TokenError {
    TokenError::Rejected(reason.to_owned())
}

/// Names a jwt-simple failure without repeating anything from the token.
fn classify(error: &jwt_simple::Error) -> TokenError {
    use jwt_simple::JWTError as E;
    if let Some(error) = error.downcast_ref::<E>() {
        return match error {
            E::InvalidSignature => rejected("bad signature"),
            E::TokenHasExpired => rejected("expired"),
            E::TokenNotValidYet => rejected("not yet valid"),
            E::ClockDrift => rejected("issued in the future"),
            E::RequiredIssuerMismatch | E::RequiredIssuerMissing => rejected("wrong issuer"),
            E::RequiredAudienceMismatch | E::RequiredAudienceMissing => rejected("wrong audience"),
            E::NotJWT => rejected("typ is not JWT"),
            E::UnknownCriticalExtension => rejected("unknown critical header"),
            E::CompactEncodingError | E::TokenTooLong | E::HeaderTooLarge => TokenError::Malformed,
            _ => rejected("refused by the verifier"),
        };
    }
    if error
        .downcast_ref::<jwt_simple::reexports::serde_json::Error>()
        .is_some()
    {
        return rejected("claims are incomplete or invalid");
    }
    TokenError::Malformed
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
