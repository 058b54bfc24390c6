//! The only place where raw pointers become references, `Arc`s, `Box`es and slices, and back.
//!
//! Every function that trusts a pointer is an `unsafe fn` with its contract under `# Safety`;
//! callers state why the contract holds in a `// SAFETY:` comment. The exported functions
//! check for NULL through these helpers, which answer `None` for it.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::core::cipher::{Cipher, CIPHERS};
use crate::core::session::{Session, SessionRef};

/// The bytes at `p..p+len`; an empty slice when `len == 0` (whatever `p` is), `None` for a NULL
/// `p` with a non-zero length, and `None` when `len` exceeds `max` — checked before anything is
/// read, so an oversized length never makes a slice larger than the caller's buffer.
///
/// # Safety
/// A non-NULL `p` with `len <= max` must point to `len` readable bytes that stay unchanged
/// for `'a`.
pub unsafe fn bytes<'a>(p: *const u8, len: usize, max: usize) -> Option<&'a [u8]> {
    if len > max {
        return None;
    }
    if len == 0 {
        return Some(&[]);
    }
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and, per the contract, valid for `len` bytes.
    Some(unsafe { std::slice::from_raw_parts(p, len) })
}

/// The NUL-terminated string at `p`; `None` for NULL.
///
/// # Safety
/// A non-NULL `p` must point to a NUL-terminated string that stays unchanged for `'a`.
pub unsafe fn c_str<'a>(p: *const std::os::raw::c_char) -> Option<&'a std::ffi::CStr> {
    // SAFETY: per the contract.
    (!p.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(p) })
}

/// The method behind `p`; `None` for NULL.
///
/// # Safety
/// A non-NULL `p` must come from `TLS_method`, `TLS_server_method` or `TLS_client_method`,
/// which return statics.
pub unsafe fn method<M>(p: *const M) -> Option<&'static M> {
    // SAFETY: per the contract the pointee is a static.
    unsafe { p.as_ref() }
}

/// Copies `src` to `out` (nothing for a NULL `out`).
///
/// # Safety
/// A non-NULL `out` must be writable for `src.len()` bytes and not overlap `src`.
pub unsafe fn write_bytes(out: *mut u8, src: &[u8]) {
    if !out.is_null() {
        // SAFETY: per the contract.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), out, src.len()) };
    }
}

/// Stores `v` through `out` unless it is NULL.
///
/// # Safety
/// A non-NULL `out` must be valid for a write of `T`.
pub unsafe fn write_out<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: per the contract.
        unsafe { out.write(v) };
    }
}

/// The current time in seconds, exactly as OpenSSL reads it: `time(NULL)` (glibc answers it
/// from the vDSO's coarse clock, without a system call).
pub fn now() -> i64 {
    if cfg!(miri) {
        // Miri cannot call `time`; the standard clock gives the same seconds.
        return crate::core::time::now();
    }
    // SAFETY: `time` accepts NULL and only returns the time.
    unsafe { libc::time(std::ptr::null_mut()) as i64 }
}

/// Random bytes per thread, drawn from the kernel 256 at a time: a session id and a master key
/// then cost a copy instead of two `getrandom(2)` calls. Used bytes are wiped, and a pool
/// filled before a `fork` is never used in the child (the process id is checked).
struct RandomPool {
    pid: libc::pid_t,
    pos: usize,
    buf: [u8; 256],
}

thread_local! {
    static RANDOM: std::cell::RefCell<RandomPool> =
        const { std::cell::RefCell::new(RandomPool { pid: 0, pos: 256, buf: [0; 256] }) };
}

