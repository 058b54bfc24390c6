//! libssl's types as the preload sees them (opaque), the callback types, and [`Real`]: the
//! real libssl/libcrypto functions, found with `dlsym(RTLD_NEXT, …)`, with one forwarding
//! method for each function the preload also defines.
#![allow(non_camel_case_types, clippy::upper_case_acronyms)]

use std::ffi::{c_char, c_int, c_long, c_uint, c_void, CStr};

use once_cell::sync::OnceCell;

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

/// The real libssl/libcrypto functions, looked up once.
pub struct Real {
    pub(super) ctx_new_ex: unsafe extern "C" fn(*mut OSSL_LIB_CTX, *const c_char, *const SSL_METHOD) -> *mut SSL_CTX,
    pub(super) ctx_ctrl: unsafe extern "C" fn(*mut SSL_CTX, c_int, c_long, *mut c_void) -> c_long,
    pub(super) ctx_set_timeout: unsafe extern "C" fn(*mut SSL_CTX, c_long) -> c_long,
    pub(super) ctx_get_timeout: unsafe extern "C" fn(*const SSL_CTX) -> c_long,
    pub(super) ctx_add_session: unsafe extern "C" fn(*mut SSL_CTX, *mut SSL_SESSION) -> c_int,
    pub(super) ctx_remove_session: unsafe extern "C" fn(*mut SSL_CTX, *mut SSL_SESSION) -> c_int,
    pub(super) ctx_flush_sessions: unsafe extern "C" fn(*mut SSL_CTX, c_long),
    pub(super) ctx_set_new_cb: unsafe extern "C" fn(*mut SSL_CTX, Option<NewCb>),
    pub(super) ctx_get_new_cb: unsafe extern "C" fn(*mut SSL_CTX) -> Option<NewCb>,
    pub(super) ctx_set_remove_cb: unsafe extern "C" fn(*mut SSL_CTX, Option<RemoveCb>),
    pub(super) ctx_get_remove_cb: unsafe extern "C" fn(*mut SSL_CTX) -> Option<RemoveCb>,
    pub(super) ctx_set_get_cb: unsafe extern "C" fn(*mut SSL_CTX, Option<GetCb>),
    pub(super) ctx_get_get_cb: unsafe extern "C" fn(*mut SSL_CTX) -> Option<GetCb>,
    pub(super) ctx_get_ex_data: unsafe extern "C" fn(*const SSL_CTX, c_int) -> *mut c_void,
    pub(super) ctx_set_ex_data: unsafe extern "C" fn(*mut SSL_CTX, c_int, *mut c_void) -> c_int,
    pub(super) ctx_set_sid_ctx: unsafe extern "C" fn(*mut SSL_CTX, *const u8, c_uint) -> c_int,
    pub(super) ssl_set_sid_ctx: unsafe extern "C" fn(*mut SSL, *const u8, c_uint) -> c_int,
    pub(super) has_matching_session_id: unsafe extern "C" fn(*const SSL, *const u8, c_uint) -> c_int,
    pub(super) ssl_new: unsafe extern "C" fn(*mut SSL_CTX) -> *mut SSL,
    pub(super) ssl_version: unsafe extern "C" fn(*const SSL) -> c_int,
    pub(super) ssl_is_server: unsafe extern "C" fn(*const SSL) -> c_int,
    pub(super) ssl_get_options: unsafe extern "C" fn(*const SSL) -> u64,
    pub(super) ssl_get_max_early_data: unsafe extern "C" fn(*const SSL) -> u32,
    pub(super) ssl_get_ssl_ctx: unsafe extern "C" fn(*const SSL) -> *mut SSL_CTX,
    pub(super) ssl_get_ex_data: unsafe extern "C" fn(*const SSL, c_int) -> *mut c_void,
    pub(super) ssl_set_ex_data: unsafe extern "C" fn(*mut SSL, c_int, *mut c_void) -> c_int,
    pub(super) sess_up_ref: unsafe extern "C" fn(*mut SSL_SESSION) -> c_int,
    pub(super) sess_free: unsafe extern "C" fn(*mut SSL_SESSION),
    pub(super) sess_get_id: unsafe extern "C" fn(*const SSL_SESSION, *mut c_uint) -> *const u8,
    pub(super) sess_get_version: unsafe extern "C" fn(*const SSL_SESSION) -> c_int,
    pub(super) sess_get_time: unsafe extern "C" fn(*const SSL_SESSION) -> c_long,
    pub(super) sess_get_timeout: unsafe extern "C" fn(*const SSL_SESSION) -> c_long,
    pub(super) sess_set_time: unsafe extern "C" fn(*mut SSL_SESSION, c_long) -> c_long,
    pub(super) sess_set_timeout: unsafe extern "C" fn(*mut SSL_SESSION, c_long) -> c_long,
    pub(super) sess_is_resumable: unsafe extern "C" fn(*const SSL_SESSION) -> c_int,
    pub(super) sess_has_ticket: unsafe extern "C" fn(*const SSL_SESSION) -> c_int,
    pub(super) sess_get0_sid_ctx: unsafe extern "C" fn(*const SSL_SESSION, *mut c_uint) -> *const u8,
    pub(super) i2d_session: unsafe extern "C" fn(*const SSL_SESSION, *mut *mut u8) -> c_int,
    pub(super) d2i_session: unsafe extern "C" fn(*mut *mut SSL_SESSION, *mut *const u8, c_long) -> *mut SSL_SESSION,
    pub(super) crypto_get_ex_data: unsafe extern "C" fn(*const CRYPTO_EX_DATA, c_int) -> *mut c_void,
    pub(super) tls_method: unsafe extern "C" fn() -> *const SSL_METHOD,
    pub(super) get_ex_new_index:
        unsafe extern "C" fn(c_int, c_long, *mut c_void, *mut c_void, *mut c_void, Option<ExFree>) -> c_int,
}

