//! The functions we take over from libssl, exported under OpenSSL's names and symbol version,
//! and the three callbacks we install on every real context. Each converts its arguments,
//! delegates to the context's state, and forwards to the real libssl when the object carries
//! no state of ours (it was made before the preload could see it).
//!
//! Every function is thread-safe, as the one it replaces. No panic unwinds into the host: a
//! caught panic returns the failure value stated. Callbacks of the host never run while a
//! sesscache lock is held.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, c_long, c_uint, c_void};
use std::ptr;
use std::sync::Arc;

use sesscache::core::key::Bytes32;

use crate::config::config;
use crate::state::PCtx;
use crate::sys::libssl::{real, GetCb, NewCb, Real, RemoveCb, OSSL_LIB_CTX, SSL, SSL_CTX, SSL_METHOD, SSL_SESSION};
use crate::sys::objects::{self, Ctx, Ssl};
use crate::sys::session::LibSession;
use crate::sys::{self as handle, store_int};
use crate::{fleet, guard, log, owners, report};

/// The state of `ctx`, if it has one.
///
/// # Safety
/// `ctx` is NULL or a live `SSL_CTX`.
unsafe fn state(real: &Real, ctx: *const SSL_CTX) -> Option<Arc<PCtx>> {
    // SAFETY: the caller's contract.
    unsafe { Ctx::from_raw(ctx.cast_mut()) }?.state(real)
}

/// The state of the session context of `ssl`, with `ssl` itself.
///
/// # Safety
/// `ssl` is NULL or a live `SSL`.
unsafe fn ssl_state(real: &Real, ssl: *const SSL) -> Option<(Ssl, Arc<PCtx>)> {
    // SAFETY: the caller's contract.
    let ssl = unsafe { Ssl::from_raw(ssl.cast_mut()) }?;
    Some((ssl, ssl.session_ctx(real)?.state(real)?))
}

fn take_over(real: &'static Real, ctx: Ctx) {
    let _ = config();
    // Opens the Redis store (without connecting) before any handshake needs it.
    let _ = fleet::enabled();
    objects::marker_ctx(real);
    let st = PCtx::attach(real, ctx, report::next_id());
    if ctx.attach_state(real, st.clone()) {
        st.activate();
        ctx.install_trampolines(real, get_trampoline, new_trampoline, remove_trampoline);
        report::register(&st);
        log::event(&st, "new", None, "");
    }
}

/// `SSL_CTX_new_ex`: the real constructor, then sesscache takes over the new context's session
/// cache (`SSL_CTX_new` reaches here through libssl). Returns the new context, owned by the
/// caller, or NULL on failure, as libssl.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_new_ex(
    libctx: *mut OSSL_LIB_CTX,
    propq: *const c_char,
    meth: *const SSL_METHOD,
) -> *mut SSL_CTX {
    let Some(real) = real() else { return ptr::null_mut() };
    // SAFETY: forwarded as received.
    let p = unsafe { real.new_ctx(libctx, propq, meth) };
    // SAFETY: libssl just made it, or returned NULL.
    if let Some(ctx) = unsafe { Ctx::from_raw(p) } {
        guard((), || take_over(real, ctx));
    }
    p
}

/// `SSL_new`: the real constructor; records `ctx` as the connection's session context (the
/// cache it uses even after `SSL_set_SSL_CTX`). Returns the connection, owned by the caller, or
/// NULL, as libssl.
#[no_mangle]
pub unsafe extern "C" fn SSL_new(ctx: *mut SSL_CTX) -> *mut SSL {
    let Some(real) = real() else { return ptr::null_mut() };
    // SAFETY: forwarded as received.
    let p = unsafe { real.new_ssl(ctx) };
    // SAFETY: libssl just made the SSL from this live context, which it references.
    if let (Some(ssl), Some(ctx)) = unsafe { (Ssl::from_raw(p), Ctx::from_raw(ctx)) } {
        guard((), || ssl.set_session_ctx(real, ctx));
    }
    p
}

