//! A bounded cache of unwrapped data keys, so re-reading an object costs no RSA operation.
//!
//! Entries are keyed by SHA-256 over the RSA-OAEP label and the wrapped key: a bound envelope
//! relabelled with another key id or context has a different label, so it cannot ride on a cached
//! entry it would not have unwrapped to. Values are the 32-byte data key and the fingerprint of the
//! private key that unwrapped it: an opener uses an entry only if that very key is one of its
//! candidates, so a cache shared between scopes or registries, or kept across a reload that
//! replaced a key under the same id, never opens an envelope for an opener that holds no key for
//! it. Eviction is least-recently-used, and costs O(log n): beside the map, an ordered index from
//! each entry's last-use tick to its fingerprint names the oldest entry directly. Scanning every
//! entry for the oldest instead would cost O(capacity) per cold open, under the one lock every warm
//! lookup also takes.
//!
//! Each data key lives in its own heap allocation ([`DataKey`]), wiped when the last reference
//! goes (on eviction, replacement or `clear`, or later if an open still uses it). The map holds
//! only pointers to them: a `HashMap` that grows moves its entries to a new table and frees the old
//! one unwiped, and a removed entry's bytes stay in its vacated slot, so keys stored inline would
//! be left behind in both. The map is also reserved for its full capacity up front, so filling it
//! never grows it; a rehash after much eviction (hash tables reclaim removed slots that way) moves
//! only fingerprints, pointers and counters. The recency index holds only ticks and fingerprints
//! (hashes of public envelope fields), never key bytes, so its nodes may come and go freely.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::envelope::DATA_KEY_LEN;

/// A data key in its own heap allocation, wiped when the last reference drops. Moving, caching or
/// handing it out moves a pointer, never the key.
pub(crate) type DataKey = Arc<Zeroizing<[u8; DATA_KEY_LEN]>>;

/// A [`DataKey`] holding `bytes`, or `None` if they are not 32 bytes long.
pub(crate) fn data_key_from_slice(bytes: &[u8]) -> Option<DataKey> {
    if bytes.len() != DATA_KEY_LEN {
        return None;
    }
    let mut key = Arc::new(Zeroizing::new([0u8; DATA_KEY_LEN]));
    // Filled where it will live: an array built first and then moved in would leave a copy of the
    // key in the temporary it was built in.
    Arc::get_mut(&mut key)?.copy_from_slice(bytes);
    Some(key)
}

/// A cached data key and the fingerprint of the private key that unwrapped it (SHA-256 of its
/// public key, not secret).
pub(crate) struct CachedKey {
    pub(crate) data_key: DataKey,
    pub(crate) unwrapped_by: [u8; 32],
}

struct Entry {
    key: CachedKey,
    /// This entry's key in `Inner::recency`.
    last_used: u64,
}

struct Inner {
    entries: HashMap<[u8; 32], Entry>,
    /// Every entry's fingerprint under its last-use tick, oldest first: exactly one tick per entry,
    /// the one in its `last_used`. Ticks are unique (the clock advances on every lookup and insert,
    /// under the lock), so no two entries share a slot.
    recency: BTreeMap<u64, [u8; 32]>,
    clock: u64,
}

