//! The cache: a sharded hash index for lookups plus one expiry-ordered list for eviction and
//! flush, reproducing OpenSSL 3.0's `SSL_CTX_add_session`, remove, eviction and flush.
//!
//! Lookups take only their shard's read lock. Every mutation (add, remove, evict, flush,
//! reposition) first takes the `order` mutex, then the shard write locks it needs; so the
//! list and the index always agree, and the count is exact. No callback runs here: removed
//! sessions are handed back to the caller, which runs `remove_cb` and drops them after every
//! lock is released.

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use hashbrown::{DefaultHashBuilder, HashTable};
use parking_lot::{Mutex, RwLock};

use super::key::SessionKey;
use super::session::Handle;
use super::time::Expiry;

/// Index shards. A power of two, well above the core counts we target.
const SHARDS: usize = 64;

/// A position in the expiry order: earlier expiry first, then earlier insertion first.
///
/// OpenSSL 3.0 keeps a list whose head has the latest expiry and, among equal expiries, the
/// most recent insertion; its tail (the next victim) is therefore the smallest
/// `(expiry, insertion)` pair, which is the first key of this map.
type Pos = (Expiry, u64);

/// One cached session: the frozen key it was added under, and its place in the order.
struct Node<H> {
    key: SessionKey,
    handle: H,
    /// Written only while the `order` mutex is held.
    pos: Mutex<Pos>,
}

#[repr(align(128))]
struct Shard<H> {
    table: RwLock<HashTable<Arc<Node<H>>>>,
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
    order: Mutex<BTreeMap<Pos, Arc<Node<H>>>>,
    len: AtomicUsize,
    seq: AtomicU64,
    hasher: DefaultHashBuilder,
    me: Weak<Cache<H>>,
}

