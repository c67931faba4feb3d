//! Rewrap: re-wrap an envelope's data key under the registry's active key without changing the
//! ciphertext, so an old key can be retired without re-encrypting object bodies.
//!
//! Where the body is at hand (a KV record, or [`Opener::rewrap_checked`]), it must authenticate
//! under the data key first, exactly as when opening: a record whose body was damaged is refused
//! while the old key can still be used to investigate, rather than carried forward under the new
//! key. [`Opener::rewrap`] gets only the metadata and so cannot check the body. Neither adds
//! authenticity beyond the envelope's own: an envelope anyone built with the public key (either
//! version) is as valid as a genuine one, for rewrap as for opening.

use crate::encoding;
use crate::envelope::{EnvelopeMetadata, KvRecord};
use crate::error::Result;
use crate::keys;
use crate::open::Opener;
use crate::telemetry::DecryptionTelemetry;

impl Opener {
    /// Re-wraps object metadata under the active key, without reading the body (see
    /// [`Opener::rewrap_checked`] to check it first). The returned metadata replaces the old.
    /// Bound envelopes keep their version and context (the new wrap is labelled with the new key
    /// id).
    pub fn rewrap(
        &self,
        metadata: &EnvelopeMetadata,
        context: &[u8],
    ) -> Result<(EnvelopeMetadata, DecryptionTelemetry)> {
        self.rewrap_inner(metadata, None, context)
    }

    /// [`Opener::rewrap`] after checking that `body` authenticates under the envelope's data key,
    /// as opening would; the body itself is not changed. Fails as opening fails otherwise.
    pub fn rewrap_checked(
        &self,
        metadata: &EnvelopeMetadata,
        body: &[u8],
        context: &[u8],
    ) -> Result<(EnvelopeMetadata, DecryptionTelemetry)> {
        self.rewrap_inner(metadata, Some(body), context)
    }

    fn rewrap_inner(
        &self,
        metadata: &EnvelopeMetadata,
        body: Option<&[u8]>,
        context: &[u8],
    ) -> Result<(EnvelopeMetadata, DecryptionTelemetry)> {
        let envelope = metadata.validate()?;
        // Before the key search: without an active key there is nothing to rewrap to, and no RSA
        // private operation should run, nor a telemetry event report a successful decryption.
        let sealer = self.registry().active_sealer(envelope.version())?;
        let unwrapped = self.unwrap_for_rewrap(&envelope, body, context)?;
        let label = crate::binding::oaep_label(envelope.version(), sealer.key_id(), context);
        let wrapped = keys::wrap_data_key(sealer.public_key(), &unwrapped.data_key[..], &label)?;
        let rewrapped = EnvelopeMetadata {
            algorithm: metadata.algorithm.clone(),
            encryption_version: metadata.encryption_version.clone(),
            key_id: sealer.key_id().to_owned(),
            data_iv: metadata.data_iv.clone(),
            wrapped_key: encoding::encode(&wrapped),
        };
        Ok((rewrapped, unwrapped.telemetry))
    }

    /// Re-wraps a KV record under the active key after checking its ciphertext, as
    /// [`Opener::rewrap_checked`] does; the `ciphertext` field is carried over verbatim.
    pub fn rewrap_kv(&self, record: &str, context: &[u8]) -> Result<(String, DecryptionTelemetry)> {
        let record = KvRecord::from_json(record)?;
        let body = record.decode_ciphertext()?;
        let (metadata, telemetry) = self.rewrap_checked(&record.metadata(), &body, context)?;
        let rewrapped = KvRecord {
            algorithm: metadata.algorithm,
            encryption_version: metadata.encryption_version,
            key_id: metadata.key_id,
            data_iv: metadata.data_iv,
            wrapped_key: metadata.wrapped_key,
            ciphertext: record.ciphertext,
        };
        Ok((rewrapped.to_json(), telemetry))
    }
}
