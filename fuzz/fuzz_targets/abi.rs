//! The C ABI: the input bytes are a sequence of exported calls with their arguments, checked
//! against the model of `tests/support/abi_model.rs`; no leaked session at the end of each
//! input. Every 2^k-th and every 10 000th input prints the running number of calls executed.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/core_model.rs"]
mod core_model;
#[path = "../../tests/support/abi_model.rs"]
mod abi_model;

static CALLS: AtomicU64 = AtomicU64::new(0);
static INPUTS: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let calls = abi_model::run(&mut core_model::Bytes(data));
    let total = CALLS.fetch_add(calls, Ordering::Relaxed) + calls;
    let n = INPUTS.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_power_of_two() || n.is_multiple_of(10_000) {
        eprintln!("abi: {total} calls in {n} inputs");
    }
});
