//! `SSL_CIPHER`: a cipher suite, as a pointer to an entry of a static table of the TLS 1.2 and
//! TLS 1.3 suites OpenSSL 3.0 knows.

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_uchar};

use once_cell::sync::Lazy;

use crate::core::cipher::{self, Cipher, CIPHERS};

use super::handle;
use super::types::{SSL, SSL_SESSION};
use crate::guard::guard;

/// The C name of [`Cipher`]: always a pointer into a static table, never freed.
pub type SSL_CIPHER = Cipher;

/// What `SSL_CIPHER_get_name(NULL)` returns, as in OpenSSL.
static NONE_NAME: &std::ffi::CStr = c"(NONE)";

/// The table's names as C strings, in table order.
static NAMES: Lazy<Vec<CString>> =
    Lazy::new(|| CIPHERS.iter().map(|c| CString::new(c.name).unwrap_or_default()).collect());

/// Returns the suite whose 2-byte wire code is at `ptr` (`ptr[0]` high byte), or NULL when the
/// code is unknown or `ptr` is NULL. The result is static: never freed, valid for the life of
/// the process. `ssl` is not used and may be NULL (OpenSSL 3.0 requires a live `SSL`).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CIPHER_find(ssl: *mut SSL, ptr: *const c_uchar) -> *const SSL_CIPHER {
    // divergence: OpenSSL 3.0 dereferences `ssl`; the table is the same for every method.
    let _ = ssl;
    guard(std::ptr::null(), || {
        // SAFETY: a non-NULL `ptr` points to the 2 bytes of a cipher code.
        let code = unsafe { handle::bytes(ptr, 2, 2) }?;
        cipher::find_by_code(code[0], code[1]).map(handle::cipher_ptr)
    })
}

/// Returns the suite's id, `0x0300XXXX` with XXXX its wire code, or 0 for NULL or a pointer
/// that is not one of this library's `SSL_CIPHER`s (OpenSSL 3.0 crashes on NULL).
///
/// Thread-safe (ciphers are immutable statics).
#[unsafe(no_mangle)]
pub extern "C" fn SSL_CIPHER_get_id(c: *const SSL_CIPHER) -> u32 {
    // divergence: OpenSSL 3.0 crashes on NULL; 0 is the failure value here.
    handle::cipher(c).map_or(0, |c| c.id)
}

/// Returns the suite's OpenSSL name (e.g. "ECDHE-RSA-AES128-GCM-SHA256"), a static string, or
/// "(NONE)" for NULL or a pointer that is not one of this library's `SSL_CIPHER`s (OpenSSL
/// answers "(NONE)" for NULL). Never NULL.
///
/// Thread-safe (ciphers are immutable statics).
#[unsafe(no_mangle)]
pub extern "C" fn SSL_CIPHER_get_name(c: *const SSL_CIPHER) -> *const c_char {
    guard(NONE_NAME.as_ptr(), || {
        let c = handle::cipher(c)?;
        let i = CIPHERS.binary_search_by_key(&c.id, |x| x.id).ok()?;
        NAMES.get(i).map(|n| n.as_ptr())
    })
}

/// Sets the session's cipher. Returns 1; 0 when `s` is NULL or `cipher` is not NULL and not
/// one of this library's `SSL_CIPHER`s. A NULL `cipher` clears it, so that `i2d_SSL_SESSION`
/// then writes nothing (OpenSSL keeps encoding the id of a decoded session's cipher).
///
/// Thread-safe (the session's fields are behind its own lock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_set_cipher(s: *mut SSL_SESSION, cipher: *const SSL_CIPHER) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        // divergence: NULL clears the one cipher field, so a decoded session loses its id too.
        let id = if cipher.is_null() { 0 } else { handle::cipher(cipher)?.id };
        s.update(|f| f.cipher_id = id);
        Some(1)
    })
}

/// Returns the session's cipher (static, never freed), or NULL when it has none or `s` is NULL.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_SESSION_get0_cipher(s: *const SSL_SESSION) -> *const SSL_CIPHER {
    guard(std::ptr::null(), || {
        // SAFETY: the caller holds a reference on a non-NULL `s`.
        let s = unsafe { handle::session(s) }?;
        cipher::find_by_id(s.read(|f| f.cipher_id)).map(handle::cipher_ptr)
    })
}
