//! The session-cache state of one `SSL_CTX`: configuration, statistics and the cache, and the
//! public cache operations (`SSL_CTX_add_session`, `_remove_session`, `_flush_sessions`).

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::cache::Cache;
use super::key::Bytes32;
use super::mode::CacheMode;
use super::session::Handle;
use super::stats::{Stat, Stats};

/// `SSL_SESSION_CACHE_MAX_SIZE_DEFAULT`: 1024 * 20.
pub const DEFAULT_CACHE_SIZE: u64 = 1024 * 20;
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
pub struct SessionCtx<H: Handle> {
    cache: Arc<Cache<H>>,
    stats: Stats,
    mode: AtomicU32,
    size: AtomicU64,
    timeout: AtomicI64,
    sid_ctx: RwLock<Bytes32>,
}

impl<H: Handle> Default for SessionCtx<H> {
    fn default() -> Self {
        SessionCtx::new()
    }
}

impl<H: Handle> SessionCtx<H> {
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
            self.stats.bump(Stat::CacheFull);
            // divergence: OpenSSL 3.0 runs remove_cb for evicted sessions while holding the
            // cache's write lock; we run it after releasing every lock, so it may re-enter.
            hooks.evicted(victim);
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
