//! What the cache holds: any refcounted session (ours, or libssl's in the preload library)
//! through the [`Cacheable`] trait, and the [`Listing`] that names one cached entry.
//! (`Listing::cache`, which finds a listing's cache, is defined with the registry of caches in
//! `core::cache`: this module imports nothing of the cache.)

use std::num::NonZeroU32;

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
    /// Records that a cache now lists this session as `listing` (3.0's `owner`), so that later
    /// changes of its time or timeout can reposition it. The default keeps no record.
    fn attach(&self, _listing: Listing) {}
    /// Replaces the record `old` by `new` (the entry moved in its cache's order), unless the
    /// session has been attached elsewhere since.
    fn reattach(&self, _old: Listing, _new: Listing) {}
    /// Forgets the record made by `attach`, if it is `listing`.
    fn detach(&self, _listing: Listing) {}
}

/// One cached entry, by name: the cache (by id), the hash of the key it was added under and
/// its insertion number there, which no other entry of that cache ever has. A session keeps
/// the listing of its latest add (see [`Cacheable::attach`]); the cache finds the entry from it
/// while the entry stays at that place in the order. Plain data: holding one keeps nothing
/// alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listing {
    pub(super) cache: NonZeroU32,
    pub(super) hash: u64,
    pub(super) seq: u64,
}
