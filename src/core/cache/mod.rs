//! The cache: a sharded hash index for lookups plus one expiry-ordered list for eviction and
//! flush, reproducing OpenSSL 3.0's `SSL_CTX_add_session`, remove, eviction and flush.
//!
//! Lookups take only their shard's read lock. The order lock is the innermost lock and is held
//! only for the order itself: add and remove take their key's shard write lock, then the order
//! lock; flush and reposition take the order lock alone. A session leaves the cache when it
//! leaves the order (under the order lock, so the count and the eviction order are exact);
//! evicted and flushed sessions leave the index just after, with no order lock held, and until
//! then lookups skip them (their listing is no longer linked). No callback runs here: removed
//! sessions are handed back to the caller, which runs `remove_cb` and drops them after every
//! lock is released.
//!
//! The order is OpenSSL 3.0's list (head: latest expiry; among equal expiries the latest
//! insertion nearest the head; the tail is the next victim), kept as one FIFO bucket per
//! distinct expiry in a `BTreeMap`. Unlinking leaves a tombstone that eviction skips and that
//! is compacted away once tombstones outnumber live entries, so every operation is O(log b)
//! (b distinct expiries) amortised, with 16 bytes of order per cached session.

mod few;
mod index;
mod order;
mod registry;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;
use parking_lot::RwLock;

use super::entry::{Cacheable, Listing};
use super::key::{KeyHasher, SessionKey};
use super::sync::{OrderLock, Own};
use super::time::Expiry;
pub use few::Few;
use index::{shard_of, Shard, Slot, SHARDS};
use order::{Order, OrderGuard, Serial};

impl<H: Cacheable> Listing<H> {
    /// The cache that lists this session, if it still exists.
    pub fn cache(&self) -> Option<Arc<Cache<H>>> {
        registry::lookup(self.cache_id)
    }
}

/// The result of [`Cache::add`].
pub struct Added<H> {
    /// 1 in OpenSSL: the session became a new entry (not merely already cached).
    pub is_new: bool,
    /// Sessions evicted to make room, oldest expiry first; each is marked not resumable.
    /// The caller runs `remove_cb` on each, then drops them.
    pub evicted: Few<H>,
    /// A different session that had the same key and was replaced silently (no callback).
    pub replaced: Option<H>,
}

/// The session cache of one `SSL_CTX`.
pub struct Cache<H: Cacheable> {
    shards: Box<[Shard<H>]>,
    hasher: KeyHasher,
    id: u32,
    /// The order and the count, on cache lines of their own: every mutation writes both, and
    /// sharing one line saves a transfer between cores per add.
    serial: Own<Serial<H>>,
}

impl<H: Cacheable> Cache<H> {
    /// An empty cache.
    pub fn new() -> Arc<Cache<H>> {
        registry::register(|id| {
            Arc::new(Cache {
                shards: (0..SHARDS).map(|_| Shard { table: RwLock::new(HashTable::new()) }).collect(),
                serial: Own(Serial { len: AtomicUsize::new(0), order: OrderLock::new(Order::new()) }),
                hasher: KeyHasher::new(),
                id,
            })
        })
    }

    /// The number of cached sessions (`SSL_CTX_sess_number`), read without a lock.
    pub fn len(&self) -> usize {
        self.serial.len.load(Ordering::Relaxed)
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock_order(&self) -> OrderGuard<'_, H> {
        OrderGuard(Some(self.serial.order.lock()))
    }

    fn hash(&self, key: &SessionKey) -> u64 {
        self.hasher.hash(key)
    }

    fn shard(&self, hash: u64) -> &Shard<H> {
        &self.shards[shard_of(hash)]
    }

    /// The cached session with this key, with a reference taken for the caller.
    pub fn get(&self, key: &SessionKey) -> Option<H> {
        let hash = self.hash(key);
        let table = self.shard(hash).table.read();
        table.find(hash, |s| s.is_live(hash, key)).map(|s| s.node.handle.clone())
    }

    /// True when a session with this key is cached (`SSL_has_matching_session_id`).
    pub fn contains(&self, key: &SessionKey) -> bool {
        let hash = self.hash(key);
        self.shard(hash).table.read().find(hash, |s| s.is_live(hash, key)).is_some()
    }

    /// Moves the count by `delta`. Only ever written under the order lock (`_order` is its
    /// guard), so a load and a store do, without a locked read-modify-write.
    fn set_len(&self, _order: &mut Order<H>, delta: isize) {
        let len = &self.serial.len;
        len.store(len.load(Ordering::Relaxed).wrapping_add_signed(delta), Ordering::Relaxed);
    }

