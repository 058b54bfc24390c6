//! Every export with NULL pointers, zero, negative and oversized lengths and unknown commands:
//! each must answer OpenSSL 3.0's failure value (spec §2, §4.1) and change nothing.

mod common;

use std::ffi::CStr;
use std::os::raw::{c_int, c_long, c_uchar, c_uint};
use std::ptr::{null, null_mut};

use sesscache::abi::*;
use sesscache::ffi::callbacks::X509_STORE_CTX;
use sesscache::ffi::ctrl::*;
use sesscache::ffi::driver::*;
use sesscache::ffi::method::*;
use sesscache::ffi::ssl::*;
use sesscache::ffi::ssl_ctx::*;
use sesscache::ffi::ssl_session::*;

use common::{ctx, session};

thread_local! {
    static REMOVE_CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

unsafe extern "C" fn new_cb(_: *mut SSL, _: *mut SSL_SESSION) -> c_int {
    42
}
unsafe extern "C" fn remove_cb(_: *mut SSL_CTX, _: *mut SSL_SESSION) {
    REMOVE_CALLS.set(REMOVE_CALLS.get() + 1);
}
unsafe extern "C" fn get_cb(_: *mut SSL, _: *const c_uchar, _: c_int, copy: *mut c_int) -> *mut SSL_SESSION {
    // SAFETY: the caller passes a writable `copy`.
    unsafe { *copy = 7 };
    null_mut()
}
unsafe extern "C" fn gen_cb(_: *mut SSL, _: *mut c_uchar, _: *mut c_uint) -> c_int {
    1
}
unsafe extern "C" fn verify_cb(_: c_int, _: *mut X509_STORE_CTX) -> c_int {
    1
}

/// Every counter getter, for NULL and fresh-context checks.
const COUNTERS: [unsafe extern "C" fn(*mut SSL_CTX) -> c_long; 12] = [
    SSL_CTX_sess_number,
    SSL_CTX_sess_connect,
    SSL_CTX_sess_connect_good,
    SSL_CTX_sess_connect_renegotiate,
    SSL_CTX_sess_accept,
    SSL_CTX_sess_accept_good,
    SSL_CTX_sess_accept_renegotiate,
    SSL_CTX_sess_hits,
    SSL_CTX_sess_cb_hits,
    SSL_CTX_sess_misses,
    SSL_CTX_sess_timeouts,
    SSL_CTX_sess_cache_full,
];

const SESSION_CMDS: [c_int; 16] = [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 42, 43, 44, 45];

#[test]
fn methods_and_version() {
    assert!(!TLS_method().is_null());
    assert!(!TLS_server_method().is_null());
    assert!(!TLS_client_method().is_null());
    // SAFETY: sesscache_version returns a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(sesscache_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    // SAFETY: NULL is allowed.
    assert!(unsafe { SSL_CTX_new(null()) }.is_null());
}

#[test]
fn ctx_functions_with_null() {
    let s = session(1, 100);
    let buf = [0u8; 32];
    // SAFETY: every pointer is NULL or live.
    unsafe {
        assert_eq!(SSL_CTX_up_ref(null_mut()), 0);
        SSL_CTX_free(null_mut());
        assert_eq!(SSL_CTX_set_timeout(null_mut(), 5), 0);
        assert_eq!(SSL_CTX_get_timeout(null()), 0);
        assert_eq!(SSL_CTX_set_session_id_context(null_mut(), buf.as_ptr(), 4), 0);
        assert_eq!(SSL_CTX_add_session(null_mut(), s), 0);
        assert_eq!(SSL_CTX_remove_session(null_mut(), s), 0);
        assert_eq!(SSL_SESSION_is_resumable(s), 1, "a NULL context does not mark the session");
        SSL_CTX_flush_sessions(null_mut(), 0);
        assert_eq!(SSL_CTX_set_generate_session_id(null_mut(), Some(gen_cb)), 0);
        SSL_CTX_sess_set_new_cb(null_mut(), Some(new_cb));
        SSL_CTX_sess_set_remove_cb(null_mut(), Some(remove_cb));
        SSL_CTX_sess_set_get_cb(null_mut(), Some(get_cb));
        assert!(SSL_CTX_sess_get_new_cb(null_mut()).is_none());
        assert!(SSL_CTX_sess_get_remove_cb(null_mut()).is_none());
        assert!(SSL_CTX_sess_get_get_cb(null_mut()).is_none());
        for cmd in -2..=64 {
            assert_eq!(SSL_CTX_ctrl(null_mut(), cmd, 5, null_mut()), 0, "cmd {cmd}");
        }
        for f in COUNTERS {
            assert_eq!(f(null_mut()), 0);
        }
        assert_eq!(SSL_CTX_set_session_cache_mode(null_mut(), 3), 0);
        assert_eq!(SSL_CTX_get_session_cache_mode(null_mut()), 0);
        assert_eq!(SSL_CTX_sess_set_cache_size(null_mut(), 3), 0);
        assert_eq!(SSL_CTX_sess_get_cache_size(null_mut()), 0);
        // And a NULL session on a real context.
        let c = ctx();
        assert_eq!(SSL_CTX_add_session(c, null_mut()), 0);
        assert_eq!(SSL_CTX_remove_session(c, null_mut()), 0);
        assert_eq!(SSL_CTX_sess_number(c), 0);
        assert_eq!(common::refs(s), 1);
        SSL_CTX_free(c);
        SSL_SESSION_free(s);
    }
}

#[test]
fn ctx_defaults_and_refcount() {
    let c = ctx();
    // SAFETY: `c` is live until the last SSL_CTX_free.
    unsafe {
        for f in COUNTERS {
            assert_eq!(f(c), 0);
        }
        assert_eq!(SSL_CTX_get_session_cache_mode(c), SSL_SESS_CACHE_SERVER);
        assert_eq!(SSL_CTX_sess_get_cache_size(c), SSL_SESSION_CACHE_MAX_SIZE_DEFAULT);
        assert_eq!(SSL_CTX_get_timeout(c), 7200);
        // The timeout is stored unvalidated and the previous value returned.
        assert_eq!(SSL_CTX_set_timeout(c, -5), 7200);
        assert_eq!(SSL_CTX_get_timeout(c), -5);
        assert_eq!(SSL_CTX_set_timeout(c, c_long::MAX), -5);
        assert_eq!(SSL_CTX_get_timeout(c), c_long::MAX);
        assert_eq!(SSL_CTX_up_ref(c), 1);
        SSL_CTX_free(c);
        assert_eq!(SSL_CTX_get_timeout(c), c_long::MAX, "still alive after one of two frees");
        SSL_CTX_free(c);
    }
}

#[test]
fn ctrl_commands() {
    let c = ctx();
    // SAFETY: `c` is live.
    unsafe {
        // Unknown commands return 0 and change nothing.
        SSL_CTX_set_session_cache_mode(c, 0x7ff);
        SSL_CTX_sess_set_cache_size(c, 77);
        for cmd in (-3..=80).chain([c_int::MIN, c_int::MAX]).filter(|c| !SESSION_CMDS.contains(c)) {
            for larg in [-1, 0, 1, c_long::MAX] {
                assert_eq!(SSL_CTX_ctrl(c, cmd, larg, null_mut()), 0, "cmd {cmd}");
            }
        }
        assert_eq!(SSL_CTX_get_session_cache_mode(c), 0x7ff);
        assert_eq!(SSL_CTX_sess_get_cache_size(c), 77);
        assert!(COUNTERS.iter().all(|f| f(c) == 0));
        // Counters ignore larg.
        assert_eq!(SSL_CTX_ctrl(c, SSL_CTRL_SESS_HIT, 99, null_mut()), 0);
        // Size: negative refused (0, unchanged); otherwise the previous size comes back.
        for neg in [-1, -20480, c_long::MIN] {
            assert_eq!(SSL_CTX_sess_set_cache_size(c, neg), 0);
            assert_eq!(SSL_CTX_ctrl(c, SSL_CTRL_SET_SESS_CACHE_SIZE, neg, null_mut()), 0);
            assert_eq!(SSL_CTX_sess_get_cache_size(c), 77);
        }
        assert_eq!(SSL_CTX_sess_set_cache_size(c, 0), 77);
        assert_eq!(SSL_CTX_sess_get_cache_size(c), 0);
        assert_eq!(SSL_CTX_ctrl(c, SSL_CTRL_SET_SESS_CACHE_SIZE, c_long::MAX, null_mut()), 0);
        assert_eq!(SSL_CTX_ctrl(c, SSL_CTRL_GET_SESS_CACHE_SIZE, 0, null_mut()), c_long::MAX);
        // Mode: stored as uint32_t without validation.
        assert_eq!(SSL_CTX_set_session_cache_mode(c, -1), 0x7ff);
        assert_eq!(SSL_CTX_get_session_cache_mode(c), 0xffff_ffff);
        assert_eq!(SSL_CTX_ctrl(c, SSL_CTRL_SET_SESS_CACHE_MODE, 0x1_0000_0003, null_mut()), 0xffff_ffff);
        assert_eq!(SSL_CTX_ctrl(c, SSL_CTRL_GET_SESS_CACHE_MODE, 5, null_mut()), 3);
        SSL_CTX_free(c);
    }
}

#[test]
fn ctx_sid_ctx_lengths() {
    let c = ctx();
    let buf = [7u8; 33];
    // SAFETY: `c` is live; `buf` has 33 bytes.
    unsafe {
        assert_eq!(SSL_CTX_set_session_id_context(c, buf.as_ptr(), 33), 0);
        assert_eq!(SSL_CTX_set_session_id_context(c, null(), 1), 0);
        assert_eq!(SSL_CTX_set_session_id_context(c, null(), 0), 1);
        assert_eq!(SSL_CTX_set_session_id_context(c, buf.as_ptr(), 0), 1);
        assert_eq!(SSL_CTX_set_session_id_context(c, buf.as_ptr(), 32), 1);
        SSL_CTX_free(c);
    }
}

#[test]
fn callbacks_set_get_clear() {
    let c = ctx();
    // SAFETY: `c` is live; the callbacks are called only through what the getters return.
    unsafe {
        SSL_CTX_sess_set_new_cb(c, Some(new_cb));
        SSL_CTX_sess_set_remove_cb(c, Some(remove_cb));
        SSL_CTX_sess_set_get_cb(c, Some(get_cb));
        // The getters return the installed functions: calling them shows which they are
        // (function addresses are not comparable under Miri).
        assert_eq!(SSL_CTX_sess_get_new_cb(c).unwrap()(null_mut(), null_mut()), 42);
        REMOVE_CALLS.set(0);
        SSL_CTX_sess_get_remove_cb(c).unwrap()(null_mut(), null_mut());
        assert_eq!(REMOVE_CALLS.get(), 1);
        let mut copy = 1;
        assert_eq!(SSL_CTX_sess_get_get_cb(c).unwrap()(null_mut(), null(), 0, &mut copy), null_mut());
        assert_eq!(copy, 7);
        assert_eq!(SSL_CTX_set_generate_session_id(c, Some(gen_cb)), 1);
        SSL_CTX_sess_set_new_cb(c, None);
        SSL_CTX_sess_set_remove_cb(c, None);
        SSL_CTX_sess_set_get_cb(c, None);
        assert_eq!(SSL_CTX_set_generate_session_id(c, None), 1);
        assert!(SSL_CTX_sess_get_new_cb(c).is_none());
        assert!(SSL_CTX_sess_get_remove_cb(c).is_none());
        assert!(SSL_CTX_sess_get_get_cb(c).is_none());
        // With the callbacks cleared, every path that would call them still works.
        let s = session(1, 100);
        assert_eq!(SSL_CTX_add_session(c, s), 1);
        assert_eq!(SSL_CTX_remove_session(c, s), 1);
        SSL_SESSION_free(s);
        SSL_CTX_free(c);
    }
}

#[test]
fn ssl_functions_with_null() {
    let s = session(1, 100);
    let buf = [0u8; 33];
    // SAFETY: every pointer is NULL or live.
    unsafe {
        assert!(SSL_new(null_mut()).is_null());
        SSL_free(null_mut());
        assert_eq!(SSL_up_ref(null_mut()), 0);
        assert!(SSL_get_SSL_CTX(null()).is_null());
        assert_eq!(SSL_version(null()), 0);
        assert_eq!(SSL_set_session_id_context(null_mut(), buf.as_ptr(), 1), 0);
        assert_eq!(SSL_set_session(null_mut(), s), 0);
        assert_eq!(common::refs(s), 1);
        assert!(SSL_get_session(null()).is_null());
        assert!(SSL_get1_session(null_mut()).is_null());
        assert_eq!(SSL_session_reused(null()), 0);
        assert_eq!(SSL_has_matching_session_id(null(), buf.as_ptr(), 32), 0);
        SSL_set_accept_state(null_mut());
        SSL_set_connect_state(null_mut());
        assert_eq!(SSL_is_server(null()), 0);
        SSL_set_verify(null_mut(), SSL_VERIFY_PEER, Some(verify_cb));
        assert_eq!(SSL_get_verify_mode(null()), 0);
        SSL_SESSION_free(s);
    }
}

#[test]
fn ssl_arguments() {
    let c = ctx();
    let buf = [3u8; 33];
    // SAFETY: `c` and the SSLs are live until freed.
    unsafe {
        let ssl = SSL_new(c);
        assert!(!ssl.is_null());
        assert_eq!(SSL_get_SSL_CTX(ssl), c);
        assert_eq!(SSL_version(ssl), TLS1_3_VERSION);
        assert_eq!(SSL_is_server(ssl), 1);
        SSL_set_connect_state(ssl);
        assert_eq!(SSL_is_server(ssl), 0);
        SSL_set_accept_state(ssl);
        assert_eq!(SSL_is_server(ssl), 1);
        let client_ctx = SSL_CTX_new(TLS_client_method());
        let client = SSL_new(client_ctx);
        assert_eq!(SSL_is_server(client), 0);
        SSL_free(client);
        SSL_CTX_free(client_ctx);
        SSL_set_verify(ssl, SSL_VERIFY_PEER, None);
        assert_eq!(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER);
        SSL_set_verify(ssl, SSL_VERIFY_NONE, Some(verify_cb));
        assert_eq!(SSL_get_verify_mode(ssl), SSL_VERIFY_NONE);
        assert_eq!(SSL_set_session_id_context(ssl, buf.as_ptr(), 33), 0);
        assert_eq!(SSL_set_session_id_context(ssl, null(), 1), 0);
        assert_eq!(SSL_set_session_id_context(ssl, null(), 0), 1);
        assert_eq!(SSL_set_session_id_context(ssl, buf.as_ptr(), 32), 1);
        assert!(SSL_get_session(ssl).is_null());
        assert!(SSL_get1_session(ssl).is_null());
        assert_eq!(SSL_set_session(ssl, null_mut()), 1);
        assert_eq!(SSL_session_reused(ssl), 0);
        // SSL_has_matching_session_id: the key uses the SSL's version (0x0304 before a handshake).
        let s = session(3, 100);
        assert_eq!(SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION), 1);
        assert_eq!(SSL_CTX_add_session(c, s), 1);
        assert_eq!(SSL_has_matching_session_id(ssl, buf.as_ptr(), 32), 1);
        assert_eq!(SSL_has_matching_session_id(ssl, buf.as_ptr(), 31), 0);
        assert_eq!(SSL_has_matching_session_id(ssl, buf.as_ptr(), 33), 0);
        assert_eq!(SSL_has_matching_session_id(ssl, buf.as_ptr(), c_uint::MAX), 0);
        assert_eq!(SSL_has_matching_session_id(ssl, null(), 32), 0);
        assert_eq!(SSL_has_matching_session_id(ssl, null(), 0), 0);
        assert_eq!(sesscache_handshake_start(ssl), 1);
        assert_eq!(SSL_version(ssl), TLS1_2_VERSION);
        assert_eq!(SSL_has_matching_session_id(ssl, buf.as_ptr(), 32), 0, "another version, another key");
        assert_eq!(SSL_up_ref(ssl), 1);
        SSL_free(ssl);
        assert_eq!(SSL_is_server(ssl), 1, "still alive after one of two frees");
        SSL_free(ssl);
        SSL_SESSION_free(s);
        SSL_CTX_free(c);
    }
}

