//! A bounded cache of unwrapped data keys, so re-reading an object costs no RSA operation.
//!
//! Entries are keyed by SHA-256 over the RSA-OAEP label and the wrapped key: a bound envelope
//! relabelled with another key id or context has a different label, so it cannot ride on a cached
//! entry it would not have unwrapped to. Values are the 32-byte data key and the fingerprint of the
//! private key that unwrapped it: an opener uses an entry only if that very key is one of its
//! candidates, so a cache shared between scopes or registries, or kept across a reload that
//! replaced a key under the same id, never opens an envelope for an opener that holds no key for
//! it. Eviction is least-recently-used.
//!
//! Each data key lives in its own heap allocation ([`DataKey`]), wiped when the last reference
//! goes (on eviction, replacement or `clear`, or later if an open still uses it). The map holds
//! only pointers to them: a `HashMap` that grows moves its entries to a new table and frees the old
//! one unwiped, and a removed entry's bytes stay in its vacated slot, so keys stored inline would
//! be left behind in both. The map is also reserved for its full capacity up front, so filling it
//! never grows it; a rehash after much eviction (hash tables reclaim removed slots that way) moves
//! only fingerprints, pointers and counters.

use std::collections::HashMap;
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
    last_used: u64,
}

struct Inner {
    entries: HashMap<[u8; 32], Entry>,
    clock: u64,
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
            inner: Mutex::new(Inner { entries, clock: 0 }),
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
    /// unwrapped it.
    pub(crate) fn get(&self, fingerprint: &[u8; 32]) -> Option<CachedKey> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let Some(entry) = inner.entries.get_mut(fingerprint) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        entry.last_used = now;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(CachedKey {
            data_key: Arc::clone(&entry.key.data_key),
            unwrapped_by: entry.key.unwrapped_by,
        })
    }

    /// Stores a key, evicting the least recently used entry when full.
    pub(crate) fn insert(&self, fingerprint: [u8; 32], key: CachedKey) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(&fingerprint) {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                // The entry's key is wiped now, or when an open still using it finishes.
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(
            fingerprint,
            Entry {
                key,
                last_used: now,
            },
        );
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

    /// Lookups answered from the cache (each one an RSA private operation saved).
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Lookups that found nothing.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Drops every cached key (each wiped now, or when an open still using it finishes).
    pub fn clear(&self) {
        self.lock().entries.clear();
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
        let fingerprint = |i: u16| {
            let mut fingerprint = [0; 32];
            fingerprint[..2].copy_from_slice(&i.to_be_bytes());
            fingerprint
        };
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