/// Looks `name` up in the objects loaded after this one.
///
/// # Safety
/// `T` must be the function-pointer type of the C function called `name`.
unsafe fn next<T: Copy>(name: &CStr) -> Option<T> {
    // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT is valid in a shared object.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    if p.is_null() {
        return None;
    }
    debug_assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: the caller names the matching function-pointer type; p is non-null.
    Some(unsafe { std::mem::transmute_copy::<*mut c_void, T>(&p) })
}

macro_rules! resolve {
    ($($field:ident = $name:literal),* $(,)?) => {{
        // SAFETY: each field's type is the prototype of the named function in OpenSSL 3.0's
        // <openssl/ssl.h> or <openssl/crypto.h>.
        unsafe { Some(Real { $($field: next(CStr::from_bytes_with_nul(concat!($name, "\0").as_bytes()).ok()?)?,)* }) }
    }};
}

impl Real {
    fn load() -> Option<Real> {
        resolve!(
            ctx_new_ex = "SSL_CTX_new_ex",
            ctx_ctrl = "SSL_CTX_ctrl",
            ctx_set_timeout = "SSL_CTX_set_timeout",
            ctx_get_timeout = "SSL_CTX_get_timeout",
            ctx_add_session = "SSL_CTX_add_session",
            ctx_remove_session = "SSL_CTX_remove_session",
            ctx_flush_sessions = "SSL_CTX_flush_sessions",
            ctx_set_new_cb = "SSL_CTX_sess_set_new_cb",
            ctx_get_new_cb = "SSL_CTX_sess_get_new_cb",
            ctx_set_remove_cb = "SSL_CTX_sess_set_remove_cb",
            ctx_get_remove_cb = "SSL_CTX_sess_get_remove_cb",
            ctx_set_get_cb = "SSL_CTX_sess_set_get_cb",
            ctx_get_get_cb = "SSL_CTX_sess_get_get_cb",
            ctx_get_ex_data = "SSL_CTX_get_ex_data",
            ctx_set_ex_data = "SSL_CTX_set_ex_data",
            ctx_set_sid_ctx = "SSL_CTX_set_session_id_context",
            ssl_set_sid_ctx = "SSL_set_session_id_context",
            has_matching_session_id = "SSL_has_matching_session_id",
            ssl_new = "SSL_new",
            ssl_version = "SSL_version",
            ssl_is_server = "SSL_is_server",
            ssl_get_options = "SSL_get_options",
            ssl_get_max_early_data = "SSL_get_max_early_data",
            ssl_get_ssl_ctx = "SSL_get_SSL_CTX",
            ssl_get_ex_data = "SSL_get_ex_data",
            ssl_set_ex_data = "SSL_set_ex_data",
            sess_up_ref = "SSL_SESSION_up_ref",
            sess_free = "SSL_SESSION_free",
            sess_get_id = "SSL_SESSION_get_id",
            sess_get_version = "SSL_SESSION_get_protocol_version",
            sess_get_time = "SSL_SESSION_get_time",
            sess_get_timeout = "SSL_SESSION_get_timeout",
            sess_set_time = "SSL_SESSION_set_time",
            sess_set_timeout = "SSL_SESSION_set_timeout",
            sess_is_resumable = "SSL_SESSION_is_resumable",
            sess_has_ticket = "SSL_SESSION_has_ticket",
            sess_get0_sid_ctx = "SSL_SESSION_get0_id_context",
            i2d_session = "i2d_SSL_SESSION",
            d2i_session = "d2i_SSL_SESSION",
            crypto_get_ex_data = "CRYPTO_get_ex_data",
            tls_method = "TLS_method",
            get_ex_new_index = "CRYPTO_get_ex_new_index",
        )
    }
}

static REAL: OnceCell<Option<Real>> = OnceCell::new();

/// The real libssl, or `None` when the host did not load it (then nothing here is called).
pub fn real() -> Option<&'static Real> {
    REAL.get_or_init(Real::load).as_ref()
}

