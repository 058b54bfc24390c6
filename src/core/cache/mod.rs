//! The cache: an index that holds each key with its session, readable without a lock, plus one
//! expiry-ordered list for eviction and flush, reproducing OpenSSL 3.0's `SSL_CTX_add_session`,
//! remove, eviction and flush.
//!
//! Lookups (`contains`, `get`) take no lock and write nothing shared: a hit reads the slot that
//! holds the whole key (one cache line) and, for `get`, the session it returns. Every mutation
//! takes the cache's one lock, under which the index, the order and the count change together,
//! so the count and the eviction order are exact and a removed session has left the index
//! before the operation returns. No callback runs here, and no session is released under the
//! lock: removed sessions are handed back to the caller, which runs `remove_cb` and drops them
//! after the lock is released.
//!
//! The order is OpenSSL 3.0's list (head: latest expiry; among equal expiries the latest
//! insertion nearest the head; the tail is the next victim), kept as one FIFO bucket per
//! distinct expiry in a `BTreeMap`. Its entries name index slots by (insertion number, hash);
//! a slot that moves or leaves leaves a tombstone that eviction skips and that is compacted
//! away once tombstones outnumber live entries, so every operation is O(log b) (b distinct
//! expiries) amortised, with 16 bytes of order per cached session.

mod few;
mod group;
mod index;
mod order;
mod registry;
mod segmented;
#[cfg(test)]
mod tests;

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::entry::Cacheable;
pub use super::entry::Listing;
use super::key::{KeyHasher, KeyWords, SessionKey};
use super::sync::{OrderLock, Own};
use super::time::Expiry;
pub use few::Few;
use index::{Index, IndexWriter, Loc};
use order::Order;

