//! The eviction order: OpenSSL 3.0's list as FIFO buckets by expiry, with tombstones, and the
//! lock and count every mutation serialises on.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use crate::core::entry::{Cacheable, Listing};
use crate::core::sync::OrderLock;
use crate::core::time::Expiry;

/// Tombstones tolerated before the order is compacted, beyond one per live entry.
const TOMBSTONE_SLACK: u64 = 1024;

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
pub(super) struct Order<H> {
    seq: u64,
    /// Linked entries (a cache never holds 2^32 sessions: each costs hundreds of bytes).
    pub(super) live: u32,
    tombstones: u32,
    newest: Bucket<H>,
    pub(super) latest: Expiry,
    pub(super) older: BTreeMap<Expiry, Bucket<H>>,
    /// Listings met while skipping tombstones, kept so that their last reference (and with it,
    /// possibly, the session's final free) is never dropped under the lock.
    graveyard: Vec<Arc<Listing<H>>>,
}

impl<H: Cacheable> Order<H> {
    pub(super) fn new() -> Order<H> {
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

    pub(super) fn link(&mut self, node: &Arc<Listing<H>>, expiry: Expiry) {
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

    pub(super) fn unlink(&mut self, node: &Listing<H>) {
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
    pub(super) fn first(&mut self) -> Option<Arc<Listing<H>>> {
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
    pub(super) fn take_graveyard(&mut self) -> Vec<Arc<Listing<H>>> {
        // Usually empty: then its cache line is only read.
        if self.graveyard.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut self.graveyard)
        }
    }

    /// The live listings in order.
    pub(super) fn live_listings(&mut self) -> Vec<Arc<Listing<H>>> {
        let graveyard = &mut self.graveyard;
        let entries = self.older.values().flatten().chain(self.newest.iter());
        entries.filter_map(|(seq, n)| Self::is_live(*seq, n, graveyard)).collect()
    }
}

/// The order lock, which empties the graveyard only after it is released.
pub(super) struct OrderGuard<'a, H: Cacheable>(pub(super) Option<spin::mutex::SpinMutexGuard<'a, Order<H>>>);

impl<H: Cacheable> std::ops::Deref for OrderGuard<'_, H> {
    type Target = Order<H>;
    fn deref(&self) -> &Order<H> {
        self.0.as_deref().unwrap_or_else(|| unreachable!("the guard is held until drop"))
    }
}

impl<H: Cacheable> std::ops::DerefMut for OrderGuard<'_, H> {
    fn deref_mut(&mut self) -> &mut Order<H> {
        self.0.as_deref_mut().unwrap_or_else(|| unreachable!("the guard is held until drop"))
    }
}

impl<H: Cacheable> Drop for OrderGuard<'_, H> {
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
pub(super) struct Serial<H> {
    pub(super) len: AtomicUsize,
    pub(super) order: OrderLock<Order<H>>,
}
