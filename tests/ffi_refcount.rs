//! Reference counts through the C ABI: sessions, connections, the cache's own reference, and
//! the reference rules of the get callback (`*copy`) and the new callback (its return value).
//! Counts are read with `Arc::strong_count` and, for leaks, `sesscache_live_sessions()`.

mod common;

use std::cell::{Cell, RefCell};
use std::os::raw::{c_int, c_uchar};
use std::ptr::null_mut;

use sesscache::abi::*;
use sesscache::ffi::ctrl::*;
use sesscache::ffi::driver::*;
use sesscache::ffi::method::*;
use sesscache::ffi::ssl::*;
use sesscache::ffi::ssl_ctx::*;
use sesscache::ffi::ssl_session::*;

use common::{ctx, free_all, refs, session, Leaks};

thread_local! {
    /// (session, its reference count during the call) for each remove_cb call.
    static REMOVED: RefCell<Vec<(*mut SSL_SESSION, usize)>> = const { RefCell::new(Vec::new()) };
    /// What the get callback returns, and whether it hands over a reference (`*copy = 0`).
    static GET_RET: Cell<*mut SSL_SESSION> = const { Cell::new(null_mut()) };
    static GET_TRANSFER: Cell<bool> = const { Cell::new(false) };
    /// (`*copy` as preset, id length) for each get_cb call.
    static GET_SEEN: RefCell<Vec<(c_int, c_int)>> = const { RefCell::new(Vec::new()) };
    /// What the new callback returns; the sessions it kept; (session, count) per call.
    static NEW_RET: Cell<c_int> = const { Cell::new(0) };
    static NEW_KEPT: RefCell<Vec<*mut SSL_SESSION>> = const { RefCell::new(Vec::new()) };
    static NEW_SEEN: RefCell<Vec<(*mut SSL_SESSION, usize)>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn record_remove(_ctx: *mut SSL_CTX, s: *mut SSL_SESSION) {
    REMOVED.with(|r| r.borrow_mut().push((s, refs(s))));
}

unsafe extern "C" fn get_from_test(
    _ssl: *mut SSL,
    _id: *const c_uchar,
    len: c_int,
    copy: *mut c_int,
) -> *mut SSL_SESSION {
    // SAFETY: the library passes a readable and writable `copy` for the call.
    GET_SEEN.with(|g| g.borrow_mut().push((unsafe { *copy }, len)));
    let ret = GET_RET.get();
    if !ret.is_null() && GET_TRANSFER.get() {
        // Hand over a reference of our own.
        // SAFETY: `ret` is a live session the test holds a reference on.
        assert_eq!(unsafe { SSL_SESSION_up_ref(ret) }, 1);
        // SAFETY: `copy` is writable for the call.
        unsafe { *copy = 0 };
    }
    ret
}

unsafe extern "C" fn new_to_test(_ssl: *mut SSL, s: *mut SSL_SESSION) -> c_int {
    NEW_SEEN.with(|n| n.borrow_mut().push((s, refs(s))));
    let keep = NEW_RET.get();
    if keep != 0 {
        NEW_KEPT.with(|k| k.borrow_mut().push(s));
    }
    keep
}

fn removed() -> Vec<(*mut SSL_SESSION, usize)> {
    REMOVED.with(|r| r.take())
}

#[test]
fn session_new_up_ref_free() {
    let leaks = Leaks::start();
    let s = SSL_SESSION_new();
    assert_eq!(leaks.delta(), 1);
    assert_eq!(refs(s), 1);
    // SAFETY: we hold the references we free.
    unsafe {
        assert_eq!(SSL_SESSION_up_ref(s), 1);
        assert_eq!(refs(s), 2);
        SSL_SESSION_free(s);
        assert_eq!(refs(s), 1);
        assert_eq!(leaks.delta(), 1);
        SSL_SESSION_free(s);
    }
    leaks.check();
}

#[test]
fn connection_references() {
    let leaks = Leaks::start();
    let c = ctx();
    let (s, t) = (session(1, 100), session(2, 100));
    // SAFETY: every object is live while used.
    unsafe {
        let ssl = SSL_new(c);
        assert_eq!(SSL_set_session(ssl, s), 1);
        assert_eq!(refs(s), 2);
        assert_eq!(SSL_get_session(ssl), s);
        assert_eq!(refs(s), 2, "get0 borrows");
        let g = SSL_get1_session(ssl);
        assert_eq!(g, s);
        assert_eq!(refs(s), 3, "get1 adds one");
        SSL_SESSION_free(g);
        assert_eq!(SSL_set_session(ssl, s), 1, "setting the same session again");
        assert_eq!(refs(s), 2);
        assert_eq!(SSL_set_session(ssl, t), 1);
        assert_eq!((refs(s), refs(t)), (1, 2), "the old session is released");
        assert_eq!(SSL_set_session(ssl, null_mut()), 1);
        assert_eq!(refs(t), 1);
        assert!(SSL_get_session(ssl).is_null());
        SSL_set_session(ssl, t);
        assert_eq!(SSL_up_ref(ssl), 1);
        SSL_free(ssl);
        assert_eq!(refs(t), 2, "a connection keeps its session until its last reference goes");
        SSL_free(ssl);
        assert_eq!(refs(t), 1);
        SSL_CTX_free(c);
    }
    free_all(&[s, t]);
    leaks.check();
}

#[test]
fn the_cache_holds_one_reference() {
    let leaks = Leaks::start();
    let c = ctx();
    let s: Vec<_> = (1..=4).map(|i| session(i, 100)).collect();
    // SAFETY: every object is live while used.
    unsafe {
        SSL_CTX_sess_set_remove_cb(c, Some(record_remove));
        assert_eq!(SSL_CTX_add_session(c, s[0]), 1);
        assert_eq!(refs(s[0]), 2);
        assert_eq!(SSL_CTX_add_session(c, s[0]), 0);
        assert_eq!(refs(s[0]), 2, "a re-add takes no second reference");

        // Remove: the callback sees the argument while the cache still holds it, then the
        // cache drops its reference.
        assert_eq!(SSL_CTX_remove_session(c, s[0]), 1);
        assert_eq!(removed(), [(s[0], 2)]);
        assert_eq!(refs(s[0]), 1);
        assert_eq!(SSL_CTX_remove_session(c, s[0]), 0);
        assert_eq!(removed(), [(s[0], 1)], "a callback even when nothing was cached");

        // Same key, another object: the old one is released silently.
        let twin = session(2, 100);
        assert_eq!(SSL_CTX_add_session(c, s[1]), 1);
        assert_eq!(SSL_CTX_add_session(c, twin), 1);
        assert_eq!((refs(s[1]), refs(twin)), (1, 2));
        assert!(removed().is_empty());
        assert_eq!(SSL_SESSION_is_resumable(s[1]), 1);
        // Removing by the old object removes the twin; the callback gets the argument.
        assert_eq!(SSL_CTX_remove_session(c, s[1]), 1);
        assert_eq!(removed(), [(s[1], 1)]);
        assert_eq!(refs(twin), 1);
        assert_eq!(SSL_SESSION_is_resumable(twin), 1);
        assert_eq!(SSL_SESSION_is_resumable(s[1]), 0);
        SSL_SESSION_free(twin);

        // Eviction: size 2 holds one; the victim is released after its callback.
        SSL_CTX_sess_set_cache_size(c, 2);
        assert_eq!(SSL_CTX_add_session(c, s[2]), 1);
        assert_eq!(SSL_CTX_add_session(c, s[3]), 1);
        assert_eq!(removed(), [(s[2], 2)]);
        assert_eq!((refs(s[2]), refs(s[3])), (1, 2));
        assert_eq!(SSL_CTX_sess_cache_full(c), 1);
        assert_eq!(SSL_SESSION_is_resumable(s[2]), 0);

        // Flush releases, and so does SSL_CTX_free.
        SSL_CTX_sess_set_cache_size(c, 0);
        SSL_CTX_flush_sessions(c, 0);
        assert_eq!(removed(), [(s[3], 2)]);
        assert_eq!(refs(s[3]), 1);
        let fresh = [session(5, 100), session(6, 50)];
        fresh.iter().for_each(|&x| assert_eq!(SSL_CTX_add_session(c, x), 1));
        free_all(&fresh);
        assert_eq!(leaks.delta(), 4 + 2, "the cache keeps the two alive");
        SSL_CTX_free(c);
        let r = removed();
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), [fresh[1], fresh[0]], "earliest expiry first");
        assert!(r.iter().all(|x| x.1 == 1), "the cache's reference is the last one");
    }
    free_all(&s);
    leaks.check();
}