#[test]
fn session_functions_with_null() {
    let buf = [0u8; 64];
    let mut out = [0u8; 64];
    let mut len: c_uint = 99;
    // SAFETY: every pointer is NULL or valid for the stated length.
    unsafe {
        assert_eq!(SSL_SESSION_up_ref(null_mut()), 0);
        SSL_SESSION_free(null_mut());
        assert!(SSL_SESSION_get_id(null(), &mut len).is_null());
        assert_eq!(len, 0);
        assert!(SSL_SESSION_get_id(null(), null_mut()).is_null());
        len = 99;
        assert!(SSL_SESSION_get0_id_context(null(), &mut len).is_null());
        assert_eq!(len, 0);
        assert_eq!(SSL_SESSION_set1_id(null_mut(), buf.as_ptr(), 4), 0);
        assert_eq!(SSL_SESSION_set1_id_context(null_mut(), buf.as_ptr(), 4), 0);
        assert_eq!(SSL_SESSION_get_time(null()), 0);
        assert_eq!(SSL_SESSION_set_time(null_mut(), 5), 0);
        assert_eq!(SSL_SESSION_get_timeout(null()), 0);
        assert_eq!(SSL_SESSION_set_timeout(null_mut(), 5), 0);
        assert_eq!(SSL_SESSION_is_resumable(null()), 0);
        assert_eq!(SSL_SESSION_get_protocol_version(null()), 0);
        assert_eq!(SSL_SESSION_set_protocol_version(null_mut(), 0x0303), 0);
        assert_eq!(SSL_SESSION_get_master_key(null(), out.as_mut_ptr(), 48), 0);
        assert_eq!(SSL_SESSION_get_master_key(null(), null_mut(), 0), 0);
        assert_eq!(SSL_SESSION_set1_master_key(null_mut(), buf.as_ptr(), 48), 0);
    }
}

