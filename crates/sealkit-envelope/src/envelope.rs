//! The envelope as stored: object-store metadata and the KV record, their exact JSON shapes, and
//! validation of every field before any key is touched.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::binding;
use crate::encoding;
use crate::error::{Error, Result};

/// The only algorithm string: compared exactly (case-sensitive, untrimmed).
pub const ALGORITHM: &str = "RSA-OAEP-AES-256-GCM";

/// Length of the AES-GCM IV.
pub const IV_LEN: usize = 12;
/// Length of the AES-256 data key.
pub const DATA_KEY_LEN: usize = 32;
/// Length of the AES-GCM tag appended to the ciphertext.
pub const TAG_LEN: usize = 16;
/// Largest wrapped key accepted (an RSA-8192 modulus).
pub const MAX_WRAPPED_KEY_LEN: usize = 1024;
/// Largest KV ciphertext accepted, decoded (KV values are limited to 25 MiB).
pub const MAX_KV_CIPHERTEXT_LEN: usize = 32 << 20;
/// Longest key id accepted in an envelope.
pub const MAX_KEY_ID_LEN: usize = 256;

/// The envelope format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EnvelopeVersion {
    /// `"1.0"`: the reference format. Metadata is not authenticated.
    V1,
    /// `"sealkit-bound-1"` (opt-in): algorithm, version, key id and a caller context are bound
    /// into the RSA-OAEP label, and algorithm, version and context into the AES-GCM associated
    /// data, so a moved, relabelled or spliced envelope fails to open.
    Bound,
}

impl EnvelopeVersion {
    /// The `encryptionVersion` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1.0",
            Self::Bound => "sealkit-bound-1",
        }
    }

    /// Parses an `encryptionVersion` string exactly.
    pub fn from_wire(text: &str) -> Option<Self> {
        match text {
            "1.0" => Some(Self::V1),
            "sealkit-bound-1" => Some(Self::Bound),
            _ => None,
        }
    }
}

/// Object-store metadata (R2 `customMetadata`): five strings, serialised in this order.
///
/// Only a JSON object deserializes into it (not an array of five strings). Extra fields (the
/// reference stores non-crypto fields beside these for files) are ignored when parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvelopeMetadata {
    /// `RSA-OAEP-AES-256-GCM`.
    pub algorithm: String,
    /// `1.0` (or the opt-in bound version).
    pub encryption_version: String,
    /// Id of the key the data key is wrapped under.
    pub key_id: String,
    /// base64url IV (12 bytes).
    pub data_iv: String,
    /// base64url RSA-OAEP-wrapped data key.
    pub wrapped_key: String,
}

/// The KV form: the metadata plus the ciphertext, one JSON string with fields in exactly this order.
///
/// Only a JSON object deserializes into it (not an array of six strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KvRecord {
    /// `RSA-OAEP-AES-256-GCM`.
    pub algorithm: String,
    /// `1.0` (or the opt-in bound version).
    pub encryption_version: String,
    /// Id of the key the data key is wrapped under.
    pub key_id: String,
    /// base64url IV (12 bytes).
    pub data_iv: String,
    /// base64url RSA-OAEP-wrapped data key.
    pub wrapped_key: String,
    /// base64url `C ‖ T`.
    pub ciphertext: String,
}

// serde's derived `Deserialize` for a struct also takes a sequence, reading the fields by
// position: `["RSA-OAEP-AES-256-GCM","1.0","k","…","…","…"]` would pass for an envelope, where the
// reference (and docs/formats.md) have only objects. So the public types deserialize through
// `ObjectOnly`, which asks for a map and has no `visit_seq`, and hand the map to a derived mirror
// (private, so nothing can reach its sequence path), which keeps the derived checks: every field
// present, once, as a string; unknown fields ignored.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataFields {
    algorithm: String,
    encryption_version: String,
    key_id: String,
    data_iv: String,
    wrapped_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KvFields {
    algorithm: String,
    encryption_version: String,
    key_id: String,
    data_iv: String,
    wrapped_key: String,
    ciphertext: String,
}