#[test]
fn a_context_lives_while_a_connection_holds_it() {
    let leaks = Leaks::start();
    let c = ctx();
    let s = session(1, 100);
    // SAFETY: every object is live while used.
    unsafe {
        SSL_CTX_sess_set_remove_cb(c, Some(record_remove));
        SSL_CTX_add_session(c, s);
        let ssl = SSL_new(c);
        SSL_CTX_free(c);
        assert!(removed().is_empty());
        assert_eq!(SSL_CTX_sess_number(SSL_get_SSL_CTX(ssl)), 1);
        SSL_free(ssl);
        assert_eq!(removed(), [(s, 2)]);
        assert_eq!(refs(s), 1);
    }
    free_all(&[s]);
    leaks.check();
}

/// A server lookup that the get callback answers with `ext`. Returns (lookup result, refs of
/// `ext` while the SSL holds it, number, cb_hits, misses).
fn lookup_via_get_cb(
    ext: *mut SSL_SESSION,
    transfer: bool,
    mode: std::os::raw::c_long,
) -> (c_int, usize, i64, i64, i64) {
    let c = ctx();
    GET_RET.set(ext);
    GET_TRANSFER.set(transfer);
    GET_SEEN.with(|g| g.borrow_mut().clear());
    // SAFETY: every object is live while used.
    unsafe {
        SSL_CTX_set_session_cache_mode(c, mode);
        SSL_CTX_sess_set_get_cb(c, Some(get_from_test));
        let ssl = SSL_new(c);
        assert_eq!(sesscache_handshake_start(ssl), 1);
        let r = sesscache_server_lookup(ssl, [1u8; 32].as_ptr(), 32);
        assert_eq!(GET_SEEN.with(|g| g.take()), [(1, 32)], "*copy is preset to 1");
        if r == 1 {
            assert_eq!(SSL_get_session(ssl), ext);
            assert_eq!(SSL_session_reused(ssl), 1);
        }
        let out = (
            r,
            refs(ext),
            SSL_CTX_sess_number(c) as i64,
            SSL_CTX_sess_cb_hits(c) as i64,
            SSL_CTX_sess_misses(c) as i64,
        );
        SSL_free(ssl);
        SSL_CTX_free(c);
        GET_RET.set(null_mut());
        out
    }
}

