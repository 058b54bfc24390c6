//! The functions we take over from libssl, exported under OpenSSL's names (declared once, in
//! `list.rs`), and the three callbacks we install on every real context. Each finds the libssl
//! its caller binds to (`sys::loader`), converts its arguments, delegates to the context's
//! state, and forwards to that libssl when the object carries no state of ours (it was made
//! before the preload could see it, or its libssl is one the preload stands aside for).
//!
//! Every function is thread-safe, as the one it replaces. No panic unwinds into the host: a
//! caught panic returns the failure value stated. Callbacks of the host never run while a
//! sesscache lock is held. With no libssl loaded at all, each returns its failure value (and
//! the loader says so once on stderr).
//!
//! This is the one module above `sys` with `unsafe`: the C arguments enter here, and each
//! becomes one of `sys`'s wrappers under the contract of the libssl function it stands for.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, c_long, c_uint, c_void};
use std::ptr;
use std::sync::Arc;

use sesscache::core::key::{Bytes32, MAX_ID_LENGTH};

use crate::config::config;
use crate::state::{cmd, PCtx};
use crate::sys::entry::intercept;
use crate::sys::libssl::{GetCb, NewCb, RemoveCb, OSSL_LIB_CTX, SSL, SSL_CTX, SSL_METHOD, SSL_SESSION};
use crate::sys::loader::{self, lib_at, lib_for, LibSsl, MAX_LIBS};
use crate::sys::objects::{self, Ctx, CtxState, Ssl, Trampolines};
use crate::sys::session::LibSession;
use crate::sys::{bytes, guard, store_int};
use crate::{fleet, report};

include!("list.rs");

/// The state of `ctx`, when `lib` is managed and `ctx` has one.
///
/// # Safety
/// `ctx` is NULL or a live `SSL_CTX` of `lib`.
unsafe fn state(lib: &LibSsl, ctx: *const SSL_CTX) -> Option<Arc<PCtx>> {
    if !lib.managed() {
        return None;
    }
    // SAFETY: the caller's contract.
    unsafe { Ctx::from_raw(ctx.cast_mut()) }?.state::<PCtx>(lib)
}

/// The state of the session context of `ssl`, with `ssl` itself.
///
/// # Safety
/// `ssl` is NULL or a live `SSL` of `lib`.
unsafe fn ssl_state(lib: &LibSsl, ssl: *const SSL) -> Option<(Ssl, Arc<PCtx>)> {
    if !lib.managed() {
        return None;
    }
    // SAFETY: the caller's contract.
    let ssl = unsafe { Ssl::from_raw(ssl.cast_mut()) }?;
    Some((ssl, ssl.session_ctx(lib)?.state::<PCtx>(lib)?))
}

/// A context's state outlives its last use here: libssl frees it with the context.
impl CtxState for PCtx {
    fn freed(&self) {
        report::freed(self);
        self.drop_all();
    }
}

fn take_over(lib: &'static LibSsl, ctx: Ctx) {
    let Some(trampolines) = TRAMPOLINES.get(lib.index()).copied() else { return };
    let _ = config();
    // Opens the Redis store (without connecting) before any handshake needs it.
    let _ = fleet::enabled();
    objects::marker_ctx(lib);
    let st = PCtx::new(lib, ctx, report::next_id());
    if ctx.attach_state(lib, st.clone()) {
        st.activate(trampolines);
        report::register(&st);
        st.log("new", None, &format!("libssl={}", lib.path()));
    }
}

unsafe extern "C" fn ctx_new_ex(
    libctx: *mut OSSL_LIB_CTX,
    propq: *const c_char,
    meth: *const SSL_METHOD,
    ra: *const c_void,
) -> *mut SSL_CTX {
    // The loader probing a libssl: its SSL_CTX_new(NULL) came through the PLT.
    if loader::probe_hit() {
        return ptr::null_mut();
    }
    let Some(lib) = lib_for(ra, c"SSL_CTX_new_ex") else { return ptr::null_mut() };
    // SAFETY: forwarded as received.
    let p = unsafe { lib.real().SSL_CTX_new_ex(libctx, propq, meth) };
    if lib.managed() {
        // SAFETY: libssl just made it, or returned NULL.
        if let Some(ctx) = unsafe { Ctx::from_raw(p) } {
            guard((), || take_over(lib, ctx));
        }
    }
    p
}

