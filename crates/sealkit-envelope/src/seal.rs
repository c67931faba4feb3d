//! Sealing: a fresh data key and IV per object, the body under AES-256-GCM, the data key wrapped
//! under the write-side RSA public key.

use std::fmt;

use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use rsa::RsaPublicKey;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::binding;
use crate::content;
use crate::encoding;
use crate::envelope::{
    ALGORITHM, DATA_KEY_LEN, EnvelopeMetadata, EnvelopeVersion, IV_LEN, KvRecord,
};
use crate::error::{Error, KEY_ID_RULE, ReportedKeyId, Result};
use crate::json::ZeroizingWriter;
use crate::keys;
use crate::registry::{EnvLookup, Scope};

/// Where `seal_json` starts; larger payloads move to a buffer twice the size, wiping the old one.
const SEAL_JSON_INITIAL_CAPACITY: usize = 1024;

/// A sealed object: metadata for the object store and the raw body (`C ‖ T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedObject {
    /// The five metadata strings.
    pub metadata: EnvelopeMetadata,
    /// The raw ciphertext with its 16-byte tag appended.
    pub body: Vec<u8>,
}

impl SealedObject {
    /// The same object in KV form.
    pub fn into_kv(self) -> KvRecord {
        KvRecord::from_parts(self.metadata, &self.body)
    }
}

