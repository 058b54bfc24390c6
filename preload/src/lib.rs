//! sesscache under unmodified OpenSSL 3.0 programs: preloaded into a program that uses the
//! system libssl, however it loads it, this library moves the session cache of every `SSL_CTX`
//! into sesscache's core while the real libssl keeps doing TLS.
//!
//! The modules form layers; each imports only from the layers below it:
//!
//! - `sys` (bottom): every call into C and every raw pointer: which libssl a call comes from
//!   and its real functions (`loader`, `libssl`), `SSL_CTX`/`SSL`/ex_data (`objects`),
//!   `LibSession`, the core's `Cacheable` over a libssl `SSL_SESSION` (`session`), and the shape of
//!   the exported entry points (`entry`).
//! - `config`, then `log` and `fleet`: the environment, `SESSCACHE_LOG`, and
//!   `SESSCACHE_REDIS` (sessions shared between servers through Redis).
//! - `state`: one context's state and the cache operations, on the core's `SessionCtx`.
//! - `report`: `SESSCACHE_STATS`, which reads the states.
//! - `exports` (top): the libssl functions we take over (`SSL_CTX_new_ex`, `SSL_new`, the
//!   session commands of `SSL_CTX_ctrl`, add/remove/flush, the callback setters and getters,
//!   `SSL_has_matching_session_id`, the timeout, `SSL_SESSION_set_time`/`set_timeout`, the
//!   session-id contexts) and the three callbacks we install on every real context.
//!   Everything else is libssl's, untouched.
//!
//! `unsafe` appears only in `sys` and in `exports`, where C's arguments become `sys`'s wrappers.
#![deny(missing_docs)]
// `c_long` is `i64` on LP64 Linux; the conversions between them stay for other data models.
#![allow(clippy::useless_conversion, clippy::unnecessary_cast)]

mod config;
mod exports;
mod fleet;
mod log;
mod report;
mod state;
mod sys;
