//! libssl's types as the preload sees them (opaque), the callback types, and [`Real`]: the
//! functions of one loaded libssl (with its libcrypto), each declared once below. A declaration
//! makes the table's field, its lookup by name in that libssl's own scope, a stand-in returning
//! the failure value when the name is missing, and a method that calls it.
#![allow(non_camel_case_types, non_snake_case, clippy::upper_case_acronyms)]

use std::ffi::{c_char, c_int, c_long, c_uint, c_void, CStr};
use std::ptr;

macro_rules! opaque {
    ($($name:ident),*) => {$(
        /// A libssl/libcrypto type, opaque to us.
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}
opaque!(SSL_CTX, SSL, SSL_SESSION, SSL_METHOD, OSSL_LIB_CTX, CRYPTO_EX_DATA);

/// `int (*new_session_cb)(SSL *, SSL_SESSION *)`.
pub type NewCb = unsafe extern "C" fn(*mut SSL, *mut SSL_SESSION) -> c_int;
/// `void (*remove_session_cb)(SSL_CTX *, SSL_SESSION *)`.
pub type RemoveCb = unsafe extern "C" fn(*mut SSL_CTX, *mut SSL_SESSION);
/// `SSL_SESSION *(*get_session_cb)(SSL *, const unsigned char *, int, int *)`.
pub type GetCb = unsafe extern "C" fn(*mut SSL, *const u8, c_int, *mut c_int) -> *mut SSL_SESSION;
/// `CRYPTO_EX_free`.
pub type ExFree = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut CRYPTO_EX_DATA, c_int, c_long, *mut c_void);
/// `CRYPTO_EX_dup`.
pub type ExDup = unsafe extern "C" fn(
    *mut CRYPTO_EX_DATA,
    *const CRYPTO_EX_DATA,
    *mut *mut c_void,
    c_int,
    c_long,
    *mut c_void,
) -> c_int;

/// `CRYPTO_EX_INDEX_SSL`.
pub const EX_INDEX_SSL: c_int = 0;
/// `CRYPTO_EX_INDEX_SSL_CTX`.
pub const EX_INDEX_SSL_CTX: c_int = 1;

/// Looks `name` (NUL-terminated) up in `handle`'s scope with `dlsym`.
///
/// # Safety
/// `handle` is a handle from `dlopen` that is still open.
unsafe fn lookup(handle: *mut c_void, name: &str) -> Option<*mut c_void> {
    let name = CStr::from_bytes_with_nul(name.as_bytes()).ok()?;
    // SAFETY: an open handle and a NUL-terminated name.
    let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
    (!p.is_null()).then_some(p)
}

macro_rules! functions {
    ($( $name:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)? = $fail:expr ; )*) => {
        /// The functions of one libssl and its libcrypto, as that library defines them.
        pub struct Real {
            $( $name: unsafe extern "C" fn($($ty),*) $(-> $ret)?, )*
        }

        impl Real {
            /// Every function, looked up in `handle`'s scope (the library and its
            /// dependencies), and the names that were not found: those are replaced by a
            /// stand-in that returns the failure value.
            ///
            /// # Safety
            /// `handle` is an open `dlopen` handle of a libssl, whose functions have the
            /// prototypes of OpenSSL 3.0's `<openssl/ssl.h>` and `<openssl/crypto.h>`.
            pub(super) unsafe fn resolve(handle: *mut c_void) -> (Real, Vec<&'static str>) {
                let mut missing = Vec::new();
                let real = Real {
                    $( $name: {
                        unsafe extern "C" fn stand_in($(_: $ty),*) $(-> $ret)? {
                            $fail
                        }
                        // SAFETY: the caller's contract.
                        match unsafe { lookup(handle, concat!(stringify!($name), "\0")) } {
                            // SAFETY: the library defines the function with this prototype.
                            Some(p) => unsafe {
                                std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($ty),*) $(-> $ret)?>(p)
                            },
                            None => {
                                missing.push(stringify!($name));
                                stand_in
                            }
                        }
                    }, )*
                };
                (real, missing)
            }

            $(
                #[doc = concat!("`", stringify!($name), "` of this libssl.")]
                ///
                /// # Safety
                /// The arguments meet libssl's contract for this function.
                #[inline]
                pub unsafe fn $name(&self, $($arg: $ty),*) $(-> $ret)? {
                    // SAFETY: the caller's contract.
                    unsafe { (self.$name)($($arg),*) }
                }
            )*
        }
    };
}

