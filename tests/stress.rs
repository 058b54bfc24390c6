//! Stress: several threads on one server `SSL_CTX` (and one client `SSL_CTX`), mixing add,
//! lookup, remove, flush, `SSL_has_matching_session_id`, whole handshakes and the step
//! functions, with new/get/remove callbacks: some keep or hand over references, some free
//! sessions, some re-enter the API. Run under ThreadSanitizer by `make check` (no data race),
//! time-bounded by a watchdog (no deadlock), and leak-checked (`sesscache_live_sessions()`).
//!
//! `SESSCACHE_STRESS_OPS` (default 40 000), `SESSCACHE_STRESS_SECS` (default 0: stop at the
//! operation count; otherwise also run at least that long) and `SESSCACHE_STRESS_THREADS`
//! (default 4) size the run.

#[path = "support/rng.rs"]
mod rng;

use std::cell::{Cell, RefCell};
use std::os::raw::{c_int, c_long, c_uchar, c_uint};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use sesscache::abi::*;
use sesscache::ffi::ctrl::*;
use sesscache::ffi::driver::*;
use sesscache::ffi::method::*;
use sesscache::ffi::ssl::*;
use sesscache::ffi::ssl_ctx::*;
use sesscache::ffi::ssl_session::*;

use rng::Rng;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The external cache the callbacks share: session pointers with one reference each.
static STORE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
const STORE_MAX: usize = 64;
static CALLBACKS: AtomicU64 = AtomicU64::new(0);
static GET_HITS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// References taken by `get_cb` on sessions it lent (`*copy` left at 1), released by the
    /// worker once the call that ran the callback has returned.
    static PINNED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    static RNG: RefCell<Rng> = const { RefCell::new(Rng::new(0x2545_f491_4f6c_dd1d)) };
}

fn rnd() -> u64 {
    RNG.with_borrow_mut(Rng::next_u64)
}

fn free_ptr(p: usize) {
    // SAFETY: a reference the store owned, given up once.
    unsafe { SSL_SESSION_free(p as *mut SSL_SESSION) };
}

/// Keeps half of the new sessions (return 1), evicting the oldest kept one when full: the
/// callback frees a session.
unsafe extern "C" fn new_cb(_ssl: *mut SSL, sess: *mut SSL_SESSION) -> c_int {
    CALLBACKS.fetch_add(1, Ordering::Relaxed);
    if rnd().is_multiple_of(2) {
        return 0;
    }
    let old = {
        let mut st = STORE.lock().unwrap();
        st.push(sess as usize);
        (st.len() > STORE_MAX).then(|| st.remove(0))
    };
    if let Some(p) = old {
        free_ptr(p);
    }
    1
}

