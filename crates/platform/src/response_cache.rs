//! The server-side response cache (docs/caching.md) in the `default` key-value store
//! (Redis in production, shared by every replica): direct-mapped slots
//! `cache:<namespace>:<source>:slot:<n>` holding entries `crm_domain::cache` encodes, and
//! one generation counter `cache:<namespace>:<source>:generation` that every write moves
//! by atomic `increment`. `<source>` is a hash of `database_url`: answers are of one
//! database, so apps on other databases sharing a Redis never read each other's entries. The generation is part of each entry's identity, so a write
//! invalidates every entry on every replica at once, without scanning keys; entries also
//! carry their creation time, checked against the TTL on read.
//!
//! The cache never decides an answer: a store that fails or holds nothing usable is a
//! miss (logged), and the caller reads the database.

use crate::clock::unix_millis_now;
use crate::kv::{kv_error_name, stored_number};
use crm_domain::cache::{Identity, Representation, Unusable, decode, encode};
use crm_domain::{Level, LogLine};
use spin_sdk::wit::wasi::keyvalue::{atomics, store};
use std::sync::OnceLock;

const STORE: &str = "default";
/// The response header naming the outcome.
pub const X_CACHE_HEADER: &str = "x-cache";

/// The variables (spin.toml `response_cache_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub enabled: bool,
    pub ttl_ms: u64,
    pub slots: u32,
    pub max_entry_bytes: usize,
    /// 16 hex digits of SHA-256 of `database_url` (the database the answers come from).
    pub source: String,
}

impl Settings {
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Settings {
        let number = |name: &str, default: u64| crate::variables::number(&get, name, default);
        Settings {
            enabled: !crate::variables::is_off(get("response_cache_enabled")),
            ttl_ms: number("response_cache_ttl_seconds", 30).max(1) * 1000,
            slots: number("response_cache_slots", 4096).clamp(1, 1 << 20) as u32,
            max_entry_bytes: number("response_cache_max_entry_kib", 256).clamp(1, 4096) as usize
                * 1024,
            source: crm_domain::cache::source_of(&get("database_url").unwrap_or_default()),
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn load() -> Settings {
        Settings::from_lookup(|name| spin_sdk::variables::get(name).ok())
    }

    /// Natively (unit tests) there is no Spin host: the defaults.
    #[cfg(not(target_arch = "wasm32"))]
    fn load() -> Settings {
        Settings::from_lookup(|_| None)
    }

    /// The settings, read once per component instance.
    pub fn get() -> &'static Settings {
        static SETTINGS: OnceLock<Settings> = OnceLock::new();
        SETTINGS.get_or_init(Settings::load)
    }
}

/// How a request was answered, for `X-Cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// From a stored entry; the database was not read.
    Hit,
    /// From the database (nothing usable stored, or the store unavailable).
    Miss,
    /// From the database, the cache being off (`response_cache_enabled = false`).
    Bypass,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Miss => "miss",
            Outcome::Bypass => "bypass",
        }
    }
}

/// One request's look in the cache: the entry found, or where to keep the answer.
pub struct Lookup {
    found: Option<Representation>,
    outcome: Outcome,
    slot: Option<Slot>,
}

struct Slot {
    bucket: store::Bucket,
    key: String,
    identity: String,
}

/// Looks up the answer to `route` for `scope` and `normalised` in `namespace`. The
/// generation is read first, so an answer read from the database after it is never kept
/// under a later generation than the data it reflects.
pub fn lookup(namespace: &str, route: &str, scope: &str, normalised: &str) -> Lookup {
    let settings = Settings::get();
    if !settings.enabled {
        return Lookup {
            found: None,
            outcome: Outcome::Bypass,
            slot: None,
        };
    }
    match find(settings, namespace, route, scope, normalised) {
        Ok((found, slot)) => Lookup {
            outcome: if found.is_some() {
                Outcome::Hit
            } else {
                Outcome::Miss
            },
            found,
            slot: Some(slot),
        },
        Err(error) => {
            warn("response cache unavailable", &error);
            Lookup {
                found: None,
                outcome: Outcome::Miss,
                slot: None,
            }
        }
    }
}

