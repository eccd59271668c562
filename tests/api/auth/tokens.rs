//! Signing keys the tests give the app (`jwt_signing_keys`, `kid=base64url-seed`) and
//! access tokens built by hand: valid ones, and every forgery a verifier must refuse.

use jwt_simple::prelude::*;
use serde_json::{Value, json};

/// The issuer and audience the app's manifest defaults to.
pub const ISSUER: &str = "crm-api";
pub const AUDIENCE: &str = "crm-api";

/// The suite's own key: the same for every test, so apps sharing the test Redis (where
/// the kit caches the JWKS under one key) agree on it. A test key, never used elsewhere.
const SUITE_SEED: &[u8; 32] = b"crm-api test suite signing seed!";
pub const SUITE_KID: &str = "test-suite";

/// An Ed25519 signing key: its `kid` and 32-byte seed.
#[derive(Clone, Debug)]
pub struct SigningKey {
    pub kid: String,
    seed: [u8; 32],
}

impl SigningKey {
    pub fn suite() -> SigningKey {
        SigningKey {
            kid: SUITE_KID.to_owned(),
            seed: *SUITE_SEED,
        }
    }

    /// A fresh random key named `kid`.
    pub fn random(kid: &str) -> SigningKey {
        let der = Ed25519KeyPair::generate().to_der();
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&der[der.len() - 32..]);
        SigningKey {
            kid: kid.to_owned(),
            seed,
        }
    }

    /// The same key under another `kid`.
    pub fn renamed(&self, kid: &str) -> SigningKey {
        SigningKey {
            kid: kid.to_owned(),
            seed: self.seed,
        }
    }

    /// `kid=<seed, base64url without padding>`, as `jwt_signing_keys` lists it.
    pub fn spec(&self) -> String {
        format!("{}={}", self.kid, self.seed_text())
    }

    /// The seed as the variable spells it (to check it never leaks).
    pub fn seed_text(&self) -> String {
        Base64UrlSafeNoPadding::encode_to_string(self.seed).expect("base64url")
    }

    /// The key pair, its tokens headed with this key's `kid`.
    pub fn key_pair(&self) -> Ed25519KeyPair {
        // PKCS#8 of an Ed25519 key is a fixed header then the seed: take the header from a
        // generated key, so the seed alone gives the pair.
        let template = Ed25519KeyPair::generate().to_der();
        let header = &template[..template.len() - 32];
        Ed25519KeyPair::from_der(&[header, &self.seed].concat())
            .expect("an Ed25519 key from its seed")
            .with_key_id(&self.kid)
    }
}

/// The claims of an access token, each one settable to forge a bad token.
#[derive(Clone, Debug)]
pub struct TokenClaims {
    pub sub: String,
    pub role: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

impl TokenClaims {
    /// What `auth` would issue to `sub` with `role`: valid for five minutes from now.
    pub fn valid(sub: &str, role: &str) -> TokenClaims {
        let now = unix_now();
        TokenClaims {
            sub: sub.to_owned(),
            role: role.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            nbf: now,
            exp: now + 300,
        }
    }

    fn to_jwt_claims(&self) -> JWTClaims<Value> {
        let mut claims =
            Claims::with_custom_claims(json!({ "role": self.role }), Duration::from_secs(1))
                .with_issuer(&self.iss)
                .with_audience(&self.aud)
                .with_subject(&self.sub)
                .with_jwt_id(uuid::Uuid::new_v4());
        claims.issued_at = Some(Duration::from_secs(self.iat));
        claims.invalid_before = Some(Duration::from_secs(self.nbf));
        claims.expires_at = Some(Duration::from_secs(self.exp));
        claims
    }

    pub fn to_json(&self) -> Value {
        json!({
            "iss": self.iss, "aud": self.aud, "sub": self.sub, "role": self.role,
            "iat": self.iat, "nbf": self.nbf, "exp": self.exp,
            "jti": uuid::Uuid::new_v4().to_string(),
        })
    }
}

/// An EdDSA token signed with `key` (header `{alg: EdDSA, typ: JWT, kid}`).
pub fn sign(key: &SigningKey, claims: &TokenClaims) -> String {
    sign_with(&key.key_pair(), claims)
}

/// An EdDSA token signed with `key` whose payload is `payload` as given (to leave a
/// required claim out).
pub fn sign_payload(key: &SigningKey, payload: &Value) -> String {
    let claims: JWTClaims<Value> =
        serde_json::from_value(payload.clone()).expect("a JWT claims set");
    key.key_pair().sign(claims).expect("signs")
}

/// An EdDSA token signed with `pair`, headed with the pair's own `kid`.
pub fn sign_with(pair: &Ed25519KeyPair, claims: &TokenClaims) -> String {
    pair.sign(claims.to_jwt_claims()).expect("signs")
}

/// The `alg: none` token: no signature at all.
pub fn unsigned(kid: &str, claims: &TokenClaims) -> String {
    let header = json!({ "alg": "none", "typ": "JWT", "kid": kid });
    format!(
        "{}.{}.",
        encode_part(&header),
        encode_part(&claims.to_json())
    )
}

/// An HS256 token whose HMAC secret is `secret` (the algorithm-confusion attack when
/// `secret` is the public key).
pub fn hs256(kid: &str, secret: &[u8], claims: &TokenClaims) -> String {
    HS256Key::from_bytes(secret)
        .with_key_id(kid)
        .authenticate(claims.to_jwt_claims())
        .expect("authenticates")
}

/// `token` with its payload changed by `change`, header and signature kept.
pub fn with_payload(token: &str, change: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS has three parts: {token}");
    let mut payload = decode_part(parts[1]);
    change(&mut payload);
    format!("{}.{}.{}", parts[0], encode_part(&payload), parts[2])
}

/// `token` with one character of its signature changed.
pub fn with_bad_signature(token: &str) -> String {
    let (head, signature) = token.rsplit_once('.').expect("a JWS");
    let mut chars: Vec<char> = signature.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    format!("{head}.{}", chars.into_iter().collect::<String>())
}

/// The decoded header (part 0) or payload (part 1) of a token.
pub fn part(token: &str, index: usize) -> Value {
    decode_part(
        token
            .split('.')
            .nth(index)
            .expect("the token has this part"),
    )
}

/// The `kid` of a token's header.
pub fn kid_of(token: &str) -> String {
    part(token, 0)["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The bytes of a base64url value (the JWKS's `x`).
pub fn base64url_bytes(text: &str) -> Vec<u8> {
    Base64UrlSafeNoPadding::decode_to_vec(text, None).expect("base64url")
}

fn encode_part(value: &Value) -> String {
    Base64UrlSafeNoPadding::encode_to_string(value.to_string()).expect("base64url")
}

fn decode_part(text: &str) -> Value {
    let bytes = Base64UrlSafeNoPadding::decode_to_vec(text, None).expect("base64url part");
    serde_json::from_slice(&bytes).expect("a JSON part")
}
