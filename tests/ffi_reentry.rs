//! A remove callback that calls back into the cache (`SSL_CTX_sess_number`,
//! `SSL_CTX_remove_session`, `SSL_CTX_flush_sessions`, `SSL_CTX_add_session`) during eviction,
//! flush, removal and `SSL_CTX_free` must not deadlock (it runs after the cache lock is
//! released: a deliberate difference from OpenSSL 3.0) and must not leak.
//!
//! Each scenario runs on its own thread under a watchdog, so a deadlock fails the test instead
//! of hanging it.

mod common;

use std::cell::{Cell, RefCell};
use std::os::raw::c_long;
use std::sync::mpsc;
use std::time::Duration;

use sesscache::ffi::ctrl::*;
use sesscache::ffi::ssl_ctx::*;
use sesscache::ffi::ssl_session::*;

use common::{ctx, free_all, session, Leaks};

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The cache size each outermost callback saw, and how many nested calls were cut short.
    static SEEN: RefCell<Vec<c_long>> = const { RefCell::new(Vec::new()) };
    static NESTED: Cell<u32> = const { Cell::new(0) };
    /// Whether the callback re-adds the session it was given.
    static READD: Cell<bool> = const { Cell::new(true) };
}

/// Re-enters every cache call; nested invocations (the callback's own removals) return at
/// once so that the recursion is bounded.
unsafe extern "C" fn reenter(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) {
    if DEPTH.get() > 0 {
        NESTED.set(NESTED.get() + 1);
        return;
    }
    DEPTH.set(1);
    // SAFETY: the library passes a live context and a session alive for the call.
    unsafe {
        SEEN.with(|v| v.borrow_mut().push(SSL_CTX_sess_number(ctx)));
        SSL_CTX_remove_session(ctx, s);
        SSL_CTX_flush_sessions(ctx, 1);
        if READD.get() {
            SSL_CTX_add_session(ctx, s);
        }
        let _ = SSL_CTX_sess_number(ctx);
    }
    DEPTH.set(0);
}

/// Runs `f` on a fresh thread and fails if it does not finish in time (a deadlock).
fn watchdog<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = f();
        let _ = tx.send(r);
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("deadlock: a re-entrant callback did not return")
}

/// Returns (sizes the outermost callbacks saw, nested calls).
fn take() -> (Vec<c_long>, u32) {
    (SEEN.with(|v| v.take()), NESTED.replace(0))
}

/// Addresses as integers, so that the raw pointers can cross to the watchdog thread.
fn sessions(ids: &[u8], timeout: c_long) -> Vec<usize> {
    ids.iter().map(|&i| session(i, timeout) as usize).collect()
}

fn ptrs(v: &[usize]) -> Vec<*mut SSL_SESSION> {
    v.iter().map(|&p| p as *mut SSL_SESSION).collect()
}

#[test]
fn during_eviction() {
    let leaks = Leaks::start();
    let (seen, nested) = watchdog(|| {
        let c = ctx();
        let s = ptrs(&sessions(&[1, 2, 3], 100));
        // SAFETY: live objects throughout.
        unsafe {
            SSL_CTX_sess_set_remove_cb(c, Some(reenter));
            SSL_CTX_sess_set_cache_size(c, 3);
            s.iter().for_each(|&x| assert_eq!(SSL_CTX_add_session(c, x), 1));
            // The callback saw the cache after the whole add: 2 entries (N - 1).
            assert!(SSL_CTX_sess_number(c) <= 2);
            READD.set(false);
            SSL_CTX_free(c);
            READD.set(true);
        }
        free_all(&s);
        take()
    });
    assert_eq!(seen[0], 2, "the first eviction's callback sees the state after the whole add");
    assert!(nested > 0);
    leaks.check();
}

#[test]
fn during_flush() {
    let leaks = Leaks::start();
    let (seen, _) = watchdog(|| {
        let c = ctx();
        let s = ptrs(&sessions(&[1, 2, 3], 100));
        // SAFETY: live objects throughout.
        unsafe {
            SSL_CTX_sess_set_remove_cb(c, Some(reenter));
            s.iter().for_each(|&x| assert_eq!(SSL_CTX_add_session(c, x), 1));
            READD.set(false);
            SSL_CTX_flush_sessions(c, 0);
            assert_eq!(SSL_CTX_sess_number(c), 0);
            READD.set(true);
            // Now re-adding from inside a flush: the sessions come back after it.
            s.iter().for_each(|&x| assert_eq!(SSL_CTX_add_session(c, x), 1));
            SSL_CTX_flush_sessions(c, 0);
            assert_eq!(SSL_CTX_sess_number(c), 3);
            SSL_CTX_free(c);
        }
        free_all(&s);
        take()
    });
    // Every removal of a flush is done before the first callback runs.
    assert_eq!(&seen[..3], [0, 0, 0]);
    leaks.check();
}

#[test]
fn during_remove() {
    let leaks = Leaks::start();
    let (seen, nested) = watchdog(|| {
        let c = ctx();
        let s = ptrs(&sessions(&[1], 100));
        // SAFETY: live objects throughout.
        unsafe {
            SSL_CTX_sess_set_remove_cb(c, Some(reenter));
            SSL_CTX_add_session(c, s[0]);
            assert_eq!(SSL_CTX_remove_session(c, s[0]), 1);
            assert_eq!(SSL_CTX_sess_number(c), 1, "the callback put it back");
            SSL_CTX_free(c);
        }
        free_all(&s);
        take()
    });
    assert_eq!(seen[0], 0);
    assert!(nested >= 1, "the callback's own remove_session called back (cut short)");
    leaks.check();
}

#[test]
fn during_ctx_free() {
    let leaks = Leaks::start();
    let (seen, _) = watchdog(|| {
        let c = ctx();
        let s = ptrs(&sessions(&[1, 2, 3, 4], 100));
        // SAFETY: live objects throughout; the callback re-adds into the dying context, which
        // then releases them with its memory.
        unsafe {
            SSL_CTX_sess_set_remove_cb(c, Some(reenter));
            s.iter().for_each(|&x| assert_eq!(SSL_CTX_add_session(c, x), 1));
            SSL_CTX_free(c);
        }
        free_all(&s);
        take()
    });
    assert_eq!(seen.len(), 4, "one outermost callback per cached session");
    leaks.check();
}
