//! The drivers that fuzzing and the property tests share: each takes a case (bytes from the
//! fuzzer, or values from proptest) and panics, or returns an error, when a promise breaks.
//!
//! `fuzz/` (cargo-fuzz, on nightly) feeds them libFuzzer's bytes; the property tests feed them
//! on stable. One copy of each oracle, so both check the same thing. Not part of baton's
//! interface: hidden from its documentation and free to change.

pub mod edits;
pub mod frames;
