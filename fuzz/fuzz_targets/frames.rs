//! The frame reader under arbitrary bytes (see `baton::fuzzing::frames`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| baton::fuzzing::frames::frames(data));
