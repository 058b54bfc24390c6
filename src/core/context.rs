//! The session-cache state of one `SSL_CTX`: configuration, statistics and the cache, and the
//! public cache operations (`SSL_CTX_add_session`, `_remove_session`, `_flush_sessions`).

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::cache::Cache;
use crate::abi::SSL_SESSION_CACHE_MAX_SIZE_DEFAULT;

use super::entry::Cacheable;
use super::key::Bytes32;
use super::mode::CacheMode;
use super::stats::{Stat, Stats};

/// `SSL_SESSION_CACHE_MAX_SIZE_DEFAULT`, as the core stores a size.
pub const DEFAULT_CACHE_SIZE: u64 = SSL_SESSION_CACHE_MAX_SIZE_DEFAULT as u64;
/// The default session timeout of every TLS method (`tls1_default_timeout`): 7200 s.
pub const DEFAULT_TIMEOUT: i64 = 7200;

/// The remove callback, as the core sees it. Runs with no sesscache lock held.
pub trait RemoveHook<H> {
    /// `remove_session_cb(ctx, sess)`: `sess` is borrowed for the duration of the call.
    fn removed(&self, s: &H);
    /// The callback for a session evicted because the cache is full; `removed` unless
    /// overridden (an external tier may want to keep what the internal cache evicts).
    fn evicted(&self, s: &H) {
        self.removed(s);
    }
    /// The callback for a session removed by a flush (expired, or everything at
    /// `SSL_CTX_free`); `removed` unless overridden.
    fn flushed(&self, s: &H) {
        self.removed(s);
    }
}

/// A context without callbacks.
pub struct NoHooks;

impl<H> RemoveHook<H> for NoHooks {
    fn removed(&self, _s: &H) {}
}

/// The cache state of one `SSL_CTX`.
pub struct SessionCtx<H: Cacheable> {
    cache: Arc<Cache<H>>,
    stats: Stats,
    mode: AtomicU32,
    size: AtomicU64,
    timeout: AtomicI64,
    sid_ctx: RwLock<Bytes32>,
}

impl<H: Cacheable> Default for SessionCtx<H> {
    fn default() -> Self {
        SessionCtx::new()
    }
}

impl<H: Cacheable> SessionCtx<H> {
    /// A fresh context: mode `SERVER`, size 20480, timeout 7200, no sid_ctx.
    pub fn new() -> SessionCtx<H> {
        SessionCtx {
            cache: Cache::new(),
            stats: Stats::default(),
            mode: AtomicU32::new(CacheMode::default().bits()),
            size: AtomicU64::new(DEFAULT_CACHE_SIZE),
            timeout: AtomicI64::new(DEFAULT_TIMEOUT),
            sid_ctx: RwLock::new(Bytes32::EMPTY),
        }
    }