/// Fills `buf` with bytes from the kernel's random source.
///
/// # Panics
/// When the kernel refuses randomness (never on Linux ≥ 3.17 once booted): the export's
/// `guard` turns that into its failure value, so no handshake proceeds with weak ids or keys.
pub fn fill_random(buf: &mut [u8]) {
    RANDOM.with(|pool| {
        let mut pool = pool.borrow_mut();
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let mut done = 0;
        while done < buf.len() {
            if pool.pid != pid || pool.pos == pool.buf.len() {
                refill(&mut pool.buf);
                pool.pid = pid;
                pool.pos = 0;
            }
            let n = (buf.len() - done).min(pool.buf.len() - pool.pos);
            let pos = pool.pos;
            buf[done..done + n].copy_from_slice(&pool.buf[pos..pos + n]);
            pool.buf[pos..pos + n].iter_mut().for_each(|b| *b = 0);
            pool.pos += n;
            done += n;
        }
    });
}

fn refill(buf: &mut [u8]) {
    let mut done = 0;
    let mut failures = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is a valid writable buffer of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        match usize::try_from(n) {
            Ok(n) if n > 0 => done += n,
            _ => {
                failures += 1;
                assert!(failures < 100, "getrandom(2) keeps failing");
            }
        }
    }
}

// ---- SSL_SESSION: an `Arc<Session>`; the pointer is `Arc::into_raw`. ----

/// The pointer C sees for a session, without giving it a reference.
pub fn session_ptr(s: &SessionRef) -> *mut Session {
    Arc::as_ptr(s).cast_mut()
}

/// Hands one reference to C.
pub fn session_into_raw(s: SessionRef) -> *mut Session {
    Arc::into_raw(s).cast_mut()
}

/// A session borrowed from C: usable as a `SessionRef` without touching the count.
pub struct Borrowed(ManuallyDrop<SessionRef>);

impl Deref for Borrowed {
    type Target = SessionRef;
    fn deref(&self) -> &SessionRef {
        &self.0
    }
}

/// Borrows the session behind `p`; `None` for NULL.
///
/// # Safety
/// A non-NULL `p` must come from this library's `SSL_SESSION_new` (or an API that returned a
/// session) and hold a reference for as long as the result is used.
pub unsafe fn session(p: *const Session) -> Option<Borrowed> {
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is a live `Arc<Session>` pointer per the contract; ManuallyDrop keeps the
    // count unchanged.
    Some(Borrowed(ManuallyDrop::new(unsafe { Arc::from_raw(p) })))
}

/// Takes a new reference on the session behind `p`; `None` for NULL.
///
/// # Safety
/// As for [`session`].
pub unsafe fn session_clone(p: *const Session) -> Option<SessionRef> {
    // SAFETY: per the contract.
    unsafe { session(p) }.map(|b| SessionRef::clone(&b))
}

/// Adopts the reference that C hands over with `p` (e.g. a get callback's `*copy == 0`).
///
/// # Safety
/// A non-NULL `p` must be a live session whose caller transfers one reference to us.
pub unsafe fn session_adopt(p: *const Session) -> Option<SessionRef> {
    if p.is_null() {
        return None;
    }
    // SAFETY: per the contract the reference is ours now.
    Some(unsafe { Arc::from_raw(p) })
}

// ---- SSL_CTX: a `Box`; the C reference count lives inside it. ----

/// A C object whose reference count lives inside it (`SSL_CTX`), and what its last release
/// does before its memory goes.
pub trait Counted {
    /// The C reference count.
    fn refs(&self) -> &AtomicUsize;
    /// Runs on the last release, on the still-valid object that C knows as `ptr`.
    fn finalize(&self, ptr: *mut Self);
}

/// Gives C a new context with one reference.
pub fn ctx_into_raw<C: Counted>(ctx: Box<C>) -> *mut C {
    Box::into_raw(ctx)
}

/// Borrows the context behind `p`; `None` for NULL.
///
/// # Safety
/// A non-NULL `p` must be a context from `SSL_CTX_new` on which the caller holds a reference.
pub unsafe fn ctx<'a, C: Counted>(p: *const C) -> Option<&'a C> {
    // SAFETY: per the contract.
    unsafe { p.as_ref() }
}