/// Lends (`*copy` left at 1) or hands over (`*copy = 0`) a stored session with this id.
unsafe extern "C" fn get_cb(_ssl: *mut SSL, id: *const c_uchar, len: c_int, copy: *mut c_int) -> *mut SSL_SESSION {
    CALLBACKS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the library passes `len` bytes.
    let want = unsafe { std::slice::from_raw_parts(id, len as usize) };
    let st = STORE.lock().unwrap();
    for &p in st.iter() {
        let mut n: c_uint = 0;
        // SAFETY: stored sessions are live while the store's lock is held; ids of stored
        // sessions are never changed, so reading the bytes is race-free.
        let got = unsafe { SSL_SESSION_get_id(p as *mut SSL_SESSION, &mut n) };
        // SAFETY: `got` points to the `n` bytes of that id, stable as said above.
        if n as usize == want.len() && unsafe { std::slice::from_raw_parts(got, n as usize) } == want {
            GET_HITS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: live (we hold the store's lock).
            unsafe { SSL_SESSION_up_ref(p as *mut SSL_SESSION) };
            if rnd().is_multiple_of(2) {
                // The new reference goes to the library.
                // SAFETY: `copy` is writable for the call.
                unsafe { *copy = 0 };
            } else {
                // Lent: the library takes its own reference after we return, so the session
                // must outlive the store's lock. Another thread's remove_cb may free the
                // store's reference at any time: pin it until the lookup has returned.
                PINNED.with_borrow_mut(|v| v.push(p));
            }
            return p as *mut SSL_SESSION;
        }
    }
    std::ptr::null_mut()
}

/// Frees the store's reference on a session leaving the cache, and re-enters the API.
unsafe extern "C" fn remove_cb(ctx: *mut SSL_CTX, sess: *mut SSL_SESSION) {
    CALLBACKS.fetch_add(1, Ordering::Relaxed);
    let depth = DEPTH.get() + 1;
    DEPTH.set(depth);
    let found = {
        let mut st = STORE.lock().unwrap();
        st.iter().position(|&p| p == sess as usize).map(|i| st.swap_remove(i))
    };
    if let Some(p) = found {
        free_ptr(p);
    }
    if depth == 1 {
        // SAFETY: a live context and a session lent for the call.
        unsafe {
            match rnd() % 4 {
                0 => drop(SSL_CTX_sess_number(ctx)),
                1 => drop(SSL_CTX_remove_session(ctx, sess)),
                2 => SSL_CTX_flush_sessions(ctx, 1),
                _ => {
                    let mut n: c_uint = 0;
                    SSL_SESSION_get_id(sess, &mut n);
                    SSL_SESSION_is_resumable(sess);
                }
            }
        }
    }
    DEPTH.set(depth - 1);
}

struct Ptr<T>(*mut T);
// SAFETY: the library's objects are thread-safe (every export says so).
unsafe impl<T> Send for Ptr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Ptr<T> {}

fn worker(sctx: &Ptr<SSL_CTX>, cctx: &Ptr<SSL_CTX>, seed: u64, ops: u64, until: Instant) -> u64 {
    RNG.set(Rng::new(seed));
    let (sctx, cctx) = (sctx.0, cctx.0);
    let mut own: Vec<*mut SSL_SESSION> = Vec::new();
    let mut done = 0u64;
    // SAFETY: every pointer is a live object this thread holds a reference on.
    unsafe {
        let clients: Vec<*mut SSL> = (0..3).map(|_| SSL_new(cctx)).collect();
        let servers: Vec<*mut SSL> = (0..3).map(|_| SSL_new(sctx)).collect();
        let probe = SSL_new(sctx);
        sesscache_handshake_start(probe);
        while done < ops || Instant::now() < until {
            done += 1;
            for p in PINNED.with_borrow_mut(std::mem::take) {
                free_ptr(p);
            }
            let r = rnd();
            let id = [(r >> 8) as u8 % 16, (r >> 16) as u8 % 4];
            let idlen = (r >> 24) as usize % 3; // 0, 1 or 2: empty ids included
            match r % 16 {
                0..=2 => {
                    // add a fresh or an own session
                    let s = if own.len() < 16 || r & 0x100 != 0 {
                        let s = SSL_SESSION_new();
                        SSL_SESSION_set1_id(s, id.as_ptr(), idlen as c_uint);
                        SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
                        SSL_SESSION_set_timeout(s, (r >> 32) as c_long % 50);
                        own.push(s);
                        s
                    } else {
                        own[(r >> 40) as usize % own.len()]
                    };
                    SSL_CTX_add_session(sctx, s);
                    if own.len() > 32 {
                        SSL_SESSION_free(own.swap_remove(0));
                    }
                }
                3 => {
                    if let Some(&s) = own.get((r >> 40) as usize % own.len().max(1)) {
                        SSL_CTX_remove_session(sctx, s);
                    }
                }
                4 | 5 => drop(SSL_has_matching_session_id(probe, id.as_ptr(), idlen as c_uint)),
                6 => {
                    let now = sesscache::core::time::now() as c_long;
                    SSL_CTX_flush_sessions(sctx, if r & 0x100 != 0 { 0 } else { now });
                }
                7..=10 => {
                    let c = clients[(r >> 8) as usize % 3];
                    let s = servers[(r >> 12) as usize % 3];
                    if r & 0x10000 != 0 {
                        SSL_set_session(c, std::ptr::null_mut());
                    }
                    sesscache_handshake(c, s);
                }
                11 | 12 => {
                    // the server's steps alone
                    let s = servers[(r >> 8) as usize % 3];
                    SSL_set_accept_state(s);
                    sesscache_handshake_start(s);
                    let mut buf = [0u8; 32];
                    let mut n: c_uint = 0;
                    if r & 0x100 != 0 {
                        // Offer a stored id, copied under the store's lock (the session may be
                        // freed by another thread's remove_cb right after).
                        let st = STORE.lock().unwrap();
                        if let Some(&p) = st.first() {
                            let g = SSL_SESSION_get_id(p as *mut SSL_SESSION, &mut n);
                            std::ptr::copy_nonoverlapping(g, buf.as_mut_ptr(), n as usize);
                        }
                    }
                    if sesscache_server_lookup(s, buf.as_ptr(), n) == 0 {
                        sesscache_server_new_session(s);
                    }
                    sesscache_handshake_done(s);
                }
                13 => {
                    if let Some(&s) = own.get((r >> 40) as usize % own.len().max(1)) {
                        SSL_SESSION_set_time(s, sesscache::core::time::now() as c_long - (r >> 48) as c_long % 40);
                    }
                }
                14 => drop(SSL_CTX_sess_set_cache_size(sctx, [0, 2, 16, 128][(r >> 8) as usize % 4])),
                _ => {
                    SSL_CTX_sess_number(sctx);
                    SSL_CTX_sess_hits(sctx);
                    SSL_CTX_get_session_cache_mode(sctx);
                }
            }
        }
        for s in own {
            SSL_SESSION_free(s);
        }
        for p in PINNED.with_borrow_mut(std::mem::take) {
            free_ptr(p);
        }
        for s in clients.into_iter().chain(servers).chain([probe]) {
            SSL_free(s);
        }
    }
    done
}

#[test]
fn threads_on_one_context() {
    let threads = env("SESSCACHE_STRESS_THREADS", 4).max(1);
    let ops = env("SESSCACHE_STRESS_OPS", if cfg!(miri) { 200 } else { 40_000 });
    let secs = env("SESSCACHE_STRESS_SECS", 0);
    let live_before = sesscache_live_sessions();
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    // The watchdog: a hang (deadlock) becomes a failing exit, not a stuck CI.
    let limit = Duration::from_secs(secs * 3 + 120 + ops / 2_000);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
            eprintln!("stress: no progress after {limit:?}: deadlock?");
            std::process::abort();
        }
    });
    // SAFETY: fresh contexts; the callbacks are valid for the program's life.
    let (sctx, cctx) = unsafe {
        let s = SSL_CTX_new(TLS_server_method());
        let c = SSL_CTX_new(TLS_client_method());
        for ctx in [s, c] {
            SSL_CTX_sess_set_new_cb(ctx, Some(new_cb));
            SSL_CTX_sess_set_get_cb(ctx, Some(get_cb));
            SSL_CTX_sess_set_remove_cb(ctx, Some(remove_cb));
            SSL_CTX_sess_set_cache_size(ctx, 64);
        }
        SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_BOTH);
        (Ptr(s), Ptr(c))
    };
    let per_thread = ops.div_ceil(threads);
    let total: u64 = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                sc.spawn({
                    let (s, c) = (&sctx, &cctx);
                    move || worker(s, c, t + 1, per_thread, until)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("a worker panicked")).sum()
    });
    // SAFETY: the threads are done; we release our references, then the store's.
    unsafe {
        // The workers changed the size at random (0 is unlimited, and shrinking evicts only at
        // the next add): settle on a size, add once, and the bound must hold.
        SSL_CTX_sess_set_cache_size(sctx.0, 16);
        let s = SSL_SESSION_new();
        let id = [0xeeu8; 32];
        assert_eq!(SSL_SESSION_set1_id(s, id.as_ptr(), 32), 1);
        assert_eq!(SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION), 1);
        SSL_CTX_add_session(sctx.0, s);
        SSL_SESSION_free(s);
        let n = SSL_CTX_sess_number(sctx.0);
        assert!(n <= 15, "the cache holds {n} sessions after an add at size 16");
        SSL_CTX_free(sctx.0);
        SSL_CTX_free(cctx.0);
    }
    for p in std::mem::take(&mut *STORE.lock().unwrap()) {
        free_ptr(p);
    }
    drop(done_tx);
    watchdog.join().unwrap();
    let live = sesscache_live_sessions();
    eprintln!(
        "stress: {total} operations on {threads} threads in {:.1?} ({} callbacks, {} get_cb hits), {} sessions alive at the end",
        started.elapsed(),
        CALLBACKS.load(Ordering::Relaxed),
        GET_HITS.load(Ordering::Relaxed),
        live - live_before
    );
    assert_eq!(live, live_before, "sessions leaked");
    assert!(total >= ops);
}
