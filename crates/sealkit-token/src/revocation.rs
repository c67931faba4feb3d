//! Which token ids are revoked. Verification consults the set on every call, so a revocation
//! takes effect on the next request; a token is refused if its own id or the id of any token in
//! its issuing chain is in the set.

use std::collections::HashSet;
use std::hash::BuildHasher as _;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::TokenError;

/// A set of revoked token ids. A server plugs in its own (a replicated table, a cache in front of
/// a database); [`InMemoryRevocationSet`] serves one process.
pub trait RevocationSet: Send + Sync {
    /// True if the token id has been revoked.
    fn is_revoked(&self, id: &str) -> bool;

    /// True if any of `ids` has been revoked: a token's id and its issuing chain, asked together
    /// on every verification so that a set can answer in one lookup (one lock, one round trip).
    /// Keep it fast.
    fn any_revoked(&self, ids: &[&str]) -> bool {
        ids.iter().any(|id| self.is_revoked(id))
    }

    /// Records a revocation: `Ok(true)` when `id` was not revoked before, `Ok(false)` when it
    /// already was (the authority answers that with a 404, as S2 does). One call, so a set backed
    /// by a database decides it atomically (an insert that reports whether it inserted).
    fn revoke(&self, id: &str) -> Result<bool, TokenError>;
}

/// Revoked ids held in memory.
///
/// Every verification asks about a token's id and its chain, and nearly every answer is "no". A
/// filter of the revoked ids' hashes, read without the lock, gives that answer: a clear bit proves
/// an id was never revoked, so verifying an unrevoked token takes no lock (no shared counter that
/// every verifying thread would write). Only when all of an id's bits are set (the id is revoked,
/// or shares them by chance) does the set take its read lock and look the id up. Bits are only ever
/// added, and a revocation sets them after recording the id, so the filter never answers "no" for a
/// revoked id.
///
/// The filter is sized when the set is made, for the ids it starts with
/// ([`InMemoryRevocationSet::from_ids`]) or the number it is told to expect
/// ([`InMemoryRevocationSet::sized_for`]): 16 to 32 bits per id, at least 8 KiB and at most
/// 2 MiB. While it holds no more ids than that, under 1.5 % of unrevoked ids reach the lock (with
/// 8 KiB: under 1 % at 2 000 ids); past it the share grows (about 7 % at 10 000 ids in 8 KiB), and
/// the answers stay exact.
pub struct InMemoryRevocationSet {
    ids: RwLock<HashSet<String>>,
    // Lets the common case (nothing revoked) skip even the filter.
    any: AtomicBool,
    filter: Box<[AtomicU64]>,
    seed: u64,
}

/// Fewest bits in the filter (8 KiB): room for thousands of revoked ids, small enough to stay in
/// cache.
const MIN_FILTER_BITS: usize = 1 << 16;
/// Most bits in the filter (2 MiB, for a million ids): a larger one would miss every cache anyway.
const MAX_FILTER_BITS: usize = 1 << 24;
/// Bits per expected id: with two probes, about 1.5 % of unrevoked ids find all their bits set.
const FILTER_BITS_PER_ID: usize = 16;
/// Bits set per id.
const FILTER_PROBES: u32 = 2;

