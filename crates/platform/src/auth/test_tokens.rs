//! Test helpers: signing keys, JWKS and access tokens minted with jwt-simple, and forged
//! tokens assembled by hand with base64url.

use super::{AccessClaims, Jwk, Jwks, Role, TokenRules};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_simple::prelude::{
    Claims, Duration, Ed25519KeyPair, EdDSAKeyPairLike, HS256Key, JWTClaims, MACLike, UnixTimeStamp,
};

/// The fixed "now" of the pure tests (2025-06-15T16:53:20Z).
pub const NOW: u64 = 1_750_000_000;
pub const ISSUER: &str = "https://crm.example.test";
pub const AUDIENCE: &str = "crm-api";
pub const USER_ID: &str = "7f1c2a9e-user";

pub fn rules() -> TokenRules {
    TokenRules {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
    }
}

/// An Ed25519 key pair with a `kid`.
pub struct Signer {
    pub kid: String,
    pub key_pair: Ed25519KeyPair,
}

impl Signer {
    pub fn new(kid: &str) -> Signer {
        Signer {
            kid: kid.to_owned(),
            key_pair: Ed25519KeyPair::generate().with_key_id(kid),
        }
    }

    pub fn public_key_bytes(&self) -> [u8; 32] {
        let bytes = self.key_pair.public_key().to_bytes();
        let mut array = [0_u8; 32];
        array.copy_from_slice(&bytes);
        array
    }

    pub fn jwk(&self) -> Jwk {
        Jwk::ed25519(&self.kid, &self.public_key_bytes())
    }

    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.jwk()],
        }
    }

    pub fn sign(&self, claims: JWTClaims<AccessClaims>) -> String {
        self.key_pair.sign(claims).expect("test token signs")
    }

    /// A token valid at [`NOW`] for an editor.
    pub fn valid_token(&self) -> String {
        self.sign(claims_at(NOW, Role::Editor))
    }
}

/// Claims issued at `issued_at`: valid from then for 15 minutes, right `iss`/`aud`/`sub`.
pub fn claims_at(issued_at: u64, role: Role) -> JWTClaims<AccessClaims> {
    let mut claims = Claims::with_custom_claims(AccessClaims { role }, Duration::from_mins(15))
        .with_issuer(ISSUER)
        .with_audience(AUDIENCE)
        .with_subject(USER_ID);
    claims.issued_at = Some(UnixTimeStamp::from_secs(issued_at));
    claims.invalid_before = Some(UnixTimeStamp::from_secs(issued_at));
    claims.expires_at = Some(UnixTimeStamp::from_secs(issued_at + 900));
    claims
}

/// The compact form of `header.payload.signature`, each part given as raw bytes.
pub fn assemble(header: &str, payload: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A payload that would be valid at [`NOW`], as JSON text.
pub fn valid_payload() -> String {
    serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": USER_ID, "role": "admin",
        "iat": NOW, "nbf": NOW, "exp": NOW + 900,
    })
    .to_string()
}

/// `alg: none` with an empty signature, naming a known `kid`.
pub fn unsigned_token(kid: &str) -> String {
    let header = format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#);
    assemble(&header, &valid_payload(), b"")
}

/// HS256 keyed with the public key bytes (the classic algorithm-confusion forgery).
pub fn hs256_with_public_key(signer: &Signer) -> String {
    let mut claims: JWTClaims<AccessClaims> = claims_at(NOW, Role::Admin);
    claims.issued_at = Some(UnixTimeStamp::from_secs(NOW));
    let key = HS256Key::from_bytes(&signer.public_key_bytes()).with_key_id(&signer.kid);
    key.authenticate(claims).expect("HS256 token")
}

/// `token` with its payload replaced by `payload` (signature kept).
pub fn with_payload(token: &str, payload: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload),
        parts[2]
    )
}

/// `token` with the first byte of its signature flipped.
pub fn with_bad_signature(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature decodes");
    signature[0] ^= 0x01;
    format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(signature)
    )
}
