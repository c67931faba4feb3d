//! Which stream a record belongs to. Every key and every record is bound to this identity, so a
//! record copied into another stream, another basin, or a deleted-and-re-created stream of the same
//! name fails to open.

use crate::error::StreamError;

/// Longest basin name accepted, in bytes (S2 allows 48).
pub const MAX_BASIN_LEN: usize = 48;
/// Longest stream name accepted, in bytes (S2 allows 512).
pub const MAX_STREAM_LEN: usize = 512;
/// Longest incarnation (creation id) accepted, in bytes.
pub const MAX_INCARNATION_LEN: usize = 64;

/// Longest canonical encoding of an identity, in bytes.
pub(crate) const MAX_ENCODED_LEN: usize =
    4 + MAX_BASIN_LEN + 4 + MAX_STREAM_LEN + 1 + 4 + MAX_INCARNATION_LEN;

/// A stream's identity: basin, stream name and, optionally, an incarnation — an id the server gives
/// the stream when it is created, so that a stream deleted and re-created under the same name does
/// not accept the old records.
///
/// S2 binds records to a hash of basin and stream name only; the incarnation is what closes the
/// re-creation gap. Use one whenever the server has a creation id (a UUID, a creation timestamp).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamIdentity {
    basin: String,
    stream: String,
    incarnation: Option<Vec<u8>>,
}

impl StreamIdentity {
    /// A stream identified by basin and stream name.
    ///
    /// Both must be non-empty and within S2's limits ([`MAX_BASIN_LEN`], [`MAX_STREAM_LEN`]).
    pub fn new(basin: impl Into<String>, stream: impl Into<String>) -> Result<Self, StreamError> {
        let (basin, stream) = (basin.into(), stream.into());
        check_len("basin name", basin.len(), MAX_BASIN_LEN)?;
        check_len("stream name", stream.len(), MAX_STREAM_LEN)?;
        Ok(Self {
            basin,
            stream,
            incarnation: None,
        })
    }

    /// The same stream, pinned to one incarnation (1 to [`MAX_INCARNATION_LEN`] bytes).
    pub fn with_incarnation(
        mut self,
        incarnation: impl Into<Vec<u8>>,
    ) -> Result<Self, StreamError> {
        let incarnation = incarnation.into();
        check_len("incarnation", incarnation.len(), MAX_INCARNATION_LEN)?;
        self.incarnation = Some(incarnation);
        Ok(self)
    }

    /// The basin name.
    pub fn basin(&self) -> &str {
        &self.basin
    }

    /// The stream name.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The incarnation, if the stream has one.
    pub fn incarnation(&self) -> Option<&[u8]> {
        self.incarnation.as_deref()
    }

    /// Appends the canonical encoding: each field length-prefixed (u32, big-endian), the incarnation
    /// preceded by a presence byte. Never delimiter-joined, so `("a/b", "c")` and `("a", "b/c")`
    /// cannot collide.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        put_field(out, self.basin.as_bytes());
        put_field(out, self.stream.as_bytes());
        match &self.incarnation {
            None => out.push(0),
            Some(incarnation) => {
                out.push(1);
                put_field(out, incarnation);
            }
        }
    }
}

fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    let len = u32::try_from(field.len()).expect("identity fields are bounded far below 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

fn check_len(what: &'static str, len: usize, max: usize) -> Result<(), StreamError> {
    if len == 0 || len > max {
        return Err(StreamError::InvalidIdentity { what, len, max });
    }
    Ok(())
}
