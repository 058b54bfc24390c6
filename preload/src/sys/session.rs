//! [`LibSession`]: the core's [`Cacheable`] over a libssl `SSL_SESSION`; the calls of the host's
//! callbacks, which hand sessions over; and the table of which
//! cache lists each session (OpenSSL 3.0's `SSL_SESSION.owner`), so that
//! `SSL_SESSION_set_time` / `set_timeout` on a cached session move it to the place of its new
//! expiry, as in 3.0. libssl's own `owner` stays NULL, its cache being empty.
//!
//! A table keyed by the session's address, sharded so adds on many threads do not contend. An
//! entry lives from the add to the removal (eviction, flush, replacement); the cache holds a
//! reference all that time, so the address cannot be reused meanwhile.

use std::collections::HashMap;
use std::ffi::{c_int, c_long, c_uint};
use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use sesscache::core::entry::{Cacheable, Listing};
use sesscache::core::key::{Bytes32, SessionKey, MAX_ID_LENGTH};
use sesscache::core::time::Expiry;

use super::libssl::{GetCb, NewCb, RemoveCb};
use super::libssl::{Real, SSL_SESSION};
use super::loader::LibSsl;
use super::objects::{marker_ctx, Ctx, Ssl};

/// A counted reference to a libssl `SSL_SESSION`: `Clone` is `SSL_SESSION_up_ref`, `Drop` is
/// `SSL_SESSION_free`. The object is libssl's own; nothing is copied.
pub struct LibSession {
    p: NonNull<SSL_SESSION>,
    lib: &'static LibSsl,
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
    pub unsafe fn adopt(lib: &'static LibSsl, p: *mut SSL_SESSION) -> Option<LibSession> {
        NonNull::new(p).map(|p| LibSession { p, lib })
    }

    /// A handle that borrows the caller's reference: it must not be dropped as a reference.
    ///
    /// # Safety
    /// `p` is NULL or a live session for as long as the returned value is used.
    pub unsafe fn borrow(lib: &'static LibSsl, p: *mut SSL_SESSION) -> Option<ManuallyDrop<LibSession>> {
        NonNull::new(p).map(|p| ManuallyDrop::new(LibSession { p, lib }))
    }

    /// Takes a new reference on a borrowed session (a get callback's `*copy = 1`).
    ///
    /// # Safety
    /// `p` is NULL or a live session.
    pub unsafe fn up_ref(lib: &'static LibSsl, p: *mut SSL_SESSION) -> Option<LibSession> {
        // SAFETY: the caller's contract.
        let borrowed = unsafe { LibSession::borrow(lib, p) }?;
        Some(LibSession::clone(&borrowed))
    }

    fn real(&self) -> &'static Real {
        self.lib.real()
    }

    /// The entry a cache last listed this session as (OpenSSL's `owner`; the cache decides
    /// whether it still lists it there).
    pub fn listing(&self) -> Option<Listing> {
        owner(self.p.as_ptr() as usize)
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
    pub fn from_der(lib: &'static LibSsl, der: &[u8]) -> Option<(LibSession, usize)> {
        let len = c_long::try_from(der.len()).ok()?;
        let start = der.as_ptr();
        let mut p = start;
        // SAFETY: d2i reads at most `len` bytes from `p` and advances it; a NULL `a` makes it
        // allocate the session, whose one reference it hands to us.
        let s = unsafe { lib.real().d2i_SSL_SESSION(ptr::null_mut(), &mut p, len) };
        // SAFETY: as above.
        let s = unsafe { LibSession::adopt(lib, s) }?;
        let used = (p as usize).checked_sub(start as usize)?;
        Some((s, used))
    }

    /// The session's encoding by libssl's `i2d_SSL_SESSION`; `None` when libssl cannot encode it.
    pub fn to_der(&self) -> Option<Vec<u8>> {
        // SAFETY: a live session; a NULL output pointer asks for the length only.
        let n = unsafe { self.real().i2d_SSL_SESSION(self.p.as_ptr(), ptr::null_mut()) };
        let n = usize::try_from(n).ok().filter(|&n| n > 0)?;
        let mut buf = vec![0u8; n];
        let mut out = buf.as_mut_ptr();
        // SAFETY: buf has the n bytes i2d said it writes.
        let m = unsafe { self.real().i2d_SSL_SESSION(self.p.as_ptr(), &mut out) };
        (usize::try_from(m).ok() == Some(n)).then_some(buf)
    }

    /// `SSL_SESSION_get0_id_context`.
    pub fn sid_ctx(&self) -> Bytes32 {
        self.bytes32(Real::SSL_SESSION_get0_id_context)
    }

    /// Copies the (at most 32) bytes a libssl getter of the `get_id` shape points to.
    fn bytes32(&self, get: unsafe fn(&Real, *const SSL_SESSION, *mut c_uint) -> *const u8) -> Bytes32 {
        let mut len: c_uint = 0;
        // SAFETY: a live session; the getter points into one of its 32-byte buffers.
        let p = unsafe { get(self.real(), self.p.as_ptr(), &mut len) };
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
                i64::from(self.real().SSL_SESSION_get_time(self.p.as_ptr())),
                i64::from(self.real().SSL_SESSION_get_timeout(self.p.as_ptr())),
            )
        }
    }

    /// `SSL_SESSION_get_id`.
    pub fn id(&self) -> Bytes32 {
        self.bytes32(Real::SSL_SESSION_get_id)
    }
}

