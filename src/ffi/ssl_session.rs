//! `SSL_SESSION`: a refcounted session.

use std::os::raw::{c_int, c_long, c_uchar, c_uint};
use std::sync::Arc;

use crate::core::key::Bytes32;
use crate::core::session::{Session, MAX_MASTER_KEY_LENGTH};

use super::handle;
pub use super::types::SSL_SESSION;
use crate::core::key::MAX_ID_LENGTH;
use crate::guard::guard;

/// Creates a session with one reference: version 0, empty id, time now, timeout 304 s. It is
/// not resumable until it has an id. Free with `SSL_SESSION_free`. Never NULL.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn SSL_SESSION_new() -> *mut SSL_SESSION {
    guard(std::ptr::null_mut(), || Some(handle::session_into_raw(Arc::new(Session::new(handle::now())))))
}

/// Takes another reference. Returns 1, or 0 when `ses` is NULL.
///
/// Thread-safe (an atomic reference count).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_up_ref(ses: *mut SSL_SESSION) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ses`.
        let s = unsafe { handle::session_clone(ses) }?;
        let _ = handle::session_into_raw(s);
        Some(1)
    })
}

/// Drops one reference; the last one frees the session and wipes its master key.
/// NULL is ignored.
///
/// Thread-safe: references held elsewhere, on any thread, stay valid; the caller's must not be used
/// again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_free(ses: *mut SSL_SESSION) {
    guard((), || {
        // SAFETY: the caller gives up its reference (or passes NULL).
        drop(unsafe { handle::session_adopt(ses) });
        Some(())
    })
}

/// Returns a pointer to the session's id (owned by the session, valid until it changes or the
/// session is freed) and stores its length in `*len` if `len` is non-NULL. NULL `s` returns
/// NULL and stores 0.
///
/// Thread-safe to call, but the bytes are read after the session's lock is released: if another
/// thread may call `SSL_SESSION_set1_id` on a shared session, copy the id under your own
/// synchronization.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_get_id(s: *const SSL_SESSION, len: *mut c_uint) -> *const c_uchar {
    guard(std::ptr::null(), || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let Some(s) = (unsafe { handle::session(s) }) else {
            // SAFETY: `len` is NULL or writable.
            unsafe { handle::write_out(len, 0) };
            return None;
        };
        Some(s.read(|f| {
            // SAFETY: `len` is NULL or writable.
            unsafe { handle::write_out(len, f.id.len() as c_uint) };
            f.id.buffer().as_ptr()
        }))
    })
}

/// Copies `sid_len` bytes as the session id. A cached session is not re-keyed: the cache keeps
/// the id it was added with. Returns 1, or 0 when `s` is NULL, `sid_len` exceeds 32, or `sid`
/// is NULL with a non-zero length.
///
/// Thread-safe: writes under the session's lock (a pointer from `SSL_SESSION_get_id` sees the
/// new bytes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_set1_id(s: *mut SSL_SESSION, sid: *const c_uchar, sid_len: c_uint) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        // SAFETY: a non-NULL `sid` has `sid_len` bytes.
        let id = unsafe { handle::bytes(sid, sid_len as usize, MAX_ID_LENGTH) }?;
        // Copied before the session is locked: `sid` may point into the session itself.
        let id = Bytes32::new(id)?;
        s.update(|f| f.id = id);
        Some(1)
    })
}

/// Returns a pointer to the session-id context (owned by the session) and stores its length in
/// `*len` if `len` is non-NULL. NULL `s` returns NULL and stores 0.
///
/// Thread-safe to call, but the bytes are read after the session's lock is released: if another
/// thread may call `SSL_SESSION_set1_id_context` on a shared session, copy them under your own
/// synchronization.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_get0_id_context(s: *const SSL_SESSION, len: *mut c_uint) -> *const c_uchar {
    guard(std::ptr::null(), || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let Some(s) = (unsafe { handle::session(s) }) else {
            // SAFETY: `len` is NULL or writable.
            unsafe { handle::write_out(len, 0) };
            return None;
        };
        Some(s.read(|f| {
            // SAFETY: `len` is NULL or writable.
            unsafe { handle::write_out(len, f.sid_ctx.len() as c_uint) };
            f.sid_ctx.buffer().as_ptr()
        }))
    })
}