/// Drops one C reference; on the last, runs [`Counted::finalize`] on the still-valid context,
/// then frees it.
///
/// # Safety
/// `p` must be a context on which the caller owns a reference, not used by it afterwards.
pub unsafe fn ctx_release<C: Counted>(p: *mut C) {
    // SAFETY: per the contract the context is live while we hold our reference.
    let Some(c) = (unsafe { p.as_ref() }) else { return };
    if c.refs().fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    std::sync::atomic::fence(Ordering::Acquire);
    c.finalize(p);
    // SAFETY: that was the last reference; the Box came from `ctx_into_raw`.
    drop(unsafe { Box::from_raw(p) });
}

/// One owned C reference on a context, held by an `SSL`.
pub struct CtxRef<C: Counted>(NonNull<C>);

// SAFETY: a context is Sync (`SSL_CTX`'s state is all atomics and locks), and the reference
// count is atomic, so the owning pointer may move and be shared between threads.
unsafe impl<C: Counted + Sync> Send for CtxRef<C> {}
// SAFETY: as above.
unsafe impl<C: Counted + Sync> Sync for CtxRef<C> {}

/// Takes a new C reference on `c`, unless `c` is being destroyed (its count already reached
/// zero and its final flush is running callbacks that might try to revive it).
pub fn ctx_try_up_ref<C: Counted>(c: &C) -> bool {
    // divergence: OpenSSL 3.0 takes the reference (SSL_new, SSL_CTX_up_ref) and frees the
    // context twice later; reviving a context that is being destroyed is a use-after-free.
    c.refs().fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n != 0).then(|| n + 1)).is_ok()
}

impl<C: Counted> CtxRef<C> {
    /// Takes a new reference on the context behind `p`; `None` for NULL or when it is being
    /// destroyed. The pointer is kept as C gave it (from `Box::into_raw`), so that the last
    /// release may free through it.
    ///
    /// # Safety
    /// A non-NULL `p` must be a context on which the caller holds a reference.
    pub unsafe fn new(p: *mut C) -> Option<CtxRef<C>> {
        // SAFETY: per the contract.
        let c = unsafe { ctx(p) }?;
        let p = NonNull::new(p)?;
        ctx_try_up_ref(c).then_some(CtxRef(p))
    }

    /// The pointer C knows the context by.
    pub fn as_ptr(&self) -> *mut C {
        self.0.as_ptr()
    }
}

impl<C: Counted> Deref for CtxRef<C> {
    type Target = C;
    fn deref(&self) -> &C {
        // SAFETY: we own a reference, so the context is live.
        unsafe { self.0.as_ref() }
    }
}

impl<C: Counted> Drop for CtxRef<C> {
    fn drop(&mut self) {
        // SAFETY: we own exactly one reference and give it up here.
        unsafe { ctx_release(self.0.as_ptr()) };
    }
}

// ---- SSL: an `Arc<SSL>`; the C reference count is the Arc's. ----

/// Gives C a new connection with one reference.
pub fn ssl_into_raw<S>(s: Arc<S>) -> *mut S {
    Arc::into_raw(s).cast_mut()
}

/// Borrows the connection behind `p`; `None` for NULL.
///
/// # Safety
/// A non-NULL `p` must come from `SSL_new` and hold a reference while the result is used.
pub unsafe fn ssl<'a, S>(p: *const S) -> Option<&'a S> {
    // SAFETY: per the contract.
    unsafe { p.as_ref() }
}

/// `SSL_up_ref`.
///
/// # Safety
/// As for [`ssl`], non-NULL.
pub unsafe fn ssl_up_ref<S>(p: *const S) {
    // SAFETY: per the contract `p` is a live Arc pointer.
    unsafe { Arc::increment_strong_count(p) };
}

/// `SSL_free`: drops one reference.
///
/// # Safety
/// As for [`ssl`], non-NULL; the caller's reference is given up.
pub unsafe fn ssl_release<S>(p: *const S) {
    // SAFETY: per the contract.
    unsafe { Arc::decrement_strong_count(p) };
}

// ---- C function pointers, stored in atomics. ----

