//! Which token ids are revoked. Verification consults the set on every call, so a revocation
//! takes effect on the next request; a token is refused if its own id or the id of any token in
//! its issuing chain is in the set.

use std::collections::HashSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

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
#[derive(Debug, Default)]
pub struct InMemoryRevocationSet {
    ids: RwLock<HashSet<String>>,
    // Lets the common case (nothing revoked) skip the lock.
    any: AtomicBool,
}

impl InMemoryRevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding `ids` (for example read from a file at startup).
    pub fn from_ids<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        let ids: HashSet<String> = ids.into_iter().map(Into::into).collect();
        let any = AtomicBool::new(!ids.is_empty());
        Self {
            ids: RwLock::new(ids),
            any,
        }
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
        if !self.any.load(Ordering::Acquire) {
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
        self.any.store(true, Ordering::Release);
        Ok(newly)
    }
}