/// Forwarding to the real functions the preload also defines, for objects without state.
impl Real {
    /// The real `SSL_CTX_new_ex`.
    ///
    /// # Safety
    /// The arguments are what the host passed to `SSL_CTX_new_ex`.
    pub unsafe fn new_ctx(&self, l: *mut OSSL_LIB_CTX, q: *const c_char, m: *const SSL_METHOD) -> *mut SSL_CTX {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_new_ex)(l, q, m) }
    }

    /// The real `SSL_new`.
    ///
    /// # Safety
    /// `ctx` is what the host passed to `SSL_new`.
    pub unsafe fn new_ssl(&self, ctx: *mut SSL_CTX) -> *mut SSL {
        // SAFETY: the caller's contract.
        unsafe { (self.ssl_new)(ctx) }
    }

    /// The real `SSL_SESSION_set_time`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_set_time(&self, s: *mut SSL_SESSION, t: c_long) -> c_long {
        // SAFETY: the caller's contract.
        unsafe { (self.sess_set_time)(s, t) }
    }

    /// The real `SSL_SESSION_set_timeout`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_set_timeout_of(&self, s: *mut SSL_SESSION, t: c_long) -> c_long {
        // SAFETY: the caller's contract.
        unsafe { (self.sess_set_timeout)(s, t) }
    }

    /// The real `SSL_CTX_ctrl`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_ctrl(&self, ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_ctrl)(ctx, cmd, larg, parg) }
    }

    /// The real `SSL_CTX_set_timeout`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_set_timeout(&self, ctx: *mut SSL_CTX, t: c_long) -> c_long {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_set_timeout)(ctx, t) }
    }

    /// The real `SSL_CTX_get_timeout`.
    ///
    /// # Safety
    /// The argument is what the host passed.
    pub unsafe fn fwd_get_timeout(&self, ctx: *const SSL_CTX) -> c_long {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_get_timeout)(ctx) }
    }

    /// The real `SSL_CTX_add_session`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_add(&self, ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_add_session)(ctx, s) }
    }

    /// The real `SSL_CTX_remove_session`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_remove(&self, ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_remove_session)(ctx, s) }
    }

    /// The real `SSL_CTX_flush_sessions`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_flush(&self, ctx: *mut SSL_CTX, t: c_long) {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_flush_sessions)(ctx, t) }
    }

    /// The real `SSL_has_matching_session_id`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_has_matching(&self, s: *const SSL, id: *const u8, len: c_uint) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { (self.has_matching_session_id)(s, id, len) }
    }

    /// The real `SSL_CTX_set_session_id_context`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_ctx_set_sid_ctx(&self, ctx: *mut SSL_CTX, sid_ctx: *const u8, len: c_uint) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_set_sid_ctx)(ctx, sid_ctx, len) }
    }

    /// The real `SSL_set_session_id_context`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_ssl_set_sid_ctx(&self, ssl: *mut SSL, sid_ctx: *const u8, len: c_uint) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { (self.ssl_set_sid_ctx)(ssl, sid_ctx, len) }
    }

    /// The real `SSL_CTX_sess_set_new_cb`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_set_new_cb(&self, ctx: *mut SSL_CTX, cb: Option<NewCb>) {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_set_new_cb)(ctx, cb) }
    }

    /// The real `SSL_CTX_sess_get_new_cb`.
    ///
    /// # Safety
    /// The argument is what the host passed.
    pub unsafe fn fwd_get_new_cb(&self, ctx: *mut SSL_CTX) -> Option<NewCb> {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_get_new_cb)(ctx) }
    }

    /// The real `SSL_CTX_sess_set_remove_cb`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_set_remove_cb(&self, ctx: *mut SSL_CTX, cb: Option<RemoveCb>) {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_set_remove_cb)(ctx, cb) }
    }

    /// The real `SSL_CTX_sess_get_remove_cb`.
    ///
    /// # Safety
    /// The argument is what the host passed.
    pub unsafe fn fwd_get_remove_cb(&self, ctx: *mut SSL_CTX) -> Option<RemoveCb> {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_get_remove_cb)(ctx) }
    }

    /// The real `SSL_CTX_sess_set_get_cb`.
    ///
    /// # Safety
    /// The arguments are what the host passed.
    pub unsafe fn fwd_set_get_cb(&self, ctx: *mut SSL_CTX, cb: Option<GetCb>) {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_set_get_cb)(ctx, cb) }
    }

    /// The real `SSL_CTX_sess_get_get_cb`.
    ///
    /// # Safety
    /// The argument is what the host passed.
    pub unsafe fn fwd_get_get_cb(&self, ctx: *mut SSL_CTX) -> Option<GetCb> {
        // SAFETY: the caller's contract.
        unsafe { (self.ctx_get_get_cb)(ctx) }
    }
}