impl<H: Handle> Cache<H> {
    /// An empty cache.
    pub fn new() -> Arc<Cache<H>> {
        Arc::new_cyclic(|me| Cache {
            shards: (0..SHARDS).map(|_| Shard { table: RwLock::new(HashTable::new()) }).collect(),
            order: Mutex::new(BTreeMap::new()),
            len: AtomicUsize::new(0),
            seq: AtomicU64::new(0),
            hasher: DefaultHashBuilder::default(),
            me: me.clone(),
        })
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

    fn next_pos(&self, expiry: Expiry) -> Pos {
        (expiry, self.seq.fetch_add(1, Ordering::Relaxed))
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

    /// Unlinks `node` from the index; the caller holds the order lock.
    fn unindex(&self, node: &Node<H>) -> Option<Arc<Node<H>>> {
        let hash = self.hash(&node.key);
        let mut table = self.shard(hash).table.write();
        let entry = table.find_entry(hash, |n| n.key == node.key).ok()?;
        let (removed, _) = entry.remove();
        self.len.fetch_sub(1, Ordering::Relaxed);
        Some(removed)
    }

    /// `SSL_CTX_add_session` (3.0): insert or replace, evict while the count (including the
    /// new entry) is at least `capacity` (0 = unlimited), then link at the expiry position.
    /// Re-adding a cached session repositions it. With `stamp = Some(now)`
    /// (`SSL_SESS_CACHE_UPDATE_TIME`) the session's time becomes `now` first.
    pub fn add(&self, h: &H, capacity: usize, stamp: Option<i64>) -> Added<H> {
        let key = h.key();
        let hash = self.hash(&key);
        let mut order = self.order.lock();
        if let Some(now) = stamp {
            h.stamp_time(now);
        }
        let mut out = Added { is_new: true, evicted: Vec::new(), replaced: None };
        let node = {
            let mut table = self.shard(hash).table.write();
            match table.find_entry(hash, |n| n.key == key) {
                Ok(entry) if entry.get().handle.same(h) => {
                    out.is_new = false;
                    entry.get().clone()
                }
                Ok(mut entry) => {
                    let node = Arc::new(Node { key, handle: h.clone(), pos: Mutex::new(self.next_pos(h.expiry())) });
                    let old = std::mem::replace(entry.get_mut(), node.clone());
                    order.remove(&*old.pos.lock());
                    old.handle.detach(self);
                    out.replaced = Some(old.handle.clone());
                    node
                }
                Err(absent) => {
                    let node = Arc::new(Node { key, handle: h.clone(), pos: Mutex::new(self.next_pos(h.expiry())) });
                    absent.into_table().insert_unique(hash, node.clone(), |n| self.hash(&n.key));
                    self.len.fetch_add(1, Ordering::Relaxed);
                    node
                }
            }
        };
        if out.is_new {
            // The new entry is counted but not yet linked, so it can never be its own victim.
            // divergence: OpenSSL 3.0 stops evicting at a tail with an empty id (it cannot be
            // removed), which lets the cache grow without bound (CVE-2024-2511). We evict it.
            while capacity > 0 && self.len() >= capacity {
                let Some((_, victim)) = order.pop_first() else { break };
                if self.unindex(&victim).is_some() {
                    victim.handle.mark_not_resumable();
                    victim.handle.detach(self);
                    out.evicted.push(victim.handle.clone());
                }
            }
        } else {
            order.remove(&*node.pos.lock());
        }
        let pos = self.next_pos(h.expiry());
        *node.pos.lock() = pos;
        order.insert(pos, node);
        h.attach(&self.me, key);
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
        order.remove(&*node.pos.lock());
        node.handle.detach(self);
        Some(node.handle.clone())
    }

    /// `SSL_CTX_flush_sessions(ctx, t)` (3.0): from the earliest expiry on, remove sessions
    /// expired at `t` (all of them when `t == 0`), stopping at the first live one. Returns the
    /// removed sessions in removal order, each marked not resumable.
    pub fn flush(&self, t: i64) -> Vec<H> {
        let mut out = Vec::new();
        let mut order = self.order.lock();
        while let Some(entry) = order.first_entry() {
            if t != 0 && !entry.get().handle.expiry().is_expired_at(t) {
                break;
            }
            let node = entry.remove();
            if self.unindex(&node).is_some() {
                node.handle.mark_not_resumable();
                node.handle.detach(self);
                out.push(node.handle.clone());
            }
        }
        out
    }

    /// Moves the session cached under `key` to the position of its current expiry, if `h` is
    /// the object cached there (3.0's `SSL_SESSION_set_time` on a cached session).
    pub fn reposition(&self, key: &SessionKey, h: &H) {
        let hash = self.hash(key);
        let mut order = self.order.lock();
        let node = {
            let table = self.shard(hash).table.read();
            match table.find(hash, |n| n.key == *key) {
                Some(n) if n.handle.same(h) => n.clone(),
                _ => return,
            }
        };
        let mut pos = node.pos.lock();
        if let Some(n) = order.remove(&*pos) {
            *pos = self.next_pos(h.expiry());
            order.insert(*pos, n);
        }
    }

    /// Every cached session, earliest expiry first (for tests and statistics).
    pub fn snapshot(&self) -> Vec<H> {
        self.order.lock().values().map(|n| n.handle.clone()).collect()
    }

    /// Checks that the index and the order agree; panics with a description if they do not.
    /// Used by tests and fuzzers after every operation.
    pub fn validate(&self) {
        let order = self.order.lock();
        let indexed: usize = self.shards.iter().map(|s| s.table.read().len()).sum();
        assert_eq!(indexed, order.len(), "index and order disagree on the count");
        assert_eq!(indexed, self.len(), "the count is stale");
        for (pos, node) in order.iter() {
            assert_eq!(*pos, *node.pos.lock(), "a node's recorded position is stale");
            let hash = self.hash(&node.key);
            let table = self.shard(hash).table.read();
            let found = table.find(hash, |n| n.key == node.key);
            assert!(found.is_some_and(|n| Arc::ptr_eq(n, node)), "an ordered node is not indexed");
        }
    }
}
