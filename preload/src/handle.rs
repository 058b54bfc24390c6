//! Every raw pointer of the preload library lives here: the real libssl functions found with
//! `dlsym(RTLD_NEXT, …)`, the `SSL_CTX`, `SSL` and `SSL_SESSION` pointers the host hands over,
//! the host's callbacks, the ex_data slots that hang our state on libssl's objects, and
//! [`LibSession`], the core's [`Handle`] over a libssl session.
//!
//! The rest of the crate is safe Rust working with the `Copy` wrappers below.
#![allow(non_camel_case_types, clippy::upper_case_acronyms)]

use std::ffi::{c_char, c_int, c_long, c_uint, c_void, CStr};
use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use once_cell::sync::OnceCell;
use sesscache::core::entry::Cacheable as Handle;
use sesscache::core::key::{Bytes32, SessionKey, MAX_ID_LENGTH};
use sesscache::core::time::Expiry;

use crate::state::PCtx;

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
type ExFree = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut CRYPTO_EX_DATA, c_int, c_long, *mut c_void);
/// `CRYPTO_EX_dup`.
type ExDup = unsafe extern "C" fn(
    *mut CRYPTO_EX_DATA,
    *const CRYPTO_EX_DATA,
    *mut *mut c_void,
    c_int,
    c_long,
    *mut c_void,
) -> c_int;

/// `CRYPTO_EX_INDEX_SSL`.
const EX_INDEX_SSL: c_int = 0;
/// `CRYPTO_EX_INDEX_SSL_CTX`.
const EX_INDEX_SSL_CTX: c_int = 1;

