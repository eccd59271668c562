//! `POST /internal/api-keys/resolve` (private: Spin service chaining only): `{key}` → 200
//! `{subject, role, tier}`, or 404 when the key is unknown, revoked or expired.

use crate::COMPONENT;
use crate::api_key_format::ApiKeyText;
use crate::body;
use crate::now::Now;
use crate::store::api_keys;
use crm_domain::{Level, LogLine, RequestId};
use crm_platform::auth::{ResolveApiKey, ResolvedApiKey, sha256_hex};
use crm_platform::db::Database;
use crm_platform::http_kit::{ApiError, json_response};
use crm_platform::log;
use spin_sdk::http::{Request, Response};

const UNKNOWN: &str = "No usable API key matches.";

pub fn resolve_api_key(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let asked: ResolveApiKey = body::json(request)?;
    let key =
        ApiKeyText::parse(&asked.key).ok_or_else(|| ApiError::NotFound(UNKNOWN.to_owned()))?;
    let db = Database::open()?;
    let now = Now::read();
    let record =
        api_keys::find_usable_by_hash(&db, &sha256_hex(key.as_str().as_bytes()), &now.timestamp)?
            .ok_or_else(|| ApiError::NotFound(UNKNOWN.to_owned()))?;
    if let Err(error) = api_keys::touch(&db, &record.id, &now.timestamp) {
        log::emit(
            LogLine::new(
                Level::Warn,
                COMPONENT,
                "failed to record an API key's last use",
            )
            .field("request_id", request_id.as_str())
            .field("api_key_id", record.id.as_str())
            .field("cause", error.to_string()),
        );
    }
    let resolved = ResolvedApiKey {
        subject: record.id,
        role: record.role,
        tier: record.tier,
    };
    json_response(200, &resolved, request_id)
}
