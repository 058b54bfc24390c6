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

use std::any::Any;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;
use once_cell::sync::Lazy;
use parking_lot::RwLock;

use super::entry::Handle;
use super::key::{KeyHasher, SessionKey};
// The preload names `core::cache::Listing` in code its rewrite replaces; the type lives in
// `core::entry`.
pub use super::entry::Listing;
use super::sync::{OrderLock, Own};
use super::time::Expiry;

/// Index shards. A power of two, well above the core counts we target.
const SHARDS: usize = 64;

/// The shard of a hash: its top bits (hashbrown uses the low bits, and the top 7 for tags).
fn shard_of(hash: u64) -> usize {
    (hash >> 40) as usize % SHARDS
}

/// Tombstones tolerated before the order is compacted, beyond one per live entry.
const TOMBSTONE_SLACK: u64 = 1024;

impl<H: Handle> Listing<H> {
    /// The cache that lists this session, if it still exists.
    pub fn cache(&self) -> Option<Arc<Cache<H>>> {
        lookup_cache(self.cache_id)
    }
}

/// Every live cache by id, so that a session can find the cache that lists it without holding
/// a counted reference to it (which would make every add and drop touch one shared counter).
static CACHES: Lazy<RwLock<HashMap<u32, Weak<dyn Any + Send + Sync>>>> = Lazy::new(Default::default);
static NEXT_CACHE_ID: AtomicU32 = AtomicU32::new(1);

fn lookup_cache<H: Handle>(id: u32) -> Option<Arc<Cache<H>>> {
    let any = CACHES.read().get(&id)?.upgrade()?;
    any.downcast::<Cache<H>>().ok()
}

/// An index entry: a pointer to the listing, which carries its key's hash. Eight bytes, so the
/// table stays small (1 MiB at 100,000 sessions, half of what storing the hash here too made
/// it: adds at capacity were 9 % faster so, lookups and fill unchanged), and the hash is
/// reused, never recomputed, when the table grows and when a victim leaves it.
struct Slot<H> {
    node: Arc<Listing<H>>,
}

impl<H> Slot<H> {
    fn is(&self, hash: u64, key: &SessionKey) -> bool {
        self.node.hash == hash && self.node.key == *key
    }

    /// [`Slot::is`], and the listing is still linked: not an eviction or flush in progress.
    fn is_live(&self, hash: u64, key: &SessionKey) -> bool {
        self.is(hash, key) && self.node.linked.load(Ordering::Relaxed)
    }
}

#[repr(align(128))]
struct Shard<H> {
    table: RwLock<HashTable<Slot<H>>>,
}

/// The sessions of one expiry, oldest insertion first: (insertion number, listing).
type Bucket<H> = VecDeque<(u64, Weak<Listing<H>>)>;

/// The eviction order: FIFO buckets by expiry, with tombstones. The bucket of the latest expiry
/// (where nearly every add goes, since new sessions expire last) is kept inline, the others in
/// a map; every key in `older` is earlier than `latest`.
///
/// `repr(C)`, and the fields written by every add first, so that with the lock and the count
/// before them they fill one 64-byte cache line (see [`Serial`]): an add then moves that line,
/// and the tail of `newest`'s buffer, between cores, and no map node.
#[repr(C)]
struct Order<H> {
    seq: u64,
    /// Linked entries (a cache never holds 2^32 sessions: each costs hundreds of bytes).
    live: u32,
    tombstones: u32,
    newest: Bucket<H>,
    latest: Expiry,
    older: BTreeMap<Expiry, Bucket<H>>,
    /// Listings met while skipping tombstones, kept so that their last reference (and with it,
    /// possibly, the session's final free) is never dropped under the lock.
    graveyard: Vec<Arc<Listing<H>>>,
}

impl<H: Handle> Order<H> {
    fn new() -> Order<H> {
        Order {
            seq: 0,
            live: 0,
            tombstones: 0,
            newest: VecDeque::new(),
            latest: Expiry::from_parts(false, i64::MIN),
            older: BTreeMap::new(),
            graveyard: Vec::new(),
        }
    }

