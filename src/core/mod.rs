//! The cache core: safe Rust, no C types, no raw pointers. Time is always a parameter.
//!
//! Layers, each importing only those before it (`scripts/layers.py` checks that nothing
//! imports back): the leaves `sync`, `time`, `stats`, `cipher`, `key`, `mode`; `entry` (what
//! the cache holds); `cache`; `session`; `der`; `context`; `handshake` and `store_rule`.
#![forbid(unsafe_code)]

pub mod cache;
pub mod cipher;
pub mod context;
pub mod der;
pub mod entry;
pub mod handshake;
pub mod key;
pub mod mode;
pub mod session;
pub mod stats;
pub mod store_rule;
pub mod sync;
pub mod time;