#[test]
fn new_session_defaults() {
    let before = sesscache::core::time::now();
    let s = SSL_SESSION_new();
    let after = sesscache::core::time::now();
    let mut len: c_uint = 99;
    // SAFETY: `s` is live until freed.
    unsafe {
        assert!(!SSL_SESSION_get_id(s, &mut len).is_null());
        assert_eq!(len, 0);
        assert!(!SSL_SESSION_get_id(s, null_mut()).is_null());
        assert_eq!(SSL_SESSION_get_protocol_version(s), 0);
        assert_eq!(SSL_SESSION_get_timeout(s), 304);
        assert!((before..=after).contains(&(SSL_SESSION_get_time(s) as i64)));
        assert_eq!(SSL_SESSION_get_master_key(s, null_mut(), 0), 0);
        assert_eq!(SSL_SESSION_is_resumable(s), 0, "no id, no ticket");
        SSL_SESSION_free(s);
    }
}

#[test]
fn session_id_and_sid_ctx_lengths() {
    let s = SSL_SESSION_new();
    let buf: Vec<u8> = (0..33).collect();
    let mut len: c_uint = 0;
    // SAFETY: `s` is live; `buf` has 33 bytes; returned pointers are read while `s` is unchanged.
    unsafe {
        assert_eq!(SSL_SESSION_set1_id(s, buf.as_ptr(), 32), 1);
        assert_eq!(SSL_SESSION_is_resumable(s), 1);
        assert_eq!(SSL_SESSION_set1_id(s, buf.as_ptr(), 33), 0);
        assert_eq!(SSL_SESSION_set1_id(s, null(), 5), 0);
        let p = SSL_SESSION_get_id(s, &mut len);
        assert_eq!(std::slice::from_raw_parts(p, len as usize), &buf[..32], "failures change nothing");
        // The id may come from the session itself.
        assert_eq!(SSL_SESSION_set1_id(s, p.add(1), 31), 1);
        let p = SSL_SESSION_get_id(s, &mut len);
        assert_eq!(std::slice::from_raw_parts(p, len as usize), &buf[1..32]);
        assert_eq!(SSL_SESSION_set1_id(s, null(), 0), 1);
        SSL_SESSION_get_id(s, &mut len);
        assert_eq!(len, 0);
        assert_eq!(SSL_SESSION_is_resumable(s), 0);

        assert_eq!(SSL_SESSION_set1_id_context(s, buf.as_ptr(), 32), 1);
        assert_eq!(SSL_SESSION_set1_id_context(s, buf.as_ptr(), 33), 0);
        assert_eq!(SSL_SESSION_set1_id_context(s, null(), 1), 0);
        let p = SSL_SESSION_get0_id_context(s, &mut len);
        assert_eq!(std::slice::from_raw_parts(p, len as usize), &buf[..32]);
        assert_eq!(SSL_SESSION_set1_id_context(s, p, 4), 1);
        let p = SSL_SESSION_get0_id_context(s, &mut len);
        assert_eq!(std::slice::from_raw_parts(p, len as usize), &buf[..4]);
        assert_eq!(SSL_SESSION_set1_id_context(s, null(), 0), 1);
        SSL_SESSION_get0_id_context(s, &mut len);
        assert_eq!(len, 0);
        SSL_SESSION_free(s);
    }
}

