//! A document under arbitrary edits against a fresh parse (see `baton::fuzzing::edits`).

#![no_main]

use baton::fuzzing::edits::{check, Script};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(difference) = check(&Script::from_bytes(data)) {
        panic!("{difference}");
    }
});
