//! The audit pattern: open the existing object (or start empty), let the caller change the
//! plaintext, and reseal the whole object under the registry's **active** key.

use zeroize::Zeroizing;

use crate::envelope::{EnvelopeMetadata, EnvelopeVersion};
use crate::error::{Error, Result};
use crate::open::{Opener, parse_json};
use crate::seal::SealedObject;
use crate::telemetry::DecryptionTelemetry;

/// An existing stored object: its metadata and raw body.
#[derive(Debug, Clone, Copy)]
pub struct StoredObject<'a> {
    /// The object's envelope metadata.
    pub metadata: &'a EnvelopeMetadata,
    /// The object's body (`C ‖ T`).
    pub body: &'a [u8],
}

/// The resealed object and, when there was an existing object, how it was opened.
#[derive(Debug)]
pub struct Resealed {
    /// The new object, under the active key.
    pub object: SealedObject,
    /// Telemetry of opening the previous version (`None` when starting empty).
    pub telemetry: Option<DecryptionTelemetry>,
}

/// Opens `existing` (or starts from empty bytes), runs `edit` on the plaintext, and reseals the
/// result under the active key with `version`. Fails closed: an existing object that does not
/// open is an error, never treated as empty.
pub fn reseal_with(
    opener: &Opener,
    existing: Option<StoredObject<'_>>,
    context: &[u8],
    version: EnvelopeVersion,
    edit: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<Resealed> {
    let sealer = opener.registry().active_sealer(version)?;
    let (mut plaintext, telemetry) = match existing {
        Some(object) => {
            let opened = opener.open(object.metadata, object.body, context)?;
            (opened.plaintext, Some(opened.telemetry))
        }
        None => (Zeroizing::new(Vec::new()), None),
    };
    edit(&mut plaintext)?;
    Ok(Resealed {
        object: sealer.seal(&plaintext, context)?,
        telemetry,
    })
}

/// The audit worker's daily file: a JSON array of entries. Appends `entry` and reseals under the
/// active key. An empty start becomes `[entry]`.
pub fn append_json_entry(
    opener: &Opener,
    existing: Option<StoredObject<'_>>,
    context: &[u8],
    version: EnvelopeVersion,
    entry: &serde_json::Value,
) -> Result<Resealed> {
    reseal_with(opener, existing, context, version, |plaintext| {
        let mut entries: Vec<serde_json::Value> = if plaintext.is_empty() {
            Vec::new()
        } else {
            parse_json(plaintext)?
        };
        entries.push(entry.clone());
        let encoded = serde_json::to_vec(&entries).map_err(|_| Error::PayloadNotSerializable)?;
        // The old plaintext is wiped before the buffer is replaced; the new one is wiped with it.
        zeroize::Zeroize::zeroize(plaintext);
        *plaintext = encoded;
        Ok(())
    })
}
