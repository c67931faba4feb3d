//! Shared measurement support for the sealkit benchmarks.