/// The real libssl/libcrypto functions, looked up once.
pub struct Real {
    ctx_new_ex: unsafe extern "C" fn(*mut OSSL_LIB_CTX, *const c_char, *const SSL_METHOD) -> *mut SSL_CTX,
    ctx_ctrl: unsafe extern "C" fn(*mut SSL_CTX, c_int, c_long, *mut c_void) -> c_long,
    ctx_set_timeout: unsafe extern "C" fn(*mut SSL_CTX, c_long) -> c_long,
    ctx_get_timeout: unsafe extern "C" fn(*const SSL_CTX) -> c_long,
    ctx_add_session: unsafe extern "C" fn(*mut SSL_CTX, *mut SSL_SESSION) -> c_int,
    ctx_remove_session: unsafe extern "C" fn(*mut SSL_CTX, *mut SSL_SESSION) -> c_int,
    ctx_flush_sessions: unsafe extern "C" fn(*mut SSL_CTX, c_long),
    ctx_set_new_cb: unsafe extern "C" fn(*mut SSL_CTX, Option<NewCb>),
    ctx_get_new_cb: unsafe extern "C" fn(*mut SSL_CTX) -> Option<NewCb>,
    ctx_set_remove_cb: unsafe extern "C" fn(*mut SSL_CTX, Option<RemoveCb>),
    ctx_get_remove_cb: unsafe extern "C" fn(*mut SSL_CTX) -> Option<RemoveCb>,
    ctx_set_get_cb: unsafe extern "C" fn(*mut SSL_CTX, Option<GetCb>),
    ctx_get_get_cb: unsafe extern "C" fn(*mut SSL_CTX) -> Option<GetCb>,
    ctx_get_ex_data: unsafe extern "C" fn(*const SSL_CTX, c_int) -> *mut c_void,
    ctx_set_ex_data: unsafe extern "C" fn(*mut SSL_CTX, c_int, *mut c_void) -> c_int,
    ctx_set_sid_ctx: unsafe extern "C" fn(*mut SSL_CTX, *const u8, c_uint) -> c_int,
    ssl_set_sid_ctx: unsafe extern "C" fn(*mut SSL, *const u8, c_uint) -> c_int,
    has_matching_session_id: unsafe extern "C" fn(*const SSL, *const u8, c_uint) -> c_int,
    ssl_new: unsafe extern "C" fn(*mut SSL_CTX) -> *mut SSL,
    ssl_version: unsafe extern "C" fn(*const SSL) -> c_int,
    ssl_is_server: unsafe extern "C" fn(*const SSL) -> c_int,
    ssl_get_options: unsafe extern "C" fn(*const SSL) -> u64,
    ssl_get_max_early_data: unsafe extern "C" fn(*const SSL) -> u32,
    ssl_get_ssl_ctx: unsafe extern "C" fn(*const SSL) -> *mut SSL_CTX,
    ssl_get_ex_data: unsafe extern "C" fn(*const SSL, c_int) -> *mut c_void,
    ssl_set_ex_data: unsafe extern "C" fn(*mut SSL, c_int, *mut c_void) -> c_int,
    sess_up_ref: unsafe extern "C" fn(*mut SSL_SESSION) -> c_int,
    sess_free: unsafe extern "C" fn(*mut SSL_SESSION),
    sess_get_id: unsafe extern "C" fn(*const SSL_SESSION, *mut c_uint) -> *const u8,
    sess_get_version: unsafe extern "C" fn(*const SSL_SESSION) -> c_int,
    sess_get_time: unsafe extern "C" fn(*const SSL_SESSION) -> c_long,
    sess_get_timeout: unsafe extern "C" fn(*const SSL_SESSION) -> c_long,
    sess_set_time: unsafe extern "C" fn(*mut SSL_SESSION, c_long) -> c_long,
    sess_set_timeout: unsafe extern "C" fn(*mut SSL_SESSION, c_long) -> c_long,
    sess_is_resumable: unsafe extern "C" fn(*const SSL_SESSION) -> c_int,
    sess_has_ticket: unsafe extern "C" fn(*const SSL_SESSION) -> c_int,
    sess_get0_sid_ctx: unsafe extern "C" fn(*const SSL_SESSION, *mut c_uint) -> *const u8,
    i2d_session: unsafe extern "C" fn(*const SSL_SESSION, *mut *mut u8) -> c_int,
    d2i_session: unsafe extern "C" fn(*mut *mut SSL_SESSION, *mut *const u8, c_long) -> *mut SSL_SESSION,
    crypto_get_ex_data: unsafe extern "C" fn(*const CRYPTO_EX_DATA, c_int) -> *mut c_void,
    tls_method: unsafe extern "C" fn() -> *const SSL_METHOD,
    get_ex_new_index:
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

/// Our ex_data slots on `SSL_CTX` (the context's state) and `SSL` (its session context).
struct Slots {
    ctx: c_int,
    ssl: c_int,
}

static SLOTS: OnceCell<Option<Slots>> = OnceCell::new();

fn slots(real: &Real) -> Option<&'static Slots> {
    SLOTS
        .get_or_init(|| {
            // SAFETY: the documented CRYPTO_get_ex_new_index call; ctx_state_free matches
            // CRYPTO_EX_free.
            let ctx = unsafe {
                (real.get_ex_new_index)(
                    EX_INDEX_SSL_CTX,
                    0,
                    ptr::null_mut(),
                    ptr::null_mut(),
                    ptr::null_mut(),
                    Some(ctx_state_free),
                )
            };
            // SAFETY: as above, without callbacks.
            let ssl = unsafe {
                (real.get_ex_new_index)(EX_INDEX_SSL, 0, ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), None)
            };
            (ctx >= 0 && ssl >= 0).then_some(Slots { ctx, ssl })
        })
        .as_ref()
}

/// The `SSL` ex_data slot that holds a connection's own session-id context (a
/// `Box<Bytes32>`), set by `SSL_set_session_id_context`. Allocated on first use, which only
/// fleet mode makes: without `SESSCACHE_REDIS` the preload takes one `SSL` index, as before.
static SID_CTX_SLOT: OnceCell<Option<c_int>> = OnceCell::new();

fn sid_ctx_slot(real: &Real) -> Option<c_int> {
    *SID_CTX_SLOT.get_or_init(|| {
        // SAFETY: the documented CRYPTO_get_ex_new_index call; the callbacks match CRYPTO_EX_dup
        // and CRYPTO_EX_free.
        let i = unsafe {
            (real.get_ex_new_index)(
                EX_INDEX_SSL,
                0,
                ptr::null_mut(),
                ptr::null_mut(),
                sid_ctx_dup as ExDup as *mut c_void,
                Some(sid_ctx_free),
            )
        };
        (i >= 0).then_some(i)
    })
}