impl Inner {
    /// The next tick of the recency clock.
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

/// Bounded, zeroizing LRU cache of unwrapped data keys. Thread-safe.
pub struct DataKeyCache {
    capacity: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl fmt::Debug for DataKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKeyCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl DataKeyCache {
    /// A cache holding at most `capacity` data keys (0 disables caching). Room for all of them is
    /// reserved now.
    pub fn new(capacity: usize) -> Self {
        let mut entries = HashMap::new();
        // A capacity too large to reserve is still served: entries hold no key bytes, so growing
        // later only moves pointers and fingerprints.
        let _ = entries.try_reserve(capacity);
        Self {
            capacity,
            inner: Mutex::new(Inner {
                entries,
                recency: BTreeMap::new(),
                clock: 0,
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cache fingerprint of a wrapped key under a given OAEP label.
    pub(crate) fn fingerprint(label: &[u8], wrapped_key: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"sealkit-envelope/data-key-cache");
        h.update((label.len() as u64).to_be_bytes());
        h.update(label);
        h.update(wrapped_key);
        h.finalize().into()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave an entry half-written; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Looks up a fingerprint, returning the key (shared, not copied) and which private key
    /// unwrapped it. A lookup that finds the entry makes it the most recently used, whether or not
    /// the caller can use it; it counts as neither hit nor miss (see [`DataKeyCache::record`]).
    pub(crate) fn get(&self, fingerprint: &[u8; 32]) -> Option<CachedKey> {
        let mut inner = self.lock();
        let now = inner.tick();
        let Inner {
            entries, recency, ..
        } = &mut *inner;
        let entry = entries.get_mut(fingerprint)?;
        recency.remove(&entry.last_used);
        recency.insert(now, *fingerprint);
        entry.last_used = now;
        Some(CachedKey {
            data_key: Arc::clone(&entry.key.data_key),
            unwrapped_by: entry.key.unwrapped_by,
        })
    }

    /// Counts one open that consulted the cache: a hit if the cached key opened the envelope
    /// (the key search, and its RSA operations, skipped), else a miss. Counted by the opener,
    /// not by [`DataKeyCache::get`]: finding an entry is not yet a hit, since the opener may hold
    /// no key for it or the body may fail under it, and then the full search runs anyway.
    pub(crate) fn record(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Stores a key (replacing any under the same fingerprint), evicting the least recently used
    /// entry when full.
    pub(crate) fn insert(&self, fingerprint: [u8; 32], key: CachedKey) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        let now = inner.tick();
        let Inner {
            entries, recency, ..
        } = &mut *inner;
        if let Some(entry) = entries.get_mut(&fingerprint) {
            recency.remove(&entry.last_used);
            // The replaced key is wiped now, or when an open still using it finishes.
            entry.key = key;
            entry.last_used = now;
        } else {
            if entries.len() >= self.capacity
                && let Some((_, oldest)) = recency.pop_first()
            {
                // The entry's key is wiped now, or when an open still using it finishes.
                entries.remove(&oldest);
            }
            entries.insert(
                fingerprint,
                Entry {
                    key,
                    last_used: now,
                },
            );
        }
        recency.insert(now, fingerprint);
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most keys it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Opens answered from the cache: the cached key opened the envelope, so no RSA private
    /// operation ran. An entry found but not usable (its key is not among the opener's candidates,
    /// or the body fails under it) is not a hit: the full key search runs then.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Opens the cache did not answer (nothing cached, or an entry that could not be used), each
    /// followed by the full key search. `hits() + misses()` is the number of opens that consulted
    /// the cache.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Drops every cached key (each wiped now, or when an open still using it finishes).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.recency.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> CachedKey {
        CachedKey {
            data_key: data_key_from_slice(&[byte; DATA_KEY_LEN]).unwrap(),
            unwrapped_by: [byte; 32],
        }
    }

    #[test]
    fn bounded_and_least_recently_used_evicted() {
        let cache = DataKeyCache::new(2);
        cache.insert([1; 32], key(1));
        cache.insert([2; 32], key(2));
        assert!(cache.get(&[1; 32]).is_some());
        cache.insert([3; 32], key(3));
        assert_eq!(cache.len(), 2);
        assert!(
            cache.get(&[2; 32]).is_none(),
            "least recently used entry evicted"
        );
        assert_eq!(**cache.get(&[1; 32]).unwrap().data_key, [1; DATA_KEY_LEN]);
        assert_eq!(cache.get(&[3; 32]).unwrap().unwrapped_by, [3; 32]);
    }

    /// The fingerprints from least to most recently used, after checking that the recency index
    /// and the map describe the same entries.
    fn lru_order(cache: &DataKeyCache) -> Vec<[u8; 32]> {
        let inner = cache.lock();
        assert_eq!(inner.recency.len(), inner.entries.len());
        for (tick, fingerprint) in &inner.recency {
            assert_eq!(inner.entries[fingerprint].last_used, *tick);
        }
        inner.recency.values().copied().collect()
    }

    fn numbered(i: u16) -> [u8; 32] {
        let mut fingerprint = [0; 32];
        fingerprint[..2].copy_from_slice(&i.to_be_bytes());
        fingerprint
    }

    #[test]
    fn many_inserts_past_capacity_evict_in_least_recently_used_order() {
        let cache = DataKeyCache::new(64);
        for i in 0..64 {
            cache.insert(numbered(i), key(1));
        }
        // Refresh the even entries, newest first, so that the odd ones are now the oldest, still in
        // insertion order, and the even ones follow in the order they were read.
        for i in (0..64).rev().filter(|i| i % 2 == 0) {
            assert!(cache.get(&numbered(i)).is_some());
        }
        // A lookup that finds nothing refreshes nothing.
        assert!(cache.get(&numbered(1000)).is_none());
        for (n, i) in (64..96).enumerate() {
            cache.insert(numbered(i), key(2));
            // Each insert past capacity evicts exactly the oldest odd entry that is left.
            let order = lru_order(&cache);
            assert_eq!(order.len(), 64);
            let evicted = u16::try_from(2 * n + 1).unwrap();
            assert!(!order.contains(&numbered(evicted)), "{evicted} evicted");
            if evicted < 63 {
                assert_eq!(order[0], numbered(evicted + 2));
            }
        }
        let mut expected: Vec<_> = (0..64).rev().filter(|i| i % 2 == 0).map(numbered).collect();
        expected.extend((64..96).map(numbered));
        assert_eq!(lru_order(&cache), expected);
        // Re-inserting a cached fingerprint replaces its key and refreshes it without evicting.
        cache.insert(numbered(62), key(3));
        assert_eq!(cache.len(), 64);
        assert_eq!(lru_order(&cache).last(), Some(&numbered(62)));
        assert_eq!(
            **cache.get(&numbered(62)).unwrap().data_key,
            [3; DATA_KEY_LEN]
        );
        cache.insert(numbered(96), key(4));
        assert!(cache.get(&numbered(60)).is_none(), "now the oldest");
        cache.clear();
        assert!(lru_order(&cache).is_empty());
    }

    proptest::proptest! {
        /// The cache evicts exactly what a plain least-recently-used list would: the entry whose
        /// last lookup or insert is oldest, a lookup that finds it counting as a use.
        #[test]
        fn eviction_matches_a_reference_lru_list(
            capacity in 1usize..6,
            ops in proptest::collection::vec((proptest::bool::ANY, 0u16..12), 0..200),
        ) {
            let cache = DataKeyCache::new(capacity);
            // Least recently used first.
            let mut model: Vec<[u8; 32]> = Vec::new();
            for (is_insert, i) in ops {
                let fingerprint = numbered(i);
                let position = model.iter().position(|f| *f == fingerprint);
                if is_insert {
                    cache.insert(fingerprint, key(1));
                    match position {
                        Some(p) => {
                            model.remove(p);
                        }
                        None if model.len() == capacity => {
                            model.remove(0);
                        }
                        None => {}
                    }
                    model.push(fingerprint);
                } else {
                    proptest::prop_assert_eq!(cache.get(&fingerprint).is_some(), position.is_some());
                    if let Some(p) = position {
                        model.remove(p);
                        model.push(fingerprint);
                    }
                }
                proptest::prop_assert_eq!(lru_order(&cache), model.clone());
            }
        }
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let cache = DataKeyCache::new(0);
        cache.insert([1; 32], key(1));
        assert!(cache.is_empty());
    }

    #[test]
    fn the_map_is_reserved_up_front_and_filling_it_does_not_grow_it() {
        let cache = DataKeyCache::new(100);
        let reserved = cache.lock().entries.capacity();
        assert!(reserved >= 100);
        let fingerprint = numbered;
        for i in 0..100u16 {
            cache.insert(fingerprint(i), key(i.to_be_bytes()[1]));
        }
        assert_eq!(cache.len(), 100);
        assert_eq!(cache.lock().entries.capacity(), reserved);
        for i in 100..400u16 {
            cache.insert(fingerprint(i), key(i.to_be_bytes()[1]));
        }
        assert_eq!(cache.len(), 100);
        assert!(cache.get(&fingerprint(399)).is_some());
    }

    #[test]
    fn hits_share_the_cached_key_instead_of_copying_it() {
        let cache = DataKeyCache::new(2);
        cache.insert([1; 32], key(1));
        let first = cache.get(&[1; 32]).unwrap().data_key;
        let second = cache.get(&[1; 32]).unwrap().data_key;
        assert!(Arc::ptr_eq(&first, &second));
        // Evicted while in use: the key stays valid for the open that holds it.
        cache.clear();
        assert!(cache.is_empty());
        assert_eq!(**first, [1; DATA_KEY_LEN]);
        assert_eq!(Arc::strong_count(&first), 2);
    }

    #[test]
    fn data_keys_are_exactly_32_bytes() {
        assert!(data_key_from_slice(&[7; DATA_KEY_LEN]).is_some_and(|k| **k == [7; DATA_KEY_LEN]));
        assert!(data_key_from_slice(&[7; DATA_KEY_LEN - 1]).is_none());
        assert!(data_key_from_slice(&[7; DATA_KEY_LEN + 1]).is_none());
    }

    #[test]
    fn zero_capacity_reserves_nothing() {
        assert_eq!(DataKeyCache::new(0).lock().entries.capacity(), 0);
    }

    #[test]
    fn fingerprint_depends_on_label() {
        assert_ne!(
            DataKeyCache::fingerprint(b"", b"w"),
            DataKeyCache::fingerprint(b"x", b"w")
        );
    }
}
