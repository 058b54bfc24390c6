//! The ABI fuzzer (see `support/abi_model.rs`): seeded random sequences of exported calls
//! checked against a model; no leaked session after each sequence.
//!
//! `SESSCACHE_ABI_FUZZ_SECS=N` runs new seeds for N seconds instead of the default 40
//! sequences (3 under Miri); the number of calls executed is printed.

#[path = "support/core_model.rs"]
mod core_model;

#[path = "support/abi_model.rs"]
mod abi_model;

use std::time::{Duration, Instant};

use core_model::Seeded;

#[test]
fn exported_calls_match_the_model() {
    let secs: Option<u64> = std::env::var("SESSCACHE_ABI_FUZZ_SECS").ok().and_then(|v| v.parse().ok());
    let (seqs, len) = if cfg!(miri) { (3, 300) } else { (40, 6000) };
    let seqs = std::env::var("SESSCACHE_ABI_FUZZ_SEQS").ok().and_then(|v| v.parse().ok()).unwrap_or(seqs);
    let first: u64 = std::env::var("SESSCACHE_ABI_FUZZ_FIRST").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let deadline = secs.map(|s| Instant::now() + Duration::from_secs(s));
    let (mut calls, mut seed) = (0u64, first);
    loop {
        match deadline {
            Some(d) if Instant::now() >= d => break,
            None if seed >= first + seqs => break,
            _ => {}
        }
        seed += 1;
        if std::env::var_os("SESSCACHE_ABI_FUZZ_VERBOSE").is_some() {
            eprintln!("seed {seed}");
        }
        calls += abi_model::run(&mut Seeded::new(seed, len));
    }
    let (callbacks, st) = abi_model::exercised();
    eprintln!(
        "abi fuzz: {calls} calls ({} fuzzed operations) in {} sequences ({callbacks} callbacks, {} evictions, {} handshake ends, {} get_cb hits), \
         0 crashes, 0 mismatches, 0 leaks",
        st.operations,
        seed - first,
        st.evictions,
        st.handshakes,
        st.get_hits
    );
    assert!(callbacks > 0 && st.handshakes > 0, "the fuzzer exercised nothing");
    // Miri's few short sequences may evict nothing; full runs must reach every path.
    assert!(cfg!(miri) || (st.evictions > 0 && st.get_hits > 0), "the fuzzer missed eviction or get_cb");
    println!("abi-fuzz-calls {calls}");
    assert!(calls > 0);
}
