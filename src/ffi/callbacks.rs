//! OpenSSL's callback types, where a context keeps them, and the reference rules that apply
//! when they are called. Every call happens with no sesscache lock held.

use std::os::raw::{c_int, c_uint};

use crate::core::context::RemoveHook;
use crate::core::handshake::HandshakeHooks;
use crate::core::key::MAX_ID_LENGTH;
use crate::core::session::SessionRef;

use super::handle;
pub use super::types::{GetSessionCb, NewSessionCb, RemoveSessionCb, SSL_verify_cb, GEN_SESSION_CB, X509_STORE_CTX};
use super::types::{SSL, SSL_CTX, SSL_SESSION};

/// The callbacks of one context, bound to the `SSL` (if any) on whose behalf they run.
pub struct Hooks<'a> {
    ctx: &'a SSL_CTX,
    ctx_ptr: *mut SSL_CTX,
    ssl: *mut SSL,
    ssl_generate: GEN_SESSION_CB,
}

impl<'a> Hooks<'a> {
    /// The callbacks of `ctx` (known to C as `ctx_ptr`) with no connection.
    pub fn for_ctx(ctx: &'a SSL_CTX, ctx_ptr: *mut SSL_CTX) -> Hooks<'a> {
        Hooks { ctx, ctx_ptr, ssl: std::ptr::null_mut(), ssl_generate: None }
    }

    /// The callbacks of `ssl`'s session context, run for `ssl` (known to C as `ssl_ptr`).
    pub fn for_ssl(ssl: &'a SSL, ssl_ptr: *mut SSL) -> Hooks<'a> {
        Hooks { ctx: ssl.ctx(), ctx_ptr: ssl.ctx_ptr(), ssl: ssl_ptr, ssl_generate: ssl.generate.get() }
    }
}

thread_local! {
    /// Set while `remove_cb` runs for an eviction or a flush (see [`removal_keeps_external`]).
    static BULK_REMOVAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while a `remove_cb` call on this thread is for a session the internal cache evicted
/// (cache full) or flushed (expired, or everything at `SSL_CTX_free`), rather than one
/// removed by `SSL_CTX_remove_session` or a failed handshake. The Redis tier keeps those.
pub fn removal_keeps_external() -> bool {
    BULK_REMOVAL.with(|b| b.get())
}

impl Hooks<'_> {
    fn bulk_removed(&self, s: &SessionRef) {
        // Without a callback there is nothing to mark (and the thread-local costs a call).
        if self.ctx.callbacks.remove.get().is_none() {
            return;
        }
        let before = BULK_REMOVAL.with(|b| b.replace(true));
        self.removed(s);
        BULK_REMOVAL.with(|b| b.set(before));
    }
}

impl RemoveHook<SessionRef> for Hooks<'_> {
    fn evicted(&self, s: &SessionRef) {
        self.bulk_removed(s);
    }

    fn flushed(&self, s: &SessionRef) {
        self.bulk_removed(s);
    }

    /// `remove_cb(ctx, sess)`: the session is borrowed for the call.
    fn removed(&self, s: &SessionRef) {
        if let Some(cb) = self.ctx.callbacks.remove.get() {
            // SAFETY: a C callback the application installed, called with its documented
            // arguments: a live context and a session kept alive by `s` during the call.
            unsafe { cb(self.ctx_ptr, handle::session_ptr(s)) };
        }
    }
}

/// The get callback's reference rule (`lookup_sess_in_cache`): `*copy` is preset to 1; when
/// the callback leaves it non-zero it handed us a borrowed pointer and we take our own
/// reference, when it sets 0 it transferred one reference to us. Either way the returned
/// handle owns exactly one.
///
/// # Safety
/// `ret` must be NULL or a live session; with `copy == 0` one reference on it must be ours.
pub unsafe fn adopt_get_result(ret: *mut SSL_SESSION, copy: c_int) -> Option<SessionRef> {
    if copy != 0 {
        // SAFETY: per the contract `ret` is NULL or live.
        unsafe { handle::session_clone(ret) }
    } else {
        // SAFETY: per the contract the reference is ours.
        unsafe { handle::session_adopt(ret) }
    }
}

/// The new callback's reference rule (`ssl_update_cache`): the library takes a reference and
/// passes it; a return of 0 gives it back (the library drops it), non-zero means the
/// application keeps it. The return value has no other effect.
///
/// # Safety
/// `cb` must be the application's new-session callback and `ssl` NULL or a live `SSL`.
pub unsafe fn call_new_session(
    cb: unsafe extern "C" fn(*mut SSL, *mut SSL_SESSION) -> c_int,
    ssl: *mut SSL,
    s: &SessionRef,
) {
    let raw = handle::session_into_raw(s.clone());
    // SAFETY: a C callback the application installed; `raw` carries one reference for it.
    let kept = unsafe { cb(ssl, raw) };
    if kept == 0 {
        // SAFETY: the callback returned 0, so the reference we handed over is ours again.
        drop(unsafe { handle::session_adopt(raw) });
    }
}

impl HandshakeHooks<SessionRef> for Hooks<'_> {
    fn get_session(&self, id: &[u8]) -> Option<SessionRef> {
        let cb = self.ctx.callbacks.get.get()?;
        let mut copy: c_int = 1;
        // unwrap: ids reaching a lookup are at most 32 bytes.
        let len = c_int::try_from(id.len()).unwrap_or(0);
        // SAFETY: a C callback the application installed; `id` is valid for `len` bytes and
        // `copy` for a write, for the duration of the call.
        let ret = unsafe { cb(self.ssl, id.as_ptr(), len, &mut copy) };
        // SAFETY: the callback's contract: NULL or a live session, with a reference for us
        // when it cleared `copy`.
        unsafe { adopt_get_result(ret, copy) }
    }

    fn new_session(&self, s: &SessionRef) {
        if let Some(cb) = self.ctx.callbacks.new.get() {
            // SAFETY: the installed callback, with the SSL this handshake runs for.
            unsafe { call_new_session(cb, self.ssl, s) };
        }
    }

    fn generate_id(&self, id: &mut [u8; MAX_ID_LENGTH], len: &mut u32) -> Option<bool> {
        // The SSL's own callback wins over its context's (`SSL_new` copied the context's).
        let cb = self.ssl_generate.or_else(|| self.ctx.callbacks.generate.get())?;
        let mut n: c_uint = *len;
        // SAFETY: a C callback the application installed; `id` has room for 32 bytes and `n`
        // is valid for a write, for the duration of the call.
        let ok = unsafe { cb(self.ssl, id.as_mut_ptr(), &mut n) };
        *len = n;
        Some(ok != 0)
    }

    fn random(&self, buf: &mut [u8]) {
        handle::fill_random(buf);
    }
}
