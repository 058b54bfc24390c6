//! The cache core against a model (see `support/core_model.rs`): seeded random operation
//! sequences, `validate()` after each operation, no leaked session after each sequence.
//! `SESSCACHE_MODEL_SEQS` sets the number of sequences (default 300; 3 under Miri).

#[path = "support/core_model.rs"]
mod core_model;

use core_model::Seeded;

fn sequences() -> u64 {
    let default = if cfg!(miri) { 3 } else { 300 };
    std::env::var("SESSCACHE_MODEL_SEQS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn core_matches_the_model() {
    let len = if cfg!(miri) { 60 } else { 2000 };
    let mut ops = 0;
    for seed in 0..sequences() {
        ops += core_model::run(&mut Seeded::new(seed + 1, len), true);
    }
    eprintln!("core model: {ops} operations, no mismatch");
    assert!(ops > 0);
}