/// Copies `sid_ctx_len` bytes as the session-id context. Returns 1, or 0 when `s` is NULL,
/// `sid_ctx_len` exceeds 32, or `sid_ctx` is NULL with a non-zero length.
///
/// Thread-safe: writes under the session's lock (a pointer from `SSL_SESSION_get0_id_context`
/// sees the new bytes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_set1_id_context(
    s: *mut SSL_SESSION,
    sid_ctx: *const c_uchar,
    sid_ctx_len: c_uint,
) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        // SAFETY: a non-NULL `sid_ctx` has `sid_ctx_len` bytes.
        let v = unsafe { handle::bytes(sid_ctx, sid_ctx_len as usize, MAX_ID_LENGTH) }?;
        let v = Bytes32::new(v)?;
        s.update(|f| f.sid_ctx = v);
        Some(1)
    })
}

/// Returns the session's time (seconds since the epoch), or 0 for NULL.
///
/// Thread-safe: reads under the session's lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_get_time(s: *const SSL_SESSION) -> c_long {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        unsafe { handle::session(s) }.map(|s| s.read(|f| f.time) as c_long)
    })
}

/// Sets the session's time; a cached session moves to its new place in the expiry order.
/// Returns `t` (OpenSSL returns the argument, not 1), or 0 for NULL.
///
/// Thread-safe: writes under the session's lock; readers see the old or the new value, never a mix.
/// A cached session is repositioned under the cache's lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_set_time(s: *mut SSL_SESSION, t: c_long) -> c_long {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        s.update_expiry(|f| f.time = t as i64);
        Some(t)
    })
}

/// Returns the session's timeout in seconds, or 0 for NULL.
///
/// Thread-safe: reads under the session's lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_get_timeout(s: *const SSL_SESSION) -> c_long {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        unsafe { handle::session(s) }.map(|s| s.read(|f| f.timeout) as c_long)
    })
}

/// Sets the session's timeout in seconds; a cached session moves to its new place in the
/// expiry order. Returns 1, or 0 (nothing changed) for a negative `t` or NULL `s`.
///
/// Thread-safe: writes under the session's lock; readers see the old or the new value, never a mix.
/// A cached session is repositioned under the cache's lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        if t < 0 {
            return None;
        }
        s.update_expiry(|f| f.timeout = t as i64);
        Some(1)
    })
}

/// Returns 1 when the session can be offered for resumption: it has an id and was never
/// removed from or evicted by a cache. 0 otherwise and for NULL.
///
/// Thread-safe: an atomic read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_is_resumable(s: *const SSL_SESSION) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        unsafe { handle::session(s) }.map(|s| c_int::from(s.is_resumable()))
    })
}

/// Returns the session's protocol version (0 for a new session and for NULL).
///
/// Thread-safe: reads under the session's lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_get_protocol_version(s: *const SSL_SESSION) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        unsafe { handle::session(s) }.map(|s| s.read(|f| f.version))
    })
}

/// Sets the protocol version, part of the cache key (a cached session keeps the key it was
/// added with). Returns 1, or 0 for NULL.
///
/// Thread-safe: writes under the session's lock; readers see the old or the new value.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_set_protocol_version(s: *mut SSL_SESSION, version: c_int) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        s.update(|f| f.version = version);
        Some(1)
    })
}

/// With `outlen == 0`, returns the master key's length. Otherwise copies `min(outlen, length)`
/// bytes to `out` and returns that count. Returns 0 for NULL `s`, or for NULL `out` with a
/// non-zero `outlen`.
///
/// Thread-safe: reads under the session's lock. The copy is made under the lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_get_master_key(s: *const SSL_SESSION, out: *mut c_uchar, outlen: usize) -> usize {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        if outlen != 0 && out.is_null() {
            return None;
        }
        Some(s.read(|f| {
            let key = f.master_key();
            if outlen == 0 {
                return key.len();
            }
            let n = outlen.min(key.len());
            // SAFETY: `out` is writable for `outlen >= n` bytes per the caller's contract.
            unsafe { handle::write_bytes(out, &key[..n]) };
            n
        }))
    })
}

/// Copies `len` bytes as the master key. Returns 1, or 0 when `len` exceeds 512 (OpenSSL 3.0's
/// buffer), `s` is NULL, or `in_` is NULL with a non-zero length.
///
/// Thread-safe: writes under the session's lock; readers see the old or the new value.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_set1_master_key(s: *mut SSL_SESSION, in_: *const c_uchar, len: usize) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        // SAFETY: a non-NULL `in_` has `len` bytes.
        let key = unsafe { handle::bytes(in_, len, MAX_MASTER_KEY_LENGTH) }?;
        if key.len() > MAX_MASTER_KEY_LENGTH {
            return None;
        }
        let key = key.to_vec();
        Some(c_int::from(s.update(|f| f.set_master_key(&key))))
    })
}
