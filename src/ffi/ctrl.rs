//! `SSL_CTX_ctrl`'s session-cache commands, and the same operations as plain functions (in
//! OpenSSL's header they are macros over `SSL_CTX_ctrl`).

use std::os::raw::{c_int, c_long, c_void};

use crate::core::stats::Stat;

use super::handle;
use super::types::SSL_CTX;
use crate::abi::*;
use crate::guard::guard;

/// A decoded session-cache command.
enum Ctrl {
    Number,
    Counter(Stat),
    SetSize,
    GetSize,
    SetMode,
    GetMode,
}

impl Ctrl {
    fn decode(cmd: c_int) -> Option<Ctrl> {
        Some(match cmd {
            SSL_CTRL_SESS_NUMBER => Ctrl::Number,
            SSL_CTRL_SESS_CONNECT => Ctrl::Counter(Stat::Connect),
            SSL_CTRL_SESS_CONNECT_GOOD => Ctrl::Counter(Stat::ConnectGood),
            SSL_CTRL_SESS_CONNECT_RENEGOTIATE => Ctrl::Counter(Stat::ConnectRenegotiate),
            SSL_CTRL_SESS_ACCEPT => Ctrl::Counter(Stat::Accept),
            SSL_CTRL_SESS_ACCEPT_GOOD => Ctrl::Counter(Stat::AcceptGood),
            SSL_CTRL_SESS_ACCEPT_RENEGOTIATE => Ctrl::Counter(Stat::AcceptRenegotiate),
            SSL_CTRL_SESS_HIT => Ctrl::Counter(Stat::Hits),
            SSL_CTRL_SESS_CB_HIT => Ctrl::Counter(Stat::CbHits),
            SSL_CTRL_SESS_MISSES => Ctrl::Counter(Stat::Misses),
            SSL_CTRL_SESS_TIMEOUTS => Ctrl::Counter(Stat::Timeouts),
            SSL_CTRL_SESS_CACHE_FULL => Ctrl::Counter(Stat::CacheFull),
            SSL_CTRL_SET_SESS_CACHE_SIZE => Ctrl::SetSize,
            SSL_CTRL_GET_SESS_CACHE_SIZE => Ctrl::GetSize,
            SSL_CTRL_SET_SESS_CACHE_MODE => Ctrl::SetMode,
            SSL_CTRL_GET_SESS_CACHE_MODE => Ctrl::GetMode,
            _ => return None,
        })
    }
}

/// Runs a session-cache command (`SSL_CTRL_SESS_*` 20–31, `SSL_CTRL_SET/GET_SESS_CACHE_SIZE`
/// 42/43, `SSL_CTRL_SET/GET_SESS_CACHE_MODE` 44/45) as OpenSSL 3.0 does:
/// - 20: the number of cached sessions; 21–31: the counter;
/// - 42: `larg < 0` returns 0 and changes nothing, else stores `larg` (0 = unlimited) and
///   returns the previous size; 43: the size;
/// - 44: stores `larg` truncated to 32 bits, unvalidated, and returns the previous mode;
///   45: the mode.
///
/// `parg` is unused. Returns 0 for a NULL `ctx` and for every other command.
///
/// Differs from OpenSSL 3.0: the commands outside the session cache (options, protocol
/// versions, ...) are not implemented; they return 0 and change nothing.
///
/// Thread-safe: counter and size/mode reads are lock-free; a set takes effect for handshakes that
/// start after it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_ctrl(ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long {
    let _ = parg;
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // divergence: only the session-cache commands exist here; the others configure TLS.
        let cmd = Ctrl::decode(cmd)?;
        let core = &c.core;
        Some(match cmd {
            Ctrl::Number => c_long::try_from(core.cache().len()).unwrap_or(c_long::MAX),
            Ctrl::Counter(stat) => c_long::from(core.stats().get(stat)),
            Ctrl::SetSize => core.set_size(u64::try_from(larg).ok()?) as c_long,
            Ctrl::GetSize => core.size() as c_long,
            Ctrl::SetMode => c_long::from(core.set_mode(larg as u32)),
            Ctrl::GetMode => c_long::from(core.mode().bits()),
        })
    })
}

/// Sets the cache mode (`SSL_SESS_CACHE_*` bits) and returns the previous one (command 44).
/// Returns 0 when `ctx` is NULL.
///
/// Thread-safe; handshakes already under way on other threads may still use the previous value.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_session_cache_mode(ctx: *mut SSL_CTX, mode: c_long) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, mode, std::ptr::null_mut()) }
}

/// Sets the cache size (0 = unlimited; a full cache of size N ≥ 2 holds N − 1 sessions, as in
/// OpenSSL 3.0) and returns the previous size; a negative size returns 0 and changes nothing
/// (command 42). Returns 0 when `ctx` is NULL.
///
/// Thread-safe; handshakes already under way on other threads may still use the previous value. A
/// smaller size evicts at the next `SSL_CTX_add_session`, as in OpenSSL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_set_cache_size(ctx: *mut SSL_CTX, size: c_long) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, size, std::ptr::null_mut()) }
}

/// The cache mode (command 45). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_get_session_cache_mode(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_MODE, 0, std::ptr::null_mut()) }
}

/// The cache size (command 43). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_get_cache_size(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_SIZE, 0, std::ptr::null_mut()) }
}

/// The number of cached sessions (command 20). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_number(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_NUMBER, 0, std::ptr::null_mut()) }
}

/// Client handshakes started (command 21). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_connect(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CONNECT, 0, std::ptr::null_mut()) }
}

/// Client handshakes completed (command 22). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_connect_good(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CONNECT_GOOD, 0, std::ptr::null_mut()) }
}

/// Client renegotiations started (command 23). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_connect_renegotiate(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CONNECT_RENEGOTIATE, 0, std::ptr::null_mut()) }
}

/// Server handshakes started (command 24). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_accept(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_ACCEPT, 0, std::ptr::null_mut()) }
}

/// Server handshakes completed (command 25). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_accept_good(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_ACCEPT_GOOD, 0, std::ptr::null_mut()) }
}

/// Server renegotiations started (command 26). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_accept_renegotiate(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_ACCEPT_RENEGOTIATE, 0, std::ptr::null_mut()) }
}

/// Resumed sessions (command 27). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_hits(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_HIT, 0, std::ptr::null_mut()) }
}

/// Sessions supplied by the get callback (command 28). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_cb_hits(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CB_HIT, 0, std::ptr::null_mut()) }
}

/// Internal lookups that found nothing (command 29). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_misses(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_MISSES, 0, std::ptr::null_mut()) }
}

/// Resumption candidates found expired (command 30). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_timeouts(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_TIMEOUTS, 0, std::ptr::null_mut()) }
}

/// Sessions evicted because the cache was full (command 31). Returns 0 when `ctx` is NULL.
/// (A macro over `SSL_CTX_ctrl` in OpenSSL's header.)
///
/// Thread-safe: a lock-free read (handshakes on other threads may change the value right after).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_sess_cache_full(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CACHE_FULL, 0, std::ptr::null_mut()) }
}
