//! The preload's lowest layer, and the only one that calls C or trusts a pointer: the
//! entry points' shape, the real libssl functions and which libssl a call comes from, the
//! `SSL_CTX`, `SSL` and `SSL_SESSION` pointers the host hands over, the host's callbacks, the
//! ex_data slots that hang our state on libssl's objects, and [`session::LibSession`], the
//! core's `Cacheable` over a libssl session. The layers above are safe Rust working with the
//! `Copy` wrappers here (the exports turn C's arguments into them).
//!
//! Inside, each module imports only those listed before it: `libssl` (types and functions),
//! `loader` (which libssl), `objects` (`SSL_CTX`, `SSL`, ex_data), `session` (`LibSession`, the
//! host's callbacks); `entry` stands apart (a macro for the exports), and so does `process`
//! (signals, pipes, fork handlers and a shared page, for the statistics writer).

use std::ffi::c_int;

pub mod entry;
pub mod libssl;
pub mod loader;
pub mod objects;
pub mod process;
pub mod session;

// Runs `f`, returning `fail` if it panics: no panic unwinds into the host. The main crate's
// panic boundary (`sesscache::guard`, built without the `capi` feature too).
pub use sesscache::guard::catch as guard;

/// Borrows `len` bytes at `p` (a session id from libssl or the host).
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes for the returned lifetime.
pub unsafe fn bytes<'a>(p: *const u8, len: usize) -> Option<&'a [u8]> {
    if p.is_null() {
        return (len == 0).then_some(&[]);
    }
    // SAFETY: the caller's contract.
    Some(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Writes `msg` to stderr with one `write(2)`, so concurrent lines do not interleave.
pub fn stderr_line(msg: &str) {
    let mut line = String::with_capacity(msg.len() + 1);
    line.push_str(msg);
    line.push('\n');
    // SAFETY: writes from a valid buffer of that length; a short or failed write is ignored.
    unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
}

/// Registers `f` to run at process exit.
pub fn at_exit(f: extern "C" fn()) {
    // SAFETY: f is a plain function that stays loaded (the preload is never unloaded).
    unsafe { libc::atexit(f) };
}

/// The process id, for logs.
pub fn pid() -> u32 {
    std::process::id()
}

/// Stores `v` through an `int *` libssl handed over (a get callback's `copy`); NULL is skipped.
///
/// # Safety
/// `p` is NULL or a valid, writable `int`.
pub unsafe fn store_int(p: *mut c_int, v: c_int) {
    if !p.is_null() {
        // SAFETY: the caller's contract.
        unsafe { *p = v };
    }
}