struct ObjectOnly<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

impl<'de> Deserialize<'de> for EnvelopeMetadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields: MetadataFields = deserializer.deserialize_map(ObjectOnly(PhantomData))?;
        Ok(Self {
            algorithm: fields.algorithm,
            encryption_version: fields.encryption_version,
            key_id: fields.key_id,
            data_iv: fields.data_iv,
            wrapped_key: fields.wrapped_key,
        })
    }
}

impl<'de> Deserialize<'de> for KvRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields: KvFields = deserializer.deserialize_map(ObjectOnly(PhantomData))?;
        Ok(Self {
            algorithm: fields.algorithm,
            encryption_version: fields.encryption_version,
            key_id: fields.key_id,
            data_iv: fields.data_iv,
            wrapped_key: fields.wrapped_key,
            ciphertext: fields.ciphertext,
        })
    }
}

impl EnvelopeMetadata {
    /// Parses object metadata from JSON text; anything that is not an object with the five string
    /// fields, each exactly once, is [`Error::NotAnEnvelope`].
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|_| Error::NotAnEnvelope)
    }

    /// Reads the envelope fields from a string map (e.g. object-store custom metadata).
    /// Missing fields mean the object is not an envelope.
    pub fn from_map<'a>(mut get: impl FnMut(&str) -> Option<&'a str>) -> Result<Self> {
        let mut field = |name: &str| get(name).map(str::to_owned).ok_or(Error::NotAnEnvelope);
        Ok(Self {
            algorithm: field("algorithm")?,
            encryption_version: field("encryptionVersion")?,
            key_id: field("keyId")?,
            data_iv: field("dataIv")?,
            wrapped_key: field("wrappedKey")?,
        })
    }

    /// The metadata as compact JSON in the reference's field order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks every field (exact algorithm and version first) and decodes the binary ones.
    pub fn validate(&self) -> Result<ValidatedEnvelope> {
        ValidatedEnvelope::new(
            &self.algorithm,
            &self.encryption_version,
            &self.key_id,
            &self.data_iv,
            &self.wrapped_key,
        )
    }
}

impl KvRecord {
    /// Parses a stored KV value. Anything that is not a JSON object with the six string fields,
    /// each exactly once, is [`Error::NotAnEnvelope`]: plain-text or legacy records are refused,
    /// never served, and a repeated field is refused rather than resolved.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|_| Error::NotAnEnvelope)
    }

    /// The record as stored: compact JSON, fields in the reference's exact order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The metadata part.
    pub fn metadata(&self) -> EnvelopeMetadata {
        EnvelopeMetadata {
            algorithm: self.algorithm.clone(),
            encryption_version: self.encryption_version.clone(),
            key_id: self.key_id.clone(),
            data_iv: self.data_iv.clone(),
            wrapped_key: self.wrapped_key.clone(),
        }
    }

    /// Joins metadata and a raw body into a KV record.
    pub fn from_parts(metadata: EnvelopeMetadata, body: &[u8]) -> Self {
        Self {
            algorithm: metadata.algorithm,
            encryption_version: metadata.encryption_version,
            key_id: metadata.key_id,
            data_iv: metadata.data_iv,
            wrapped_key: metadata.wrapped_key,
            ciphertext: encoding::encode(body),
        }
    }

    /// Decodes the ciphertext field (bounded).
    pub fn decode_ciphertext(&self) -> Result<Vec<u8>> {
        decode_field(&self.ciphertext, "ciphertext", MAX_KV_CIPHERTEXT_LEN)
    }
}

fn decode_field(text: &str, field: &'static str, max: usize) -> Result<Vec<u8>> {
    encoding::decode(text, max).map_err(|e| match e {
        encoding::DecodeError::TooLong => Error::FieldTooLong { field },
        _ => Error::InvalidEncoding { field },
    })
}

