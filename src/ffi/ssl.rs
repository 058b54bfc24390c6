//! `SSL`: a connection, as far as the session cache sees it.

use std::os::raw::{c_int, c_uchar, c_uint};
use std::sync::Arc;

use crate::core::handshake::Conn;
use crate::core::key::Bytes32;

use super::handle::{self, CtxRef, FnSlot};
pub use super::types::SSL;
use super::types::{SSL_verify_cb, SSL_CTX, SSL_SESSION};
use crate::core::key::MAX_ID_LENGTH;
use crate::guard::guard;

/// Creates a connection of `ctx`, with one reference; it holds a reference on `ctx`. It copies
/// the context's session-id context and generate-session-id callback, starts in the method's
/// role, and reports version 0x0304 (`TLS1_3_VERSION`) until a handshake starts.
///
/// Returns NULL when `ctx` is NULL or is being freed (called from a remove callback during the
/// final `SSL_CTX_free`). Free with `SSL_free`.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_new(ctx: *mut SSL_CTX) -> *mut SSL {
    guard(std::ptr::null_mut(), || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // A context whose last reference is gone (a remove callback during its final flush)
        // cannot get new connections.
        // SAFETY: `ctx` is the caller's non-NULL context pointer, as above.
        let ctx_ref = unsafe { CtxRef::new(ctx) }?;
        let ssl = SSL { conn: Conn::new(c.server_role, c.core.sid_ctx()), ctx: ctx_ref, generate: FnSlot::default() };
        // SAFETY: the slot holds extern "C" fn pointers.
        unsafe { ssl.generate.set(c.callbacks.generate.get()) };
        Some(handle::ssl_into_raw(Arc::new(ssl)))
    })
}

/// Drops one reference; the last one releases the connection's session and its context
/// reference. NULL is ignored.
///
/// Differs from OpenSSL 3.0: freeing a connection never removes its session from the cache.
/// OpenSSL removes the session of a connection freed without `SSL_shutdown`; sesscache has no
/// TLS and no shutdown, so it treats every connection as cleanly shut down.
///
/// Thread-safe: references held elsewhere, on any thread, stay valid; the caller's must not be used
/// again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_free(ssl: *mut SSL) {
    // divergence: no TLS, no shutdown state, so freeing never removes a "bad" session.
    guard((), || {
        if !ssl.is_null() {
            // SAFETY: the caller gives up its reference on a live `ssl`.
            unsafe { handle::ssl_release(ssl) };
        }
        Some(())
    })
}

/// Takes another reference on `ssl`. Returns 1, or 0 when `ssl` is NULL.
///
/// Thread-safe (an atomic reference count).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_up_ref(ssl: *mut SSL) -> c_int {
    guard(0, || {
        if ssl.is_null() {
            return None;
        }
        // SAFETY: the caller holds a reference on a live `ssl`.
        unsafe { handle::ssl_up_ref(ssl) };
        Some(1)
    })
}

/// Returns the connection's context (borrowed: no reference is taken), or NULL for NULL.
///
/// Thread-safe; the context stays valid while `ssl` lives (`ssl` holds a reference on it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_get_SSL_CTX(ssl: *const SSL) -> *mut SSL_CTX {
    guard(std::ptr::null_mut(), || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }.map(SSL::ctx_ptr)
    })
}

/// Returns the protocol version: 0x0304 before any handshake, 0x0303 once the `sesscache_`
/// driver started one (it negotiates TLS 1.2). 0 for NULL.
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_version(ssl: *const SSL) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }.map(|s| s.conn.version())
    })
}

/// Sets the connection's session-id context (copied). Returns 1, or 0 when `ssl` is NULL,
/// `sid_ctx_len` exceeds 32, or `sid_ctx` is NULL with a non-zero length.
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_set_session_id_context(
    ssl: *mut SSL,
    sid_ctx: *const c_uchar,
    sid_ctx_len: c_uint,
) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        let s = unsafe { handle::ssl(ssl) }?;
        // SAFETY: a non-NULL `sid_ctx` points to `sid_ctx_len` bytes.
        let v = unsafe { handle::bytes(sid_ctx, sid_ctx_len as usize, MAX_ID_LENGTH) }.and_then(Bytes32::new)?;
        s.conn.set_sid_ctx(v);
        Some(1)
    })
}