/// `SSL_CTX_ctrl`: the session commands (20–31, 42–45) answer from sesscache with OpenSSL's
/// values: the counters are those the program would read without the preload, size and mode
/// are those it set (the environment's overrides act underneath). Every other command, and a
/// NULL context, goes to libssl. A caught panic returns 0.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_ctrl(ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long {
    let Some(real) = real() else { return 0 };
    // SAFETY: ctx is NULL or a live context, per the API.
    if let Some(st) = unsafe { state(real, ctx) } {
        if let Some(v) = guard(Some(0), || st.ctrl(cmd, larg)) {
            return v;
        }
    }
    // SAFETY: forwarded as received.
    unsafe { real.fwd_ctrl(ctx, cmd, larg, parg) }
}

/// `SSL_CTX_set_timeout`: returns the previous timeout the program set. With
/// `SESSCACHE_TIMEOUT` the override stays in force. NULL: 0.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_timeout(ctx: *mut SSL_CTX, t: c_long) -> c_long {
    let Some(real) = real() else { return 0 };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard(0, || st.set_timeout(t)),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_set_timeout(ctx, t) },
    }
}

/// `SSL_CTX_get_timeout`: the timeout the program set. NULL: 0.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_get_timeout(ctx: *const SSL_CTX) -> c_long {
    let Some(real) = real() else { return 0 };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard(0, || st.timeout()),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_get_timeout(ctx) },
    }
}

/// `SSL_CTX_add_session`: adds `c` to sesscache's cache, which takes its own reference (the
/// caller keeps its own). Returns 1 when `c` became a new entry, 0 otherwise, for a NULL
/// argument or a caught panic. Evicted sessions go to the remove callback after the cache's
/// lock is released. libssl's own handshakes do not come here (they use our new callback).
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_add_session(ctx: *mut SSL_CTX, c: *mut SSL_SESSION) -> c_int {
    let Some(real) = real() else { return 0 };
    // SAFETY: ctx is NULL or a live context.
    let Some(st) = (unsafe { state(real, ctx) }) else {
        // SAFETY: forwarded as received.
        return unsafe { real.fwd_add(ctx, c) };
    };
    // SAFETY: c is NULL or a live session the caller holds for the call.
    let Some(c) = (unsafe { LibSession::borrow(real, c) }) else { return 0 };
    guard(0, || c_int::from(st.add(&c)))
}

/// `SSL_CTX_remove_session`: removes the entry with `c`'s key from sesscache's cache, marks `c`
/// not resumable and calls the remove callback with `c` (even when nothing was cached), with
/// no lock held. Returns 1 when an entry was removed; 0 otherwise, for NULL arguments, an
/// empty id or a caught panic.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_remove_session(ctx: *mut SSL_CTX, c: *mut SSL_SESSION) -> c_int {
    let Some(real) = real() else { return 0 };
    // SAFETY: ctx is NULL or a live context.
    let Some(st) = (unsafe { state(real, ctx) }) else {
        // SAFETY: forwarded as received.
        return unsafe { real.fwd_remove(ctx, c) };
    };
    // SAFETY: c is NULL or a live session the caller holds for the call.
    let Some(c) = (unsafe { LibSession::borrow(real, c) }) else { return 0 };
    guard(0, || c_int::from(st.remove(&c)))
}

/// `SSL_CTX_flush_sessions`: removes the sessions expired at `t` (all of them when `t` is 0)
/// from sesscache's cache, earliest expiry first; the remove callback sees each after the lock
/// is released. libssl calls this at `SSL_CTX_free` and for its auto-flush. NULL: nothing.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_flush_sessions(ctx: *mut SSL_CTX, t: c_long) {
    let Some(real) = real() else { return };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard((), || st.flush(i64::from(t))),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_flush(ctx, t) },
    }
}

/// `SSL_has_matching_session_id`: 1 when sesscache's cache of `ssl`'s session context holds a
/// session with this id under `ssl`'s version; 0 otherwise, for NULL, `id_len > 32` or a
/// caught panic. libssl's id generator calls this.
#[no_mangle]
pub unsafe extern "C" fn SSL_has_matching_session_id(ssl: *const SSL, id: *const u8, id_len: c_uint) -> c_int {
    let Some(real) = real() else { return 0 };
    // SAFETY: ssl is NULL or a live connection.
    let Some((s, st)) = (unsafe { ssl_state(real, ssl) }) else {
        // SAFETY: forwarded as received.
        return unsafe { real.fwd_has_matching(ssl, id, id_len) };
    };
    let len = id_len as usize;
    if len > sesscache::core::key::MAX_ID_LENGTH {
        return 0;
    }
    // SAFETY: id points to id_len readable bytes, per the API.
    let Some(id) = (unsafe { handle::bytes(id, len) }) else { return 0 };
    guard(0, || c_int::from(st.has_session(s.version(real), id)))
}