/// Frees a connection's `Box<Bytes32>` when libssl frees the `SSL`.
unsafe extern "C" fn sid_ctx_free(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    if !ptr.is_null() {
        // SAFETY: the slot holds a Box<Bytes32> made by Ssl::set_own_sid_ctx, freed only here.
        drop(unsafe { Box::from_raw(ptr.cast::<Bytes32>()) });
    }
}

/// `SSL_dup` copies ex_data pointers: give the copy its own box (and free the one its own
/// `SSL_set_session_id_context` already put there), so each is freed once.
unsafe extern "C" fn sid_ctx_dup(
    to: *mut CRYPTO_EX_DATA,
    _from: *const CRYPTO_EX_DATA,
    from_d: *mut *mut c_void,
    idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) -> c_int {
    let Some(real) = real() else { return 0 };
    // SAFETY: libssl passes the copy's ex_data and the slot's value of the original.
    unsafe {
        let old = (real.crypto_get_ex_data)(to, idx);
        if !old.is_null() {
            drop(Box::from_raw(old.cast::<Bytes32>()));
        }
        if !from_d.is_null() && !(*from_d).is_null() {
            let copy = *(*from_d).cast::<Bytes32>();
            *from_d = Box::into_raw(Box::new(copy)).cast();
        }
    }
    1
}

/// Runs when libssl frees an `SSL_CTX`'s ex_data, after `SSL_CTX_free` flushed the cache
/// (through our `SSL_CTX_flush_sessions`): drops the context's state.
unsafe extern "C" fn ctx_state_free(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: ptr is the Arc<PCtx> that Ctx::attach_state stored in this slot, and libssl
    // calls this exactly once, when the SSL_CTX dies.
    let state = unsafe { Arc::from_raw(ptr.cast_const().cast::<PCtx>()) };
    crate::guard((), || state.freed());
}

/// An `SSL_CTX` the host owns. Valid while the host holds it, which covers every call into
/// us with it, and the lifetime of the state hung on it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ctx(NonNull<SSL_CTX>);

// SAFETY: an SSL_CTX is shared between threads by design; we only call libssl's thread-safe
// functions on it.
unsafe impl Send for Ctx {}
// SAFETY: as above.
unsafe impl Sync for Ctx {}

impl Ctx {
    /// # Safety
    /// `p` is NULL or a live `SSL_CTX` for as long as the returned value is used.
    pub unsafe fn from_raw(p: *mut SSL_CTX) -> Option<Ctx> {
        NonNull::new(p).map(Ctx)
    }

    /// The raw pointer, for the host's callbacks and for returning to C.
    pub fn as_ptr(self) -> *mut SSL_CTX {
        self.0.as_ptr()
    }

    /// Our state on this context, with a reference for the caller.
    pub fn state(self, real: &Real) -> Option<Arc<PCtx>> {
        let slots = slots(real)?;
        // SAFETY: a live SSL_CTX and an index we allocated.
        let p = unsafe { (real.ctx_get_ex_data)(self.as_ptr(), slots.ctx) };
        if p.is_null() {
            return None;
        }
        let p = p.cast_const().cast::<PCtx>();
        // SAFETY: the slot holds one strong count of an Arc<PCtx> until ctx_state_free, which
        // runs only when the context dies; the caller holds the context, so it is alive.
        unsafe {
            Arc::increment_strong_count(p);
            Some(Arc::from_raw(p))
        }
    }

    /// Hangs `state` on the context; false when the slot could not be set.
    pub fn attach_state(self, real: &Real, state: Arc<PCtx>) -> bool {
        let Some(slots) = slots(real) else { return false };
        let p = Arc::into_raw(state);
        // SAFETY: a live SSL_CTX and our index; ownership of one count moves into the slot.
        if unsafe { (real.ctx_set_ex_data)(self.as_ptr(), slots.ctx, p.cast_mut().cast()) } == 1 {
            return true;
        }
        // SAFETY: the slot did not take the count we made above.
        drop(unsafe { Arc::from_raw(p) });
        false
    }