/// `lookup_via_get_cb` with a fresh resumable session, which must end with our reference only.
fn lookup_fresh(transfer: bool, mode: std::os::raw::c_long) -> (c_int, usize, i64, i64, i64) {
    let ext = session(1, 100);
    let out = lookup_via_get_cb(ext, transfer, mode);
    assert_eq!(refs(ext), 1, "everything but our reference was released");
    free_all(&[ext]);
    out
}

#[test]
fn get_cb_copy_1_lends_the_session() {
    let leaks = Leaks::start();
    // Ours + the SSL's + the cache's (the session is stored back).
    assert_eq!(lookup_fresh(false, SSL_SESS_CACHE_SERVER), (1, 3, 1, 1, 1));
    assert_eq!(lookup_fresh(false, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE), (1, 2, 0, 1, 1));
    assert_eq!(lookup_fresh(false, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP), (1, 3, 1, 1, 0));
    leaks.check();
}

#[test]
fn get_cb_copy_0_hands_over_a_reference() {
    let leaks = Leaks::start();
    // The handed-over reference becomes the SSL's: the same counts as lending.
    assert_eq!(lookup_fresh(true, SSL_SESS_CACHE_SERVER), (1, 3, 1, 1, 1));
    assert_eq!(lookup_fresh(true, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE), (1, 2, 0, 1, 1));
    assert_eq!(lookup_fresh(true, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP), (1, 3, 1, 1, 0));
    leaks.check();
}

#[test]
fn get_cb_not_resumable_session_is_dropped_both_ways() {
    let leaks = Leaks::start();
    let ext = session(1, 100);
    let c = ctx();
    // SAFETY: live objects; removing marks `ext` not resumable.
    unsafe {
        SSL_CTX_remove_session(c, ext);
        SSL_CTX_free(c);
        assert_eq!(SSL_SESSION_is_resumable(ext), 0);
    }
    for transfer in [false, true] {
        let (r, n, number, cb_hits, misses) = lookup_via_get_cb(ext, transfer, SSL_SESS_CACHE_SERVER);
        assert_eq!((r, number, cb_hits, misses), (0, 0, 0, 1), "transfer {transfer}");
        assert_eq!(n, 1, "transfer {transfer}: the handed-over reference was dropped, no other taken");
    }
    free_all(&[ext]);
    leaks.check();
}

