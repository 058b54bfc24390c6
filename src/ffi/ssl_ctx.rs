//! `SSL_CTX`: a context and its session cache.

use std::os::raw::{c_int, c_long, c_uchar, c_uint};
use std::sync::atomic::AtomicUsize;

use crate::core::context::SessionCtx;
use crate::core::key::Bytes32;

use super::callbacks::Hooks;
use super::handle::{self, Counted};
pub use super::types::SSL_CTX;
use super::types::{
    CallbackSlots, GetSessionCb, NewSessionCb, RemoveSessionCb, GEN_SESSION_CB, SSL_METHOD, SSL_SESSION,
};
use crate::core::key::MAX_ID_LENGTH;
use crate::guard::guard;

impl Counted for SSL_CTX {
    fn refs(&self) -> &AtomicUsize {
        &self.refs
    }

    /// What the last `SSL_CTX_free` does before the memory goes: `SSL_CTX_flush_sessions(ctx, 0)`,
    /// so `remove_cb` sees every cached session, earliest expiry first.
    fn finalize(&self, ptr: *mut SSL_CTX) {
        self.core.flush(0, &Hooks::for_ctx(self, ptr));
    }
}

/// Creates a context with one reference: cache mode `SSL_SESS_CACHE_SERVER`, cache size
/// 20480, timeout 7200 s, no callbacks.
///
/// Returns NULL when `meth` is NULL. Free with `SSL_CTX_free`.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_new(meth: *const SSL_METHOD) -> *mut SSL_CTX {
    guard(std::ptr::null_mut(), || {
        // SAFETY: a non-NULL method comes from TLS_*method(), which return statics.
        let method = unsafe { handle::method(meth) }?;
        Some(handle::ctx_into_raw(Box::new(SSL_CTX {
            core: SessionCtx::new(),
            callbacks: CallbackSlots::default(),
            server_role: method.server_role,
            #[cfg(feature = "redis")]
            redis: parking_lot::RwLock::new(None),
            #[cfg(feature = "redis")]
            redis_seal: parking_lot::RwLock::new(None),
            refs: AtomicUsize::new(1),
        })))
    })
}

/// Takes another reference on `ctx`. Returns 1, or 0 when `ctx` is NULL or is being freed
/// (called from a remove callback during the final `SSL_CTX_free`).
///
/// Thread-safe (an atomic reference count).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_up_ref(ctx: *mut SSL_CTX) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        Some(c_int::from(handle::ctx_try_up_ref(c)))
    })
}

/// Drops one reference. The last one flushes the cache (`remove_cb` runs for every cached
/// session, earliest expiry first) and frees the context. NULL is ignored.
///
/// Thread-safe: other threads may go on using the context through their own references.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_free(ctx: *mut SSL_CTX) {
    guard((), || {
        // SAFETY: the caller gives up its reference on `ctx` (or passes NULL).
        unsafe { handle::ctx_release(ctx) };
        Some(())
    });
}

/// Sets the timeout given to new sessions, in seconds (not validated; 0 means the method
/// default of 7200). Sessions already made keep theirs. Returns the previous value, or 0 when
/// `ctx` is NULL.
///
/// Thread-safe; handshakes already under way on other threads may still use the previous value.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_timeout(ctx: *mut SSL_CTX, t: c_long) -> c_long {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        unsafe { handle::ctx(ctx) }.map(|c| c.core.set_timeout(t) as c_long)
    })
}

/// Returns the context's session timeout in seconds, or 0 when `ctx` is NULL.
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_get_timeout(ctx: *const SSL_CTX) -> c_long {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        unsafe { handle::ctx(ctx) }.map(|c| c.core.timeout() as c_long)
    })
}

/// Sets the session-id context copied into each new `SSL`. Copies `sid_ctx_len` bytes.
/// Returns 1, or 0 when `ctx` is NULL, `sid_ctx_len` exceeds 32 (`SSL_MAX_SID_CTX_LENGTH`) or
/// `sid_ctx` is NULL with a non-zero length.
///
/// Thread-safe; `SSL`s created before the call keep the context they copied.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_session_id_context(
    ctx: *mut SSL_CTX,
    sid_ctx: *const c_uchar,
    sid_ctx_len: c_uint,
) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: a non-NULL `sid_ctx` points to `sid_ctx_len` bytes.
        let v = unsafe { handle::bytes(sid_ctx, sid_ctx_len as usize, MAX_ID_LENGTH) }.and_then(Bytes32::new)?;
        c.core.set_sid_ctx(v);
        Some(1)
    })
}

/// Adds `session` to the cache, which takes its own reference (the caller keeps its own).
/// Works in every cache mode. A session with the same version and id replaces the cached one
/// silently. When the cache is full, sessions with the earliest expiry are evicted first;
/// `remove_cb` runs for each.
///
/// Returns 1 when the session became a new entry, 0 when it was already cached (it is then
/// repositioned) or an argument is NULL.
///
/// Differs from OpenSSL 3.0: `remove_cb` runs after the cache lock is released, so it may call
/// any function; and a cached session with an empty id never stops eviction.
///
/// Thread-safe: the cache is locked internally (per shard); `remove_cb` runs on the calling thread
/// once the lock is released.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_add_session(ctx: *mut SSL_CTX, session: *mut SSL_SESSION) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: the caller holds a reference on a non-NULL `session`.
        let s = unsafe { handle::session(session) }?;
        Some(c_int::from(c.core.add_session(&s, handle::now(), &Hooks::for_ctx(c, ctx))))
    })
}