    /// The real `SSL_CTX_ctrl`.
    pub fn ctrl(self, real: &Real, cmd: c_int, larg: c_long) -> c_long {
        // SAFETY: a live SSL_CTX; the session commands take no pointer argument.
        unsafe { (real.ctx_ctrl)(self.as_ptr(), cmd, larg, ptr::null_mut()) }
    }

    /// The real `SSL_CTX_set_timeout`.
    pub fn set_timeout(self, real: &Real, t: c_long) -> c_long {
        // SAFETY: a live SSL_CTX.
        unsafe { (real.ctx_set_timeout)(self.as_ptr(), t) }
    }

    /// The real `SSL_CTX_get_timeout`.
    pub fn timeout(self, real: &Real) -> c_long {
        // SAFETY: a live SSL_CTX.
        unsafe { (real.ctx_get_timeout)(self.as_ptr()) }
    }

    /// Installs our callbacks on the real context: its internal cache stays empty, and every
    /// lookup, store and removal reaches us.
    pub fn install_trampolines(self, real: &Real, get: GetCb, new: NewCb, remove: RemoveCb) {
        // SAFETY: a live SSL_CTX; the functions have the prototypes libssl expects.
        unsafe {
            (real.ctx_set_get_cb)(self.as_ptr(), Some(get));
            (real.ctx_set_new_cb)(self.as_ptr(), Some(new));
            (real.ctx_set_remove_cb)(self.as_ptr(), Some(remove));
        }
    }
}

/// An `SSL` the host owns, valid for the duration of the call that handed it over.
#[derive(Clone, Copy)]
pub struct Ssl(NonNull<SSL>);

impl Ssl {
    /// # Safety
    /// `p` is NULL or a live `SSL` for as long as the returned value is used.
    pub unsafe fn from_raw(p: *mut SSL) -> Option<Ssl> {
        NonNull::new(p).map(Ssl)
    }

    /// The raw pointer.
    pub fn as_ptr(self) -> *mut SSL {
        self.0.as_ptr()
    }

    /// `SSL_version`: the negotiated version, part of the cache key.
    pub fn version(self, real: &Real) -> i32 {
        // SAFETY: a live SSL.
        unsafe { (real.ssl_version)(self.as_ptr()) }
    }

    /// `SSL_is_server`.
    pub fn is_server(self, real: &Real) -> bool {
        // SAFETY: a live SSL.
        unsafe { (real.ssl_is_server)(self.as_ptr()) != 0 }
    }

    /// `SSL_get_options`.
    pub fn options(self, real: &Real) -> u64 {
        // SAFETY: a live SSL.
        unsafe { (real.ssl_get_options)(self.as_ptr()) }
    }

    /// `SSL_get_max_early_data`.
    pub fn max_early_data(self, real: &Real) -> u32 {
        // SAFETY: a live SSL.
        unsafe { (real.ssl_get_max_early_data)(self.as_ptr()) }
    }

    /// The context whose cache this connection uses (libssl's `session_ctx`): the one it was
    /// created with, recorded by our `SSL_new`; `SSL_get_SSL_CTX` for connections we did not
    /// see created. An SNI callback's `SSL_set_SSL_CTX` does not change it, as in libssl.
    pub fn session_ctx(self, real: &Real) -> Option<Ctx> {
        if let Some(slots) = slots(real) {
            // SAFETY: a live SSL and our index.
            let p = unsafe { (real.ssl_get_ex_data)(self.as_ptr(), slots.ssl) };
            if !p.is_null() {
                // SAFETY: an SSL holds a reference on the context it was created with.
                return unsafe { Ctx::from_raw(p.cast()) };
            }
        }
        // SAFETY: a live SSL; it holds a reference on its context.
        unsafe { Ctx::from_raw((real.ssl_get_ssl_ctx)(self.as_ptr())) }
    }

