//! Opening: validate the envelope, then try candidate keys in order (or reuse a cached data key),
//! and report what happened as a telemetry record.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::cache::{CachedKey, DataKey, DataKeyCache, data_key_from_slice};
use crate::candidates::{CandidatePolicy, candidate_indices};
use crate::content;
use crate::envelope::{
    DATA_KEY_LEN, EnvelopeMetadata, EnvelopeVersion, KvRecord, TAG_LEN, ValidatedEnvelope,
};
use crate::error::{Error, FailureCause, Result};
use crate::keys;
use crate::registry::KeyRegistry;
use crate::telemetry::{DecryptionTelemetry, Outcome};

/// Everything that governs how envelopes are opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenPolicy {
    /// Candidate bounds (max attempts, authoritative record key id).
    pub candidates: CandidatePolicy,
    /// Refuse unbound `1.0` envelopes: their metadata is not authenticated, so a genuine one moved
    /// to another object or relabelled still opens. (Either version can be made by anyone holding
    /// the public key; binding stops moving and relabelling, not forgery.)
    pub require_bound: bool,
}

/// A successful open: the plaintext (wiped on drop) and the telemetry record.
pub struct Opened {
    /// The decrypted payload.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// What the decryption did (also emitted through `tracing`).
    pub telemetry: DecryptionTelemetry,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("plaintext", &"[REDACTED]")
            .field("telemetry", &self.telemetry)
            .finish()
    }
}

impl Opened {
    /// The plaintext as JSON (a leading UTF-8 BOM is skipped, as the reference's `TextDecoder`
    /// does). Invalid UTF-8 is an error rather than replacement characters.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        parse_json(&self.plaintext)
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(plaintext: &[u8]) -> Result<T> {
    let bytes = plaintext.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(plaintext);
    serde_json::from_slice(bytes).map_err(|_| Error::PlaintextNotJson)
}

/// What opening and rewrap derive from an envelope before trying any key.
struct KeySearch {
    /// The AES-GCM associated data for the body.
    aad: Vec<u8>,
    /// The RSA-OAEP label for the wrapped key.
    label: Vec<u8>,
    /// Registry indices to try, in order.
    candidates: Vec<usize>,
}

/// The candidate [`Opener::first_accepted`] settled on, and what `accept` made of its key.
struct Accepted<T> {
    index: usize,
    attempts: usize,
    data_key: DataKey,
    value: T,
}

/// An unwrapped data key and where it came from.
pub(crate) struct Unwrapped {
    pub(crate) data_key: DataKey,
    pub(crate) telemetry: DecryptionTelemetry,
}

/// Opens envelopes with a shared registry. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct Opener {
    registry: Arc<KeyRegistry>,
    policy: OpenPolicy,
    cache: Option<Arc<DataKeyCache>>,
    telemetry_scope: Arc<str>,
}

