//! What the opt-in bound version authenticates, and how.
//!
//! The reference authenticates nothing outside the ciphertext. The bound version binds:
//! - into the RSA-OAEP label: algorithm, version, key id and the caller's context, so a wrapped key
//!   only unwraps under the id it was written for and for the object it was written for;
//! - into the AES-GCM associated data: algorithm, version and the context, so a body only opens as
//!   the object it was written for.
//!
//! The key id is deliberately not in the GCM associated data: rewrapping a bound envelope to a new
//! key changes the label (a new wrap) but leaves the body untouched.
//!
//! Each field is length-prefixed (u32 big-endian) after a domain-separation string, so no two
//! different field tuples encode to the same bytes.

use crate::envelope::{ALGORITHM, EnvelopeVersion};

const OAEP_DOMAIN: &[u8] = b"sealkit-envelope/bound-1/oaep-label";
const GCM_DOMAIN: &[u8] = b"sealkit-envelope/bound-1/gcm-aad";

fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    // Fields are bounded far below 4 GiB (key ids ≤ 256 bytes, contexts are names), but saturate
    // rather than wrap if a caller passes something absurd.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

fn encode(domain: &[u8], fields: &[&[u8]]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(domain.len() + fields.iter().map(|f| f.len() + 4).sum::<usize>());
    out.extend_from_slice(domain);
    for field in fields {
        push_field(&mut out, field);
    }
    out
}

/// The RSA-OAEP label: empty for `1.0` (as the reference), the bound tuple otherwise.
pub(crate) fn oaep_label(version: EnvelopeVersion, key_id: &str, context: &[u8]) -> Vec<u8> {
    match version {
        EnvelopeVersion::V1 => Vec::new(),
        EnvelopeVersion::Bound => encode(
            OAEP_DOMAIN,
            &[
                ALGORITHM.as_bytes(),
                version.as_str().as_bytes(),
                key_id.as_bytes(),
                context,
            ],
        ),
    }
}

/// The AES-GCM associated data: empty for `1.0` (as the reference), the bound tuple otherwise.
pub(crate) fn gcm_aad(version: EnvelopeVersion, context: &[u8]) -> Vec<u8> {
    match version {
        EnvelopeVersion::V1 => Vec::new(),
        EnvelopeVersion::Bound => encode(
            GCM_DOMAIN,
            &[ALGORITHM.as_bytes(), version.as_str().as_bytes(), context],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_binds_nothing() {
        assert!(oaep_label(EnvelopeVersion::V1, "k", b"ctx").is_empty());
        assert!(gcm_aad(EnvelopeVersion::V1, b"ctx").is_empty());
    }

    #[test]
    fn fields_cannot_be_shifted_between_each_other() {
        let a = oaep_label(EnvelopeVersion::Bound, "ab", b"c");
        let b = oaep_label(EnvelopeVersion::Bound, "a", b"bc");
        assert_ne!(a, b);
        assert_ne!(
            gcm_aad(EnvelopeVersion::Bound, b"x"),
            gcm_aad(EnvelopeVersion::Bound, b"y")
        );
    }
}