#[test]
fn session_time_and_timeout() {
    let s = SSL_SESSION_new();
    // SAFETY: `s` is live until freed.
    unsafe {
        // set_time returns its argument (not 1), whatever it is.
        assert_eq!(SSL_SESSION_set_time(s, -7), -7);
        assert_eq!(SSL_SESSION_get_time(s), -7);
        assert_eq!(SSL_SESSION_set_time(s, c_long::MAX), c_long::MAX);
        assert_eq!(SSL_SESSION_get_time(s), c_long::MAX);
        // A negative timeout is refused (3.0) and changes nothing.
        assert_eq!(SSL_SESSION_set_timeout(s, -1), 0);
        assert_eq!(SSL_SESSION_set_timeout(s, c_long::MIN), 0);
        assert_eq!(SSL_SESSION_get_timeout(s), 304);
        assert_eq!(SSL_SESSION_set_timeout(s, 0), 1);
        assert_eq!(SSL_SESSION_get_timeout(s), 0);
        assert_eq!(SSL_SESSION_set_timeout(s, c_long::MAX), 1);
        assert_eq!(SSL_SESSION_get_timeout(s), c_long::MAX);
        assert_eq!(SSL_SESSION_set_protocol_version(s, -1), 1);
        assert_eq!(SSL_SESSION_get_protocol_version(s), -1);
        SSL_SESSION_free(s);
    }
}