    fn link(&mut self, node: &Arc<Listing<H>>, expiry: Expiry) {
        self.seq += 1;
        node.set_pos(expiry, self.seq);
        let entry = (self.seq, Arc::downgrade(node));
        if expiry == self.latest {
            self.newest.push_back(entry);
        } else if expiry > self.latest || (self.newest.is_empty() && self.older.is_empty()) {
            let previous = std::mem::take(&mut self.newest);
            if !previous.is_empty() {
                self.older.insert(self.latest, previous);
            }
            self.latest = expiry;
            self.newest.push_back(entry);
        } else {
            self.older.entry(expiry).or_default().push_back(entry);
        }
        self.live += 1;
    }

    fn unlink(&mut self, node: &Listing<H>) {
        // `linked` is written only under the order lock: a load and a store, no locked
        // read-modify-write.
        if node.linked.load(Ordering::Relaxed) {
            node.linked.store(false, Ordering::Relaxed);
            self.live -= 1;
            self.tombstones += 1;
            if u64::from(self.tombstones) > u64::from(self.live) + TOMBSTONE_SLACK {
                self.compact();
            }
        }
    }

    fn is_live(seq: u64, node: &Weak<Listing<H>>, graveyard: &mut Vec<Arc<Listing<H>>>) -> Option<Arc<Listing<H>>> {
        let n = node.upgrade()?;
        if n.linked.load(Ordering::Relaxed) && n.seq.load(Ordering::Relaxed) == seq {
            Some(n)
        } else {
            graveyard.push(n);
            None
        }
    }

    /// The first live entry of `bucket`, popping the tombstones before it.
    fn front(
        bucket: &mut Bucket<H>,
        tombstones: &mut u32,
        graveyard: &mut Vec<Arc<Listing<H>>>,
    ) -> Option<Arc<Listing<H>>> {
        while let Some((seq, node)) = bucket.front() {
            if let Some(n) = Self::is_live(*seq, node, graveyard) {
                return Some(n);
            }
            bucket.pop_front();
            *tombstones -= 1;
        }
        None
    }

    /// The next victim: the earliest-expiring, earliest-inserted live entry.
    fn first(&mut self) -> Option<Arc<Listing<H>>> {
        while let Some(mut bucket) = self.older.first_entry() {
            if let Some(n) = Self::front(bucket.get_mut(), &mut self.tombstones, &mut self.graveyard) {
                return Some(n);
            }
            bucket.remove();
        }
        Self::front(&mut self.newest, &mut self.tombstones, &mut self.graveyard)
    }

    fn compact(&mut self) {
        let graveyard = &mut self.graveyard;
        let mut keep = |b: &mut Bucket<H>| {
            b.retain(|(seq, n)| Self::is_live(*seq, n, graveyard).is_some());
            b.shrink_to_fit();
            !b.is_empty()
        };
        self.older.retain(|_, b| keep(b));
        keep(&mut self.newest);
        self.tombstones = 0;
    }

    /// The listings met while skipping tombstones, for the caller to drop once every lock is
    /// released.
    fn take_graveyard(&mut self) -> Vec<Arc<Listing<H>>> {
        // Usually empty: then its cache line is only read.
        if self.graveyard.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut self.graveyard)
        }
    }

    /// The live listings in order.
    fn live_listings(&mut self) -> Vec<Arc<Listing<H>>> {
        let graveyard = &mut self.graveyard;
        let entries = self.older.values().flatten().chain(self.newest.iter());
        entries.filter_map(|(seq, n)| Self::is_live(*seq, n, graveyard)).collect()
    }
}

/// The order lock, which empties the graveyard only after it is released.
struct OrderGuard<'a, H: Handle>(Option<spin::mutex::SpinMutexGuard<'a, Order<H>>>);

impl<H: Handle> std::ops::Deref for OrderGuard<'_, H> {
    type Target = Order<H>;
    fn deref(&self) -> &Order<H> {
        self.0.as_deref().unwrap_or_else(|| unreachable!("the guard is held until drop"))
    }
}

impl<H: Handle> std::ops::DerefMut for OrderGuard<'_, H> {
    fn deref_mut(&mut self) -> &mut Order<H> {
        self.0.as_deref_mut().unwrap_or_else(|| unreachable!("the guard is held until drop"))
    }
}

impl<H: Handle> Drop for OrderGuard<'_, H> {
    fn drop(&mut self) {
        let dead = self.0.as_mut().map(|o| o.take_graveyard());
        drop(self.0.take());
        drop(dead);
    }
}