    /// `SSL_get_SSL_CTX`: the connection's current context (changed by `SSL_set_SSL_CTX`).
    pub fn current_ctx(self, real: &Real) -> Option<Ctx> {
        // SAFETY: a live SSL; it holds a reference on its context.
        unsafe { Ctx::from_raw((real.ssl_get_ssl_ctx)(self.as_ptr())) }
    }

    /// The session-id context set on this connection with `SSL_set_session_id_context`
    /// (recorded in fleet mode only), `None` when it has its context's.
    pub fn own_sid_ctx(self, real: &Real) -> Option<Bytes32> {
        let slot = (*SID_CTX_SLOT.get()?)?;
        // SAFETY: a live SSL and our index.
        let p = unsafe { (real.ssl_get_ex_data)(self.as_ptr(), slot) };
        // SAFETY: the slot is NULL or holds a Box<Bytes32> that lives as long as the SSL.
        (!p.is_null()).then(|| unsafe { *p.cast::<Bytes32>() })
    }

    /// Records `sid_ctx` as this connection's own session-id context.
    pub fn set_own_sid_ctx(self, real: &Real, sid_ctx: Bytes32) {
        let Some(slot) = sid_ctx_slot(real) else { return };
        // SAFETY: a live SSL and our index.
        let old = unsafe { (real.ssl_get_ex_data)(self.as_ptr(), slot) };
        let new = Box::into_raw(Box::new(sid_ctx));
        // SAFETY: as above; on success the slot owns `new` and `old` is ours to free.
        if unsafe { (real.ssl_set_ex_data)(self.as_ptr(), slot, new.cast()) } == 1 {
            if !old.is_null() {
                // SAFETY: the Box<Bytes32> the slot held; nothing else refers to it.
                drop(unsafe { Box::from_raw(old.cast::<Bytes32>()) });
            }
        } else {
            // SAFETY: the slot did not take it.
            drop(unsafe { Box::from_raw(new) });
        }
    }

    /// Records `ctx` as this connection's session context.
    pub fn set_session_ctx(self, real: &Real, ctx: Ctx) {
        if let Some(slots) = slots(real) {
            // SAFETY: a live SSL and our index; the value is a borrowed pointer.
            unsafe { (real.ssl_set_ex_data)(self.as_ptr(), slots.ssl, ctx.as_ptr().cast()) };
        }
    }
}

/// A counted reference to a libssl `SSL_SESSION`: `Clone` is `SSL_SESSION_up_ref`, `Drop` is
/// `SSL_SESSION_free`. The object is libssl's own; nothing is copied.
pub struct LibSession {
    p: NonNull<SSL_SESSION>,
    real: &'static Real,
}

// SAFETY: libssl's session reference count is atomic, and the accessors we call only read
// fields, as libssl's own cache does from any thread.
unsafe impl Send for LibSession {}
// SAFETY: as above.
unsafe impl Sync for LibSession {}

impl LibSession {
    /// Takes over one reference the caller owns.
    ///
    /// # Safety
    /// `p` is NULL or a live session on which the caller owns a reference it gives up.
    pub unsafe fn adopt(real: &'static Real, p: *mut SSL_SESSION) -> Option<LibSession> {
        NonNull::new(p).map(|p| LibSession { p, real })
    }

    /// A handle that borrows the caller's reference: it must not be dropped as a reference.
    ///
    /// # Safety
    /// `p` is NULL or a live session for as long as the returned value is used.
    pub unsafe fn borrow(real: &'static Real, p: *mut SSL_SESSION) -> Option<ManuallyDrop<LibSession>> {
        NonNull::new(p).map(|p| ManuallyDrop::new(LibSession { p, real }))
    }

    /// Takes a new reference on a borrowed session (a get callback's `*copy = 1`).
    ///
    /// # Safety
    /// `p` is NULL or a live session.
    pub unsafe fn up_ref(real: &'static Real, p: *mut SSL_SESSION) -> Option<LibSession> {
        // SAFETY: the caller's contract.
        let borrowed = unsafe { LibSession::borrow(real, p) }?;
        Some(LibSession::clone(&borrowed))
    }

