//! The index: 64 shards of a hash table whose slots point to listings.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use hashbrown::HashTable;
use parking_lot::RwLock;

use crate::core::entry::Listing;
use crate::core::key::SessionKey;

/// Index shards. A power of two, well above the core counts we target.
pub(super) const SHARDS: usize = 64;

/// The shard of a hash: its top bits (hashbrown uses the low bits, and the top 7 for tags).
pub(super) fn shard_of(hash: u64) -> usize {
    (hash >> 40) as usize % SHARDS
}

/// An index entry: a pointer to the listing, which carries its key's hash. Eight bytes, so the
/// table stays small (1 MiB at 100,000 sessions, half of what storing the hash here too made
/// it: adds at capacity were 9 % faster so, lookups and fill unchanged), and the hash is
/// reused, never recomputed, when the table grows and when a victim leaves it.
pub(super) struct Slot<H> {
    pub(super) node: Arc<Listing<H>>,
}

impl<H> Slot<H> {
    pub(super) fn is(&self, hash: u64, key: &SessionKey) -> bool {
        self.node.hash == hash && self.node.key == *key
    }

    /// [`Slot::is`], and the listing is still linked: not an eviction or flush in progress.
    pub(super) fn is_live(&self, hash: u64, key: &SessionKey) -> bool {
        self.is(hash, key) && self.node.linked.load(Ordering::Relaxed)
    }
}

#[repr(align(128))]
pub(super) struct Shard<H> {
    pub(super) table: RwLock<HashTable<Slot<H>>>,
}