impl fmt::Debug for Opener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opener")
            .field("scope", &self.registry.scope())
            .field("policy", &self.policy)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Opener {
    /// An opener with the reference's behaviour: every candidate, no cache, `1.0` accepted.
    pub fn new(registry: Arc<KeyRegistry>) -> Self {
        let telemetry_scope = registry.scope().telemetry_label().into();
        Self {
            registry,
            policy: OpenPolicy::default(),
            cache: None,
            telemetry_scope,
        }
    }

    /// Sets the open policy.
    #[must_use]
    pub fn with_policy(mut self, policy: OpenPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Caches up to `capacity` unwrapped data keys (see [`DataKeyCache`]).
    #[must_use]
    pub fn with_cache(mut self, capacity: usize) -> Self {
        self.cache = Some(Arc::new(DataKeyCache::new(capacity)));
        self
    }

    /// Uses a shared cache.
    #[must_use]
    pub fn with_shared_cache(mut self, cache: Arc<DataKeyCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The telemetry `scope` label (e.g. `audit-at-rest`); defaults to the registry scope's.
    #[must_use]
    pub fn with_telemetry_scope(mut self, scope: &str) -> Self {
        self.telemetry_scope = scope.into();
        self
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<KeyRegistry> {
        &self.registry
    }

    /// The policy.
    pub fn policy(&self) -> OpenPolicy {
        self.policy
    }

    /// The cache, if any.
    pub fn cache(&self) -> Option<&DataKeyCache> {
        self.cache.as_deref()
    }

    /// Opens an object: metadata plus raw body. `context` must equal the one used to seal bound
    /// envelopes (ignored for `1.0`).
    pub fn open(&self, metadata: &EnvelopeMetadata, body: &[u8], context: &[u8]) -> Result<Opened> {
        let envelope = metadata.validate()?;
        self.open_validated(&envelope, body, context)
    }

    /// Opens a stored KV value. Anything that is not an envelope record is refused.
    pub fn open_kv(&self, record: &str, context: &[u8]) -> Result<Opened> {
        let record = KvRecord::from_json(record)?;
        let envelope = record.metadata().validate()?;
        let body = record.decode_ciphertext()?;
        self.open_validated(&envelope, &body, context)
    }

    /// Opens an object whose payload is JSON.
    pub fn open_json<T: DeserializeOwned>(
        &self,
        metadata: &EnvelopeMetadata,
        body: &[u8],
        context: &[u8],
    ) -> Result<(T, DecryptionTelemetry)> {
        let opened = self.open(metadata, body, context)?;
        Ok((opened.json()?, opened.telemetry))
    }

    /// Opens a KV value whose payload is JSON.
    pub fn open_kv_json<T: DeserializeOwned>(
        &self,
        record: &str,
        context: &[u8],
    ) -> Result<(T, DecryptionTelemetry)> {
        let opened = self.open_kv(record, context)?;
        Ok((opened.json()?, opened.telemetry))
    }

    fn check_version(&self, envelope: &ValidatedEnvelope) -> Result<()> {
        if self.policy.require_bound && envelope.version() != EnvelopeVersion::Bound {
            return Err(Error::VersionNotAllowed);
        }
        Ok(())
    }

    fn record_key_id(envelope: &ValidatedEnvelope) -> Option<&str> {
        Some(envelope.key_id()).filter(|id| !id.trim().is_empty())
    }

    fn telemetry(
        &self,
        envelope: &ValidatedEnvelope,
        selected: Option<&str>,
        attempts: usize,
        cause: Option<FailureCause>,
    ) -> DecryptionTelemetry {
        let outcome = match selected {
            None => Outcome::AllFailed,
            Some(_) if attempts > 1 => Outcome::FallbackHit,
            Some(_) => Outcome::PrimaryHit,
        };
        DecryptionTelemetry {
            scope: self.telemetry_scope.to_string(),
            record_key_id: Self::record_key_id(envelope).map(str::to_owned),
            selected_key_id: selected.map(str::to_owned),
            attempt_count: attempts,
            fallback_used: outcome == Outcome::FallbackHit,
            outcome,
            reason: cause.map(|c| c.as_str().to_owned()),
        }
    }

    fn fail(
        &self,
        envelope: &ValidatedEnvelope,
        attempts: usize,
        cause: Option<FailureCause>,
    ) -> Error {
        let mut telemetry = self.telemetry(envelope, None, attempts, cause);
        if cause.is_none() {
            telemetry.reason = Some("no candidate key was allowed by policy".to_owned());
        }
        telemetry.emit();
        Error::DecryptionFailed {
            telemetry: Box::new(telemetry),
            last_cause: cause,
        }
    }

    fn decrypt_body(
        data_key: &[u8; DATA_KEY_LEN],
        envelope: &ValidatedEnvelope,
        body: &[u8],
        aad: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        content::open(data_key, envelope.iv(), aad, body)
    }

    /// The checks before any key is tried (a version this opener accepts, a body long enough to
    /// hold a tag), then the binding data and the candidates: one place for opening and rewrap.
    fn key_search(
        &self,
        envelope: &ValidatedEnvelope,
        body: Option<&[u8]>,
        context: &[u8],
    ) -> Result<KeySearch> {
        self.check_version(envelope)?;
        if body.is_some_and(|body| body.len() < TAG_LEN) {
            return Err(Error::CiphertextTooShort);
        }
        Ok(KeySearch {
            aad: envelope.aad(context),
            label: envelope.oaep_label(context),
            candidates: candidate_indices(
                &self.registry,
                Self::record_key_id(envelope),
                self.policy.candidates,
            ),
        })
    }

    /// Opens a validated envelope.
    pub fn open_validated(
        &self,
        envelope: &ValidatedEnvelope,
        body: &[u8],
        context: &[u8],
    ) -> Result<Opened> {
        let KeySearch {
            aad,
            label,
            candidates,
        } = self.key_search(envelope, Some(body), context)?;
        let fingerprint = self
            .cache
            .as_ref()
            .map(|_| DataKeyCache::fingerprint(&label, envelope.wrapped_key()));
        if let (Some(cache), Some(fp)) = (&self.cache, &fingerprint) {
            let answered = cache.get(fp).and_then(|cached| {
                // Only the very key that unwrapped the entry may use it, and only while the
                // policy still offers that key. Its position is where the search below would have
                // found it, so telemetry does not depend on cache state.
                let position = candidates
                    .iter()
                    .position(|&i| *self.registry.fingerprint_at(i) == cached.unwrapped_by)?;
                let plaintext = Self::decrypt_body(&cached.data_key, envelope, body, &aad)?;
                Some((position, plaintext))
            });
            // Counted here, not on lookup: only an entry that opened the envelope saved the key
            // search; an unusable one is followed by the full search, as a miss is.
            cache.record(answered.is_some());
            if let Some((position, plaintext)) = answered {
                let key_id = self.registry.id_at(candidates[position]);
                let telemetry = self.telemetry(envelope, Some(key_id), position + 1, None);
                telemetry.emit();
                return Ok(Opened {
                    plaintext,
                    telemetry,
                });
            }
        }
        // A miss, or a body that fails under the cached key: the full search, so a failure
        // reports exactly what it reports without a cache.
        let accepted = self
            .first_accepted(envelope, &label, &candidates, |data_key| {
                Self::decrypt_body(data_key, envelope, body, &aad)
            })
            .map_err(|last_cause| self.fail(envelope, candidates.len(), last_cause))?;
        let key_id = self.registry.id_at(accepted.index);
        if let (Some(cache), Some(fp)) = (&self.cache, fingerprint) {
            cache.insert(
                fp,
                CachedKey {
                    data_key: accepted.data_key,
                    unwrapped_by: *self.registry.fingerprint_at(accepted.index),
                },
            );
        }
        let telemetry = self.telemetry(envelope, Some(key_id), accepted.attempts, None);
        telemetry.emit();
        Ok(Opened {
            plaintext: accepted.value,
            telemetry,
        })
    }

    /// Tries the candidates in order: the first whose wrapped key unwraps and passes `accept`
    /// (which opens the body, where there is one) wins. Opening and rewrap both search this way,
    /// so they try keys alike. Otherwise: why the last candidate failed.
    fn first_accepted<T>(
        &self,
        envelope: &ValidatedEnvelope,
        label: &[u8],
        candidates: &[usize],
        mut accept: impl FnMut(&[u8; DATA_KEY_LEN]) -> Option<T>,
    ) -> std::result::Result<Accepted<T>, Option<FailureCause>> {
        let mut last_cause = None;
        for (attempt, &index) in candidates.iter().enumerate() {
            match self.unwrap_with(index, envelope, label) {
                Err(cause) => last_cause = Some(cause),
                Ok(data_key) => match accept(&data_key) {
                    Some(value) => {
                        return Ok(Accepted {
                            index,
                            attempts: attempt + 1,
                            data_key,
                            value,
                        });
                    }
                    None => last_cause = Some(FailureCause::Authentication),
                },
            }
        }
        Err(last_cause)
    }

    /// Unwraps the data key with the candidate at `index`: the 32-byte key, or why this candidate
    /// failed (RSA-OAEP rejected the wrapped key, or it unwrapped to the wrong length).
    fn unwrap_with(
        &self,
        index: usize,
        envelope: &ValidatedEnvelope,
        label: &[u8],
    ) -> std::result::Result<DataKey, FailureCause> {
        let unwrapped = keys::unwrap_data_key(
            self.registry.private_key_at(index),
            envelope.wrapped_key(),
            label,
        )
        .ok_or(FailureCause::KeyUnwrap)?;
        data_key_from_slice(&unwrapped).ok_or(FailureCause::KeyLength)
    }

    /// Unwraps the data key for rewrap, with the same candidates, policy and telemetry as opening.
    /// With `body`, a candidate counts only if the body authenticates under the key it unwraps,
    /// as when opening; without, the first key that unwraps is taken.
    pub(crate) fn unwrap_for_rewrap(
        &self,
        envelope: &ValidatedEnvelope,
        body: Option<&[u8]>,
        context: &[u8],
    ) -> Result<Unwrapped> {
        let KeySearch {
            aad,
            label,
            candidates,
        } = self.key_search(envelope, body, context)?;
        let accepted = self
            .first_accepted(envelope, &label, &candidates, |data_key| match body {
                Some(body) => Self::decrypt_body(data_key, envelope, body, &aad).map(drop),
                None => Some(()),
            })
            .map_err(|last_cause| self.fail(envelope, candidates.len(), last_cause))?;
        let telemetry = self.telemetry(
            envelope,
            Some(self.registry.id_at(accepted.index)),
            accepted.attempts,
            None,
        );
        telemetry.emit();
        Ok(Unwrapped {
            data_key: accepted.data_key,
            telemetry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference decodes with `TextDecoder`, which drops one leading BOM; a second one, or a
    /// BOM later on, is part of the text (and so not JSON here).
    #[test]
    fn one_leading_bom_is_skipped() {
        let value: serde_json::Value = parse_json(b"\xEF\xBB\xBF{\"a\":1}").unwrap();
        assert_eq!(value["a"], 1);
        let value: serde_json::Value = parse_json(b"{\"a\":1}").unwrap();
        assert_eq!(value["a"], 1);
        for not_json in [
            &b"\xEF\xBB\xBF\xEF\xBB\xBF{}"[..],
            b" \xEF\xBB\xBF{}",
            b"\xEF\xBB{}",
        ] {
            assert!(matches!(
                parse_json::<serde_json::Value>(not_json),
                Err(Error::PlaintextNotJson)
            ));
        }
    }
}