impl std::fmt::Debug for InMemoryRevocationSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryRevocationSet")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for InMemoryRevocationSet {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryRevocationSet {
    /// An empty set, its filter sized for a few thousand ids.
    pub fn new() -> Self {
        Self::sized_for(0)
    }

    /// An empty set whose filter is sized for `expected_ids` revoked ids (up to about a million),
    /// for a deployment that expects to revoke many at run time. Only the filter is allocated now.
    pub fn sized_for(expected_ids: usize) -> Self {
        let bits = expected_ids
            .saturating_mul(FILTER_BITS_PER_ID)
            .checked_next_power_of_two()
            .unwrap_or(MAX_FILTER_BITS)
            .clamp(MIN_FILTER_BITS, MAX_FILTER_BITS);
        Self {
            ids: RwLock::new(HashSet::new()),
            any: AtomicBool::new(false),
            filter: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            // Per process, from the same source as `HashMap`'s keys, so which ids share filter
            // bits cannot be worked out in advance (a shared bit costs only a lookup anyway).
            seed: std::collections::hash_map::RandomState::new().hash_one(0u64),
        }
    }

    /// A set holding `ids` (for example read from a file at startup).
    pub fn from_ids<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        let ids: HashSet<String> = ids.into_iter().map(Into::into).collect();
        let mut set = Self::sized_for(ids.len());
        for id in &ids {
            set.add_to_filter(id);
        }
        set.ids = RwLock::new(ids);
        set
    }

    /// The filter positions of `id`: a fast seeded hash of its bytes, a word at a time. Not
    /// collision-resistant, and it need not be: ids that share bits only send a lookup to the
    /// exact set.
    fn filter_positions(&self, id: &str) -> impl Iterator<Item = usize> {
        const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut hash = self.seed ^ (id.len() as u64).wrapping_mul(MULTIPLIER);
        let mut mix = |word: u64| {
            hash = (hash ^ word).wrapping_mul(MULTIPLIER);
            hash ^= hash >> 29;
        };
        let (words, tail) = id.as_bytes().as_chunks::<8>();
        for word in words {
            mix(u64::from_le_bytes(*word));
        }
        if !tail.is_empty() {
            mix(tail
                .iter()
                .rev()
                .fold(0, |word, &b| (word << 8) | u64::from(b)));
        }
        // MurmurHash3's finaliser, so that every bit of the id moves the bits the probes take.
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        hash ^= hash >> 33;
        // The filter holds a power of two of bits, at most 2^24, so each probe takes its own 32
        // bits of the hash.
        let mask = self.filter.len() * 64 - 1;
        (0..FILTER_PROBES).map(move |probe| (hash.rotate_left(probe * 32) as usize) & mask)
    }

    fn add_to_filter(&self, id: &str) {
        for bit in self.filter_positions(id) {
            self.filter[bit / 64].fetch_or(1 << (bit % 64), Ordering::Release);
        }
        self.any.store(true, Ordering::Release);
    }

    /// False only if `id` was never revoked.
    fn may_be_revoked(&self, id: &str) -> bool {
        self.filter_positions(id)
            .all(|bit| self.filter[bit / 64].load(Ordering::Acquire) & (1 << (bit % 64)) != 0)
    }

    /// A set holding the ids a revoked-ids file names, one per line. Ids may begin or end with a
    /// space or begin with `#`, so the file fails closed: every line is an id exactly as written
    /// (only its line ending, `\n` or `\r\n`, removed) and also as trimmed. There is no comment
    /// syntax to skip lines by: a note such as `# rotated keys` only matches an id spelled exactly
    /// like it. What an editor may add counts as a separator too: a byte-order mark at the start
    /// and a `\r` anywhere (old Mac line endings) would otherwise glue themselves to an id, so the
    /// pieces between them are ids as well. Revoking an id nobody holds costs nothing; skipping a
    /// revoked one would let its holder in.
    ///
    /// ```
    /// # use sealkit_token::{InMemoryRevocationSet, RevocationSet};
    /// let set = InMemoryRevocationSet::from_id_lines("# revoked by the on-call\r\nagent/7 \n");
    /// assert!(set.is_revoked("agent/7 ") && set.is_revoked("agent/7"));
    /// assert!(set.is_revoked("# revoked by the on-call"));
    ///
    /// // Saved with a byte-order mark and old Mac line endings.
    /// let set = InMemoryRevocationSet::from_id_lines("\u{feff}agent/7\ragent/8");
    /// assert!(set.is_revoked("agent/7") && set.is_revoked("agent/8"));
    /// ```
    pub fn from_id_lines(text: &str) -> Self {
        let unmarked = text.strip_prefix('\u{feff}').unwrap_or(text);
        let pieces = unmarked.split(['\n', '\r']);
        Self::from_ids(
            text.lines()
                .chain(pieces)
                .flat_map(|id| [id, id.trim()])
                .filter(|id| !id.is_empty()),
        )
    }

    /// How many ids are revoked.
    pub fn len(&self) -> usize {
        self.ids.read().map_or(0, |ids| ids.len())
    }

    /// True if nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RevocationSet for InMemoryRevocationSet {
    fn is_revoked(&self, id: &str) -> bool {
        self.any_revoked(&[id])
    }

    fn any_revoked(&self, ids: &[&str]) -> bool {
        if !self.any.load(Ordering::Acquire) || !ids.iter().any(|id| self.may_be_revoked(id)) {
            return false;
        }
        // A poisoned lock means a writer panicked mid-update: fail closed.
        self.ids
            .read()
            .map_or(true, |revoked| ids.iter().any(|id| revoked.contains(*id)))
    }

    fn revoke(&self, id: &str) -> Result<bool, TokenError> {
        let mut ids = self
            .ids
            .write()
            .map_err(|_| TokenError::Store("revocation set poisoned".into()))?;
        let newly = ids.insert(id.to_owned());
        // After the id is in the set and before `revoke` returns: a verification that sees the
        // bits then waits on the lock and finds the id, and one that starts after this call
        // returns sees the bits. An id revoked before has its bits already.
        if newly {
            self.add_to_filter(id);
        }
        Ok(newly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter may only ever say "maybe": every revoked id is found, whether revoked one by one
    /// or loaded at once, and so many that every bit is set changes no answer.
    #[test]
    fn answers_are_exact_at_any_size() {
        for count in [1, 1_000, 50_000] {
            let revoked: Vec<String> = (0..count).map(|i| format!("agent/{i}")).collect();
            let loaded = InMemoryRevocationSet::from_ids(revoked.iter().cloned());
            let one_by_one = InMemoryRevocationSet::new();
            for id in &revoked {
                assert!(one_by_one.revoke(id).unwrap());
            }
            for set in [&loaded, &one_by_one] {
                assert_eq!(set.len(), count);
                assert!(revoked.iter().all(|id| set.is_revoked(id)));
                assert!((0..count).all(|i| !set.is_revoked(&format!("other/{i}"))));
                assert!(set.any_revoked(&["other/x", &revoked[count - 1]]));
                assert!(!set.any_revoked(&["other/x", "other/y"]));
            }
        }
    }

    /// With a thousand ids revoked, an unrevoked one almost never needs the lock (expected about
    /// 0.1 %; the bound leaves room for any seed).
    #[test]
    fn unrevoked_ids_rarely_reach_the_lock() {
        let set = InMemoryRevocationSet::from_ids((0..1_000).map(|i| format!("retired/{i}")));
        let maybe = (0..100_000)
            .filter(|i| set.may_be_revoked(&format!("session/{i}/agent")))
            .count();
        assert!(maybe < 2_000, "{maybe} of 100 000");
        assert!((0..1_000).all(|i| set.may_be_revoked(&format!("retired/{i}"))));
    }

    /// A set loaded with, or sized for, many ids gets a filter to match, so unrevoked ids still
    /// rarely need the lock (expected about 0.8 % here); the filter stays within its bounds.
    #[test]
    fn a_large_set_gets_a_filter_to_match() {
        let revoked = || (0..100_000).map(|i| format!("retired/{i}"));
        let loaded = InMemoryRevocationSet::from_ids(revoked());
        let sized = InMemoryRevocationSet::sized_for(100_000);
        for id in revoked() {
            sized.revoke(&id).unwrap();
        }
        for set in [&loaded, &sized] {
            assert_eq!(set.filter.len() * 64, 1 << 21);
            let maybe = (0..100_000)
                .filter(|i| set.may_be_revoked(&format!("session/{i}/agent")))
                .count();
            assert!(maybe < 2_500, "{maybe} of 100 000");
            assert!(revoked().all(|id| set.may_be_revoked(&id)));
        }
        let bits = |set: InMemoryRevocationSet| set.filter.len() * 64;
        assert_eq!(bits(InMemoryRevocationSet::new()), MIN_FILTER_BITS);
        assert_eq!(
            bits(InMemoryRevocationSet::sized_for(4_096)),
            MIN_FILTER_BITS
        );
        assert_eq!(
            bits(InMemoryRevocationSet::sized_for(4_097)),
            2 * MIN_FILTER_BITS
        );
        assert_eq!(
            bits(InMemoryRevocationSet::sized_for(usize::MAX)),
            MAX_FILTER_BITS
        );
    }

    #[test]
    fn an_empty_set_sets_no_bit() {
        let set = InMemoryRevocationSet::new();
        assert!(
            set.filter
                .iter()
                .all(|word| word.load(Ordering::Relaxed) == 0)
        );
        assert!(!set.is_revoked("") && !set.is_revoked("agent/1"));
    }

    /// A revocation made on one thread is seen by a verification that another thread starts after
    /// the revocation returns.
    #[test]
    fn a_revocation_is_seen_by_other_threads_once_it_returns() {
        let set = std::sync::Arc::new(InMemoryRevocationSet::new());
        for i in 0..200 {
            let id = format!("agent/{i}");
            let writer = {
                let (set, id) = (set.clone(), id.clone());
                std::thread::spawn(move || set.revoke(&id).unwrap())
            };
            assert!(writer.join().unwrap());
            let reader = {
                let (set, id) = (set.clone(), id.clone());
                std::thread::spawn(move || set.is_revoked(&id))
            };
            assert!(reader.join().unwrap(), "{id}");
        }
    }
}
