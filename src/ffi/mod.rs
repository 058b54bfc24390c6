//! The `extern "C"` shell: each exported function converts its arguments, calls the core and
//! maps the result to OpenSSL's return convention. One file per C type.
//!
//! Layers, each importing only those above it: `handle` (every pointer conversion); `types` (the C objects' Rust types and the callback types); `callbacks` (the
//! reference rules of calling them); then the export files, which import none of each other.
//!
//! # Safety
//!
//! One contract covers every exported `unsafe extern "C"` function, as it does OpenSSL's: each
//! pointer argument is NULL or a live object of this library on which the caller holds a
//! reference (or, for buffers, points to at least the stated number of bytes). NULL is always
//! answered with the function's failure value.
// `as` casts between c_long and i64 are identities on LP64 but not on every target.
#![allow(non_camel_case_types, clippy::missing_safety_doc, clippy::unnecessary_cast)]

pub mod callbacks;
pub mod ctrl;
pub mod der;
pub mod driver;
pub mod handle;
pub mod method;
#[cfg(feature = "redis")]
pub mod redis;
pub mod ssl;
pub mod ssl_cipher;
pub mod ssl_ctx;
pub mod ssl_session;
pub mod types;