    /// Takes `node` out of the order (the caller holds the order lock): from here on it is no
    /// longer cached, though its index slot goes only in [`Cache::unindex`].
    fn unlink_counted(&self, order: &mut Order<H>, node: &Listing<H>) {
        if node.linked.load(Ordering::Relaxed) {
            order.unlink(node);
            self.set_len(order, -1);
        }
    }

    /// Removes the index slot of a listing that was unlinked from the order, unless another
    /// add has replaced it since. Called with no lock held.
    fn unindex(&self, node: &Listing<H>) {
        let mut table = self.shard(node.hash).table.write();
        if let Ok(entry) = table.find_entry(node.hash, |s| std::ptr::eq(&*s.node, node)) {
            // Not the last reference: the caller holds one.
            entry.remove();
        }
    }

    /// What happens to an evicted or flushed session once it has left the order: its index
    /// slot goes, it is marked not resumable and forgets its listing. Called with no lock held.
    fn retire(&self, node: &Listing<H>) -> H {
        self.unindex(node);
        node.handle.mark_not_resumable();
        node.handle.detach(node);
        node.handle.clone()
    }

    fn listing(&self, key: SessionKey, hash: u64, h: &H) -> Arc<Listing<H>> {
        Arc::new(Listing {
            key,
            hash,
            handle: h.clone(),
            cache_id: self.id,
            overflowed: AtomicBool::new(false),
            at: AtomicI64::new(0),
            seq: AtomicU64::new(0),
            linked: AtomicBool::new(false),
        })
    }

    /// `SSL_CTX_add_session` (3.0): insert or replace, evict while the count (including the
    /// new entry) is at least `capacity` (0 = unlimited), then link at the expiry position.
    /// Re-adding a cached session repositions it. With `stamp = Some(now)`
    /// (`SSL_SESS_CACHE_UPDATE_TIME`) the session's time becomes `now` first.
    ///
    /// Locks: the key's shard (write) for the whole add, and inside it, briefly, the order
    /// lock, which is all that adds on different shards serialise on. Victims leave the order
    /// under that lock (so the count and the eviction order are exact, and lookups stop
    /// finding them) and leave the index after it, in parallel with other adds.
    pub fn add(&self, h: &H, capacity: usize, stamp: Option<i64>) -> Added<H> {
        if let Some(now) = stamp {
            h.stamp_time(now);
        }
        // Everything that needs no lock is done first, to keep the critical sections short.
        let key = h.key();
        let hash = self.hash(&key);
        let fresh = self.listing(key, hash, h);
        let mut out = Added { is_new: true, evicted: Few::default(), replaced: None };
        let mut victims = Few::default();
        let mut old = None;
        let dead;
        {
            let mut table = self.shard(hash).table.write();
            // One probe finds the key or the slot a new entry goes to (growing the table
            // first if it is full).
            let slot = table.entry(hash, |s| s.is(hash, &key), |s| s.node.hash);
            let found = match &slot {
                Entry::Occupied(e) => Some(e.get().node.clone()),
                Entry::Vacant(_) => None,
            };
            let mut order = self.lock_order();
            // A listing that is indexed but no longer linked is an eviction or flush in
            // progress: that session has already left the cache.
            let node = match found {
                Some(node) if node.is_linked() && node.handle.same(h) => {
                    out.is_new = false;
                    order.unlink(&node);
                    node
                }
                Some(node) => {
                    if node.is_linked() {
                        self.unlink_counted(&mut order, &node);
                        old = Some(node);
                    }
                    fresh
                }
                None => fresh,
            };
            if out.is_new {
                self.set_len(&mut order, 1);
                // The new entry is counted but not yet linked, so it can never be its own
                // victim. divergence: OpenSSL 3.0 stops evicting at a tail with an empty id
                // (it cannot be removed), which lets the cache grow without bound
                // (CVE-2024-2511). We evict it like any other.
                while capacity > 0 && self.len() >= capacity {
                    let Some(victim) = order.first() else { break };
                    self.unlink_counted(&mut order, &victim);
                    victims.push(victim);
                }
            }
            // The owner is recorded first and the expiry read after it, both under the lock: a
            // concurrent `set_time` (which writes the expiry, then reads the owner) either
            // missed the owner, and then its write is seen by this read, or found it, and then
            // it repositions once this link is done.
            h.attach(&node);
            order.link(&node, h.expiry());
            dead = order.take_graveyard();
            drop(order);
            if out.is_new {
                match slot {
                    Entry::Occupied(mut entry) => entry.get_mut().node = node,
                    Entry::Vacant(vacant) => {
                        vacant.insert(Slot { node });
                    }
                }
            }
        }
        if let Some(old) = old {
            old.handle.detach(&old);
            out.replaced = Some(old.handle.clone());
        }
        out.evicted = victims.map(|v| self.retire(v));
        drop(dead);
        out
    }