#[test]
fn session_master_key_lengths() {
    let s = SSL_SESSION_new();
    let key: Vec<u8> = (0..513).map(|i| i as u8).collect();
    let mut out = vec![0u8; 600];
    // SAFETY: `s` is live; `key` has 513 bytes and `out` 600.
    unsafe {
        assert_eq!(SSL_SESSION_set1_master_key(s, key.as_ptr(), 513), 0, "3.0's buffer is 512 bytes");
        assert_eq!(SSL_SESSION_get_master_key(s, null_mut(), 0), 0, "a refused key changes nothing");
        assert_eq!(SSL_SESSION_set1_master_key(s, null(), 5), 0);
        assert_eq!(SSL_SESSION_set1_master_key(s, key.as_ptr(), 512), 1);
        assert_eq!(SSL_SESSION_get_master_key(s, null_mut(), 0), 512);
        assert_eq!(SSL_SESSION_get_master_key(s, null_mut(), 48), 0);
        assert_eq!(SSL_SESSION_get_master_key(s, out.as_mut_ptr(), 600), 512);
        assert_eq!(&out[..512], &key[..512]);
        out.fill(0);
        assert_eq!(SSL_SESSION_get_master_key(s, out.as_mut_ptr(), 10), 10);
        assert_eq!(&out[..11], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0], "no byte beyond outlen");
        assert_eq!(SSL_SESSION_set1_master_key(s, key.as_ptr(), 48), 1);
        assert_eq!(SSL_SESSION_get_master_key(s, null_mut(), 0), 48);
        assert_eq!(SSL_SESSION_set1_master_key(s, null(), 0), 1);
        assert_eq!(SSL_SESSION_get_master_key(s, null_mut(), 0), 0);
        SSL_SESSION_free(s);
    }
}