impl Listing {
    /// The cache that lists this entry, if it still exists and holds `H`s.
    pub fn cache<H: Cacheable>(&self) -> Option<Arc<Cache<H>>> {
        registry::lookup(self.cache)
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

/// What the lock guards: the order and the index's writer state.
struct Writer {
    order: Order,
    index: IndexWriter,
}

/// What every mutation serialises on: the lock, and the count it keeps exact (written only
/// under the lock, read without it). `repr(C)`: the count, the lock word and the order's hot
/// fields share the first cache line, which moves between cores once per add.
#[repr(C)]
struct Serial {
    len: AtomicUsize,
    lock: OrderLock<Writer>,
}

/// The session cache of one `SSL_CTX`.
pub struct Cache<H: Cacheable> {
    index: Index<H>,
    hasher: KeyHasher,
    id: NonZeroU32,
    /// The lock and the count, on cache lines of their own: lookups never touch them.
    serial: Own<Serial>,
}

impl<H: Cacheable> Cache<H> {
    /// An empty cache.
    pub fn new() -> Arc<Cache<H>> {
        registry::register(|id| {
            Arc::new(Cache {
                index: Index::new(),
                serial: Own(Serial {
                    len: AtomicUsize::new(0),
                    lock: OrderLock::new(Writer { order: Order::new(), index: IndexWriter::new() }),
                }),
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

    fn lock(&self) -> spin::mutex::SpinMutexGuard<'_, Writer> {
        self.serial.lock.lock()
    }

    fn key_hash(&self, key: &SessionKey) -> (KeyWords, u64) {
        let w = key.words();
        (w, self.hasher.hash_words(&w))
    }

    fn listing(&self, hash: u64, seq: u64) -> Listing {
        Listing { cache: self.id, hash, seq }
    }

    /// Moves the count by `delta`. Only ever written under the lock (`_w` is its guard), so a
    /// load and a store do, without a locked read-modify-write.
    fn set_len(&self, _w: &mut Writer, delta: isize) {
        let len = &self.serial.len;
        len.store(len.load(Ordering::Relaxed).wrapping_add_signed(delta), Ordering::Relaxed);
    }

    /// Counts the entry whose slot just lost its insertion number as gone from the order, and
    /// compacts the order when tombstones pile up.
    fn unlink(&self, w: &mut Writer) {
        if w.order.unlink() {
            let Writer { order, index } = w;
            order.compact(|seq, hash| self.index.find_seq(index, hash, seq));
        }
    }

    /// The cached session with this key, with a reference taken for the caller.
    pub fn get(&self, key: &SessionKey) -> Option<H> {
        let (w, hash) = self.key_hash(key);
        match self.index.get(hash, &w) {
            Some(found) => found,
            None => {
                let g = self.lock();
                let at = self.index.find(&g.index, hash, &w)?;
                self.index.with_handle(&g.index, at, |h| h.cloned())
            }
        }
    }

    /// True when a session with this key is cached (`SSL_has_matching_session_id`).
    pub fn contains(&self, key: &SessionKey) -> bool {
        let (w, hash) = self.key_hash(key);
        match self.index.contains(hash, &w) {
            Some(found) => found,
            None => {
                let g = self.lock();
                self.index.find(&g.index, hash, &w).is_some()
            }
        }
    }

    /// True while this cache lists the entry `l` at that place.
    pub fn lists(&self, l: Listing) -> bool {
        l.cache == self.id && {
            let g = self.lock();
            self.index.find_seq(&g.index, l.hash, l.seq).is_some()
        }
    }

    /// `SSL_CTX_add_session` (3.0): insert or replace, evict while the count (including the
    /// new entry) is at least `capacity` (0 = unlimited), then link at the expiry position.
    /// Re-adding a cached session repositions it. With `stamp = Some(now)`
    /// (`SSL_SESS_CACHE_UPDATE_TIME`) the session's time becomes `now` first.
    ///
    /// Everything is done under the cache's lock, victims included (they leave the order and
    /// the index before it is released), except what needs no lock: hashing, taking the
    /// cache's reference, and afterwards marking the victims and dropping what is left over.
    pub fn add(&self, h: &H, capacity: usize, stamp: Option<i64>) -> Added<H> {
        if let Some(now) = stamp {
            h.stamp_time(now);
        }
        let (w, hash) = self.key_hash(&h.key());
        // The cache's own reference, taken before the lock; left over (dropped after it) on a
        // re-add.
        let mut fresh = Some(h.clone());
        let mut out = Added { is_new: true, evicted: Few::default(), replaced: None };
        let mut victims = Few::default();
        let mut old = None;
        {
            let mut g = self.lock();
            let g = &mut *g;
            // One probe: where the key is, or where it would go.
            let located = self.index.locate(&g.index, hash, &w);
            let found = located.ok();
            if let Some(at) = found {
                // The key is cached: this very session again (repositioned), or another one,
                // replaced silently. Either way its place in the order goes.
                let old_seq = self.index.seq(&g.index, at);
                self.index.set_seq(&mut g.index, at, 0);
                self.unlink(g);
                if self.index.with_handle(&g.index, at, |x| x.is_some_and(|x| x.same(h))) {
                    out.is_new = false;
                } else if let Some(new) = fresh.take() {
                    self.set_len(g, -1);
                    let prev = self.index.swap_handle(&mut g.index, at, new);
                    old = prev.map(|p| (p, self.listing(hash, old_seq)));
                }
            }
            if out.is_new {
                self.set_len(g, 1);
                // The new entry is counted but not yet linked, so it can never be its own
                // victim. divergence: OpenSSL 3.0 stops evicting at a tail with an empty id
                // (it cannot be removed), which lets the cache grow without bound
                // (CVE-2024-2511). We evict it like any other.
                while capacity > 0 && self.len() >= capacity {
                    let Writer { order, index } = &mut *g;
                    let Some((seq, vhash, at)) = order.first(|s, hh| self.index.find_seq(index, hh, s)) else {
                        break;
                    };
                    let victim = self.index.remove(index, at);
                    self.unlink(g);
                    self.set_len(g, -1);
                    if let Some(v) = victim {
                        victims.push((v, self.listing(vhash, seq)));
                    }
                }
            }
            let seq = g.order.next_seq();
            match found {
                // Removals never move other keys: `at` still names the key's slot.
                Some(at) => self.index.set_seq(&mut g.index, at, seq),
                None => {
                    let Some(new) = fresh.take() else { unreachable!("taken only when the key was found") };
                    // Removals never fill a slot: the free slot `locate` found is still free.
                    let at = located.err().flatten();
                    self.index.insert(&mut g.index, &|x: &KeyWords| self.hasher.hash_words(x), at, hash, &w, seq, new);
                }
            }
            // The owner is recorded first and the expiry read after it, both under the lock: a
            // concurrent `set_time` (which writes the expiry, then reads the owner) either
            // missed the owner, and then its write is seen by this read, or found it, and then
            // it repositions once this link is done.
            h.attach(self.listing(hash, seq));
            g.order.link(seq, hash, h.expiry());
        }
        drop(fresh);
        if let Some((p, l)) = old {
            p.detach(l);
            out.replaced = Some(p);
        }
        out.evicted = victims.map(|(v, l)| {
            v.mark_not_resumable();
            v.detach(l);
            v
        });
        out
    }

    /// The internal part of `SSL_CTX_remove_session`: unlink the entry with `key`, whatever
    /// object it is, and return it. The caller marks its own argument not resumable, runs
    /// `remove_cb` and then drops the returned handle.
    pub fn remove(&self, key: &SessionKey) -> Option<H> {
        let (w, hash) = self.key_hash(key);
        let (h, l) = {
            let mut g = self.lock();
            let g = &mut *g;
            let at = self.index.find(&g.index, hash, &w)?;
            let l = self.listing(hash, self.index.seq(&g.index, at));
            let h = self.index.remove(&mut g.index, at);
            self.unlink(g);
            self.set_len(g, -1);
            (h?, l)
        };
        h.detach(l);
        Some(h)
    }

    /// `SSL_CTX_flush_sessions(ctx, t)` (3.0): from the earliest expiry on, remove sessions
    /// expired at `t` (all of them when `t == 0`), stopping at the first live one. Returns the
    /// removed sessions in removal order, each marked not resumable.
    pub fn flush(&self, t: i64) -> Vec<H> {
        let mut removed = Vec::new();
        {
            let mut g = self.lock();
            let g = &mut *g;
            loop {
                let Writer { order, index } = &mut *g;
                let Some((seq, hash, at)) = order.first(|s, hh| self.index.find_seq(index, hh, s)) else { break };
                let expired = self.index.with_handle(index, at, |x| x.is_some_and(|x| x.expiry().is_expired_at(t)));
                if t != 0 && !expired {
                    break;
                }
                let h = self.index.remove(index, at);
                self.unlink(g);
                self.set_len(g, -1);
                removed.extend(h.map(|h| (h, self.listing(hash, seq))));
            }
        }
        removed
            .into_iter()
            .map(|(h, l)| {
                h.mark_not_resumable();
                h.detach(l);
                h
            })
            .collect()
    }

    /// Moves the entry at `at` (insertion number `l.seq`) to the place of its session's
    /// current expiry, with a new insertion number that the session's record follows.
    fn move_to_expiry(&self, g: &mut Writer, at: Loc, l: Listing) {
        let seq = g.order.next_seq();
        self.index.set_seq(&mut g.index, at, seq);
        self.unlink(g);
        let new = self.listing(l.hash, seq);
        // The record first, then the expiry (see `add`).
        let expiry: Option<Expiry> = self.index.with_handle(&g.index, at, |x| {
            x.map(|x| {
                x.reattach(l, new);
                x.expiry()
            })
        });
        let Some(expiry) = expiry else { unreachable!("a full slot holds a session") };
        g.order.link(seq, l.hash, expiry);
    }

    /// Moves the entry `l` to the position of its session's current expiry, if this cache
    /// still lists it there (3.0's `SSL_SESSION_set_time` on a cached session).
    pub fn reposition_listing(&self, l: Listing) {
        if l.cache != self.id {
            return;
        }
        let mut g = self.lock();
        if let Some(at) = self.index.find_seq(&g.index, l.hash, l.seq) {
            self.move_to_expiry(&mut g, at, l);
        }
    }

    /// Moves the session cached under `key` to the position of its current expiry, if `h` is
    /// the object cached there (for callers that know a session's key but not its listing).
    pub fn reposition(&self, key: &SessionKey, h: &H) {
        let (w, hash) = self.key_hash(key);
        let mut g = self.lock();
        let Some(at) = self.index.find(&g.index, hash, &w) else { return };
        if self.index.with_handle(&g.index, at, |x| x.is_some_and(|x| x.same(h))) {
            let l = self.listing(hash, self.index.seq(&g.index, at));
            self.move_to_expiry(&mut g, at, l);
        }
    }

    /// Every cached session, earliest expiry first (for tests and statistics).
    pub fn snapshot(&self) -> Vec<H> {
        let g = self.lock();
        let entries = g.order.live_entries(|s, hh| self.index.find_seq(&g.index, hh, s));
        entries.iter().filter_map(|(_, _, at)| self.index.with_handle(&g.index, *at, |x| x.cloned())).collect()
    }

    /// Checks that the index and the order agree; panics with a description if they do not.
    /// Used by tests and fuzzers after every operation.
    pub fn validate(&self) {
        let g = self.lock();
        let keys = self.index.validate(&g.index, &|x: &KeyWords| self.hasher.hash_words(x));
        assert_eq!(keys, self.len(), "the count is stale");
        assert_eq!(keys, g.order.live as usize, "index and order disagree on the count");
        let entries = g.order.live_entries(|s, hh| self.index.find_seq(&g.index, hh, s).map(|at| (hh, at)));
        assert_eq!(entries.len(), keys, "live entries in the order disagree with the index");
        let mut last: Option<(Expiry, u64)> = None;
        for (expiry, seq, (hash, at)) in entries {
            assert!(last.is_none_or(|l| l < (expiry, seq)), "the order is not sorted");
            last = Some((expiry, seq));
            assert_eq!(self.hasher.hash_words(&self.index.words(&g.index, at)), hash, "an order entry's hash is stale");
        }
        assert!(g.order.older.keys().all(|k| *k < g.order.latest), "an older bucket is not older");
    }
}

impl<H: Cacheable> Drop for Cache<H> {
    fn drop(&mut self) {
        registry::unregister(self.id);
    }
}