unsafe extern "C" fn ssl_new(ctx: *mut SSL_CTX, ra: *const c_void) -> *mut SSL {
    let Some(lib) = lib_for(ra, c"SSL_new") else { return ptr::null_mut() };
    // SAFETY: forwarded as received.
    let p = unsafe { lib.real().SSL_new(ctx) };
    // SAFETY: libssl just made the SSL from this live context, which it references.
    if let (Some(ssl), Some(ctx), true) = unsafe { (Ssl::from_raw(p), Ctx::from_raw(ctx), lib.managed()) } {
        guard((), || {
            // Recorded for every context, with state or not: after an SNI callback's
            // SSL_set_SSL_CTX, the cache is still that of the context the SSL was made with.
            ssl.set_session_ctx(lib, ctx);
            if let Some(st) = ctx.state::<PCtx>(lib) {
                st.notice_bypass();
            }
        });
        // A connection: its handshake shows in the statistics within a second.
        guard((), report::connection);
    }
    p
}

unsafe extern "C" fn ctx_ctrl(
    ctx: *mut SSL_CTX,
    cmd: c_int,
    larg: c_long,
    parg: *mut c_void,
    ra: *const c_void,
) -> c_long {
    let Some(lib) = lib_for(ra, c"SSL_CTX_ctrl") else { return 0 };
    if cmd::is_session(cmd) {
        // SAFETY: ctx is NULL or a live context, per the API.
        if let Some(st) = unsafe { state(lib, ctx) } {
            return guard(0, || {
                // The mode as the program reads or changes it includes what a bypassing caller
                // set; the counters do not need the check.
                if cmd == cmd::GET_MODE || cmd == cmd::SET_MODE {
                    st.notice_bypass();
                }
                st.ctrl(cmd, larg).unwrap_or(0)
            });
        }
    }
    // SAFETY: forwarded as received.
    unsafe { lib.real().SSL_CTX_ctrl(ctx, cmd, larg, parg) }
}

unsafe extern "C" fn ctx_set_timeout(ctx: *mut SSL_CTX, t: c_long, ra: *const c_void) -> c_long {
    let Some(lib) = lib_for(ra, c"SSL_CTX_set_timeout") else { return 0 };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard(0, || st.set_timeout(t)),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_set_timeout(ctx, t) },
    }
}

unsafe extern "C" fn ctx_get_timeout(ctx: *const SSL_CTX, ra: *const c_void) -> c_long {
    let Some(lib) = lib_for(ra, c"SSL_CTX_get_timeout") else { return 0 };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard(0, || st.timeout()),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_get_timeout(ctx) },
    }
}

unsafe extern "C" fn ctx_add_session(ctx: *mut SSL_CTX, c: *mut SSL_SESSION, ra: *const c_void) -> c_int {
    let Some(lib) = lib_for(ra, c"SSL_CTX_add_session") else { return 0 };
    // SAFETY: ctx is NULL or a live context.
    let Some(st) = (unsafe { state(lib, ctx) }) else {
        // SAFETY: forwarded as received.
        return unsafe { lib.real().SSL_CTX_add_session(ctx, c) };
    };
    // SAFETY: c is NULL or a live session the caller holds for the call.
    let Some(c) = (unsafe { LibSession::borrow(lib, c) }) else { return 0 };
    guard(0, || {
        st.notice_bypass();
        let new = st.add(&c);
        report::tick();
        c_int::from(new)
    })
}

unsafe extern "C" fn ctx_remove_session(ctx: *mut SSL_CTX, c: *mut SSL_SESSION, ra: *const c_void) -> c_int {
    let Some(lib) = lib_for(ra, c"SSL_CTX_remove_session") else { return 0 };
    // SAFETY: ctx is NULL or a live context.
    let Some(st) = (unsafe { state(lib, ctx) }) else {
        // SAFETY: forwarded as received.
        return unsafe { lib.real().SSL_CTX_remove_session(ctx, c) };
    };
    // SAFETY: c is NULL or a live session the caller holds for the call.
    let Some(c) = (unsafe { LibSession::borrow(lib, c) }) else { return 0 };
    guard(0, || {
        st.notice_bypass();
        let found = st.remove(&c);
        report::tick();
        c_int::from(found)
    })
}

unsafe extern "C" fn ctx_flush_sessions(ctx: *mut SSL_CTX, t: c_long, ra: *const c_void) {
    let Some(lib) = lib_for(ra, c"SSL_CTX_flush_sessions") else { return };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard((), || {
            st.notice_bypass();
            st.flush(i64::from(t));
            report::tick();
        }),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_flush_sessions(ctx, t) },
    }
}