fn find(
    settings: &Settings,
    namespace: &str,
    route: &str,
    scope: &str,
    normalised: &str,
) -> Result<(Option<Representation>, Slot), String> {
    let bucket = store::open(STORE).map_err(failed)?;
    let prefix = prefix(settings, namespace);
    let generation = bucket
        .get(&format!("{prefix}:generation"))
        .map_err(failed)?
        .map_or(0, |bytes| stored_number(&bytes));
    let identity = Identity {
        generation,
        route,
        scope,
        normalised,
    };
    let key = format!("{prefix}:slot:{}", identity.slot(settings.slots));
    let identity = identity.text();
    let found = match bucket.get(&key).map_err(failed)? {
        None => None,
        Some(stored) => match decode(&stored, &identity, unix_millis_now(), settings.ttl_ms) {
            Ok(representation) => Some(representation),
            Err(Unusable::Other | Unusable::Expired) => None,
            Err(Unusable::Malformed) => {
                warn("response cache slot unreadable", &key);
                None
            }
        },
    };
    Ok((
        found,
        Slot {
            bucket,
            key,
            identity,
        },
    ))
}

impl Lookup {
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The stored answer, on a hit.
    pub fn take_hit(&mut self) -> Option<Representation> {
        self.found.take()
    }

    /// Keeps `representation` for the next requests of the same identity (a miss only;
    /// answers larger than `response_cache_max_entry_kib` are not kept).
    pub fn keep(&self, representation: &Representation) {
        let Some(slot) = &self.slot else {
            return;
        };
        if self.outcome != Outcome::Miss
            || representation.body.len() > Settings::get().max_entry_bytes
        {
            return;
        }
        let stored = encode(&slot.identity, unix_millis_now(), representation);
        if let Err(error) = slot.bucket.set(&slot.key, &stored) {
            warn("response cache write failed", &failed(error));
        }
    }
}

/// Moves `namespace`'s generation: every entry kept so far stops answering, on every
/// replica. Called after each write, before its answer is sent. A failure is logged; the
/// entries then expire by their TTL.
pub fn invalidate(namespace: &str) {
    let settings = Settings::get();
    if !settings.enabled {
        return;
    }
    let key = format!("{}:generation", prefix(settings, namespace));
    let moved = store::open(STORE)
        .map_err(failed)
        .and_then(|bucket| atomics::increment(&bucket, &key, 1).map_err(failed));
    if let Err(error) = moved {
        crate::log::emit(
            LogLine::new(
                Level::Error,
                "platform::response_cache",
                "response cache not invalidated: cached reads may be stale until their TTL",
            )
            .field("namespace", namespace)
            .field("error", error),
        );
    }
}

fn prefix(settings: &Settings, namespace: &str) -> String {
    format!("cache:{namespace}:{}", settings.source)
}

fn failed(error: store::Error) -> String {
    format!("key-value store: {}", kv_error_name(&error))
}

fn warn(message: &str, detail: &str) {
    crate::log::emit(
        LogLine::new(Level::Warn, "platform::response_cache", message).field("error", detail),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_the_variables_with_their_defaults() {
        let defaults = Settings::from_lookup(|_| None);
        assert_eq!(
            defaults,
            Settings {
                enabled: true,
                ttl_ms: 30_000,
                slots: 4096,
                max_entry_bytes: 256 * 1024,
                source: crm_domain::cache::source_of(""),
            }
        );
        let set = Settings::from_lookup(|name| {
            Some(
                match name {
                    "response_cache_enabled" => "off",
                    "response_cache_ttl_seconds" => "5",
                    "response_cache_slots" => "0",
                    "response_cache_max_entry_kib" => "64",
                    "database_url" => "postgres://db/crm",
                    _ => "",
                }
                .to_owned(),
            )
        });
        assert_eq!(
            set,
            Settings {
                enabled: false,
                ttl_ms: 5_000,
                slots: 1,
                max_entry_bytes: 64 * 1024,
                source: crm_domain::cache::source_of("postgres://db/crm"),
            }
        );
    }
}
