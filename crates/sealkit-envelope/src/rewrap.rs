//! Rewrap: re-wrap an envelope's data key under the registry's active key without touching the
//! ciphertext, so an old key can be retired without re-encrypting object bodies.
//!
//! Rewrap does not read the body, so it adds no authenticity: a `1.0` envelope anyone forged with
//! the public key rewraps as well as a genuine one (it then still fails to open if its body is not
//! what the data key encrypted).

use crate::encoding;
use crate::envelope::{EnvelopeMetadata, KvRecord};
use crate::error::Result;
use crate::keys;
use crate::open::Opener;
use crate::telemetry::DecryptionTelemetry;

impl Opener {
    /// Re-wraps object metadata under the active key. The body stays as it is; the returned
    /// metadata replaces the old. Bound envelopes keep their version and context (the new wrap is
    /// labelled with the new key id).
    pub fn rewrap(
        &self,
        metadata: &EnvelopeMetadata,
        context: &[u8],
    ) -> Result<(EnvelopeMetadata, DecryptionTelemetry)> {
        let envelope = metadata.validate()?;
        let unwrapped = self.unwrap_only(&envelope, context)?;
        let sealer = self.registry().active_sealer(envelope.version())?;
        let label = crate::binding::oaep_label(envelope.version(), sealer.key_id(), context);
        let wrapped =
            keys::wrap_data_key(sealer.public_key(), unwrapped.data_key.as_ref(), &label)?;
        let rewrapped = EnvelopeMetadata {
            algorithm: metadata.algorithm.clone(),
            encryption_version: metadata.encryption_version.clone(),
            key_id: sealer.key_id().to_owned(),
            data_iv: metadata.data_iv.clone(),
            wrapped_key: encoding::encode(&wrapped),
        };
        Ok((rewrapped, unwrapped.telemetry))
    }

    /// Re-wraps a KV record under the active key; the `ciphertext` field is carried over verbatim.
    pub fn rewrap_kv(&self, record: &str, context: &[u8]) -> Result<(String, DecryptionTelemetry)> {
        let record = KvRecord::from_json(record)?;
        let (metadata, telemetry) = self.rewrap(&record.metadata(), context)?;
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