unsafe extern "C" fn has_matching_session_id(
    ssl: *const SSL,
    id: *const u8,
    id_len: c_uint,
    ra: *const c_void,
) -> c_int {
    let Some(lib) = lib_for(ra, c"SSL_has_matching_session_id") else { return 0 };
    // SAFETY: ssl is NULL or a live connection.
    let Some((s, st)) = (unsafe { ssl_state(lib, ssl) }) else {
        // SAFETY: forwarded as received.
        return unsafe { lib.real().SSL_has_matching_session_id(ssl, id, id_len) };
    };
    let len = id_len as usize;
    if len > MAX_ID_LENGTH {
        return 0;
    }
    // SAFETY: id points to id_len readable bytes, per the API.
    let Some(id) = (unsafe { bytes(id, len) }) else { return 0 };
    guard(0, || c_int::from(st.has_session(s.version(lib), id)))
}

unsafe extern "C" fn ctx_set_session_id_context(
    ctx: *mut SSL_CTX,
    sid_ctx: *const u8,
    sid_ctx_len: c_uint,
    ra: *const c_void,
) -> c_int {
    let Some(lib) = lib_for(ra, c"SSL_CTX_set_session_id_context") else { return 0 };
    // SAFETY: forwarded as received.
    let r = unsafe { lib.real().SSL_CTX_set_session_id_context(ctx, sid_ctx, sid_ctx_len) };
    if r == 1 {
        // SAFETY: libssl accepted a live ctx and sid_ctx_len (≤ 32) readable bytes.
        if let (Some(st), Some(b)) = unsafe { (state(lib, ctx), bytes(sid_ctx, sid_ctx_len as usize)) } {
            guard((), || st.set_sid_ctx(Bytes32::new(b).unwrap_or(Bytes32::EMPTY)));
        }
    }
    r
}

unsafe extern "C" fn ssl_set_session_id_context(
    ssl: *mut SSL,
    sid_ctx: *const u8,
    sid_ctx_len: c_uint,
    ra: *const c_void,
) -> c_int {
    let Some(lib) = lib_for(ra, c"SSL_set_session_id_context") else { return 0 };
    // SAFETY: forwarded as received.
    let r = unsafe { lib.real().SSL_set_session_id_context(ssl, sid_ctx, sid_ctx_len) };
    if r == 1 && lib.managed() && fleet::enabled() {
        // SAFETY: libssl accepted a live ssl and sid_ctx_len (≤ 32) readable bytes.
        if let (Some(s), Some(b)) = unsafe { (Ssl::from_raw(ssl), bytes(sid_ctx, sid_ctx_len as usize)) } {
            guard((), || s.set_own_sid_ctx(lib, Bytes32::new(b).unwrap_or(Bytes32::EMPTY)));
        }
    }
    r
}

unsafe extern "C" fn sess_set_new_cb(ctx: *mut SSL_CTX, cb: Option<NewCb>, ra: *const c_void) {
    let Some(lib) = lib_for(ra, c"SSL_CTX_sess_set_new_cb") else { return };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard((), || st.set_callbacks(|c| c.new = cb)),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_sess_set_new_cb(ctx, cb) },
    }
}

unsafe extern "C" fn sess_get_new_cb(ctx: *mut SSL_CTX, ra: *const c_void) -> Option<NewCb> {
    let lib = lib_for(ra, c"SSL_CTX_sess_get_new_cb")?;
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard(None, || {
            st.notice_bypass();
            st.callbacks().new
        }),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_sess_get_new_cb(ctx) },
    }
}

unsafe extern "C" fn sess_set_remove_cb(ctx: *mut SSL_CTX, cb: Option<RemoveCb>, ra: *const c_void) {
    let Some(lib) = lib_for(ra, c"SSL_CTX_sess_set_remove_cb") else { return };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard((), || st.set_callbacks(|c| c.remove = cb)),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_sess_set_remove_cb(ctx, cb) },
    }
}

unsafe extern "C" fn sess_get_remove_cb(ctx: *mut SSL_CTX, ra: *const c_void) -> Option<RemoveCb> {
    let lib = lib_for(ra, c"SSL_CTX_sess_get_remove_cb")?;
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard(None, || {
            st.notice_bypass();
            st.callbacks().remove
        }),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_sess_get_remove_cb(ctx) },
    }
}

unsafe extern "C" fn sess_set_get_cb(ctx: *mut SSL_CTX, cb: Option<GetCb>, ra: *const c_void) {
    let Some(lib) = lib_for(ra, c"SSL_CTX_sess_set_get_cb") else { return };
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard((), || st.set_callbacks(|c| c.get = cb)),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_sess_set_get_cb(ctx, cb) },
    }
}

unsafe extern "C" fn sess_get_get_cb(ctx: *mut SSL_CTX, ra: *const c_void) -> Option<GetCb> {
    let lib = lib_for(ra, c"SSL_CTX_sess_get_get_cb")?;
    // SAFETY: ctx is NULL or a live context.
    match unsafe { state(lib, ctx) } {
        Some(st) => guard(None, || {
            st.notice_bypass();
            st.callbacks().get
        }),
        // SAFETY: forwarded as received.
        None => unsafe { lib.real().SSL_CTX_sess_get_get_cb(ctx) },
    }
}

