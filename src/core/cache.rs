//! The cache: a sharded hash index for lookups plus one expiry-ordered list for eviction and
//! flush, reproducing OpenSSL 3.0's `SSL_CTX_add_session`, remove, eviction and flush.
//!
//! Lookups take only their shard's read lock. Every mutation (add, remove, evict, flush,
//! reposition) first takes the `order` mutex, then the shard write locks it needs; so the
//! order and the index always agree, and the count is exact. No callback runs here: removed
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
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use hashbrown::{DefaultHashBuilder, HashTable};
use once_cell::sync::Lazy;
use parking_lot::{Mutex, RwLock};

use super::key::SessionKey;
use super::session::Handle;
use super::time::Expiry;

/// Index shards. A power of two, well above the core counts we target.
const SHARDS: usize = 64;

/// Tombstones tolerated before the order is compacted, beyond one per live entry.
const TOMBSTONE_SLACK: usize = 1024;

/// One cached session: the frozen key it was added under, and its place in the order.
/// Sessions that track their cache (see [`Handle::attach`]) hold a `Weak` to it.
pub struct Listing<H> {
    key: SessionKey,
    handle: H,
    cache_id: usize,
    // Position; written only under the order mutex.
    overflowed: AtomicBool,
    at: AtomicI64,
    seq: AtomicU64,
    linked: AtomicBool,
}

impl<H: Handle> Listing<H> {
    /// The key the session was cached under.
    pub fn key(&self) -> &SessionKey {
        &self.key
    }

    /// The id of the cache that lists (or listed) this session.
    pub fn cache_id(&self) -> usize {
        self.cache_id
    }

    /// True while the session is in the cache's order (not removed, evicted or flushed).
    pub fn is_linked(&self) -> bool {
        self.linked.load(Ordering::Relaxed)
    }

    /// The cache that lists this session, if it still exists.
    pub fn cache(&self) -> Option<Arc<Cache<H>>> {
        lookup_cache(self.cache_id)
    }

    /// True when `other` is this very listing.
    pub fn is(&self, other: &Listing<H>) -> bool {
        std::ptr::eq(self, other)
    }

    fn set_pos(&self, expiry: Expiry, seq: u64) {
        let (overflowed, at) = expiry.parts();
        self.overflowed.store(overflowed, Ordering::Relaxed);
        self.at.store(at, Ordering::Relaxed);
        self.seq.store(seq, Ordering::Relaxed);
        self.linked.store(true, Ordering::Relaxed);
    }

    fn expiry(&self) -> Expiry {
        Expiry::from_parts(self.overflowed.load(Ordering::Relaxed), self.at.load(Ordering::Relaxed))
    }
}

/// Every live cache by id, so that a session can find the cache that lists it without holding
/// a counted reference to it (which would make every add and drop touch one shared counter).
static CACHES: Lazy<RwLock<HashMap<usize, Weak<dyn Any + Send + Sync>>>> = Lazy::new(Default::default);
static NEXT_CACHE_ID: AtomicUsize = AtomicUsize::new(1);

fn lookup_cache<H: Handle>(id: usize) -> Option<Arc<Cache<H>>> {
    let any = CACHES.read().get(&id)?.upgrade()?;
    any.downcast::<Cache<H>>().ok()
}

#[repr(align(128))]
struct Shard<H> {
    table: RwLock<HashTable<Arc<Listing<H>>>>,
}

/// The sessions of one expiry, oldest insertion first: (insertion number, listing).
type Bucket<H> = VecDeque<(u64, Weak<Listing<H>>)>;

/// The eviction order: FIFO buckets by expiry, with tombstones.
struct Order<H> {
    buckets: BTreeMap<Expiry, Bucket<H>>,
    live: usize,
    tombstones: usize,
    seq: u64,
}

impl<H: Handle> Order<H> {
    fn link(&mut self, node: &Arc<Listing<H>>, expiry: Expiry) {
        self.seq += 1;
        node.set_pos(expiry, self.seq);
        self.buckets.entry(expiry).or_default().push_back((self.seq, Arc::downgrade(node)));
        self.live += 1;
    }

    fn unlink(&mut self, node: &Listing<H>) {
        if node.linked.swap(false, Ordering::Relaxed) {
            self.live -= 1;
            self.tombstones += 1;
            if self.tombstones > self.live + TOMBSTONE_SLACK {
                self.compact();
            }
        }
    }

    fn is_live(seq: u64, node: &Weak<Listing<H>>) -> Option<Arc<Listing<H>>> {
        node.upgrade().filter(|n| n.linked.load(Ordering::Relaxed) && n.seq.load(Ordering::Relaxed) == seq)
    }

    /// The next victim: the earliest-expiring, earliest-inserted live entry.
    fn first(&mut self) -> Option<Arc<Listing<H>>> {
        loop {
            let mut bucket = self.buckets.first_entry()?;
            while let Some((seq, node)) = bucket.get().front() {
                if let Some(n) = Self::is_live(*seq, node) {
                    return Some(n);
                }
                bucket.get_mut().pop_front();
                self.tombstones -= 1;
            }
            bucket.remove();
        }
    }