/// `SSL_CTX_set_session_id_context`: libssl's; on success the preload also records the value
/// (fleet mode keys Redis by it). Returns libssl's result: 1, or 0 when `sid_ctx_len > 32`.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_session_id_context(
    ctx: *mut SSL_CTX,
    sid_ctx: *const u8,
    sid_ctx_len: c_uint,
) -> c_int {
    let Some(real) = real() else { return 0 };
    // SAFETY: forwarded as received.
    let r = unsafe { real.fwd_ctx_set_sid_ctx(ctx, sid_ctx, sid_ctx_len) };
    if r == 1 {
        // SAFETY: libssl accepted a live ctx and sid_ctx_len (≤ 32) readable bytes.
        if let (Some(st), Some(b)) = unsafe { (state(real, ctx), handle::bytes(sid_ctx, sid_ctx_len as usize)) } {
            guard((), || st.set_sid_ctx(Bytes32::new(b).unwrap_or(Bytes32::EMPTY)));
        }
    }
    r
}

/// `SSL_set_session_id_context`: libssl's; on success, in fleet mode, the preload also records
/// the connection's own value. Returns libssl's result: 1, or 0 when `sid_ctx_len > 32`.
#[no_mangle]
pub unsafe extern "C" fn SSL_set_session_id_context(ssl: *mut SSL, sid_ctx: *const u8, sid_ctx_len: c_uint) -> c_int {
    let Some(real) = real() else { return 0 };
    // SAFETY: forwarded as received.
    let r = unsafe { real.fwd_ssl_set_sid_ctx(ssl, sid_ctx, sid_ctx_len) };
    if r == 1 && fleet::enabled() {
        // SAFETY: libssl accepted a live ssl and sid_ctx_len (≤ 32) readable bytes.
        if let (Some(s), Some(b)) = unsafe { (Ssl::from_raw(ssl), handle::bytes(sid_ctx, sid_ctx_len as usize)) } {
            guard((), || s.set_own_sid_ctx(real, Bytes32::new(b).unwrap_or(Bytes32::EMPTY)));
        }
    }
    r
}

/// `SSL_CTX_sess_set_new_cb`: records the program's new-session callback; libssl keeps
/// calling ours, which stores the session and then calls this one with OpenSSL's reference
/// rule (return 1: the callback keeps the reference). NULL context: nothing.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_new_cb(ctx: *mut SSL_CTX, cb: Option<NewCb>) {
    let Some(real) = real() else { return };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard((), || st.set_callbacks(|c| c.new = cb)),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_set_new_cb(ctx, cb) },
    }
}

/// `SSL_CTX_sess_get_new_cb`: the program's new-session callback, or NULL.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_new_cb(ctx: *mut SSL_CTX) -> Option<NewCb> {
    let real = real()?;
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard(None, || st.callbacks().new),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_get_new_cb(ctx) },
    }
}

/// `SSL_CTX_sess_set_remove_cb`: records the program's remove callback, which sesscache calls
/// for removed, evicted and flushed sessions, with no lock held. NULL context: nothing.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_remove_cb(ctx: *mut SSL_CTX, cb: Option<RemoveCb>) {
    let Some(real) = real() else { return };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard((), || st.set_callbacks(|c| c.remove = cb)),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_set_remove_cb(ctx, cb) },
    }
}

/// `SSL_CTX_sess_get_remove_cb`: the program's remove callback, or NULL.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_remove_cb(ctx: *mut SSL_CTX) -> Option<RemoveCb> {
    let real = real()?;
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard(None, || st.callbacks().remove),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_get_remove_cb(ctx) },
    }
}

/// `SSL_CTX_sess_set_get_cb`: records the program's get callback, which sesscache asks when
/// its own lookup fails (or is off), with OpenSSL's `*copy` rule. NULL context: nothing.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_get_cb(ctx: *mut SSL_CTX, cb: Option<GetCb>) {
    let Some(real) = real() else { return };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard((), || st.set_callbacks(|c| c.get = cb)),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_set_get_cb(ctx, cb) },
    }
}