    /// The raw pointer, still owned by this handle.
    pub fn as_ptr(&self) -> *mut SSL_SESSION {
        self.p.as_ptr()
    }

    /// Hands this handle's reference to C.
    pub fn into_raw(self) -> *mut SSL_SESSION {
        ManuallyDrop::new(self).p.as_ptr()
    }

    /// Decodes `der` with libssl's `d2i_SSL_SESSION`: a new session (one reference, ours) and
    /// the number of bytes it used; `None` when libssl rejects the bytes.
    pub fn from_der(real: &'static Real, der: &[u8]) -> Option<(LibSession, usize)> {
        let len = c_long::try_from(der.len()).ok()?;
        let start = der.as_ptr();
        let mut p = start;
        // SAFETY: d2i reads at most `len` bytes from `p` and advances it; a NULL `a` makes it
        // allocate the session, whose one reference it hands to us.
        let s = unsafe { (real.d2i_session)(ptr::null_mut(), &mut p, len) };
        // SAFETY: as above.
        let s = unsafe { LibSession::adopt(real, s) }?;
        let used = (p as usize).checked_sub(start as usize)?;
        Some((s, used))
    }

    /// The session's encoding by libssl's `i2d_SSL_SESSION`; `None` when libssl cannot encode it.
    pub fn to_der(&self) -> Option<Vec<u8>> {
        // SAFETY: a live session; a NULL output pointer asks for the length only.
        let n = unsafe { (self.real.i2d_session)(self.p.as_ptr(), ptr::null_mut()) };
        let n = usize::try_from(n).ok().filter(|&n| n > 0)?;
        let mut buf = vec![0u8; n];
        let mut out = buf.as_mut_ptr();
        // SAFETY: buf has the n bytes i2d said it writes.
        let m = unsafe { (self.real.i2d_session)(self.p.as_ptr(), &mut out) };
        (usize::try_from(m).ok() == Some(n)).then_some(buf)
    }

    /// `SSL_SESSION_get0_id_context`.
    pub fn sid_ctx(&self) -> Bytes32 {
        self.bytes32(self.real.sess_get0_sid_ctx)
    }

    /// Copies the (at most 32) bytes a libssl getter of the `get_id` shape points to.
    fn bytes32(&self, get: unsafe extern "C" fn(*const SSL_SESSION, *mut c_uint) -> *const u8) -> Bytes32 {
        let mut len: c_uint = 0;
        // SAFETY: a live session; the getter points into one of its 32-byte buffers.
        let p = unsafe { get(self.p.as_ptr(), &mut len) };
        if p.is_null() {
            return Bytes32::EMPTY;
        }
        let len = (len as usize).min(MAX_ID_LENGTH);
        // SAFETY: the buffer holds at least `len` (≤ 32) bytes.
        Bytes32::new(unsafe { std::slice::from_raw_parts(p, len) }).unwrap_or(Bytes32::EMPTY)
    }

    /// `SSL_SESSION_get_time` and `SSL_SESSION_get_timeout`, in seconds.
    pub fn time_and_timeout(&self) -> (i64, i64) {
        // SAFETY: a live session.
        unsafe {
            (
                i64::from((self.real.sess_get_time)(self.p.as_ptr())),
                i64::from((self.real.sess_get_timeout)(self.p.as_ptr())),
            )
        }
    }

    /// `SSL_SESSION_get_id`.
    pub fn id(&self) -> Bytes32 {
        self.bytes32(self.real.sess_get_id)
    }
}

impl Clone for LibSession {
    fn clone(&self) -> Self {
        // SAFETY: a live session, on which we hold a reference.
        unsafe { (self.real.sess_up_ref)(self.p.as_ptr()) };
        LibSession { p: self.p, real: self.real }
    }
}

impl Drop for LibSession {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { (self.real.sess_free)(self.p.as_ptr()) };
    }
}

impl Handle for LibSession {
    fn key(&self) -> SessionKey {
        // SAFETY: a live session.
        let version = unsafe { (self.real.sess_get_version)(self.p.as_ptr()) };
        SessionKey::new(version, self.id())
    }

