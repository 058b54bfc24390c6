//! Helpers shared by the FFI test binaries: reference counts, a live-session leak check and
//! session/context constructors that go through the exported functions.
#![allow(dead_code)]

use std::mem::ManuallyDrop;
use std::os::raw::c_long;
use std::sync::{Arc, Mutex, MutexGuard};

use sesscache::abi::TLS1_2_VERSION;
use sesscache::ffi::driver::sesscache_live_sessions;
use sesscache::ffi::method::TLS_server_method;
use sesscache::ffi::ssl_ctx::{SSL_CTX_new, SSL_CTX};
use sesscache::ffi::ssl_session::*;

/// `sesscache_live_sessions` counts every session of the process, and the tests of one binary
/// run on parallel threads: tests that compare it take this lock.
static SERIAL: Mutex<()> = Mutex::new(());

/// A leak check: remembers the live-session count while holding the lock.
pub struct Leaks {
    base: c_long,
    _serial: MutexGuard<'static, ()>,
}

impl Leaks {
    pub fn start() -> Leaks {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        Leaks { base: sesscache_live_sessions(), _serial: serial }
    }

    /// Sessions created and not yet freed since `start`.
    pub fn delta(&self) -> c_long {
        sesscache_live_sessions() - self.base
    }

    /// Fails unless every session created since `start` was freed.
    pub fn check(self) {
        assert_eq!(self.delta(), 0, "sessions leaked (or were freed twice)");
    }
}

/// The reference count of a session pointer (an `Arc<Session>` given to C).
pub fn refs(p: *const SSL_SESSION) -> usize {
    assert!(!p.is_null());
    // SAFETY: `p` is a live session of this library; ManuallyDrop leaves the count alone.
    let a = ManuallyDrop::new(unsafe { Arc::from_raw(p) });
    Arc::strong_count(&a)
}

/// A TLS 1.2 session with a 32-byte id of `id` bytes and the given timeout, one reference.
pub fn session(id: u8, timeout: c_long) -> *mut SSL_SESSION {
    let s = SSL_SESSION_new();
    assert!(!s.is_null());
    // SAFETY: `s` is live and we own its reference; the id buffer has 32 bytes.
    unsafe {
        assert_eq!(SSL_SESSION_set1_id(s, [id; 32].as_ptr(), 32), 1);
        assert_eq!(SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION), 1);
        assert_eq!(SSL_SESSION_set_timeout(s, timeout), 1);
    }
    s
}

/// A server context with one reference.
pub fn ctx() -> *mut SSL_CTX {
    // SAFETY: the method is a static of this library.
    let c = unsafe { SSL_CTX_new(TLS_server_method()) };
    assert!(!c.is_null());
    c
}

/// Frees sessions (one reference each).
pub fn free_all(ss: &[*mut SSL_SESSION]) {
    for &s in ss {
        // SAFETY: the caller owns one reference on each.
        unsafe { SSL_SESSION_free(s) };
    }
}