impl Clone for LibSession {
    fn clone(&self) -> Self {
        // SAFETY: a live session, on which we hold a reference.
        unsafe { self.real().SSL_SESSION_up_ref(self.p.as_ptr()) };
        LibSession { p: self.p, lib: self.lib }
    }
}

impl Drop for LibSession {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { self.real().SSL_SESSION_free(self.p.as_ptr()) };
    }
}

impl Cacheable for LibSession {
    fn key(&self) -> SessionKey {
        // SAFETY: a live session.
        let version = unsafe { self.real().SSL_SESSION_get_protocol_version(self.p.as_ptr()) };
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
        if let Some(marker) = marker_ctx(self.lib) {
            // SAFETY: a live private SSL_CTX and a live session.
            unsafe { self.real().SSL_CTX_remove_session(marker.as_ptr(), self.p.as_ptr()) };
        }
    }

    /// `SSL_SESSION_is_resumable` is `!not_resumable && (id or ticket)`, so the flag is
    /// readable exactly when the session has an id or a ticket; otherwise it reads as clear.
    fn is_marked_not_resumable(&self) -> bool {
        // SAFETY: a live session.
        let (resumable, ticket) = unsafe {
            (
                self.real().SSL_SESSION_is_resumable(self.p.as_ptr()) != 0,
                self.real().SSL_SESSION_has_ticket(self.p.as_ptr()) != 0,
            )
        };
        !resumable && (ticket || !self.id().is_empty())
    }

    fn attach(&self, listing: Listing) {
        attach(self.p.as_ptr() as usize, listing);
    }

    fn reattach(&self, old: Listing, new: Listing) {
        reattach(self.p.as_ptr() as usize, old, new);
    }

    fn detach(&self, listing: Listing) {
        detach(self.p.as_ptr() as usize, listing);
    }

    fn stamp_time(&self, now: i64) {
        // SAFETY: a live session. libssl lists it in no cache, so this only stores the time.
        unsafe { self.real().SSL_SESSION_set_time(self.p.as_ptr(), now as c_long) };
    }
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
pub fn call_get(lib: &'static LibSsl, cb: GetCb, ssl: Ssl, id: &[u8]) -> Option<LibSession> {
    let mut copy: c_int = 1;
    let len = c_int::try_from(id.len()).ok()?;
    // SAFETY: as above; id is readable for len bytes and copy is a valid int.
    let p = unsafe { cb(ssl.as_ptr(), id.as_ptr(), len, &mut copy) };
    if copy != 0 {
        // SAFETY: the session the callback returned is live; we take our own reference.
        unsafe { LibSession::up_ref(lib, p) }
    } else {
        // SAFETY: the callback transferred one reference to us.
        unsafe { LibSession::adopt(lib, p) }
    }
}

const SHARDS: usize = 64;

type Owners = HashMap<usize, Listing>;

static OWNERS: Lazy<Vec<Mutex<Owners>>> = Lazy::new(|| (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect());

fn shard(addr: usize) -> &'static Mutex<Owners> {
    // Sessions are heap objects: the low bits carry no information.
    &OWNERS[(addr >> 6) % SHARDS]
}

/// Records that a cache lists the session at `addr` (`listing`).
fn attach(addr: usize, listing: Listing) {
    shard(addr).lock().insert(addr, listing);
}

/// Replaces the record `old` of the session at `addr` by `new`, if it is still `old`.
fn reattach(addr: usize, old: Listing, new: Listing) {
    if let Some(o) = shard(addr).lock().get_mut(&addr).filter(|o| **o == old) {
        *o = new;
    }
}

/// Forgets the record of the session at `addr` if it is `listing`.
fn detach(addr: usize, listing: Listing) {
    let mut map = shard(addr).lock();
    if map.get(&addr) == Some(&listing) {
        map.remove(&addr);
    }
}

/// The record of the session at `addr` (its cache decides whether it still lists it).
fn owner(addr: usize) -> Option<Listing> {
    shard(addr).lock().get(&addr).copied()
}