    fn compact(&mut self) {
        self.buckets.retain(|_, b| {
            b.retain(|(seq, n)| Self::is_live(*seq, n).is_some());
            b.shrink_to_fit();
            !b.is_empty()
        });
        self.tombstones = 0;
    }

    fn iter_live(&self) -> impl Iterator<Item = Arc<Listing<H>>> + '_ {
        self.buckets.values().flatten().filter_map(|(seq, n)| Self::is_live(*seq, n))
    }
}

/// The result of [`Cache::add`].
pub struct Added<H> {
    /// 1 in OpenSSL: the session became a new entry (not merely already cached).
    pub is_new: bool,
    /// Sessions evicted to make room, oldest expiry first; each is marked not resumable.
    /// The caller runs `remove_cb` on each, then drops them.
    pub evicted: Vec<H>,
    /// A different session that had the same key and was replaced silently (no callback).
    pub replaced: Option<H>,
}

/// The session cache of one `SSL_CTX`.
pub struct Cache<H: Handle> {
    shards: Box<[Shard<H>]>,
    order: Mutex<Order<H>>,
    len: AtomicUsize,
    hasher: DefaultHashBuilder,
    id: usize,
}

impl<H: Handle> Cache<H> {
    /// An empty cache.
    pub fn new() -> Arc<Cache<H>> {
        let id = NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed);
        let cache = Arc::new(Cache {
            shards: (0..SHARDS).map(|_| Shard { table: RwLock::new(HashTable::new()) }).collect(),
            order: Mutex::new(Order { buckets: BTreeMap::new(), live: 0, tombstones: 0, seq: 0 }),
            len: AtomicUsize::new(0),
            hasher: DefaultHashBuilder::default(),
            id,
        });
        let any: Arc<dyn Any + Send + Sync> = cache.clone();
        CACHES.write().insert(id, Arc::downgrade(&any));
        cache
    }

    /// The number of cached sessions (`SSL_CTX_sess_number`), read without a lock.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn hash(&self, key: &SessionKey) -> u64 {
        self.hasher.hash_one(key)
    }

    fn shard(&self, hash: u64) -> &Shard<H> {
        // The top bits pick the shard; hashbrown uses the low bits and the top 7 for tags.
        &self.shards[(hash >> 40) as usize % SHARDS]
    }

    /// The cached session with this key, with a reference taken for the caller.
    pub fn get(&self, key: &SessionKey) -> Option<H> {
        let hash = self.hash(key);
        let table = self.shard(hash).table.read();
        table.find(hash, |n| n.key == *key).map(|n| n.handle.clone())
    }

    /// True when a session with this key is cached (`SSL_has_matching_session_id`).
    pub fn contains(&self, key: &SessionKey) -> bool {
        let hash = self.hash(key);
        self.shard(hash).table.read().find(hash, |n| n.key == *key).is_some()
    }

    /// Removes `node` from the index and the order; the caller holds the order lock. The
    /// caller still has to [`Cache::retire`] it once the lock is released.
    fn take(&self, order: &mut Order<H>, node: &Listing<H>) -> bool {
        let hash = self.hash(&node.key);
        let removed = {
            let mut table = self.shard(hash).table.write();
            match table.find_entry(hash, |n| std::ptr::eq(&**n, node)) {
                Ok(entry) => Some(entry.remove().0),
                Err(_) => None,
            }
        };
        order.unlink(node);
        if removed.is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        removed.is_some()
    }

    /// What happens to an evicted or flushed session outside the lock: it is marked not
    /// resumable and forgets its listing.
    fn retire(node: &Listing<H>) -> H {
        node.handle.mark_not_resumable();
        node.handle.detach(node);
        node.handle.clone()
    }

    fn listing(&self, key: SessionKey, h: &H) -> Arc<Listing<H>> {
        Arc::new(Listing {
            key,
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
    pub fn add(&self, h: &H, capacity: usize, stamp: Option<i64>) -> Added<H> {
        if let Some(now) = stamp {
            h.stamp_time(now);
        }
        // Everything that needs no lock is done first, to keep the critical section short.
        let (key, expiry) = h.key_expiry();
        let hash = self.hash(&key);
        let fresh = self.listing(key, h);
        let mut out = Added { is_new: true, evicted: Vec::new(), replaced: None };
        let mut victims = Vec::new();
        let mut old = None;
        let node = {
            let mut order = self.order.lock();
            let mut table = self.shard(hash).table.write();
            let existing = match table.find_entry(hash, |n| n.key == key) {
                Ok(entry) if entry.get().handle.same(h) => Some(entry.get().clone()),
                Ok(mut entry) => {
                    old = Some(std::mem::replace(entry.get_mut(), fresh.clone()));
                    None
                }
                Err(absent) => {
                    absent.into_table().insert_unique(hash, fresh.clone(), |n| self.hash(&n.key));
                    self.len.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            // The shard lock goes before eviction, which may need the same shard.
            drop(table);
            if let Some(replaced) = &old {
                order.unlink(replaced);
            }
            let node = match existing {
                Some(node) => {
                    out.is_new = false;
                    order.unlink(&node);
                    node
                }
                None => fresh,
            };
            if out.is_new {
                // The new entry is counted but not yet linked, so it can never be its own
                // victim. divergence: OpenSSL 3.0 stops evicting at a tail with an empty id
                // (it cannot be removed), which lets the cache grow without bound
                // (CVE-2024-2511). We evict it like any other.
                while capacity > 0 && self.len() >= capacity {
                    let Some(victim) = order.first() else { break };
                    if self.take(&mut order, &victim) {
                        victims.push(victim);
                    }
                }
            }
            order.link(&node, expiry);
            node
        };
        h.attach(&node);
        if let Some(old) = old {
            old.handle.detach(&old);
            out.replaced = Some(old.handle.clone());
        }
        out.evicted = victims.iter().map(|v| Self::retire(v)).collect();
        out
    }

    /// The internal part of `SSL_CTX_remove_session`: unlink the entry with `key`, whatever
    /// object it is, and return it. The caller marks its own argument not resumable, runs
    /// `remove_cb` and then drops the returned handle.
    pub fn remove(&self, key: &SessionKey) -> Option<H> {
        let hash = self.hash(key);
        let mut order = self.order.lock();
        let node = {
            let mut table = self.shard(hash).table.write();
            let entry = table.find_entry(hash, |n| n.key == *key).ok()?;
            entry.remove().0
        };
        self.len.fetch_sub(1, Ordering::Relaxed);
        order.unlink(&node);
        drop(order);
        node.handle.detach(&node);
        Some(node.handle.clone())
    }

    /// `SSL_CTX_flush_sessions(ctx, t)` (3.0): from the earliest expiry on, remove sessions
    /// expired at `t` (all of them when `t == 0`), stopping at the first live one. Returns the
    /// removed sessions in removal order, each marked not resumable.
    pub fn flush(&self, t: i64) -> Vec<H> {
        let mut removed = Vec::new();
        {
            let mut order = self.order.lock();
            while let Some(node) = order.first() {
                if t != 0 && !node.handle.expiry().is_expired_at(t) {
                    break;
                }
                if self.take(&mut order, &node) {
                    removed.push(node);
                }
            }
        }
        removed.iter().map(|n| Self::retire(n)).collect()
    }

    /// Moves the session listed by `node` to the position of its current expiry, if this cache
    /// still lists it (3.0's `SSL_SESSION_set_time` on a cached session).
    pub fn reposition_listing(&self, node: &Arc<Listing<H>>) {
        let mut order = self.order.lock();
        if node.linked.load(Ordering::Relaxed) && node.cache_id == self.id {
            order.unlink(node);
            order.link(node, node.handle.expiry());
        }
    }

    /// Moves the session cached under `key` to the position of its current expiry, if `h` is
    /// the object cached there.
    pub fn reposition(&self, key: &SessionKey, h: &H) {
        let hash = self.hash(key);
        let node = {
            let table = self.shard(hash).table.read();
            match table.find(hash, |n| n.key == *key) {
                Some(n) if n.handle.same(h) => n.clone(),
                _ => return,
            }
        };
        self.reposition_listing(&node);
    }

    /// Every cached session, earliest expiry first (for tests and statistics).
    pub fn snapshot(&self) -> Vec<H> {
        self.order.lock().iter_live().map(|n| n.handle.clone()).collect()
    }

    /// Checks that the index and the order agree; panics with a description if they do not.
    /// Used by tests and fuzzers after every operation.
    pub fn validate(&self) {
        let order = self.order.lock();
        let indexed: usize = self.shards.iter().map(|s| s.table.read().len()).sum();
        assert_eq!(indexed, self.len(), "the count is stale");
        assert_eq!(indexed, order.live, "index and order disagree on the count");
        let mut seen = 0;
        let mut last: Option<(Expiry, u64)> = None;
        for node in order.iter_live() {
            seen += 1;
            let pos = (node.expiry(), node.seq.load(Ordering::Relaxed));
            assert!(last.is_none_or(|l| l < pos), "the order is not sorted");
            last = Some(pos);
            let hash = self.hash(&node.key);
            let table = self.shard(hash).table.read();
            let found = table.find(hash, |n| n.key == node.key);
            assert!(found.is_some_and(|n| Arc::ptr_eq(n, &node)), "an ordered session is not indexed");
        }
        assert_eq!(seen, order.live, "live entries in the order disagree with its count");
    }
}

impl<H: Handle> Drop for Cache<H> {
    fn drop(&mut self) {
        CACHES.write().remove(&self.id);
    }
}