    /// The cache.
    pub fn cache(&self) -> &Arc<Cache<H>> {
        &self.cache
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The mode bits, unknown ones included.
    pub fn mode(&self) -> CacheMode {
        CacheMode::from_bits_retain(self.mode.load(Ordering::Relaxed))
    }

    /// Stores a new mode (any bits) and returns the previous one.
    pub fn set_mode(&self, mode: u32) -> u32 {
        self.mode.swap(mode, Ordering::Relaxed)
    }

    /// The configured size (`size_t` in OpenSSL); 0 means unlimited.
    pub fn size(&self) -> u64 {
        self.size.load(Ordering::Relaxed)
    }

    /// Stores a new size and returns the previous one. Nothing is evicted until the next add.
    pub fn set_size(&self, size: u64) -> u64 {
        self.size.swap(size, Ordering::Relaxed)
    }

    /// The context timeout in seconds.
    pub fn timeout(&self) -> i64 {
        self.timeout.load(Ordering::Relaxed)
    }

    /// Stores a new timeout (unvalidated, as OpenSSL) and returns the previous one.
    pub fn set_timeout(&self, t: i64) -> i64 {
        self.timeout.swap(t, Ordering::Relaxed)
    }

    /// The timeout a new session gets: the context's, or the method default when it is 0.
    pub fn session_timeout(&self) -> i64 {
        match self.timeout() {
            0 => DEFAULT_TIMEOUT,
            t => t,
        }
    }

    /// The session-id context.
    pub fn sid_ctx(&self) -> Bytes32 {
        *self.sid_ctx.read()
    }

    /// Replaces the session-id context.
    pub fn set_sid_ctx(&self, v: Bytes32) {
        *self.sid_ctx.write() = v;
    }

    /// `SSL_CTX_add_session`: true when `s` became a new entry. Evicted sessions go to
    /// `hooks.removed` after the cache lock is released, then are dropped.
    pub fn add_session(&self, s: &H, now: i64, hooks: &impl RemoveHook<H>) -> bool {
        let stamp = self.mode().contains(CacheMode::UPDATE_TIME).then_some(now);
        let capacity = usize::try_from(self.size()).unwrap_or(usize::MAX);
        let added = self.cache.add(s, capacity, stamp);
        for victim in &added.evicted {
            // divergence: OpenSSL 3.0 runs remove_cb for evicted sessions while holding the
            // cache's write lock; we run it after releasing every lock, so it may re-enter.
            hooks.evicted(victim);
            // As in OpenSSL, the counter moves after the callback has seen the victim.
            self.stats.bump(Stat::CacheFull);
        }
        added.is_new
    }

    /// `SSL_CTX_remove_session`: removes the entry with `s`'s key, marks `s` (the argument)
    /// not resumable and runs `hooks.removed(s)` even when nothing was cached. An empty id is
    /// never removed and gets no callback. True when an entry was removed.
    pub fn remove_session(&self, s: &H, hooks: &impl RemoveHook<H>) -> bool {
        let key = s.key();
        if key.id().is_empty() {
            return false;
        }
        let found = self.cache.remove(&key);
        s.mark_not_resumable();
        hooks.removed(s);
        // The cache's own reference goes after the callback (openssl#6222).
        found.is_some()
    }

    /// `SSL_CTX_flush_sessions(ctx, t)`: removes the sessions expired at `t` (all when 0),
    /// earliest expiry first; `hooks.removed` sees each after the lock is released.
    pub fn flush(&self, t: i64, hooks: &impl RemoveHook<H>) -> usize {
        let removed = self.cache.flush(t);
        for s in &removed {
            // divergence: OpenSSL 3.0 runs remove_cb under its write lock during a flush.
            hooks.flushed(s);
        }
        removed.len()
    }

    /// `SSL_has_matching_session_id` on this context's cache.
    pub fn has_session(&self, version: i32, id: &[u8]) -> bool {
        super::key::SessionKey::from_slice(version, id).is_some_and(|k| self.cache.contains(&k))
    }
}

#[cfg(test)]
mod tests {
    //! `SSL_CTX_add_session`, `_remove_session` and `_flush_sessions` with their counters and
    //! callbacks (spec §4.2–§4.5, Appendix A.1 and A.2).

    use std::cell::RefCell;
    use std::sync::Arc;

    use super::*;
    use crate::core::session::{Session, SessionRef};
    use crate::core::stats::Stat;

    const T0: i64 = 1_700_000_000;

    /// Records every `remove_cb` call.
    #[derive(Default)]
    struct Record(RefCell<Vec<SessionRef>>);

    impl RemoveHook<SessionRef> for Record {
        fn removed(&self, s: &SessionRef) {
            self.0.borrow_mut().push(s.clone());
        }
    }

    impl Record {
        fn count(&self) -> usize {
            self.0.borrow().len()
        }
        fn last_is(&self, s: &SessionRef) -> bool {
            self.0.borrow().last().is_some_and(|l| Arc::ptr_eq(l, s))
        }
    }

    fn session(version: i32, id: &[u8], timeout: i64) -> SessionRef {
        let s = Session::new(T0);
        s.update(|f| {
            f.version = version;
            f.id = Bytes32::new(id).unwrap();
            f.timeout = timeout;
        });
        Arc::new(s)
    }

    #[test]
    fn a1_add_remove() {
        let ctx = SessionCtx::<SessionRef>::new();
        let rec = Record::default();
        let n = || ctx.cache().len();
        let a = session(0x0303, &[0xa; 32], 100);
        assert!(ctx.add_session(&a, T0, &rec));
        assert!(!ctx.add_session(&a, T0, &rec));
        assert_eq!(n(), 1);
        let a2 = session(0x0303, &[0xa; 32], 100);
        assert!(ctx.add_session(&a2, T0, &rec));
        assert_eq!((n(), rec.count()), (1, 0));
        assert!(a.is_resumable());
        // Removing `a` removes `a2` (same key); the callback and the mark go to the argument.
        assert!(ctx.remove_session(&a, &rec));
        assert_eq!((n(), rec.count()), (0, 1));
        assert!(rec.last_is(&a));
        assert!(!a.is_resumable());
        assert!(a2.is_resumable());
        let a3 = session(0x0301, &[0xa; 32], 100);
        assert!(ctx.add_session(&a3, T0, &rec));
        assert_eq!(n(), 1);
        assert!(ctx.remove_session(&a3, &rec));
        assert!(!ctx.remove_session(&a3, &rec));
        assert_eq!(rec.count(), 3, "remove_cb fires even when nothing was cached");
        assert!(!a3.is_resumable());
        assert!(ctx.add_session(&a3, T0, &rec), "a not-resumable session is accepted");
        let before = n();
        let z = session(0x0303, &[], 100);
        let z2 = session(0x0303, &[], 100);
        assert!(ctx.add_session(&z, T0, &rec));
        assert!(ctx.add_session(&z2, T0, &rec));
        assert_eq!(n(), before + 1, "two empty ids are one key");
        assert!(!ctx.remove_session(&z2, &rec));
        assert_eq!(rec.count(), 3, "an empty id gets no callback");
        assert!(!z2.is_not_resumable(), "nor is it marked");
        assert_eq!(ctx.flush(0, &rec), 2);
        assert_eq!(rec.count(), 5, "flush(0) calls back for every session, empty id included");
        assert_eq!(ctx.stats().get(Stat::CacheFull), 0);
        assert_eq!(ctx.stats().get(Stat::Timeouts), 0, "flush never counts timeouts");
        ctx.cache().validate();
    }

