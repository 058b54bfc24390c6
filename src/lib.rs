//! sesscache: OpenSSL 3.0's SSL session cache in Rust, behind OpenSSL's own C ABI.
//!
//! - [`abi`]: OpenSSL's numbers (modes, limits, `SSL_CTRL_*` commands, versions), shared by
//!   every layer and by the preload.
//! - [`guard`]: the panic boundary of every export (and of the preload's).
//! - [`core`]: the cache in safe Rust (sessions, the sharded index and expiry order,
//!   statistics, the handshake steps). It knows nothing of C.
//! - `redis_store` (feature `redis-store`, part of `redis`): a Redis session store with a bounded
//!   wait per operation, shared by `sesscache_redis_attach` and the preload's fleet mode.
//! - `ffi`: the `extern "C"` shell (feature `capi`), one file per C type; `ffi/handle.rs` is
//!   the only place raw pointers are turned into references and back.

pub mod abi;
pub mod core;
pub mod guard;

#[cfg(feature = "redis-store")]
pub mod redis_store;

#[cfg(feature = "capi")]
pub mod ffi;

/// The tests' generator (one file, shared with the integration tests, benches and fuzzers).
#[cfg(test)]
#[path = "../tests/support/rng.rs"]
mod test_rng;