/// An envelope whose fields passed validation, with the binary fields decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedEnvelope {
    version: EnvelopeVersion,
    key_id: String,
    iv: [u8; IV_LEN],
    wrapped_key: Vec<u8>,
}

impl ValidatedEnvelope {
    fn new(
        algorithm: &str,
        version: &str,
        key_id: &str,
        data_iv: &str,
        wrapped_key: &str,
    ) -> Result<Self> {
        if algorithm != ALGORITHM {
            return Err(Error::UnsupportedAlgorithm);
        }
        let version = EnvelopeVersion::from_wire(version).ok_or(Error::UnsupportedVersion)?;
        if key_id.len() > MAX_KEY_ID_LEN {
            return Err(Error::FieldTooLong { field: "keyId" });
        }
        if version == EnvelopeVersion::Bound && key_id.trim().is_empty() {
            return Err(Error::BlankKeyId);
        }
        let iv = decode_field(data_iv, "dataIv", IV_LEN)?;
        let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| Error::InvalidIvLength)?;
        let wrapped_key = decode_field(wrapped_key, "wrappedKey", MAX_WRAPPED_KEY_LEN)?;
        if wrapped_key.is_empty() {
            return Err(Error::InvalidEncoding {
                field: "wrappedKey",
            });
        }
        Ok(Self {
            version,
            key_id: key_id.to_owned(),
            iv,
            wrapped_key,
        })
    }

    /// The format version.
    pub fn version(&self) -> EnvelopeVersion {
        self.version
    }

    /// The key id recorded in the envelope (as stored, untrimmed).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The 12-byte IV.
    pub fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }

    /// The wrapped data key.
    pub fn wrapped_key(&self) -> &[u8] {
        &self.wrapped_key
    }

    /// The RSA-OAEP label this envelope's data key is wrapped with (empty for `1.0`).
    pub(crate) fn oaep_label(&self, context: &[u8]) -> Vec<u8> {
        binding::oaep_label(self.version, &self.key_id, context)
    }

    /// The AES-GCM associated data (empty for `1.0`).
    pub(crate) fn aad(&self, context: &[u8]) -> Vec<u8> {
        binding::gcm_aad(self.version, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EnvelopeMetadata {
        EnvelopeMetadata {
            algorithm: ALGORITHM.into(),
            encryption_version: "1.0".into(),
            key_id: "k".into(),
            data_iv: encoding::encode(&[7; 12]),
            wrapped_key: encoding::encode(&[9; 256]),
        }
    }

    #[test]
    fn kv_fields_serialise_in_reference_order() {
        let kv = KvRecord::from_parts(sample(), b"body");
        let json = kv.to_json();
        let order = [
            "algorithm",
            "encryptionVersion",
            "keyId",
            "dataIv",
            "wrappedKey",
            "ciphertext",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|f| json.find(&format!("\"{f}\"")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(KvRecord::from_json(&json).unwrap(), kv);
    }

    #[test]
    fn algorithm_and_version_compared_exactly() {
        let mut m = sample();
        assert!(m.validate().is_ok());
        m.algorithm = "rsa-oaep-aes-256-gcm".into();
        assert!(matches!(m.validate(), Err(Error::UnsupportedAlgorithm)));
        m.algorithm = format!("{ALGORITHM} ");
        assert!(matches!(m.validate(), Err(Error::UnsupportedAlgorithm)));
        let mut m = sample();
        m.encryption_version = "1.0 ".into();
        assert!(matches!(m.validate(), Err(Error::UnsupportedVersion)));
        m.encryption_version = "1".into();
        assert!(matches!(m.validate(), Err(Error::UnsupportedVersion)));
    }

    #[test]
    fn iv_must_be_twelve_bytes() {
        let mut m = sample();
        m.data_iv = encoding::encode(&[1; 11]);
        assert!(matches!(m.validate(), Err(Error::InvalidIvLength)));
        m.data_iv = encoding::encode(&[1; 13]);
        assert!(matches!(
            m.validate(),
            Err(Error::FieldTooLong { field: "dataIv" })
        ));
    }

    #[test]
    fn non_envelopes_are_refused() {
        for text in [
            "",
            "null",
            "\"x\"",
            "{}",
            "[1]",
            r#"{"name":"plain user record"}"#,
        ] {
            assert!(
                matches!(KvRecord::from_json(text), Err(Error::NotAnEnvelope)),
                "{text}"
            );
            assert!(matches!(
                EnvelopeMetadata::from_json(text),
                Err(Error::NotAnEnvelope)
            ));
        }
        let with_number = r#"{"algorithm":"RSA-OAEP-AES-256-GCM","encryptionVersion":1,"keyId":"k","dataIv":"a","wrappedKey":"b","ciphertext":"c"}"#;
        assert!(matches!(
            KvRecord::from_json(with_number),
            Err(Error::NotAnEnvelope)
        ));
    }

    /// The fields of a valid envelope as a JSON array: what serde's derived impl reads by position.
    fn as_array(fields: &[&str]) -> String {
        serde_json::to_string(fields).unwrap()
    }

    #[test]
    fn an_array_of_the_fields_is_not_an_envelope() {
        let m = sample();
        let five = [
            m.algorithm.as_str(),
            &m.encryption_version,
            &m.key_id,
            &m.data_iv,
            &m.wrapped_key,
        ];
        let ciphertext = encoding::encode(&[5; 32]);
        let mut six = five.to_vec();
        six.push(&ciphertext);
        // The same fields as an object are an envelope, so only the array shape is refused.
        let kv = KvRecord::from_parts(m.clone(), &[5; 32]);
        assert_eq!(KvRecord::from_json(&kv.to_json()).unwrap(), kv);
        assert_eq!(EnvelopeMetadata::from_json(&m.to_json()).unwrap(), m);
        for text in [as_array(&five), as_array(&six)] {
            let err = KvRecord::from_json(&text).unwrap_err();
            assert_eq!(err.code(), "not_an_envelope", "{text}");
            let err = EnvelopeMetadata::from_json(&text).unwrap_err();
            assert_eq!(err.code(), "not_an_envelope", "{text}");
            // Through serde directly too, not only through `from_json`.
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(serde_json::from_value::<KvRecord>(value.clone()).is_err());
            assert!(serde_json::from_value::<EnvelopeMetadata>(value).is_err());
        }
    }

    /// `JSON.parse` would keep the last `algorithm`; we refuse the record instead, so no two
    /// readers (or a validator and the opener) can disagree on which value the envelope holds.
    #[test]
    fn a_repeated_envelope_field_is_refused() {
        let kv = KvRecord::from_parts(sample(), b"body").to_json();
        let repeated = kv.replacen(
            "{\"algorithm\":",
            &format!("{{\"algorithm\":\"{ALGORITHM}\",\"algorithm\":"),
            1,
        );
        assert_eq!(repeated.matches("\"algorithm\"").count(), 2, "{repeated}");
        assert!(KvRecord::from_json(&kv).is_ok());
        let err = KvRecord::from_json(&repeated).unwrap_err();
        assert_eq!(err.code(), "not_an_envelope");

        let metadata = sample().to_json();
        let repeated = metadata.replacen(
            "{\"algorithm\":",
            &format!("{{\"algorithm\":\"{ALGORITHM}\",\"algorithm\":"),
            1,
        );
        assert!(EnvelopeMetadata::from_json(&metadata).is_ok());
        assert!(matches!(
            EnvelopeMetadata::from_json(&repeated),
            Err(Error::NotAnEnvelope)
        ));
        // A repeated field the envelope does not use is an extra field like any other.
        let extra = metadata.replacen('{', "{\"note\":1,\"note\":2,", 1);
        assert!(EnvelopeMetadata::from_json(&extra).is_ok());
    }
}
