//! sesscache under unmodified OpenSSL 3.0 programs: preloaded into a program linked against the
//! system libssl, this library moves the session cache of every `SSL_CTX` into sesscache's core
//! while the real libssl keeps doing TLS.
//!
//! - `exports`: the libssl functions we take over (`SSL_CTX_new_ex`, `SSL_new`, the session
//!   commands of `SSL_CTX_ctrl`, add/remove/flush, the callback setters and getters,
//!   `SSL_has_matching_session_id`, the timeout, `SSL_SESSION_set_time`/`set_timeout`) and the three callbacks we install on every
//!   real context. Everything else is libssl's, untouched.
//! - `state`: one context's state and the cache operations, on the core's `SessionCtx`.
//! - `sys`: every raw pointer: the real functions (`dlsym(RTLD_NEXT, …)`), libssl's objects,
//!   and `LibSession`, the core's `Handle` over a libssl `SSL_SESSION`.
//! - `owners`: which cache lists each session, for `SSL_SESSION_set_time`/`set_timeout`.
//! - `fleet`: `SESSCACHE_REDIS`, sessions shared between servers through Redis.
//! - `config`, `log`, `report`: the environment, `SESSCACHE_LOG`, `SESSCACHE_STATS`.
#![deny(missing_docs)]
// `c_long` is `i64` on LP64 Linux; the conversions between them stay for other data models.
#![allow(clippy::useless_conversion, clippy::unnecessary_cast)]

mod config;
mod exports;
mod fleet;
mod log;
mod owners;
mod report;
mod state;
mod sys;

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, returning `fail` if it panics: no panic unwinds into the host.
fn guard<R>(fail: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fail)
}
