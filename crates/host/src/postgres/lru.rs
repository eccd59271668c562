//! A small map that keeps at most `capacity` entries, evicting the least recently
//! used one: the host's cache of PostgreSQL pools (Spin caches 16 pools in a moka
//! cache; its TinyLFU policy and this LRU agree on the bound, not on the victim).

use std::collections::HashMap;

/// Entries by key, each stamped with when it was last used.
pub struct LruMap<V> {
    capacity: usize,
    clock: u64,
    entries: HashMap<String, Stamped<V>>,
}

struct Stamped<V> {
    value: V,
    /// Insertion order, so entries can be listed stably.
    created: u64,
    last_used: u64,
}

impl<V> LruMap<V> {
    pub fn new(capacity: usize) -> LruMap<V> {
        LruMap {
            capacity: capacity.max(1),
            clock: 0,
            entries: HashMap::new(),
        }
    }

    /// The entry for `key`, marked as just used.
    pub fn get(&mut self, key: &str) -> Option<&V> {
        self.clock += 1;
        let entry = self.entries.get_mut(key)?;
        entry.last_used = self.clock;
        Some(&entry.value)
    }

    /// Add `value` under `key`, first evicting the least recently used entry when
    /// full; returns the evicted value, which the caller may drop.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        self.clock += 1;
        let evicted = if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.evict_least_recent()
        } else {
            None
        };
        let stamped = Stamped {
            value,
            created: self.clock,
            last_used: self.clock,
        };
        self.entries.insert(key, stamped);
        evicted
    }

    fn evict_least_recent(&mut self) -> Option<V> {
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, entry)| entry.last_used)
            .map(|(key, _)| key.clone())?;
        self.entries.remove(&oldest).map(|entry| entry.value)
    }

    /// Every value, oldest first.
    pub fn values(&self) -> Vec<&V> {
        let mut entries: Vec<&Stamped<V>> = self.entries.values().collect();
        entries.sort_by_key(|entry| entry.created);
        entries.into_iter().map(|entry| &entry.value).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(map: &LruMap<&'static str>) -> Vec<&'static str> {
        map.values().into_iter().copied().collect()
    }

    #[test]
    fn a_full_map_evicts_the_least_recently_used_entry() {
        let mut map = LruMap::new(2);
        map.insert("a".into(), "a");
        map.insert("b".into(), "b");
        map.get("a");

        let evicted = map.insert("c".into(), "c");

        assert_eq!(evicted, Some("b"), "b was used least recently");
        assert_eq!(keys(&map), ["a", "c"]);
    }

    #[test]
    fn the_map_never_holds_more_than_its_capacity() {
        let mut map = LruMap::new(16);

        for i in 0..40 {
            map.insert(format!("k{i}"), "v");
            assert!(
                map.values().len() <= 16,
                "{} entries after {i}",
                map.values().len()
            );
        }

        assert_eq!(map.values().len(), 16);
        assert!(map.get("k23").is_none(), "an early key was evicted");
        assert!(map.get("k39").is_some(), "the newest key is kept");
    }

    #[test]
    fn replacing_a_key_evicts_nothing() {
        let mut map = LruMap::new(1);
        map.insert("a".into(), "old");

        let evicted = map.insert("a".into(), "new");

        assert_eq!(evicted, None);
        assert_eq!(keys(&map), ["new"]);
    }
}
