//! libssl's objects as the preload holds them: [`Ctx`] and [`Ssl`], the ex_data slots that
//! hang the preload's state on them (each libssl has its own), and the private marker context.
//!
//! The state hung on a context is any [`CtxState`]: this layer does not know its type (the
//! layer above does), and checks it on every read.

use std::any::TypeId;
use std::ffi::{c_int, c_long, c_void};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use sesscache::core::key::Bytes32;

use super::libssl::{ExDup, GetCb, NewCb, RemoveCb, CRYPTO_EX_DATA, EX_INDEX_SSL, EX_INDEX_SSL_CTX, SSL, SSL_CTX};
use super::loader::{LibSsl, Slots};

/// The state the preload hangs on a context it manages.
pub trait CtxState: Send + Sync + 'static {
    /// libssl is freeing the context (after `SSL_CTX_free` flushed its cache through us).
    fn freed(&self);
}

/// The slots of `lib`, made on the first call with the state type `T`.
fn slots_for<T: CtxState>(lib: &LibSsl) -> Option<Slots> {
    let slots = lib.slots.get_or_init(|| {
        let real = lib.real();
        // SAFETY: the documented CRYPTO_get_ex_new_index call; ctx_state_free::<T> matches
        // CRYPTO_EX_free.
        let ctx = unsafe {
            real.CRYPTO_get_ex_new_index(
                EX_INDEX_SSL_CTX,
                0,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                Some(ctx_state_free::<T>),
            )
        };
        // SAFETY: as above, without callbacks.
        let ssl = unsafe {
            real.CRYPTO_get_ex_new_index(EX_INDEX_SSL, 0, ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), None)
        };
        (ctx >= 0 && ssl >= 0).then_some(Slots { ctx, ssl, state: TypeId::of::<T>() })
    });
    slots.filter(|s| s.state == TypeId::of::<T>())
}

/// The slots of `lib` if a context was taken over.
fn slots(lib: &LibSsl) -> Option<Slots> {
    *lib.slots.get()?
}