/// An optional C function pointer (`F` is `Option<extern "C" fn ...>`), readable and writable
/// from any thread.
///
/// The pointer is kept as a pointer (`AtomicPtr`), not an integer, so that it keeps its
/// provenance: a function pointer rebuilt from a plain integer is undefined behaviour to call
/// (Miri reports it).
pub struct FnSlot<F: Copy> {
    raw: AtomicPtr<()>,
    _f: PhantomData<F>,
}

impl<F: Copy> Default for FnSlot<F> {
    fn default() -> Self {
        FnSlot { raw: AtomicPtr::new(std::ptr::null_mut()), _f: PhantomData }
    }
}

impl<F: Copy> FnSlot<F> {
    const IS_FN_SIZED: () = assert!(std::mem::size_of::<F>() == std::mem::size_of::<*mut ()>());

    /// Stores `f` (NULL clears the slot).
    ///
    /// # Safety
    /// `F` must be `Option<fn pointer>`, whose NULL is `None` and whose size is a pointer's.
    pub unsafe fn set(&self, f: F) {
        let () = Self::IS_FN_SIZED;
        // SAFETY: `F` is an optional function pointer of the size of a pointer (checked above).
        let v = unsafe { std::mem::transmute_copy::<F, *mut ()>(&f) };
        self.raw.store(v, Ordering::Release);
    }

    /// The stored pointer (`None` when empty).
    pub fn get(&self) -> F {
        let () = Self::IS_FN_SIZED;
        let v = self.raw.load(Ordering::Acquire);
        // SAFETY: `v` was stored by `set` from a valid `F`, or is NULL, which is `None`.
        unsafe { std::mem::transmute_copy::<*mut (), F>(&v) }
    }
}

// ---- SSL_CIPHER: a pointer to an entry of the static table `core::cipher::CIPHERS`. ----

/// The pointer C sees for a table entry.
pub fn cipher_ptr(c: &'static Cipher) -> *const Cipher {
    c
}

/// The table entry `p` points to; `None` for NULL or any address that is not exactly an entry
/// of the table. Safe: the address is only compared with the table's bounds, never read.
pub fn cipher(p: *const Cipher) -> Option<&'static Cipher> {
    let base = CIPHERS.as_ptr() as usize;
    let size = std::mem::size_of::<Cipher>();
    let off = (p as usize).checked_sub(base)?;
    if off % size != 0 {
        return None;
    }
    CIPHERS.get(off / size)
}

/// Reads the pointer stored at `pp`; `None` when `pp` is NULL.
///
/// # Safety
/// A non-NULL `pp` must be valid for a read of a pointer.
pub unsafe fn read_ptr<T>(pp: *const *mut T) -> Option<*mut T> {
    // SAFETY: per the contract.
    (!pp.is_null()).then(|| unsafe { pp.read() })
}

/// Moves the cursor `*pp` on by `n` bytes.
///
/// # Safety
/// `pp` must be valid for a read and a write of a pointer, and `*pp + n` must stay within (or
/// one past) the buffer `*pp` points into.
pub unsafe fn advance<T>(pp: *mut *mut T, n: usize) {
    // SAFETY: per the contract.
    unsafe { pp.write(pp.read().cast::<u8>().add(n).cast::<T>()) };
}

/// A `malloc`ed copy of `src` (free with `free()`); NULL when the allocation fails.
pub fn malloc_copy(src: &[u8]) -> *mut u8 {
    // SAFETY: malloc has no preconditions; a non-NULL result is writable for `len` bytes.
    let p = unsafe { libc::malloc(src.len().max(1)) }.cast::<u8>();
    if !p.is_null() {
        // SAFETY: `p` is a fresh allocation of at least `src.len()` bytes.
        unsafe { write_bytes(p, src) };
    }
    p
}

/// Turns a new session into a C reference and stores it through `a` unless `a` is NULL.
///
/// # Safety
/// A non-NULL `a` must be valid for a write of a pointer.
pub unsafe fn session_out(a: *mut *mut Session, s: SessionRef) -> *mut Session {
    let p = session_into_raw(s);
    // SAFETY: per the contract.
    unsafe { write_out(a, p) };
    p
}