/// What every mutation serialises on: the order lock, and the count it keeps exact (written
/// only under the lock, read without it). `repr(C)`: the count, the lock word and the order's
/// hot fields fill the first 64 bytes, one cache line that moves between cores once per add.
#[repr(C)]
struct Serial<H> {
    len: AtomicUsize,
    order: OrderLock<Order<H>>,
}

/// A list that is nearly always empty or of one item (an add's victims), kept without a heap
/// allocation in those cases.
#[derive(Debug)]
pub struct Few<T> {
    one: Option<T>,
    more: Vec<T>,
}

impl<T> Default for Few<T> {
    fn default() -> Self {
        Few { one: None, more: Vec::new() }
    }
}

impl<T> Few<T> {
    /// Appends an item.
    pub fn push(&mut self, item: T) {
        if self.one.is_none() && self.more.is_empty() {
            self.one = Some(item);
        } else {
            self.more.push(item);
        }
    }

    /// The items in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.into_iter()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        usize::from(self.one.is_some()) + self.more.len()
    }

    /// True when there is no item.
    pub fn is_empty(&self) -> bool {
        self.one.is_none()
    }

    /// The items, copied into a `Vec`.
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.iter().cloned().collect()
    }

    fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> Few<U> {
        let one = self.one.as_ref().map(&mut f);
        // Nearly always empty: skip building an iterator for it.
        let more = if self.more.is_empty() { Vec::new() } else { self.more.iter().map(f).collect() };
        Few { one, more }
    }
}

impl<'a, T> IntoIterator for &'a Few<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Chain<std::option::Iter<'a, T>, std::slice::Iter<'a, T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.one.iter().chain(self.more.iter())
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
pub struct Cache<H: Handle> {
    shards: Box<[Shard<H>]>,
    hasher: KeyHasher,
    id: u32,
    /// The order and the count, on cache lines of their own: every mutation writes both, and
    /// sharing one line saves a transfer between cores per add.
    serial: Own<Serial<H>>,
}