#[test]
fn driver_with_null_and_bad_lengths() {
    let c = ctx();
    let buf = [1u8; 33];
    // SAFETY: every pointer is NULL, live, or valid for the stated length.
    unsafe {
        assert_eq!(sesscache_handshake_start(null_mut()), 0);
        assert_eq!(sesscache_server_lookup(null_mut(), buf.as_ptr(), 32), -1);
        assert_eq!(sesscache_server_new_session(null_mut()), 0);
        assert_eq!(sesscache_handshake_done(null_mut()), 0);
        let ssl = SSL_new(c);
        assert_eq!(sesscache_handshake(null_mut(), ssl), 0);
        assert_eq!(sesscache_handshake(ssl, null_mut()), 0);
        assert_eq!(sesscache_handshake(ssl, ssl), 0);
        assert_eq!(sesscache_handshake_start(ssl), 1);
        assert_eq!(sesscache_server_lookup(ssl, null(), 5), -1);
        assert_eq!(sesscache_server_lookup(ssl, buf.as_ptr(), 33), -1);
        assert_eq!(sesscache_server_lookup(ssl, null(), 0), 0, "an empty id is not looked up");
        assert_eq!(SSL_CTX_sess_misses(c), 0);
        assert_eq!(sesscache_server_lookup(ssl, buf.as_ptr(), 32), 0);
        assert_eq!(SSL_CTX_sess_misses(c), 1);
        assert_eq!(SSL_CTX_sess_accept(c), 1);
        SSL_free(ssl);
        SSL_CTX_free(c);
    }
}