    #[test]
    fn a2_counts_and_callbacks_through_the_context() {
        let ctx = SessionCtx::<SessionRef>::new();
        let rec = Record::default();
        ctx.set_size(4);
        let s: Vec<_> = [100, 900, 50, 700, 20, 600]
            .iter()
            .enumerate()
            .map(|(i, &t)| session(0x0303, &[0x10 + i as u8; 32], t))
            .collect();
        let mut full = vec![];
        for x in &s {
            assert!(ctx.add_session(x, T0, &rec));
            full.push(ctx.stats().get(Stat::CacheFull));
        }
        assert_eq!(full, [0, 0, 0, 1, 2, 3]);
        let victims: Vec<u8> = rec.0.borrow().iter().map(|v| v.read(|f| f.id.as_slice()[0])).collect();
        assert_eq!(victims, [0x12, 0x10, 0x14]);
        // When the callback runs the cache has dropped the victim: the callback's borrow and
        // our `s` are what keep it alive.
        assert!(rec.0.borrow().iter().all(|v| !v.is_cached() && v.is_not_resumable()));
        ctx.cache().validate();
    }

    #[test]
    fn empty_id_never_stops_eviction() {
        // divergence: OpenSSL 3.0 stops evicting at an empty-id tail and grows (CVE-2024-2511).
        let ctx = SessionCtx::<SessionRef>::new();
        let rec = Record::default();
        ctx.set_size(2);
        let z = session(0x0303, &[], 10);
        assert!(ctx.add_session(&z, T0, &rec));
        for i in 0..5u8 {
            assert!(ctx.add_session(&session(0x0303, &[i + 1; 32], 100), T0, &rec));
            assert_eq!(ctx.cache().len(), 1);
        }
        assert!(!z.is_cached());
        assert!(rec.0.borrow().first().is_some_and(|f| Arc::ptr_eq(f, &z)));
    }

    #[test]
    fn update_time_mode_stamps_on_add() {
        let ctx = SessionCtx::<SessionRef>::new();
        let a = session(0x0303, &[1; 32], 100);
        ctx.add_session(&a, T0 + 50, &NoHooks);
        assert_eq!(a.read(|f| f.time), T0, "no stamp without UPDATE_TIME");
        ctx.set_mode((CacheMode::SERVER | CacheMode::UPDATE_TIME).bits());
        assert!(!ctx.add_session(&a, T0 + 50, &NoHooks));
        assert_eq!(a.read(|f| f.time), T0 + 50);
        assert_eq!(ctx.flush(T0 + 150, &NoHooks), 0);
        assert_eq!(ctx.flush(T0 + 151, &NoHooks), 1);
    }

    #[test]
    fn flush_order_and_stop() {
        let ctx = SessionCtx::<SessionRef>::new();
        let rec = Record::default();
        for (i, t) in [30, 10, 20, 10].iter().enumerate() {
            ctx.add_session(&session(0x0303, &[i as u8 + 1; 32], *t), T0, &rec);
        }
        assert_eq!(ctx.flush(T0 + 21, &rec), 3);
        let order: Vec<u8> = rec.0.borrow().iter().map(|v| v.read(|f| f.id.as_slice()[0])).collect();
        assert_eq!(order, [2, 4, 3], "earliest expiry first, ties in insertion order");
        assert_eq!(ctx.cache().len(), 1);
    }

    #[test]
    fn configuration_defaults_and_swaps() {
        let ctx = SessionCtx::<SessionRef>::new();
        assert_eq!(ctx.mode(), CacheMode::SERVER);
        assert_eq!(ctx.size(), DEFAULT_CACHE_SIZE);
        assert_eq!(ctx.timeout(), DEFAULT_TIMEOUT);
        assert_eq!(ctx.set_mode(u32::MAX), CacheMode::SERVER.bits());
        assert_eq!(ctx.mode().bits(), u32::MAX, "unknown bits are kept");
        assert_eq!(ctx.set_timeout(0), DEFAULT_TIMEOUT);
        assert_eq!(ctx.session_timeout(), DEFAULT_TIMEOUT, "0 means the method default");
        ctx.set_timeout(-5);
        assert_eq!(ctx.session_timeout(), -5);
        assert!(!ctx.has_session(0x0303, &[0; 33]));
    }
}