#[test]
fn get_cb_returning_null_is_a_miss() {
    let leaks = Leaks::start();
    let c = ctx();
    GET_RET.set(null_mut());
    // SAFETY: live objects.
    unsafe {
        SSL_CTX_sess_set_get_cb(c, Some(get_from_test));
        let ssl = SSL_new(c);
        sesscache_handshake_start(ssl);
        assert_eq!(sesscache_server_lookup(ssl, [9u8; 32].as_ptr(), 32), 0);
        assert_eq!((SSL_CTX_sess_misses(c), SSL_CTX_sess_cb_hits(c)), (1, 0));
        assert!(SSL_get_session(ssl).is_null());
        SSL_free(ssl);
        SSL_CTX_free(c);
    }
    GET_SEEN.with(|g| g.borrow_mut().clear());
    leaks.check();
}

/// A full handshake with the server's new callback returning `keep`. Returns (whether the
/// callback held a reference beyond the cache's and the SSL's, refs after the handshake,
/// number). The exact count inside the callback includes the library's transient handles,
/// which C cannot observe (OpenSSL has no public refcount accessor).
fn full_handshake_with_new_cb(keep: c_int) -> (bool, usize, i64) {
    let leaks = Leaks::start();
    NEW_RET.set(keep);
    // SAFETY: every object is live while used.
    let out = unsafe {
        let (sc, cc) = (ctx(), SSL_CTX_new(TLS_client_method()));
        SSL_CTX_sess_set_new_cb(sc, Some(new_to_test));
        let (server, client) = (SSL_new(sc), SSL_new(cc));
        assert_eq!(sesscache_handshake(client, server), 1);
        let s = SSL_get_session(server);
        let seen = NEW_SEEN.with(|n| n.take());
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, s);
        let out = (seen[0].1 >= 3, refs(s), SSL_CTX_sess_number(sc) as i64);
        SSL_free(server);
        SSL_free(client);
        SSL_CTX_free(sc);
        SSL_CTX_free(cc);
        out
    };
    let kept = NEW_KEPT.with(|k| k.take());
    assert_eq!(kept.len(), usize::from(keep != 0));
    for &k in &kept {
        assert_eq!(refs(k), 1, "only the application's reference is left");
    }
    assert_eq!(leaks.delta(), kept.len() as std::os::raw::c_long);
    free_all(&kept);
    leaks.check();
    out
}

#[test]
fn new_cb_returning_1_keeps_its_reference() {
    // In the callback: cache + SSL + the callback's; afterwards the application still has it.
    assert_eq!(full_handshake_with_new_cb(1), (true, 3, 1));
}

#[test]
fn new_cb_returning_0_gives_it_back() {
    // The session stays cached: a 0 return only drops the callback's reference.
    assert_eq!(full_handshake_with_new_cb(0), (true, 2, 1));
}

#[test]
fn handshake_references_and_resumption() {
    let leaks = Leaks::start();
    // SAFETY: every object is live while used.
    unsafe {
        let (sc, cc) = (ctx(), SSL_CTX_new(TLS_client_method()));
        let (server, client) = (SSL_new(sc), SSL_new(cc));
        assert_eq!(sesscache_handshake(client, server), 1);
        let ss = SSL_get_session(server);
        let cs = SSL_get1_session(client);
        assert_eq!((refs(ss), refs(cs)), (2, 2), "server: SSL + cache; client: SSL + ours");
        SSL_free(server);
        SSL_free(client);
        assert_eq!((refs(ss), refs(cs)), (1, 1));
        // Resume on new connections with the client's session.
        let (server, client) = (SSL_new(sc), SSL_new(cc));
        assert_eq!(SSL_set_session(client, cs), 1);
        assert_eq!(sesscache_handshake(client, server), 1);
        assert_eq!((SSL_session_reused(client), SSL_session_reused(server)), (1, 1));
        assert_eq!(SSL_get_session(server), ss);
        assert_eq!(SSL_get_session(client), cs);
        assert_eq!((refs(ss), refs(cs)), (2, 2));
        assert_eq!(SSL_has_matching_session_id(server, SSL_SESSION_get_id(ss, null_mut()), 32), 1);
        assert_eq!((SSL_CTX_sess_hits(sc), SSL_CTX_sess_hits(cc)), (1, 1));
        SSL_free(server);
        SSL_free(client);
        SSL_SESSION_free(cs);
        assert_eq!(leaks.delta(), 1, "only the cached server session is left");
        SSL_CTX_free(sc);
        SSL_CTX_free(cc);
    }
    leaks.check();
}