/// The `SSL` ex_data slot that holds a connection's own session-id context (a
/// `Box<Bytes32>`), set by `SSL_set_session_id_context`. Allocated on first use, which only
/// fleet mode makes: without `SESSCACHE_REDIS` the preload takes one `SSL` index per libssl.
fn sid_ctx_slot(lib: &'static LibSsl) -> Option<c_int> {
    *lib.sid_slot.get_or_init(|| {
        // SAFETY: the documented CRYPTO_get_ex_new_index call; the callbacks match CRYPTO_EX_dup
        // and CRYPTO_EX_free; argp is the 'static LibSsl that sid_ctx_dup reads.
        let i = unsafe {
            lib.real().CRYPTO_get_ex_new_index(
                EX_INDEX_SSL,
                0,
                (lib as *const LibSsl).cast_mut().cast(),
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
    argp: *mut c_void,
) -> c_int {
    if argp.is_null() {
        return 0;
    }
    // SAFETY: argp is the 'static LibSsl that allocated this slot (sid_ctx_slot).
    let lib = unsafe { &*argp.cast_const().cast::<LibSsl>() };
    // SAFETY: libssl passes the copy's ex_data and the slot's value of the original.
    unsafe {
        let old = lib.real().CRYPTO_get_ex_data(to, idx);
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
unsafe extern "C" fn ctx_state_free<T: CtxState>(
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
    // SAFETY: ptr is the Arc<T> that Ctx::attach_state stored in this slot (allocated for T),
    // and libssl calls this exactly once, when the SSL_CTX dies.
    let state = unsafe { Arc::from_raw(ptr.cast_const().cast::<T>()) };
    super::guard((), || state.freed());
}

/// Our three callbacks as installed on a real context.
#[derive(Clone, Copy)]
pub struct Trampolines {
    /// The get callback.
    pub get: GetCb,
    /// The new callback.
    pub new: NewCb,
    /// The remove callback.
    pub remove: RemoveCb,
}

/// The three callbacks a real context holds now.
#[derive(Clone, Copy)]
pub struct RealCallbacks {
    /// `get_session_cb`.
    pub get: Option<GetCb>,
    /// `new_session_cb`.
    pub new: Option<NewCb>,
    /// `remove_session_cb`.
    pub remove: Option<RemoveCb>,
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
    pub fn state<T: CtxState>(self, lib: &LibSsl) -> Option<Arc<T>> {
        let slots = slots(lib).filter(|s| s.state == TypeId::of::<T>())?;
        // SAFETY: a live SSL_CTX and an index we allocated.
        let p = unsafe { lib.real().SSL_CTX_get_ex_data(self.as_ptr(), slots.ctx) };
        if p.is_null() {
            return None;
        }
        let p = p.cast_const().cast::<T>();
        // SAFETY: the slot (allocated for T, checked above) holds one strong count of an
        // Arc<T> until ctx_state_free, which runs only when the context dies; the caller holds
        // the context, so it is alive.
        unsafe {
            Arc::increment_strong_count(p);
            Some(Arc::from_raw(p))
        }
    }

    /// Hangs `state` on the context; false when the slot could not be set.
    pub fn attach_state<T: CtxState>(self, lib: &LibSsl, state: Arc<T>) -> bool {
        let Some(slots) = slots_for::<T>(lib) else { return false };
        let p = Arc::into_raw(state);
        // SAFETY: a live SSL_CTX and our index; ownership of one count moves into the slot.
        if unsafe { lib.real().SSL_CTX_set_ex_data(self.as_ptr(), slots.ctx, p.cast_mut().cast()) } == 1 {
            return true;
        }
        // SAFETY: the slot did not take the count we made above.
        drop(unsafe { Arc::from_raw(p) });
        false
    }

    /// The real `SSL_CTX_ctrl`, for the session commands (they take no pointer argument).
    pub fn ctrl(self, lib: &LibSsl, cmd: c_int, larg: c_long) -> c_long {
        // SAFETY: a live SSL_CTX; the session commands take no pointer argument.
        unsafe { lib.real().SSL_CTX_ctrl(self.as_ptr(), cmd, larg, ptr::null_mut()) }
    }

    /// The real `SSL_CTX_set_timeout`.
    pub fn set_timeout(self, lib: &LibSsl, t: c_long) -> c_long {
        // SAFETY: a live SSL_CTX.
        unsafe { lib.real().SSL_CTX_set_timeout(self.as_ptr(), t) }
    }

    /// The real `SSL_CTX_get_timeout`.
    pub fn timeout(self, lib: &LibSsl) -> c_long {
        // SAFETY: a live SSL_CTX.
        unsafe { lib.real().SSL_CTX_get_timeout(self.as_ptr()) }
    }

    /// Installs our callbacks on the real context: its internal cache stays empty, and every
    /// lookup, store and removal reaches us.
    pub fn install_trampolines(self, lib: &LibSsl, t: Trampolines) {
        let real = lib.real();
        // SAFETY: a live SSL_CTX; the functions have the prototypes libssl expects.
        unsafe {
            real.SSL_CTX_sess_set_get_cb(self.as_ptr(), Some(t.get));
            real.SSL_CTX_sess_set_new_cb(self.as_ptr(), Some(t.new));
            real.SSL_CTX_sess_set_remove_cb(self.as_ptr(), Some(t.remove));
        }
    }

    /// The callbacks the real context holds.
    pub fn real_callbacks(self, lib: &LibSsl) -> RealCallbacks {
        let real = lib.real();
        // SAFETY: a live SSL_CTX.
        unsafe {
            RealCallbacks {
                get: real.SSL_CTX_sess_get_get_cb(self.as_ptr()),
                new: real.SSL_CTX_sess_get_new_cb(self.as_ptr()),
                remove: real.SSL_CTX_sess_get_remove_cb(self.as_ptr()),
            }
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
    pub fn version(self, lib: &LibSsl) -> i32 {
        // SAFETY: a live SSL.
        unsafe { lib.real().SSL_version(self.as_ptr()) }
    }

    /// `SSL_is_server`.
    pub fn is_server(self, lib: &LibSsl) -> bool {
        // SAFETY: a live SSL.
        unsafe { lib.real().SSL_is_server(self.as_ptr()) != 0 }
    }

    /// `SSL_get_options`.
    pub fn options(self, lib: &LibSsl) -> u64 {
        // SAFETY: a live SSL.
        unsafe { lib.real().SSL_get_options(self.as_ptr()) }
    }

    /// `SSL_get_max_early_data`.
    pub fn max_early_data(self, lib: &LibSsl) -> u32 {
        // SAFETY: a live SSL.
        unsafe { lib.real().SSL_get_max_early_data(self.as_ptr()) }
    }

    /// The context whose cache this connection uses (libssl's `session_ctx`): the one it was
    /// created with, recorded by our `SSL_new`; `SSL_get_SSL_CTX` for connections we did not
    /// see created. An SNI callback's `SSL_set_SSL_CTX` does not change it, as in libssl.
    pub fn session_ctx(self, lib: &LibSsl) -> Option<Ctx> {
        if let Some(slots) = slots(lib) {
            // SAFETY: a live SSL and our index.
            let p = unsafe { lib.real().SSL_get_ex_data(self.as_ptr(), slots.ssl) };
            if !p.is_null() {
                // SAFETY: an SSL holds a reference on the context it was created with.
                return unsafe { Ctx::from_raw(p.cast()) };
            }
        }
        self.current_ctx(lib)
    }

    /// `SSL_get_SSL_CTX`: the connection's current context (changed by `SSL_set_SSL_CTX`).
    pub fn current_ctx(self, lib: &LibSsl) -> Option<Ctx> {
        // SAFETY: a live SSL; it holds a reference on its context.
        unsafe { Ctx::from_raw(lib.real().SSL_get_SSL_CTX(self.as_ptr())) }
    }

    /// The session-id context set on this connection with `SSL_set_session_id_context`
    /// (recorded in fleet mode only), `None` when it has its context's.
    pub fn own_sid_ctx(self, lib: &LibSsl) -> Option<Bytes32> {
        let slot = (*lib.sid_slot.get()?)?;
        // SAFETY: a live SSL and our index.
        let p = unsafe { lib.real().SSL_get_ex_data(self.as_ptr(), slot) };
        // SAFETY: the slot is NULL or holds a Box<Bytes32> that lives as long as the SSL.
        (!p.is_null()).then(|| unsafe { *p.cast::<Bytes32>() })
    }

    /// Records `sid_ctx` as this connection's own session-id context.
    pub fn set_own_sid_ctx(self, lib: &'static LibSsl, sid_ctx: Bytes32) {
        let Some(slot) = sid_ctx_slot(lib) else { return };
        let real = lib.real();
        // SAFETY: a live SSL and our index.
        let old = unsafe { real.SSL_get_ex_data(self.as_ptr(), slot) };
        let new = Box::into_raw(Box::new(sid_ctx));
        // SAFETY: as above; on success the slot owns `new` and `old` is ours to free.
        if unsafe { real.SSL_set_ex_data(self.as_ptr(), slot, new.cast()) } == 1 {
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
    pub fn set_session_ctx(self, lib: &LibSsl, ctx: Ctx) {
        if let Some(slots) = slots(lib) {
            // SAFETY: a live SSL and our index; the value is a borrowed pointer.
            unsafe { lib.real().SSL_set_ex_data(self.as_ptr(), slots.ssl, ctx.as_ptr().cast()) };
        }
    }
}

/// The private context `mark_not_resumable` uses, made with `lib`'s own `SSL_CTX_new_ex`
/// (called directly, so it carries no state of ours). It lives as long as the process.
pub fn marker_ctx(lib: &LibSsl) -> Option<Ctx> {
    let p = *lib.marker.get_or_init(|| {
        let real = lib.real();
        // SAFETY: the real constructor with the default library context and TLS_method.
        unsafe { real.SSL_CTX_new_ex(ptr::null_mut(), ptr::null(), real.TLS_method()) as usize }
    });
    // SAFETY: a context that is never freed, or NULL.
    unsafe { Ctx::from_raw(p as *mut SSL_CTX) }
}