/// Sets the session to offer (client) or use; the connection takes its own reference on
/// `session` and drops the one it held. NULL `session` clears it. Returns 1, or 0 when `ssl`
/// is NULL.
///
/// Differs from OpenSSL 3.0: the previous session of a completed connection is not removed
/// from the cache as "bad" (sesscache has no shutdown state; see `SSL_free`).
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_set_session(ssl: *mut SSL, session: *mut SSL_SESSION) -> c_int {
    // divergence: no "bad session" is removed from the cache first (no TLS, no shutdown state).
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        let s = unsafe { handle::ssl(ssl) }?;
        // SAFETY: the caller holds a reference on a non-NULL `session`.
        let new = unsafe { handle::session_clone(session) };
        drop(s.conn.replace_session(new));
        Some(1)
    })
}

/// Returns the connection's session without taking a reference (valid while the connection
/// keeps it), or NULL when there is none or `ssl` is NULL. `SSL_get0_session` in OpenSSL.
///
/// Thread-safe, but the session is borrowed: if another thread calls `SSL_set_session` or
/// `SSL_free` on `ssl`, it may be freed. Use `SSL_get1_session` to keep it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_get_session(ssl: *const SSL) -> *mut SSL_SESSION {
    guard(std::ptr::null_mut(), || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }?.conn.with_session(|o| o.map(handle::session_ptr))
    })
}

/// Returns the connection's session with a new reference for the caller (free it with
/// `SSL_SESSION_free`), or NULL when there is none or `ssl` is NULL.
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_get1_session(ssl: *mut SSL) -> *mut SSL_SESSION {
    guard(std::ptr::null_mut(), || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }?.conn.session().map(handle::session_into_raw)
    })
}

/// Returns 1 when the last handshake resumed a session, else 0 (also for NULL).
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_session_reused(ssl: *const SSL) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }.map(|s| c_int::from(s.conn.is_hit()))
    })
}

/// Returns 1 when the internal cache of the connection's context holds a session with this id
/// and the connection's current version (`SSL_version`), else 0. Returns 0 when `id_len`
/// exceeds 32, or for NULL `ssl` (or NULL `id` with a non-zero length). The external cache is
/// not consulted.
///
/// Thread-safe: a read-locked lookup in one shard of the cache.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_has_matching_session_id(ssl: *const SSL, id: *const c_uchar, id_len: c_uint) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        let s = unsafe { handle::ssl(ssl) }?;
        if id_len as usize > MAX_ID_LENGTH {
            return None;
        }
        // SAFETY: a non-NULL `id` points to `id_len` bytes.
        let id = unsafe { handle::bytes(id, id_len as usize, MAX_ID_LENGTH) }?;
        Some(c_int::from(s.ctx().core.has_session(s.conn.version(), id)))
    })
}

/// Puts the connection in the server role. NULL is ignored.
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_set_accept_state(ssl: *mut SSL) {
    guard((), || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }?.conn.set_server(true);
        Some(())
    })
}

/// Puts the connection in the client role. NULL is ignored.
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_set_connect_state(ssl: *mut SSL) {
    guard((), || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }?.conn.set_server(false);
        Some(())
    })
}

/// Returns 1 for a connection in the server role, 0 for a client (and for NULL).
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_is_server(ssl: *const SSL) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }.map(|s| c_int::from(s.conn.is_server()))
    })
}

/// Sets the verify mode (`SSL_VERIFY_NONE`, `SSL_VERIFY_PEER`, ...). Only the mode matters to
/// the cache (a server with `SSL_VERIFY_PEER` and no session-id context fails resumption).
/// NULL `ssl` is ignored.
///
/// Differs from OpenSSL 3.0: `callback` is accepted and never called (the function pointer is
/// not stored): sesscache verifies no certificates.
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_set_verify(ssl: *mut SSL, mode: c_int, callback: SSL_verify_cb) {
    // divergence: the callback is never called; sesscache verifies no certificates.
    let _ = callback;
    guard((), || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }?.conn.set_verify_mode(mode);
        Some(())
    })
}

/// Returns the verify mode, or 0 for NULL.
///
/// Thread-safe (the connection's state is synchronized internally). OpenSSL requires an `SSL` to be
/// used by one thread at a time; portable code should do the same.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_get_verify_mode(ssl: *const SSL) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        unsafe { handle::ssl(ssl) }.map(|s| s.conn.verify_mode())
    })
}