/// Our callbacks for the libssl at each index of the loader's registry.
static TRAMPOLINES: [Trampolines; MAX_LIBS] = per_lib!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);

macro_rules! per_lib {
    ($($i:literal)*) => {
        [$(Trampolines { get: get_trampoline::<$i>, new: new_trampoline::<$i>, remove: remove_trampoline::<$i> }),*]
    };
}
use per_lib;

/// Our get callback on every real context of the libssl at index `L`: sesscache's lookup.
/// The session returned carries one reference for libssl (`*copy = 0`); NULL when nothing
/// usable was found.
unsafe extern "C" fn get_trampoline<const L: usize>(
    ssl: *mut SSL,
    id: *const u8,
    len: c_int,
    copy: *mut c_int,
) -> *mut SSL_SESSION {
    let Some(lib) = lib_at(L) else { return ptr::null_mut() };
    // SAFETY: libssl passes the live connection being handshaken.
    let Some((s, st)) = (unsafe { ssl_state(lib, ssl) }) else { return ptr::null_mut() };
    // SAFETY: libssl passes an id of len bytes.
    let Some(id) = usize::try_from(len).ok().and_then(|l| unsafe { bytes(id, l) }) else {
        return ptr::null_mut();
    };
    let found = guard(None, || {
        st.notice_bypass();
        let found = st.lookup(s, id);
        // Only a handshake asks: the process writes statistics from now on.
        report::handshake();
        found
    });
    let Some(found) = found else { return ptr::null_mut() };
    // SAFETY: libssl passes a valid int *.
    unsafe { store_int(copy, 0) };
    found.into_raw()
}

/// Our new callback on every real context of the libssl at index `L`: the internal store
/// (with OpenSSL's TLS 1.3 rules), then the program's new callback, whose return value libssl
/// applies to the reference it took for the call.
unsafe extern "C" fn new_trampoline<const L: usize>(ssl: *mut SSL, sess: *mut SSL_SESSION) -> c_int {
    let Some(lib) = lib_at(L) else { return 0 };
    // SAFETY: libssl passes the live connection and its session.
    let Some((s, st)) = (unsafe { ssl_state(lib, ssl) }) else { return 0 };
    // SAFETY: as above; libssl holds the session for the call.
    let Some(sess) = (unsafe { LibSession::borrow(lib, sess) }) else { return 0 };
    guard(0, || {
        st.notice_bypass();
        let r = st.new_session(s, &sess);
        report::handshake();
        r
    })
}

/// Our remove callback on every real context of the libssl at index `L` (see
/// `PCtx::removed_by_libssl`).
unsafe extern "C" fn remove_trampoline<const L: usize>(ctx: *mut SSL_CTX, sess: *mut SSL_SESSION) {
    let Some(lib) = lib_at(L) else { return };
    // SAFETY: libssl passes a live context and session.
    let (Some(st), Some(sess)) = (unsafe { (state(lib, ctx), LibSession::borrow(lib, sess)) }) else { return };
    guard((), || {
        st.notice_bypass();
        st.removed_by_libssl(&sess);
        report::tick();
    });
}

/// Moves `s` to the place of its new expiry in the cache that lists it, if any.
fn reposition(s: &LibSession) {
    if let Some(listing) = s.listing() {
        if let Some(cache) = listing.cache::<LibSession>() {
            cache.reposition_listing(listing);
        }
    }
}

unsafe extern "C" fn session_set_time(s: *mut SSL_SESSION, t: c_long, ra: *const c_void) -> c_long {
    let Some(lib) = lib_for(ra, c"SSL_SESSION_set_time") else { return 0 };
    // SAFETY: forwarded as received.
    let r = unsafe { lib.real().SSL_SESSION_set_time(s, t) };
    // SAFETY: s is NULL or a live session the caller holds for the call.
    if let Some(h) = unsafe { LibSession::borrow(lib, s) } {
        guard((), || reposition(&h));
    }
    r
}

unsafe extern "C" fn session_set_timeout(s: *mut SSL_SESSION, t: c_long, ra: *const c_void) -> c_long {
    let Some(lib) = lib_for(ra, c"SSL_SESSION_set_timeout") else { return 0 };
    // SAFETY: forwarded as received.
    let r = unsafe { lib.real().SSL_SESSION_set_timeout(s, t) };
    if r == 1 {
        // SAFETY: s is a live session the caller holds for the call.
        if let Some(h) = unsafe { LibSession::borrow(lib, s) } {
            guard((), || reposition(&h));
        }
    }
    r
}