impl<H: Handle> Cache<H> {
    /// An empty cache.
    pub fn new() -> Arc<Cache<H>> {
        let mut caches = CACHES.write();
        // Ids are 32 bits (they sit in every listing); after a wrap, ids still in use are
        // skipped, so no two live caches ever share one.
        let id = loop {
            let id = NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed);
            if id != 0 && !caches.contains_key(&id) {
                break id;
            }
        };
        let cache = Arc::new(Cache {
            shards: (0..SHARDS).map(|_| Shard { table: RwLock::new(HashTable::new()) }).collect(),
            serial: Own(Serial { len: AtomicUsize::new(0), order: OrderLock::new(Order::new()) }),
            hasher: KeyHasher::new(),
            id,
        });
        let any: Arc<dyn Any + Send + Sync> = cache.clone();
        caches.insert(id, Arc::downgrade(&any));
        drop(caches);
        cache
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

impl<H: Handle> Drop for Cache<H> {
    fn drop(&mut self) {
        CACHES.write().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    //! The cache against a model of OpenSSL 3.0's semantics (spec §4.2–§4.6), and the measured
    //! eviction sequences of Appendix A.2. Time is always explicit: no clock, no randomness
    //! beyond a seeded PRNG.

    use std::collections::HashMap;
    use std::sync::{Arc, Weak};

    use super::*;
    use crate::core::key::Bytes32;
    use crate::core::session::{Session, SessionRef};

    /// A fixed "now" for sessions whose time does not matter.
    const T0: i64 = 1_700_000_000;

    /// SplitMix64: small, deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn pct(&mut self, p: u64) -> bool {
            self.below(100) < p
        }
        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[self.below(xs.len() as u64) as usize]
        }
    }

    fn session(version: i32, id: &[u8], time: i64, timeout: i64) -> SessionRef {
        let s = Session::new(time);
        s.update(|f| {
            f.version = version;
            f.id = Bytes32::new(id).expect("ids in tests are at most 32 bytes");
            f.timeout = timeout;
        });
        Arc::new(s)
    }

    fn sid(n: u8) -> SessionRef {
        session(0x0303, &[n; 32], T0, 100)
    }

    /// The ids (first byte) of the cached sessions, earliest expiry first.
    fn ids(c: &Cache<SessionRef>) -> Vec<u8> {
        c.snapshot().iter().map(|s| s.read(|f| f.id.as_slice().first().copied().unwrap_or(0))).collect()
    }

    fn first_byte(s: &SessionRef) -> u8 {
        s.read(|f| f.id.as_slice()[0])
    }

    // ---- Appendix A.2: number / cache_full after each of six adds (3.0.19 column). ----

    /// Adds sessions 0x10.. with these timeouts under capacity `n`; returns the numbers after
    /// each add, the running eviction counts, the victims in order and the survivors.
    fn a2(n: usize, timeouts: &[i64]) -> (Vec<usize>, Vec<usize>, Vec<u8>, Vec<u8>) {
        let c = Cache::<SessionRef>::new();
        let (mut numbers, mut full, mut victims) = (Vec::new(), Vec::new(), Vec::new());
        let mut held = Vec::new();
        for (i, &t) in timeouts.iter().enumerate() {
            let s = session(0x0303, &[0x10 + i as u8; 32], T0, t);
            let added = c.add(&s, n, None);
            assert!(added.is_new);
            assert!(added.replaced.is_none());
            for v in &added.evicted {
                assert!(v.is_not_resumable(), "an evicted session is marked not resumable");
                assert!(!v.is_cached());
                victims.push(first_byte(v));
            }
            c.validate();
            numbers.push(c.len());
            full.push(victims.len());
            held.push(s);
        }
        let mut survivors = ids(&c);
        survivors.sort_unstable();
        for s in &held {
            assert_eq!(s.is_cached(), survivors.contains(&first_byte(s)));
            assert_eq!(s.is_not_resumable(), !survivors.contains(&first_byte(s)));
        }
        (numbers, full, victims, survivors)
    }

    #[test]
    fn a2_size_3_equal_timeouts_settles_at_n_minus_1() {
        let (numbers, full, victims, survivors) = a2(3, &[100; 6]);
        assert_eq!(numbers, [1, 2, 2, 2, 2, 2]);
        assert_eq!(full, [0, 0, 1, 2, 3, 4]);
        // Equal expiries: the earliest insertion goes first.
        assert_eq!(victims, [0x10, 0x11, 0x12, 0x13]);
        assert_eq!(survivors, [0x14, 0x15]);
    }

    #[test]
    fn a2_size_1_and_2_hold_one() {
        for n in [1, 2] {
            let (numbers, full, _, survivors) = a2(n, &[100; 6]);
            assert_eq!(numbers, [1; 6], "size {n}");
            assert_eq!(full, [0, 1, 2, 3, 4, 5], "size {n}");
            assert_eq!(survivors, [0x15], "size {n}");
        }
    }

    #[test]
    fn a2_size_3_decreasing_timeouts_keeps_the_longest_and_the_newest() {
        let (_, _, victims, survivors) = a2(3, &[800, 700, 600, 500, 400, 300]);
        assert_eq!(victims, [0x11, 0x12, 0x13, 0x14]);
        assert_eq!(survivors, [0x10, 0x15]);
    }

    #[test]
    fn a2_size_4_mixed_timeouts_evicts_earliest_expiry() {
        let (numbers, _, victims, survivors) = a2(4, &[100, 900, 50, 700, 20, 600]);
        assert_eq!(numbers, [1, 2, 3, 3, 3, 3]);
        assert_eq!(victims, [0x12, 0x10, 0x14]);
        assert_eq!(survivors, [0x11, 0x13, 0x15]);
    }

    #[test]
    fn unlimited_capacity_never_evicts() {
        let (numbers, full, _, _) = a2(0, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
        assert_eq!(full, [0; 6]);
    }

    // ---- Single behaviours (§4.2–§4.5). ----

    #[test]
    fn readd_is_not_new_and_repositions() {
        let c = Cache::new();
        let (a, b) = (sid(1), sid(2));
        assert!(c.add(&a, 0, None).is_new);
        assert!(c.add(&b, 0, None).is_new);
        assert_eq!(ids(&c), [1, 2]);
        let again = c.add(&a, 0, None);
        assert!(!again.is_new && again.evicted.is_empty() && again.replaced.is_none());
        // Equal expiry, newer insertion: `a` moves nearer the head (away from eviction).
        assert_eq!(ids(&c), [2, 1]);
        assert_eq!(c.len(), 2);
        c.validate();
        // The cache holds one reference per entry, however often it is added.
        assert_eq!(Arc::strong_count(&a), 2);
    }

    #[test]
    fn readd_into_a_full_cache_evicts_nothing() {
        let c = Cache::new();
        let (a, b) = (sid(1), sid(2));
        c.add(&a, 3, None);
        c.add(&b, 3, None);
        let again = c.add(&a, 3, None);
        assert!(!again.is_new);
        assert!(again.evicted.is_empty());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn same_key_replaces_silently() {
        let c = Cache::new();
        let a = sid(1);
        let a2 = sid(1);
        c.add(&a, 0, None);
        let r = c.add(&a2, 0, None);
        assert!(r.is_new);
        assert!(r.evicted.is_empty());
        assert!(r.replaced.as_ref().is_some_and(|o| Arc::ptr_eq(o, &a)));
        drop(r);
        assert!(!a.is_not_resumable(), "a replaced session stays resumable");
        assert!(!a.is_cached());
        assert!(a2.is_cached());
        assert_eq!(Arc::strong_count(&a), 1, "the cache dropped its reference on the old object");
        assert_eq!(c.len(), 1);
        assert!(c.get(&a.key()).is_some_and(|g| Arc::ptr_eq(&g, &a2)));
        c.validate();
    }

    #[test]
    fn key_includes_version_and_length() {
        let c = Cache::new();
        let v12 = session(0x0303, &[7; 32], T0, 100);
        let v10 = session(0x0301, &[7; 32], T0, 100);
        let short = session(0x0303, &[7; 31], T0, 100);
        let empty = session(0x0303, &[], T0, 100);
        for s in [&v12, &v10, &short, &empty] {
            assert!(c.add(s, 0, None).is_new);
        }
        assert_eq!(c.len(), 4);
        assert!(c.contains(&SessionKey::from_slice(0x0301, &[7; 32]).unwrap()));
        assert!(!c.contains(&SessionKey::from_slice(0x0302, &[7; 32]).unwrap()));
        assert!(c.contains(&SessionKey::from_slice(0x0303, &[]).unwrap()));
        c.validate();
    }

    #[test]
    fn remove_returns_whichever_object_is_cached() {
        let c = Cache::new();
        let (a, a2) = (sid(1), sid(1));
        c.add(&a2, 0, None);
        let got = c.remove(&a.key());
        assert!(got.as_ref().is_some_and(|g| Arc::ptr_eq(g, &a2)));
        assert!(!a2.is_not_resumable(), "the cache does not mark on remove; its caller marks the argument");
        assert!(c.remove(&a.key()).is_none());
        assert!(c.is_empty());
        c.validate();
    }

    #[test]
    fn flush_is_strict_and_stops_at_first_live() {
        // §4.5 measured: expiries now, now+10, now+20.
        let c = Cache::new();
        let now = T0;
        let s: Vec<_> = [0, 10, 20].iter().map(|&d| session(0x0303, &[d as u8 + 1; 32], now, d)).collect();
        s.iter().for_each(|x| drop(c.add(x, 0, None)));
        let f = c.flush(now + 9);
        assert_eq!(f.iter().map(first_byte).collect::<Vec<_>>(), [1]);
        assert!(c.flush(now + 10).is_empty());
        assert_eq!(c.flush(now + 11).iter().map(first_byte).collect::<Vec<_>>(), [11]);
        assert_eq!(c.flush(0).iter().map(first_byte).collect::<Vec<_>>(), [21]);
        assert!(s.iter().all(|x| x.is_not_resumable() && !x.is_cached()));
        c.validate();
    }

    #[test]
    fn flush_never_removes_an_overflowed_expiry() {
        let c = Cache::new();
        let forever = session(0x0303, &[1; 32], T0, i64::MAX);
        c.add(&forever, 0, None);
        assert!(c.flush(i64::MAX).is_empty());
        assert_eq!(c.flush(0).len(), 1);
    }

    #[test]
    fn update_time_stamps_new_and_present_entries() {
        let c = Cache::new();
        let a = session(0x0303, &[1; 32], T0 - 100, 100);
        c.add(&a, 0, Some(T0));
        assert_eq!(a.read(|f| f.time), T0);
        a.update(|f| f.time = T0 - 500);
        c.add(&a, 0, Some(T0 + 5));
        assert_eq!(a.read(|f| f.time), T0 + 5);
        assert!(c.flush(T0 + 105).is_empty());
    }

    #[test]
    fn set_time_repositions_a_cached_session() {
        // §4.4 measured: cache {100, 200, 300}; raising the 100 one to 1000, then adding under
        // N = 3 evicts the 200 and 300 sessions.
        let c = Cache::new();
        let s: Vec<_> =
            [100, 200, 300].iter().enumerate().map(|(i, &t)| session(0x0303, &[i as u8 + 1; 32], T0, t)).collect();
        s.iter().for_each(|x| drop(c.add(x, 0, None)));
        s[0].update_expiry(|f| f.timeout = 1000);
        c.validate();
        assert_eq!(ids(&c), [2, 3, 1]);
        let n = session(0x0303, &[9; 32], T0, 50);
        let r = c.add(&n, 3, None);
        assert_eq!(r.evicted.iter().map(first_byte).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(ids(&c), [9, 1]);
        c.validate();
    }

    #[test]
    fn set_time_on_a_removed_session_does_not_touch_the_cache() {
        let c = Cache::new();
        let (a, a2) = (sid(1), sid(1));
        c.add(&a, 0, None);
        c.add(&a2, 0, None); // replaces a
        a.update_expiry(|f| f.timeout = 5);
        let b = sid(2);
        c.add(&b, 0, None);
        assert_eq!(ids(&c), [1, 2]);
        assert!(c.get(&a.key()).is_some_and(|g| Arc::ptr_eq(&g, &a2)));
        c.validate();
    }

    #[test]
    fn dropping_the_cache_releases_every_session() {
        let c = Cache::new();
        let s: Vec<_> = (0..10).map(sid).collect();
        s.iter().for_each(|x| drop(c.add(x, 0, None)));
        let weak: Vec<Weak<Session>> = s.iter().map(Arc::downgrade).collect();
        drop(s);
        assert!(weak.iter().all(|w| w.strong_count() == 1));
        drop(c);
        assert!(weak.iter().all(|w| w.strong_count() == 0));
    }

    // ---- The model test. ----

    /// OpenSSL 3.0's expiry for `time >= 0`, written independently of `Expiry`: `(overflowed,
    /// at)`, which sorts as `timeoutcmp`.
    fn model_expiry(time: i64, timeout: i64) -> (bool, i64) {
        assert!(time >= 0);
        let room = i64::MAX - time;
        if timeout > room {
            (true, timeout - room)
        } else {
            (false, time + timeout)
        }
    }

    fn model_expired(e: (bool, i64), t: i64) -> bool {
        !e.0 && t > e.1
    }

    /// One session object as the model sees it.
    struct Obj {
        s: SessionRef,
        key: SessionKey,
        time: i64,
        timeout: i64,
        not_resumable: bool,
    }

    struct Entry {
        obj: usize,
        exp: (bool, i64),
        seq: u64,
    }

    /// OpenSSL 3.0's cache: a map from key to entry, ordered by (expiry, insertion).
    #[derive(Default)]
    struct Model {
        map: HashMap<SessionKey, Entry>,
        seq: u64,
    }

    impl Model {
        fn next(&mut self) -> u64 {
            self.seq += 1;
            self.seq
        }

        /// The key of the next victim: earliest expiry, then earliest insertion.
        fn tail(&self) -> Option<SessionKey> {
            self.map.iter().min_by_key(|(_, e)| (e.exp, e.seq)).map(|(k, _)| *k)
        }

        fn order(&self) -> Vec<usize> {
            let mut v: Vec<_> = self.map.values().collect();
            v.sort_by_key(|e| (e.exp, e.seq));
            v.iter().map(|e| e.obj).collect()
        }

        /// §4.2 steps 3–8; returns (is_new, evicted objects in order, replaced object).
        fn add(
            &mut self,
            objs: &mut [Obj],
            o: usize,
            cap: usize,
            stamp: Option<i64>,
        ) -> (bool, Vec<usize>, Option<usize>) {
            if let Some(now) = stamp {
                objs[o].time = now;
            }
            let key = objs[o].key;
            let exp = model_expiry(objs[o].time, objs[o].timeout);
            let mut replaced = None;
            if let Some(e) = self.map.get(&key) {
                if e.obj == o {
                    let seq = self.next();
                    let e = self.map.get_mut(&key).unwrap();
                    (e.exp, e.seq) = (exp, seq);
                    return (false, vec![], None);
                }
                replaced = self.map.remove(&key).map(|e| e.obj);
            }
            let mut evicted = vec![];
            // Evict before linking while the count, including the new entry, is >= cap.
            while cap > 0 && self.map.len() + 1 >= cap {
                let Some(k) = self.tail() else { break };
                let v = self.map.remove(&k).unwrap().obj;
                objs[v].not_resumable = true;
                evicted.push(v);
            }
            let seq = self.next();
            self.map.insert(key, Entry { obj: o, exp, seq });
            (true, evicted, replaced)
        }

        fn flush(&mut self, objs: &mut [Obj], t: i64) -> Vec<usize> {
            let mut out = vec![];
            while let Some(k) = self.tail() {
                if t != 0 && !model_expired(self.map[&k].exp, t) {
                    break;
                }
                let o = self.map.remove(&k).unwrap().obj;
                objs[o].not_resumable = true;
                out.push(o);
            }
            out
        }

        fn cached_obj(&self, key: &SessionKey) -> Option<usize> {
            self.map.get(key).map(|e| e.obj)
        }
    }

    fn same_objs(objs: &[Obj], got: &[SessionRef], want: &[usize], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: count");
        for (g, &w) in got.iter().zip(want) {
            assert!(Arc::ptr_eq(g, &objs[w].s), "{what}: wrong object");
        }
    }

    fn random_key(r: &mut Rng) -> SessionKey {
        let version = r.pick(&[0x0303, 0x0303, 0x0301]);
        if r.pct(3) {
            return SessionKey::from_slice(version, &[]).unwrap();
        }
        let n = r.below(24) as u8;
        let len = if r.pct(10) { 1 + r.below(32) as usize } else { 32 };
        SessionKey::from_slice(version, &vec![n; len]).unwrap()
    }

    fn random_times(r: &mut Rng) -> (i64, i64) {
        let time = T0 + r.below(50) as i64;
        let timeout = match r.below(100) {
            0..=1 => i64::MAX,
            2..=3 => i64::MAX - time + r.below(3) as i64 - 1, // around the overflow boundary
            4..=7 => -(r.below(4) as i64),
            _ => r.below(60) as i64,
        };
        (time, timeout)
    }

    fn new_obj(objs: &mut Vec<Obj>, key: SessionKey, (time, timeout): (i64, i64)) -> usize {
        let s = session(key.version(), key.id().as_slice(), time, timeout);
        objs.push(Obj { s, key, time, timeout, not_resumable: false });
        objs.len() - 1
    }

    fn check(c: &Cache<SessionRef>, m: &Model, objs: &[Obj], step: &str) {
        c.validate();
        assert_eq!(c.len(), m.map.len(), "{step}: len");
        same_objs(objs, &c.snapshot(), &m.order(), &format!("{step}: order"));
        for (i, o) in objs.iter().enumerate() {
            let cached = m.cached_obj(&o.key) == Some(i);
            assert_eq!(o.s.is_cached(), cached, "{step}: is_cached of object {i}");
            assert_eq!(o.s.is_not_resumable(), o.not_resumable, "{step}: not_resumable of object {i}");
            assert_eq!(o.s.read(|f| (f.time, f.timeout)), (o.time, o.timeout), "{step}: fields of {i}");
        }
    }

    fn run_model(seed: u64, ops: usize) {
        let mut r = Rng(seed);
        let c = Cache::<SessionRef>::new();
        let mut m = Model::default();
        let mut objs: Vec<Obj> = Vec::new();
        let mut cap = 0usize;
        for step in 0..ops {
            let what = format!("seed {seed} step {step}");
            let stamp = if r.pct(10) { Some(T0 + r.below(60) as i64) } else { None };
            match r.below(100) {
                // add a new object (its key may be cached already: a replacement)
                0..=29 => {
                    let o = new_obj(&mut objs, random_key(&mut r), random_times(&mut r));
                    let want = m.add(&mut objs, o, cap, stamp);
                    let got = c.add(&objs[o].s.clone(), cap, stamp);
                    assert_eq!(got.is_new, want.0, "{what}: is_new");
                    same_objs(&objs, &got.evicted.to_vec(), &want.1, &format!("{what}: evicted"));
                    same_objs(&objs, got.replaced.as_slice(), want.2.as_slice(), &format!("{what}: replaced"));
                }
                // replace the cached entry of a key with a new object
                30..=37 => {
                    let Some(key) = m.tail() else { continue };
                    let o = new_obj(&mut objs, key, random_times(&mut r));
                    let want = m.add(&mut objs, o, cap, stamp);
                    assert!(want.2.is_some());
                    let got = c.add(&objs[o].s.clone(), cap, stamp);
                    assert!(got.is_new, "{what}: replacement is new");
                    same_objs(&objs, &got.evicted.to_vec(), &want.1, &format!("{what}: evicted"));
                    same_objs(&objs, got.replaced.as_slice(), want.2.as_slice(), &format!("{what}: replaced"));
                }
                // re-add an existing object (cached, replaced, evicted or removed)
                38..=52 => {
                    if objs.is_empty() {
                        continue;
                    }
                    let o = r.below(objs.len() as u64) as usize;
                    let want = m.add(&mut objs, o, cap, stamp);
                    let got = c.add(&objs[o].s.clone(), cap, stamp);
                    assert_eq!(got.is_new, want.0, "{what}: re-add is_new");
                    same_objs(&objs, &got.evicted.to_vec(), &want.1, &format!("{what}: evicted"));
                    same_objs(&objs, got.replaced.as_slice(), want.2.as_slice(), &format!("{what}: replaced"));
                }
                // remove by key (cached or not)
                53..=62 => {
                    let key = if r.pct(70) && !objs.is_empty() {
                        objs[r.below(objs.len() as u64) as usize].key
                    } else {
                        random_key(&mut r)
                    };
                    let want = m.map.remove(&key).map(|e| e.obj);
                    let got = c.remove(&key);
                    same_objs(&objs, got.as_slice(), want.as_slice(), &format!("{what}: remove"));
                }
                // flush(t), rarely flush(0) or flush(i64::MAX)
                63..=70 => {
                    let t = match r.below(20) {
                        0 => 0,
                        1 => i64::MAX,
                        _ => T0 + r.below(120) as i64,
                    };
                    let want = m.flush(&mut objs, t);
                    let got = c.flush(t);
                    same_objs(&objs, &got, &want, &format!("{what}: flush({t})"));
                }
                // change the capacity (takes effect at the next add, as in OpenSSL)
                71..=75 => cap = r.pick(&[0, 1, 2, 3, 4, 5, 8, 16]),
                // reposition: SSL_SESSION_set_time / set_timeout on any object
                76..=87 => {
                    if objs.is_empty() {
                        continue;
                    }
                    let o = r.below(objs.len() as u64) as usize;
                    let (time, timeout) = random_times(&mut r);
                    let set_time = r.pct(50);
                    if set_time {
                        objs[o].time = time;
                        objs[o].s.update_expiry(|f| f.time = time);
                    } else {
                        objs[o].timeout = timeout;
                        objs[o].s.update_expiry(|f| f.timeout = timeout);
                    }
                    let key = objs[o].key;
                    if m.cached_obj(&key) == Some(o) {
                        let exp = model_expiry(objs[o].time, objs[o].timeout);
                        let seq = m.next();
                        let e = m.map.get_mut(&key).unwrap();
                        (e.exp, e.seq) = (exp, seq);
                    }
                }
                // lookups
                _ => {
                    let key = if r.pct(70) && !objs.is_empty() {
                        objs[r.below(objs.len() as u64) as usize].key
                    } else {
                        random_key(&mut r)
                    };
                    let want = m.cached_obj(&key);
                    let got = c.get(&key);
                    same_objs(&objs, got.as_slice(), want.as_slice(), &format!("{what}: get"));
                    assert_eq!(c.contains(&key), want.is_some(), "{what}: contains");
                }
            }
            check(&c, &m, &objs, &what);
        }
        // Nothing leaks: once the cache and our handles are gone, every session is freed.
        let weak: Vec<Weak<Session>> = objs.iter().map(|o| Arc::downgrade(&o.s)).collect();
        drop(objs);
        drop(c);
        assert!(weak.iter().all(|w| w.strong_count() == 0), "seed {seed}: a session leaked");
    }

    #[test]
    fn model_random_sequences() {
        let (seqs, ops) = if cfg!(miri) { (2, 30) } else { (200, 300) };
        for seed in 0..seqs {
            run_model(0x5e55_cac4e ^ seed, ops);
        }
    }
}
