//! `i2d_SSL_SESSION` / `d2i_SSL_SESSION`: sessions to and from OpenSSL 3.0's DER layout.

use std::os::raw::{c_int, c_long, c_uchar};
use std::sync::Arc;

use crate::core::der::{self, DerSession};
use crate::core::session::Session;
use crate::core::time;

use super::handle;
use super::types::SSL_SESSION;
use crate::guard::guard;

/// Encodes `in_` in OpenSSL 3.0's `SSL_SESSION_ASN1` layout, byte for byte what OpenSSL 3.0
/// writes for the same fields. Returns the encoding's length; 0 (nothing written) when `in_`
/// is NULL or the session has no cipher.
///
/// - `pp` NULL: only the length is returned.
/// - `*pp` NULL: a buffer is allocated with `malloc` and stored in `*pp` (not advanced); the
///   caller owns it and frees it with `free()` (there is no `OPENSSL_free` here). Returns -1
///   when the allocation fails.
/// - otherwise the encoding is written at `*pp`, which must have room for it (ask for the
///   length first), and `*pp` is advanced past it.
///
/// Thread-safe; the session is read under its lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn i2d_SSL_SESSION(in_: *const SSL_SESSION, pp: *mut *mut c_uchar) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `in_`.
        let s = unsafe { handle::session(in_) }?;
        // The encoding holds the master key: wiped once copied out.
        let bytes = zeroize::Zeroizing::new(s.read(|f| der::encode(&DerSession::from_fields(f))));
        let len = c_int::try_from(bytes.len()).ok().filter(|&len| len != 0)?;
        // SAFETY: a non-NULL `pp` is valid for reading and writing a pointer.
        Some(match unsafe { handle::read_ptr(pp) } {
            None => len,
            Some(out) if out.is_null() => {
                // divergence: malloc, not OPENSSL_malloc; the caller frees with free().
                let buf = handle::malloc_copy(&bytes);
                if buf.is_null() {
                    return Some(-1);
                }
                // SAFETY: `pp` is non-NULL and writable.
                unsafe { handle::write_out(pp, buf) };
                len
            }
            Some(out) => {
                // SAFETY: the caller's buffer at `*pp` has room for the encoding, and the
                // cursor moves to its end.
                unsafe {
                    handle::write_bytes(out, &bytes);
                    handle::advance(pp, bytes.len());
                }
                len
            }
        })
    })
}

/// Decodes one session from the `length` bytes at `*pp` with OpenSSL 3.0's rules (the same
/// encodings accepted, the same rejected) and advances `*pp` past it; bytes after the
/// encoding are not read.
///
/// Target: when `a` and `*a` are non-NULL, the fields of `*a` are overwritten in place and `*a`
/// is returned (no new reference; a cached `*a` keeps its cache key). Otherwise a new session
/// with one reference is returned (free with `SSL_SESSION_free`) and, when `a` is non-NULL,
/// also stored in `*a`. An absent or zero time becomes now, an absent or zero timeout 3 s.
///
/// Returns NULL, with `*pp` and `*a` unchanged, for malformed, truncated or oversized input,
/// a `length` of 0 or less, or NULL `pp`/`*pp`; it never reads outside the `length` bytes.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn d2i_SSL_SESSION(
    a: *mut *mut SSL_SESSION,
    pp: *mut *const c_uchar,
    length: c_long,
) -> *mut SSL_SESSION {
    guard(std::ptr::null_mut(), || {
        let len = usize::try_from(length).ok()?;
        // SAFETY: a non-NULL `pp` is valid for reading a pointer.
        let start = unsafe { handle::read_ptr(pp.cast::<*mut c_uchar>()) }?;
        if start.is_null() || len == 0 {
            return None;
        }
        // SAFETY: the caller's buffer at `*pp` holds `length` readable bytes.
        let input = unsafe { handle::bytes(start, len, usize::MAX) }?;
        let (d, consumed) = der::decode(input, time::now()).ok()?;
        // SAFETY: a non-NULL `a` is valid for reading a pointer.
        let target = unsafe { handle::read_ptr(a) }.filter(|p| !p.is_null());
        let ret = match target {
            Some(existing) => {
                // SAFETY: the caller holds a reference on `*a`.
                let s = unsafe { handle::session(existing) }?;
                if !s.update(|f| d.apply_to(f)) {
                    return None;
                }
                existing
            }
            None => {
                let s = Session::new(time::now());
                if !s.update(|f| d.apply_to(f)) {
                    return None;
                }
                // SAFETY: a non-NULL `a` is valid for writing a pointer.
                unsafe { handle::session_out(a, Arc::new(s)) }
            }
        };
        // SAFETY: `consumed <= length`, so the cursor stays within the caller's buffer.
        unsafe { handle::advance(pp.cast::<*mut c_uchar>(), consumed) };
        Some(ret)
    })
}