/// `SSL_CTX_sess_get_get_cb`: the program's get callback, or NULL.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_get_cb(ctx: *mut SSL_CTX) -> Option<GetCb> {
    let real = real()?;
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(real, ctx) } {
        Some(st) => guard(None, || st.callbacks().get),
        // SAFETY: forwarded as received.
        None => unsafe { real.fwd_get_get_cb(ctx) },
    }
}

/// Our get callback on every real context: sesscache's lookup. The session returned carries
/// one reference for libssl (`*copy = 0`); NULL when nothing usable was found.
unsafe extern "C" fn get_trampoline(ssl: *mut SSL, id: *const u8, len: c_int, copy: *mut c_int) -> *mut SSL_SESSION {
    let Some(real) = real() else { return ptr::null_mut() };
    // SAFETY: libssl passes the live connection being handshaken.
    let Some((s, st)) = (unsafe { ssl_state(real, ssl) }) else { return ptr::null_mut() };
    // SAFETY: libssl passes an id of len bytes.
    let Some(id) = usize::try_from(len).ok().and_then(|l| unsafe { handle::bytes(id, l) }) else {
        return ptr::null_mut();
    };
    let Some(found) = guard(None, || st.lookup(s, id)) else { return ptr::null_mut() };
    // SAFETY: libssl passes a valid int *.
    unsafe { store_int(copy, 0) };
    found.into_raw()
}

/// Our new callback on every real context: the internal store (with OpenSSL's TLS 1.3 rules),
/// then the program's new callback, whose return value libssl applies to the reference it
/// took for the call.
unsafe extern "C" fn new_trampoline(ssl: *mut SSL, sess: *mut SSL_SESSION) -> c_int {
    let Some(real) = real() else { return 0 };
    // SAFETY: libssl passes the live connection and its session.
    let Some((s, st)) = (unsafe { ssl_state(real, ssl) }) else { return 0 };
    // SAFETY: as above; libssl holds the session for the call.
    let Some(sess) = (unsafe { LibSession::borrow(real, sess) }) else { return 0 };
    guard(0, || st.new_session(s, &sess))
}

/// Our remove callback on every real context (see `PCtx::removed_by_libssl`).
unsafe extern "C" fn remove_trampoline(ctx: *mut SSL_CTX, sess: *mut SSL_SESSION) {
    let Some(real) = real() else { return };
    // SAFETY: libssl passes a live context and session.
    let (Some(st), Some(sess)) = (unsafe { (state(real, ctx), LibSession::borrow(real, sess)) }) else { return };
    guard((), || st.removed_by_libssl(&sess));
}

/// Moves `s` to the place of its new expiry in the cache that lists it, if any.
fn reposition(s: &LibSession) {
    if let Some(listing) = owners::owner(s.as_ptr() as usize) {
        if let Some(cache) = listing.cache() {
            cache.reposition_listing(&listing);
        }
    }
}

/// `SSL_SESSION_set_time`: libssl's, then, when sesscache caches `s`, moves it to the place of
/// its new expiry, as OpenSSL 3.0 does for a cached session. Returns `t`, or 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_time(s: *mut SSL_SESSION, t: c_long) -> c_long {
    let Some(real) = real() else { return 0 };
    // SAFETY: forwarded as received.
    let r = unsafe { real.fwd_set_time(s, t) };
    // SAFETY: s is NULL or a live session the caller holds for the call.
    if let Some(h) = unsafe { LibSession::borrow(real, s) } {
        guard((), || reposition(&h));
    }
    r
}

/// `SSL_SESSION_set_timeout`: libssl's (a negative `t` or NULL: 0, nothing changes), then, when
/// sesscache caches `s`, moves it to the place of its new expiry. Returns 1 on success.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long {
    let Some(real) = real() else { return 0 };
    // SAFETY: forwarded as received.
    let r = unsafe { real.fwd_set_timeout_of(s, t) };
    if r == 1 {
        // SAFETY: s is a live session the caller holds for the call.
        if let Some(h) = unsafe { LibSession::borrow(real, s) } {
            guard((), || reposition(&h));
        }
    }
    r
}
