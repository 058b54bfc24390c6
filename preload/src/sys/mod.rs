//! Every raw pointer of the preload library lives here: the real libssl functions, the
//! `SSL_CTX`, `SSL` and `SSL_SESSION` pointers the host hands over, the host's callbacks, the
//! ex_data slots that hang our state on libssl's objects, and [`session::LibSession`], the
//! core's `Handle` over a libssl session. The rest of the crate is safe Rust working with the
//! `Copy` wrappers here.

use std::ffi::c_int;

pub mod libssl;
pub mod objects;
pub mod session;

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
