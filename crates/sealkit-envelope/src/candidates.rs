//! The order in which registry keys are tried: the record's key id (if registered), then the active
//! key, then every other key in registry order, without repeats — optionally bounded, or reduced to
//! the record's key alone when it is authoritative.

use crate::registry::KeyRegistry;

/// Limits on how many RSA private operations one envelope may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidatePolicy {
    /// At most this many candidates are tried (`None`: all, as the reference).
    pub max_attempts: Option<usize>,
    /// When the record's key id is registered, try only that key (no fallback).
    pub authoritative_key_id: bool,
}

impl Default for CandidatePolicy {
    /// The reference's behaviour: every key, record key not authoritative.
    fn default() -> Self {
        Self {
            max_attempts: None,
            authoritative_key_id: false,
        }
    }
}

/// Registry indices to try for a record whose envelope names `record_key_id`.
pub fn candidate_indices(
    registry: &KeyRegistry,
    record_key_id: Option<&str>,
    policy: CandidatePolicy,
) -> Vec<usize> {
    let record = record_key_id.and_then(|id| registry.index_of(id));
    if policy.authoritative_key_id
        && let Some(index) = record
    {
        return if policy.max_attempts == Some(0) {
            Vec::new()
        } else {
            vec![index]
        };
    }
    let mut order = Vec::with_capacity(registry.len());
    order.extend(record);
    if let Some(active) = registry.active_index()
        && !order.contains(&active)
    {
        order.push(active);
    }
    for index in 0..registry.len() {
        if !order.contains(&index) {
            order.push(index);
        }
    }
    if let Some(max) = policy.max_attempts {
        order.truncate(max);
    }
    order
}

/// The candidate key ids, in order (what the vectors call `candidateOrder`).
pub fn candidate_order<'r>(
    registry: &'r KeyRegistry,
    record_key_id: Option<&str>,
    policy: CandidatePolicy,
) -> Vec<&'r str> {
    candidate_indices(registry, record_key_id, policy)
        .into_iter()
        .map(|i| registry.id_at(i))
        .collect()
}
