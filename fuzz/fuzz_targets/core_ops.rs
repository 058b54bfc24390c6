//! The cache core: the input bytes are an operation sequence, checked against the model of
//! `tests/support/core_model.rs` with `validate()` after each operation and no leaked session
//! at the end of each input.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/core_model.rs"]
mod core_model;

fuzz_target!(|data: &[u8]| {
    core_model::run(&mut core_model::Bytes(data), true);
});