    fn expiry(&self) -> Expiry {
        let (time, timeout) = self.time_and_timeout();
        Expiry::of(time, timeout)
    }

    fn same(&self, other: &Self) -> bool {
        self.p == other.p
    }

    /// libssl has no setter for `not_resumable`; its `SSL_CTX_remove_session` sets it on the
    /// argument. We call the real one on a private context that has an empty cache and no
    /// callbacks, so nothing else happens (and nothing re-enters us). Like OpenSSL, a session
    /// with an empty id is left as it is.
    fn mark_not_resumable(&self) {
        if let Some(marker) = marker_ctx(self.real) {
            // SAFETY: a live private SSL_CTX and a live session.
            unsafe { (self.real.ctx_remove_session)(marker.as_ptr(), self.p.as_ptr()) };
        }
    }

    /// `SSL_SESSION_is_resumable` is `!not_resumable && (id or ticket)`, so the flag is
    /// readable exactly when the session has an id or a ticket; otherwise it reads as clear.
    fn is_marked_not_resumable(&self) -> bool {
        // SAFETY: a live session.
        let (resumable, ticket) = unsafe {
            ((self.real.sess_is_resumable)(self.p.as_ptr()) != 0, (self.real.sess_has_ticket)(self.p.as_ptr()) != 0)
        };
        !resumable && (ticket || !self.id().is_empty())
    }

    fn attach(&self, listing: &std::sync::Arc<sesscache::core::cache::Listing<Self>>) {
        crate::owners::attach(self.p.as_ptr() as usize, listing);
    }

    fn detach(&self, listing: &sesscache::core::cache::Listing<Self>) {
        crate::owners::detach(self.p.as_ptr() as usize, listing);
    }

    fn stamp_time(&self, now: i64) {
        // SAFETY: a live session. libssl lists it in no cache, so this only stores the time.
        unsafe { (self.real.sess_set_time)(self.p.as_ptr(), now as c_long) };
    }
}

static MARKER: OnceCell<Option<Ctx>> = OnceCell::new();

/// The private context `mark_not_resumable` uses, made with the real `SSL_CTX_new_ex` so it
/// carries no state of ours. It lives as long as the process.
pub fn marker_ctx(real: &Real) -> Option<Ctx> {
    *MARKER.get_or_init(|| {
        // SAFETY: the real constructor with the default library context and TLS_method.
        unsafe { Ctx::from_raw((real.ctx_new_ex)(ptr::null_mut(), ptr::null(), (real.tls_method)())) }
    })
}

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

/// Calls the host's new-session callback, handing over the reference libssl took for it.
pub fn call_new(cb: NewCb, ssl: Ssl, s: &LibSession) -> c_int {
    // SAFETY: the host installed cb for exactly this call, with a live SSL and session.
    unsafe { cb(ssl.as_ptr(), s.as_ptr()) }
}

/// Calls the host's remove callback with a session it borrows for the call.
pub fn call_remove(cb: RemoveCb, ctx: Ctx, s: &LibSession) {
    // SAFETY: as above.
    unsafe { cb(ctx.as_ptr(), s.as_ptr()) }
}

/// Calls the host's get callback with OpenSSL's reference rule applied: `*copy` starts at 1;
/// 1 back means the session is lent (we take a reference), 0 that one was handed over.
pub fn call_get(real: &'static Real, cb: GetCb, ssl: Ssl, id: &[u8]) -> Option<LibSession> {
    let mut copy: c_int = 1;
    let len = c_int::try_from(id.len()).ok()?;
    // SAFETY: as above; id is readable for len bytes and copy is a valid int.
    let p = unsafe { cb(ssl.as_ptr(), id.as_ptr(), len, &mut copy) };
    if copy != 0 {
        // SAFETY: the session the callback returned is live; we take our own reference.
        unsafe { LibSession::up_ref(real, p) }
    } else {
        // SAFETY: the callback transferred one reference to us.
        unsafe { LibSession::adopt(real, p) }
    }
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
