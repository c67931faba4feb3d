//! sealkit-vault (under construction).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