    /// The internal part of `SSL_CTX_remove_session`: unlink the entry with `key`, whatever
    /// object it is, and return it. The caller marks its own argument not resumable, runs
    /// `remove_cb` and then drops the returned handle.
    pub fn remove(&self, key: &SessionKey) -> Option<H> {
        let hash = self.hash(key);
        let (node, dead) = {
            let mut table = self.shard(hash).table.write();
            let entry = table.find_entry(hash, |s| s.is(hash, key)).ok()?;
            let mut order = self.lock_order();
            // Already unlinked: an eviction or flush took it first and removes the slot.
            if !entry.get().node.is_linked() {
                return None;
            }
            self.unlink_counted(&mut order, &entry.get().node);
            let dead = order.take_graveyard();
            drop(order);
            (entry.remove().0.node, dead)
        };
        drop(dead);
        node.handle.detach(&node);
        Some(node.handle.clone())
    }

    /// `SSL_CTX_flush_sessions(ctx, t)` (3.0): from the earliest expiry on, remove sessions
    /// expired at `t` (all of them when `t == 0`), stopping at the first live one. Returns the
    /// removed sessions in removal order, each marked not resumable.
    pub fn flush(&self, t: i64) -> Vec<H> {
        let mut removed = Vec::new();
        let dead = {
            let mut order = self.lock_order();
            while let Some(node) = order.first() {
                if t != 0 && !node.handle.expiry().is_expired_at(t) {
                    break;
                }
                self.unlink_counted(&mut order, &node);
                removed.push(node);
            }
            order.take_graveyard()
        };
        drop(dead);
        removed.iter().map(|n| self.retire(n)).collect()
    }

    /// Moves the session listed by `node` to the position of its current expiry, if this cache
    /// still lists it (3.0's `SSL_SESSION_set_time` on a cached session).
    pub fn reposition_listing(&self, node: &Arc<Listing<H>>) {
        let mut order = self.lock_order();
        if node.linked.load(Ordering::Relaxed) && node.cache_id == self.id {
            order.unlink(node);
            order.link(node, node.handle.expiry());
        }
    }

    /// Moves the session cached under `key` to the position of its current expiry, if `h` is
    /// the object cached there (for callers that know a session's key but not its listing).
    pub fn reposition(&self, key: &SessionKey, h: &H) {
        let hash = self.hash(key);
        let node = {
            let table = self.shard(hash).table.read();
            match table.find(hash, |s| s.is(hash, key)) {
                Some(s) if s.node.handle.same(h) => s.node.clone(),
                _ => return,
            }
        };
        self.reposition_listing(&node);
    }

    /// Every cached session, earliest expiry first (for tests and statistics).
    pub fn snapshot(&self) -> Vec<H> {
        let listings = self.lock_order().live_listings();
        listings.iter().map(|n| n.handle.clone()).collect()
    }

    /// Checks that the index and the order agree; panics with a description if they do not.
    /// Used by tests and fuzzers after every operation.
    pub fn validate(&self) {
        // Shards before the order lock, as in every mutation.
        let tables: Vec<_> = self.shards.iter().map(|s| s.table.read()).collect();
        let mut order = self.lock_order();
        let indexed: usize = tables.iter().map(|t| t.len()).sum();
        assert_eq!(indexed, self.len(), "the count is stale");
        assert_eq!(indexed, order.live as usize, "index and order disagree on the count");
        let mut seen = 0;
        let mut last: Option<(Expiry, u64)> = None;
        for node in order.live_listings() {
            seen += 1;
            let pos = (node.expiry(), node.seq.load(Ordering::Relaxed));
            assert!(last.is_none_or(|l| l < pos), "the order is not sorted");
            last = Some(pos);
            let hash = self.hash(&node.key);
            assert_eq!(hash, node.hash, "a listing's stored hash is stale");
            let table = &tables[shard_of(hash)];
            let found = table.find(hash, |s| s.is_live(hash, &node.key));
            assert!(found.is_some_and(|s| Arc::ptr_eq(&s.node, &node)), "an ordered session is not indexed");
        }
        assert_eq!(seen, order.live as usize, "live entries in the order disagree with its count");
        assert!(order.older.keys().all(|k| *k < order.latest), "an older bucket is not older");
        let dead = order.take_graveyard();
        drop(order);
        drop(tables);
        drop(dead);
    }
}

impl<H: Cacheable> Drop for Cache<H> {
    fn drop(&mut self) {
        registry::unregister(self.id);
    }
}