functions! {
    SSL_CTX_new(meth: *const SSL_METHOD) -> *mut SSL_CTX = ptr::null_mut();
    SSL_CTX_new_ex(libctx: *mut OSSL_LIB_CTX, propq: *const c_char, meth: *const SSL_METHOD) -> *mut SSL_CTX =
        ptr::null_mut();
    SSL_CTX_ctrl(ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long = 0;
    SSL_CTX_set_timeout(ctx: *mut SSL_CTX, t: c_long) -> c_long = 0;
    SSL_CTX_get_timeout(ctx: *const SSL_CTX) -> c_long = 0;
    SSL_CTX_add_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int = 0;
    SSL_CTX_remove_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int = 0;
    SSL_CTX_flush_sessions(ctx: *mut SSL_CTX, t: c_long) = ();
    SSL_CTX_sess_set_new_cb(ctx: *mut SSL_CTX, cb: Option<NewCb>) = ();
    SSL_CTX_sess_get_new_cb(ctx: *mut SSL_CTX) -> Option<NewCb> = None;
    SSL_CTX_sess_set_remove_cb(ctx: *mut SSL_CTX, cb: Option<RemoveCb>) = ();
    SSL_CTX_sess_get_remove_cb(ctx: *mut SSL_CTX) -> Option<RemoveCb> = None;
    SSL_CTX_sess_set_get_cb(ctx: *mut SSL_CTX, cb: Option<GetCb>) = ();
    SSL_CTX_sess_get_get_cb(ctx: *mut SSL_CTX) -> Option<GetCb> = None;
    SSL_CTX_get_ex_data(ctx: *const SSL_CTX, idx: c_int) -> *mut c_void = ptr::null_mut();
    SSL_CTX_set_ex_data(ctx: *mut SSL_CTX, idx: c_int, data: *mut c_void) -> c_int = 0;
    SSL_CTX_set_session_id_context(ctx: *mut SSL_CTX, sid_ctx: *const u8, len: c_uint) -> c_int = 0;
    SSL_set_session_id_context(ssl: *mut SSL, sid_ctx: *const u8, len: c_uint) -> c_int = 0;
    SSL_has_matching_session_id(ssl: *const SSL, id: *const u8, len: c_uint) -> c_int = 0;
    SSL_new(ctx: *mut SSL_CTX) -> *mut SSL = ptr::null_mut();
    SSL_version(ssl: *const SSL) -> c_int = 0;
    SSL_is_server(ssl: *const SSL) -> c_int = 0;
    SSL_get_options(ssl: *const SSL) -> u64 = 0;
    SSL_get_max_early_data(ssl: *const SSL) -> u32 = 0;
    SSL_get_SSL_CTX(ssl: *const SSL) -> *mut SSL_CTX = ptr::null_mut();
    SSL_get_ex_data(ssl: *const SSL, idx: c_int) -> *mut c_void = ptr::null_mut();
    SSL_set_ex_data(ssl: *mut SSL, idx: c_int, data: *mut c_void) -> c_int = 0;
    SSL_SESSION_up_ref(s: *mut SSL_SESSION) -> c_int = 0;
    SSL_SESSION_free(s: *mut SSL_SESSION) = ();
    SSL_SESSION_get_id(s: *const SSL_SESSION, len: *mut c_uint) -> *const u8 = ptr::null();
    SSL_SESSION_get_protocol_version(s: *const SSL_SESSION) -> c_int = 0;
    SSL_SESSION_get_time(s: *const SSL_SESSION) -> c_long = 0;
    SSL_SESSION_get_timeout(s: *const SSL_SESSION) -> c_long = 0;
    SSL_SESSION_set_time(s: *mut SSL_SESSION, t: c_long) -> c_long = 0;
    SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long = 0;
    SSL_SESSION_is_resumable(s: *const SSL_SESSION) -> c_int = 0;
    SSL_SESSION_has_ticket(s: *const SSL_SESSION) -> c_int = 0;
    SSL_SESSION_get0_id_context(s: *const SSL_SESSION, len: *mut c_uint) -> *const u8 = ptr::null();
    i2d_SSL_SESSION(s: *const SSL_SESSION, out: *mut *mut u8) -> c_int = 0;
    d2i_SSL_SESSION(a: *mut *mut SSL_SESSION, pp: *mut *const u8, len: c_long) -> *mut SSL_SESSION = ptr::null_mut();
    TLS_method() -> *const SSL_METHOD = ptr::null();
    CRYPTO_get_ex_data(ad: *const CRYPTO_EX_DATA, idx: c_int) -> *mut c_void = ptr::null_mut();
    CRYPTO_get_ex_new_index(
        class: c_int,
        argl: c_long,
        argp: *mut c_void,
        new: *mut c_void,
        dup: *mut c_void,
        free: Option<ExFree>
    ) -> c_int = -1;
    ERR_set_mark() -> c_int = 0;
    ERR_pop_to_mark() -> c_int = 0;
}