/// Removes the cached entry with `session`'s version and id (whichever object it is), marks
/// `session` not resumable and calls `remove_cb(ctx, session)`, even when nothing was cached.
/// A session with an empty id is left alone, without a callback.
///
/// Returns 1 when an entry was removed, else 0 (also for NULL arguments).
///
/// Thread-safe: the cache is locked internally (per shard); `remove_cb` runs on the calling thread
/// once the lock is released.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_remove_session(ctx: *mut SSL_CTX, session: *mut SSL_SESSION) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: the caller holds a reference on a non-NULL `session`.
        let s = unsafe { handle::session(session) }?;
        Some(c_int::from(c.core.remove_session(&s, &Hooks::for_ctx(c, ctx))))
    })
}

/// Removes every cached session that has expired at time `tm` (seconds since the epoch;
/// expired means `tm` is later than time + timeout), earliest expiry first, stopping at the
/// first live one; `tm == 0` removes everything. `remove_cb` runs for each removed session.
/// NULL is ignored.
///
/// Differs from OpenSSL 3.0: `remove_cb` runs after the cache lock is released.
///
/// Thread-safe: the cache is locked internally (per shard); `remove_cb` runs on the calling thread
/// once the lock is released.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_flush_sessions(ctx: *mut SSL_CTX, tm: c_long) {
    guard((), || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        c.core.flush(tm as i64, &Hooks::for_ctx(c, ctx));
        Some(())
    })
}

/// Sets the callback that makes server session ids; `SSL_new` copies it into each new `SSL`.
/// NULL restores the default (32 random bytes). Returns 1, or 0 when `ctx` is NULL.
///
/// Thread-safe; `SSL`s created before the call keep the callback they copied.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_generate_session_id(ctx: *mut SSL_CTX, cb: GEN_SESSION_CB) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: the slot's type is an extern "C" fn pointer.
        unsafe { c.callbacks.generate.set(cb) };
        Some(1)
    })
}

/// Installs (or, with NULL, removes) the new-session callback. It runs at the end of each
/// handshake that makes a cacheable session, with no lock held. The session is passed with a
/// reference for the callback: return 1 to keep it (and `SSL_SESSION_free` it later), 0 to
/// let the library drop it. NULL `ctx` is ignored.
///
/// Thread-safe; a handshake already under way may still call the previous callback. The callback
/// runs on whichever thread drives a handshake of this context, possibly on several threads at
/// once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_set_new_cb(ctx: *mut SSL_CTX, new_session_cb: NewSessionCb) {
    guard((), || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: the slot holds extern "C" fn pointers.
        unsafe { c.callbacks.new.set(new_session_cb) };
        Some(())
    })
}

/// Returns the new-session callback, or NULL when none is set or `ctx` is NULL.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_get_new_cb(ctx: *mut SSL_CTX) -> NewSessionCb {
    guard(None, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        unsafe { handle::ctx(ctx) }.map(|c| c.callbacks.new.get())
    })
}

/// Installs (or, with NULL, removes) the remove-session callback. It receives a borrowed
/// session each time one leaves the cache (removal, eviction, expiry, flush, `SSL_CTX_free`)
/// and for every `SSL_CTX_remove_session` call. It runs with no lock held and may call any
/// function of this library. NULL `ctx` is ignored.
///
/// Differs from OpenSSL 3.0, which holds the cache's write lock during eviction and flush.
///
/// Thread-safe; a handshake already under way may still call the previous callback. The callback
/// runs on whichever thread drives a handshake of this context, possibly on several threads at
/// once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_set_remove_cb(ctx: *mut SSL_CTX, remove_session_cb: RemoveSessionCb) {
    guard((), || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: the slot holds extern "C" fn pointers.
        unsafe { c.callbacks.remove.set(remove_session_cb) };
        Some(())
    })
}

/// Returns the remove-session callback, or NULL when none is set or `ctx` is NULL.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_get_remove_cb(ctx: *mut SSL_CTX) -> RemoveSessionCb {
    guard(None, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        unsafe { handle::ctx(ctx) }.map(|c| c.callbacks.remove.get())
    })
}

/// Installs (or, with NULL, removes) the get-session callback of an external cache. A server
/// lookup calls it (with no lock held) when the internal cache has no match or is bypassed
/// (`SSL_SESS_CACHE_NO_INTERNAL_LOOKUP`), with `*copy` preset to 1. Return NULL for a miss.
/// Leave `*copy` at 1 to lend the session (the library takes its own reference), or set it to
/// 0 to hand over one reference you hold. NULL `ctx` is ignored.
///
/// Thread-safe; a handshake already under way may still call the previous callback. The callback
/// runs on whichever thread drives a handshake of this context, possibly on several threads at
/// once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_set_get_cb(ctx: *mut SSL_CTX, get_session_cb: GetSessionCb) {
    guard((), || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: the slot holds extern "C" fn pointers.
        unsafe { c.callbacks.get.set(get_session_cb) };
        Some(())
    })
}

/// Returns the get-session callback, or NULL when none is set or `ctx` is NULL.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_get_get_cb(ctx: *mut SSL_CTX) -> GetSessionCb {
    guard(None, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        unsafe { handle::ctx(ctx) }.map(|c| c.callbacks.get.get())
    })
}
