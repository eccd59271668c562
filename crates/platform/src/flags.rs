//! Feature flags of one deployment (crm_domain::flags): one entry `flags:<source>` in store
//! `default`, where `<source>` is a hash of `database_url` (the deployment's database, as
//! the response cache keys it), holding every set flag. Read on every evaluation, changed by
//! compare-and-swap: a change reaches every replica on its next request, no redeploy.
//! A flag never set (or deleted) takes its default from the Spin variable of its name.

use crate::kv::kv_error_name;
use crate::log;
use crm_domain::flags::{self, FlagMap, FlagState, StoredFlag};
use crm_domain::{Level, LogLine};
use spin_sdk::wit::wasi::keyvalue::store;

const STORE: &str = "default";

/// The entry's key for this deployment.
fn key() -> String {
    let url = spin_sdk::variables::get(crate::db::DATABASE_URL_VARIABLE).unwrap_or_default();
    format!("flags:{}", crm_domain::cache::source_of(&url))
}

fn open() -> Result<store::Bucket, String> {
    store::open(STORE).map_err(|e| format!("key-value store unavailable: {}", kv_error_name(&e)))
}

/// Every stored flag.
pub fn stored() -> Result<FlagMap, String> {
    let bytes = open()?
        .get(&key())
        .map_err(|e| format!("key-value store failed: {}", kv_error_name(&e)))?;
    Ok(flags::decode(bytes.as_deref()))
}

/// The default of flag `name`: its Spin variable (`false`/`0`/`no`/`off` turn it off,
/// anything else on) for a known flag, off for others.
pub fn default_state(name: &str) -> FlagState {
    if !flags::KNOWN.iter().any(|known| known.name == name) {
        return FlagState::all(false);
    }
    let on = !crate::variables::is_off(spin_sdk::variables::get(name).ok());
    FlagState::all(on)
}

/// Flag `name`'s state now: stored, else its default. With the store unavailable, the
/// default, and a warning.
pub fn state(name: &str) -> FlagState {
    match stored() {
        Ok(mut flags) => flags
            .remove(name)
            .map_or_else(|| default_state(name), |flag| flag.state),
        Err(error) => {
            log::emit(
                LogLine::new(
                    Level::Warn,
                    "platform::flags",
                    "flags unreadable; using defaults",
                )
                .field("flag", name)
                .field("error", error),
            );
            default_state(name)
        }
    }
}

/// Whether flag `name` is on for `subject` (`kind:id`, or `None` without a caller).
pub fn is_on(name: &str, subject: Option<&str>) -> bool {
    flags::evaluate(&state(name), name, subject)
}

/// What a change did.
pub enum Change {
    /// The flag as stored now, and before (if it was set).
    Set(StoredFlag, Option<StoredFlag>),
    /// The flag was removed (it had been set).
    Removed(StoredFlag),
    /// Nothing to remove.
    Absent,
    /// Refused: the deployment already has the most flags it may keep.
    Full,
}

/// Sets flag `name` to `flag` (compare-and-swap on the whole entry).
pub fn put(name: &str, flag: StoredFlag) -> Result<Change, String> {
    let mut change = Change::Absent;
    crate::kv::update(&open()?, &key(), |current| {
        let mut flags = flags::decode(current);
        if !flags.contains_key(name) && flags.len() >= flags::MAX_FLAGS {
            change = Change::Full;
            return None;
        }
        let before = flags.insert(name.to_owned(), flag.clone());
        change = Change::Set(flag.clone(), before);
        serde_json::to_vec(&flags).ok()
    })?;
    Ok(change)
}

/// Removes flag `name` (its default applies again).
pub fn remove(name: &str) -> Result<Change, String> {
    let mut change = Change::Absent;
    crate::kv::update(&open()?, &key(), |current| {
        let mut flags = flags::decode(current);
        let removed = flags.remove(name)?;
        change = Change::Removed(removed);
        serde_json::to_vec(&flags).ok()
    })?;
    Ok(change)
}
