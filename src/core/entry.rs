//! What the cache holds: any refcounted session (ours, or libssl's in the preload library)
//! through the [`Cacheable`] trait, and the [`Listing`] that records where a cache lists it.
//! (`Listing::cache`, which finds a listing's cache, is defined with the registry of caches in
//! `core::cache`: this module imports nothing of the cache.)

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use super::key::SessionKey;
use super::time::Expiry;

/// A refcounted session as the cache holds it. `Clone` takes a reference (`up_ref`) and
/// `Drop` releases one (`free`).
pub trait Cacheable: Clone + Send + Sync + Sized + 'static {
    /// The session's current key (version, id).
    fn key(&self) -> SessionKey;
    /// The session's current expiry.
    fn expiry(&self) -> Expiry;
    /// True when both handles refer to the same session object.
    fn same(&self, other: &Self) -> bool;
    /// Sets OpenSSL's `not_resumable` flag.
    fn mark_not_resumable(&self);
    /// OpenSSL's `not_resumable` flag.
    fn is_marked_not_resumable(&self) -> bool;
    /// Sets the session's time to `now` (`SSL_SESS_CACHE_UPDATE_TIME`) without repositioning.
    fn stamp_time(&self, now: i64);
    /// Records that a cache now lists this session (`listing`), so that later changes of its
    /// time or timeout can reposition it. The default keeps no record.
    fn attach(&self, _listing: &Arc<Listing<Self>>) {}
    /// Forgets the record made by `attach`, if it names `listing`.
    fn detach(&self, _listing: &Listing<Self>) {}
}

/// One cached session: the frozen key it was added under, and its place in the order.
/// Sessions that track their cache (see [`Cacheable::attach`]) hold a `Weak` to it.
pub struct Listing<H> {
    pub(super) key: SessionKey,
    /// The key's hash in its cache, kept so that growing the index and evicting never hash
    /// again.
    pub(super) hash: u64,
    pub(super) handle: H,
    pub(super) cache_id: u32,
    // Position; written only under the order lock.
    pub(super) overflowed: AtomicBool,
    pub(super) at: AtomicI64,
    pub(super) seq: AtomicU64,
    pub(super) linked: AtomicBool,
}

impl<H: Cacheable> Listing<H> {
    /// The key the session was cached under.
    pub fn key(&self) -> &SessionKey {
        &self.key
    }

    /// True while the session is in the cache's order (not removed, evicted or flushed).
    pub fn is_linked(&self) -> bool {
        self.linked.load(Ordering::Relaxed)
    }

    pub(super) fn set_pos(&self, expiry: Expiry, seq: u64) {
        let (overflowed, at) = expiry.parts();
        self.overflowed.store(overflowed, Ordering::Relaxed);
        self.at.store(at, Ordering::Relaxed);
        self.seq.store(seq, Ordering::Relaxed);
        self.linked.store(true, Ordering::Relaxed);
    }

    pub(super) fn expiry(&self) -> Expiry {
        Expiry::from_parts(self.overflowed.load(Ordering::Relaxed), self.at.load(Ordering::Relaxed))
    }
}