/// The Redis tier's exports: NULLs, bad URLs, bad key lengths and files answer 0 (or -1) and
/// change nothing; good arguments do not contact Redis.
#[test]
#[cfg(feature = "redis")]
fn redis_tier_with_null_and_bad_arguments() {
    use sesscache::ffi::redis::*;
    let c = ctx();
    let url = c"redis://127.0.0.1:1/0";
    let tls_url = c"rediss://127.0.0.1:1/0";
    let missing = c"/nonexistent/sesscache-test.pem";
    let key = [7u8; 64];
    // SAFETY: NULL, a live context and NUL-terminated strings, as each call's contract allows.
    unsafe {
        assert_eq!(sesscache_redis_attach(null_mut(), url.as_ptr(), 50), 0);
        assert_eq!(sesscache_redis_attach(c, null(), 50), 0);
        assert_eq!(sesscache_redis_attach(c, c"http://127.0.0.1/".as_ptr(), 50), 0);
        assert_eq!(sesscache_redis_attach(c, c"rediss://127.0.0.1:1/0#insecure".as_ptr(), 50), 0);
        assert_eq!(sesscache_redis_stat(c, SESSCACHE_REDIS_HITS), -1, "nothing attached");
        assert_eq!(sesscache_redis_attach_tls(null_mut(), tls_url.as_ptr(), 50, null(), null(), null()), 0);
        assert_eq!(sesscache_redis_attach_tls(c, null(), 50, null(), null(), null()), 0);
        assert_eq!(sesscache_redis_attach_tls(c, url.as_ptr(), 50, null(), null(), null()), 0, "not rediss://");
        assert_eq!(sesscache_redis_attach_tls(c, tls_url.as_ptr(), 50, missing.as_ptr(), null(), null()), 0);
        assert_eq!(sesscache_redis_attach_tls(c, tls_url.as_ptr(), 50, null(), missing.as_ptr(), null()), 0);
        assert_eq!(sesscache_redis_attach_tls(c, tls_url.as_ptr(), 50, null(), null(), missing.as_ptr()), 0);
        assert_eq!(sesscache_redis_stat(c, SESSCACHE_REDIS_HITS), -1, "still nothing attached");
        assert_eq!(sesscache_redis_seal(null_mut(), key.as_ptr(), 32), 0);
        assert_eq!(sesscache_redis_seal(c, null(), 32), 0);
        assert_eq!(sesscache_redis_seal(c, null(), 0), 0);
        assert_eq!(sesscache_redis_seal(c, key.as_ptr(), 0), 0);
        assert_eq!(sesscache_redis_seal(c, key.as_ptr(), 31), 0);
        assert_eq!(sesscache_redis_seal(c, key.as_ptr(), 64), 0, "the same key twice");
        assert_eq!(sesscache_redis_seal(c, key.as_ptr(), usize::MAX), 0, "oversized: not read");
        assert_eq!(sesscache_redis_seal(c, [0u8; 32].as_ptr(), 32), 0, "an all-zero key");
        assert_eq!(sesscache_redis_seal(c, key.as_ptr(), 32), 1);
        assert_eq!(sesscache_redis_seal_file(null_mut(), missing.as_ptr()), 0);
        assert_eq!(sesscache_redis_seal_file(c, null()), 0);
        assert_eq!(sesscache_redis_seal_file(c, missing.as_ptr()), 0);
        assert_eq!(sesscache_redis_attach(c, url.as_ptr(), -5), 1, "a negative timeout is the default");
        assert_eq!(sesscache_redis_stat(c, SESSCACHE_REDIS_HITS), 0);
        assert_eq!(sesscache_redis_stat(c, -1), -1);
        assert_eq!(sesscache_redis_stat(c, 9), 0, "refreshes, the last counter");
        assert_eq!(sesscache_redis_stat(c, 10), -1);
        assert_eq!(sesscache_redis_stat(null(), 0), -1);
        SSL_CTX_free(c);
    }
}
