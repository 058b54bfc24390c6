//! The `sesscache_` extension: the cache steps of a TLS 1.2 session-ID handshake, for programs
//! that drive the cache without a TLS engine. Names start with `sesscache_` so that they never
//! collide with OpenSSL's.

use std::os::raw::{c_char, c_int, c_uchar, c_uint};

use crate::core::handshake::{self, End, Lookup};
use crate::core::session::LIVE_SESSIONS;

use super::callbacks::Hooks;
use super::handle;
use super::types::SSL;
use crate::guard::guard;

/// The library version, "MAJOR.MINOR.PATCH" (a static string; never NULL). Equals
/// `SESSCACHE_VERSION` of the header it was built with. sesscache only.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn sesscache_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The number of `SSL_SESSION` objects of this library alive in the process (created and not
/// yet freed by their last reference): 0 after a program has released everything. For leak
/// checks in tests and applications. Never fails. sesscache only.
///
/// Thread-safe: a relaxed atomic sum, exact once other threads are quiet.
#[unsafe(no_mangle)]
pub extern "C" fn sesscache_live_sessions() -> std::os::raw::c_long {
    guard(0, || Some(std::os::raw::c_long::from(LIVE_SESSIONS.get())))
}

/// Starts a handshake on `ssl`: counts `sess_accept` (server role) or `sess_connect` (client
/// role) on its context — or `*_renegotiate` when a handshake already completed on `ssl` —,
/// negotiates TLS 1.2 (`SSL_version` becomes 0x0303) and clears `SSL_session_reused`.
/// Returns 1, or 0 for NULL.
///
/// Thread-safe for distinct `SSL`s of one context (cache, counters and callbacks are shared
/// safely). Drive each `SSL`'s handshake from one thread at a time, as with OpenSSL.
/// sesscache only: OpenSSL does this inside `SSL_do_handshake`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_handshake_start(ssl: *mut SSL) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        let s = unsafe { handle::ssl(ssl) }?;
        handshake::start(&s.ctx().core, &s.conn);
        Some(1)
    })
}

/// A server's lookup of the session id offered in a ClientHello (OpenSSL's
/// `ssl_get_prev_session` with `lookup_sess_in_cache`): the internal cache unless
/// `SSL_SESS_CACHE_NO_INTERNAL_LOOKUP`, then the get callback (`*copy` preset to 1), storing
/// its session back unless `SSL_SESS_CACHE_NO_INTERNAL_STORE`; then the version and sid_ctx
/// checks, expiry (`sess_timeout`, removal with `remove_cb`) and the `hits`/`misses`/`cb_hits`
/// counters. An empty id is not looked up.
///
/// Returns 1 when the session is resumed (it becomes `SSL_get_session(ssl)`), 0 when a full
/// handshake must follow (`sesscache_server_new_session`), -1 when the handshake fails
/// (`SSL_VERIFY_PEER` without a session-id context, an id longer than 32 bytes, NULL `ssl`, or
/// NULL `id` with a non-zero length).
///
/// Thread-safe for distinct `SSL`s of one context (cache, counters and callbacks are shared
/// safely). Drive each `SSL`'s handshake from one thread at a time, as with OpenSSL.
/// sesscache only: OpenSSL does this inside `SSL_do_handshake`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_server_lookup(ssl: *mut SSL, id: *const c_uchar, id_len: c_uint) -> c_int {
    guard(-1, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        let s = unsafe { handle::ssl(ssl) }?;
        // SAFETY: a non-NULL `id` has `id_len` bytes.
        let id = unsafe { handle::bytes(id, id_len as usize, usize::MAX) }?;
        match handshake::server_lookup(&s.ctx().core, &Hooks::for_ssl(s, ssl), &s.conn, id, handle::now()) {
            Lookup::Resumed => Some(1),
            Lookup::NotFound => Some(0),
            Lookup::Fatal => None,
        }
    })
}

/// A full handshake's new server session (`ssl_get_new_session`): its id comes from the
/// generate-session-id callback (the SSL's, else the context's) with OpenSSL's length and
/// conflict checks, or is 32 random bytes; time now, the context's timeout (7200 when 0), the
/// SSL's session-id context, TLS 1.2, cipher ECDHE-ECDSA-AES256-GCM-SHA384, a random 48-byte
/// master key. It becomes `SSL_get_session(ssl)`. Returns 1, or 0 when the id could not be made (the handshake fails)
/// or `ssl` is NULL.
///
/// Thread-safe for distinct `SSL`s of one context (cache, counters and callbacks are shared
/// safely). Drive each `SSL`'s handshake from one thread at a time, as with OpenSSL.
/// sesscache only: OpenSSL does this inside `SSL_do_handshake`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_server_new_session(ssl: *mut SSL) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        let s = unsafe { handle::ssl(ssl) }?;
        Some(c_int::from(handshake::server_new_session(&s.ctx().core, &Hooks::for_ssl(s, ssl), &s.conn, handle::now())))
    })
}

/// The end of a handshake (OpenSSL's `ssl_update_cache`, then `sess_accept_good` or
/// `sess_connect_good`): stores the session per the cache mode, calls the new-session callback
/// (with its reference rule), and flushes expired sessions during every 256th completed
/// handshake unless `SSL_SESS_CACHE_NO_AUTO_CLEAR`. Returns 1, or 0 for NULL.
///
/// Thread-safe for distinct `SSL`s of one context (cache, counters and callbacks are shared
/// safely). Drive each `SSL`'s handshake from one thread at a time, as with OpenSSL.
/// sesscache only: OpenSSL does this inside `SSL_do_handshake`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_handshake_done(ssl: *mut SSL) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ssl`.
        let s = unsafe { handle::ssl(ssl) }?;
        handshake::finish(&s.ctx().core, &Hooks::for_ssl(s, ssl), &s.conn, handle::now());
        Some(1)
    })
}

/// One whole TLS 1.2 session-ID handshake between `client` and `server` (roles are set as by
/// `SSL_connect`/`SSL_accept`): the client offers its session (`SSL_set_session`) if it is
/// resumable, the server resumes it or makes a new one, the client adopts the server's session
/// id, and both ends update their caches in the order real TLS finishes (full handshake: server
/// first; resumption: client first). A failure acts like a fatal alert: each end removes its
/// session from its cache.
///
/// Returns 1 when the handshake completed (see `SSL_session_reused`), 0 when it failed or an
/// argument is NULL or both are the same `SSL`.
///
/// Thread-safe for distinct `SSL`s of one context (cache, counters and callbacks are shared
/// safely). Drive each `SSL`'s handshake from one thread at a time, as with OpenSSL.
/// sesscache only: OpenSSL does this inside `SSL_do_handshake`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_handshake(client: *mut SSL, server: *mut SSL) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `client`.
        let c = unsafe { handle::ssl(client) }?;
        // SAFETY: the caller holds a reference on a non-NULL `server`.
        let s = unsafe { handle::ssl(server) }?;
        if std::ptr::eq(c, s) {
            return None;
        }
        let (hc, hs) = (Hooks::for_ssl(c, client), Hooks::for_ssl(s, server));
        let client_end = End { ctx: &c.ctx().core, hooks: &hc, conn: &c.conn };
        let server_end = End { ctx: &s.ctx().core, hooks: &hs, conn: &s.conn };
        Some(c_int::from(handshake::handshake(&client_end, &server_end, handle::now())))
    })
}