/// Seals payloads under one public key and key id.
#[derive(Clone)]
pub struct Sealer {
    key_id: String,
    public_key: RsaPublicKey,
    version: EnvelopeVersion,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("key_id", &self.key_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Checks a key id we are about to write.
pub(crate) fn check_key_id(key_id: &str) -> Result<()> {
    if key_id.trim().is_empty() {
        return Err(Error::InvalidKeyId {
            reason: "it is blank",
        });
    }
    if key_id.trim() != key_id {
        return Err(Error::InvalidKeyId {
            reason: "it has leading or trailing whitespace",
        });
    }
    // The registry's rule (which the envelope's own 256-byte bound contains): an id written here
    // must be one a registry can hold, or nothing sealed under it could be opened.
    if !ReportedKeyId::would_show(key_id) {
        return Err(Error::InvalidKeyId {
            reason: KEY_ID_RULE,
        });
    }
    Ok(())
}

impl Sealer {
    /// A sealer writing reference-compatible `1.0` envelopes. Refuses keys below 2048 bits and
    /// blank key ids.
    pub fn new(key_id: impl Into<String>, public_key: RsaPublicKey) -> Result<Self> {
        let key_id = key_id.into();
        check_key_id(&key_id)?;
        let bits = keys::public_key_bits(&public_key);
        if bits < keys::MIN_RSA_BITS {
            return Err(Error::KeyTooSmall { bits });
        }
        Ok(Self {
            key_id,
            public_key,
            version: EnvelopeVersion::V1,
        })
    }

    /// A sealer from an SPKI PEM public key (normalised like the reference: quotes, `\n`).
    pub fn from_public_key_pem(key_id: impl Into<String>, pem: &str) -> Result<Self> {
        Self::new(key_id, keys::parse_public_key_pem(pem)?)
    }

    /// The write side of a scope from the process environment: `{SCOPE}_PUBLIC_KEY` and
    /// `{SCOPE}_KEY_ID`.
    pub fn from_env(scope: Scope) -> Result<Self> {
        Self::from_env_lookup(scope, &crate::registry::ProcessEnv)
    }

    /// Like [`Sealer::from_env`] with an injected environment.
    pub fn from_env_lookup(scope: Scope, env: &dyn EnvLookup) -> Result<Self> {
        let pem = env.non_blank(&scope.var("PUBLIC_KEY"));
        let key_id = env.non_blank(&scope.var("KEY_ID"));
        match (pem, key_id) {
            (Some(pem), Some(key_id)) => Self::from_public_key_pem(key_id.trim(), &pem),
            _ => Err(Error::WriteKeyIncomplete {
                scope: scope.label(),
            }),
        }
    }

    /// Writes the opt-in bound version instead of `1.0` (see [`EnvelopeVersion::Bound`]).
    #[must_use]
    pub fn bound(mut self) -> Self {
        self.version = EnvelopeVersion::Bound;
        self
    }

    /// Chooses the version written.
    #[must_use]
    pub fn with_version(mut self, version: EnvelopeVersion) -> Self {
        self.version = version;
        self
    }

    /// The key id written into envelopes.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The version written.
    pub fn version(&self) -> EnvelopeVersion {
        self.version
    }

    /// The public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }

    /// Seals raw bytes into the object-store form. `context` (object name, user id, …) is bound
    /// into bound-version envelopes: they open only under the same context. A `1.0` envelope binds
    /// nothing, so a `1.0` sealer takes only an empty context.
    ///
    /// # Errors
    /// [`Error::ContextNotBound`] for a non-empty context on a `1.0` sealer (the caller would
    /// believe the envelope tied to it); [`Error::SealFailed`] if RSA-OAEP or AES-GCM refuses the
    /// input.
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<SealedObject> {
        self.check_context(context)?;
        // The operating system's generator on every call: a thread-local one's state is shared with
        // every copy of the process a fork or VM snapshot makes, and a repeated data key and IV
        // under AES-GCM would reveal the XOR of two plaintexts and the authentication key.
        let mut rng = UnwrapErr(SysRng);
        let mut data_key = Zeroizing::new([0u8; DATA_KEY_LEN]);
        rng.fill_bytes(data_key.as_mut());
        let mut iv = [0u8; IV_LEN];
        rng.fill_bytes(&mut iv);

        let aad = binding::gcm_aad(self.version, context);
        let body = content::seal(&data_key, &iv, &aad, plaintext)?;
        let label = binding::oaep_label(self.version, &self.key_id, context);
        let wrapped = keys::wrap_data_key(&self.public_key, data_key.as_ref(), &label)?;
        Ok(SealedObject {
            metadata: EnvelopeMetadata {
                algorithm: ALGORITHM.to_owned(),
                encryption_version: self.version.as_str().to_owned(),
                key_id: self.key_id.clone(),
                data_iv: encoding::encode(&iv),
                wrapped_key: encoding::encode(&wrapped),
            },
            body,
        })
    }

    /// [`Error::ContextNotBound`] for a non-empty context on a `1.0` sealer, which binds none: a
    /// caller passing one believes the envelope tied to it.
    pub(crate) fn check_context(&self, context: &[u8]) -> Result<()> {
        if self.version == EnvelopeVersion::V1 && !context.is_empty() {
            return Err(Error::ContextNotBound);
        }
        Ok(())
    }

    /// Seals a value as UTF-8 JSON (what `JSON.stringify` then `TextEncoder` give).
    pub fn seal_json<T: Serialize + ?Sized>(
        &self,
        value: &T,
        context: &[u8],
    ) -> Result<SealedObject> {
        // Not `to_vec`: its buffer grows by reallocation and frees each outgrown copy of the
        // plaintext unwiped.
        let mut json = ZeroizingWriter::with_capacity(SEAL_JSON_INITIAL_CAPACITY);
        serde_json::to_writer(&mut json, value).map_err(|_| Error::PayloadNotSerializable)?;
        self.seal(&json.into_inner(), context)
    }

    /// Seals raw bytes into the KV form: one JSON string, fields in the reference's order.
    pub fn seal_kv(&self, plaintext: &[u8], context: &[u8]) -> Result<String> {
        Ok(self.seal(plaintext, context)?.into_kv().to_json())
    }

    /// Seals a value as UTF-8 JSON into the KV form.
    pub fn seal_json_kv<T: Serialize + ?Sized>(&self, value: &T, context: &[u8]) -> Result<String> {
        Ok(self.seal_json(value, context)?.into_kv().to_json())
    }
}
