//! The eviction order: OpenSSL 3.0's list as FIFO buckets by expiry, with tombstones.
//!
//! An entry is (insertion number, hash): it names an index slot without pointing to it, and it
//! is live while the index holds a slot of that hash with that insertion number (a slot gets a
//! new number whenever it moves in the order, and 0 when it leaves it). The caller, who holds
//! the cache's lock, answers that question for the order (`is_live`).

use std::collections::{BTreeMap, VecDeque};

use crate::core::time::Expiry;

/// Tombstones tolerated before the order is compacted, beyond one per live entry.
const TOMBSTONE_SLACK: u64 = 1024;

/// The entries of one expiry, oldest insertion first: (insertion number, hash).
type Bucket = VecDeque<(u64, u64)>;

/// The eviction order: FIFO buckets by expiry, with tombstones. The bucket of the latest expiry
/// (where nearly every add goes, since new sessions expire last) is kept inline, the others in
/// a map; every key in `older` is earlier than `latest`.
///
/// `repr(C)`, and the fields written by every add first, so that with the lock and the count
/// before them they share one cache line with the lock word.
#[repr(C)]
pub(super) struct Order {
    seq: u64,
    /// Linked entries (a cache never holds 2^32 sessions: each costs hundreds of bytes).
    pub(super) live: u32,
    tombstones: u32,
    newest: Bucket,
    pub(super) latest: Expiry,
    pub(super) older: BTreeMap<Expiry, Bucket>,
}

impl Order {
    pub(super) fn new() -> Order {
        Order {
            seq: 0,
            live: 0,
            tombstones: 0,
            newest: VecDeque::new(),
            latest: Expiry::from_parts(false, i64::MIN),
            older: BTreeMap::new(),
        }
    }

    /// A fresh insertion number (never 0, never reused in this order).
    pub(super) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Links the entry (`seq`, `hash`) at the head of the entries of `expiry`.
    pub(super) fn link(&mut self, seq: u64, hash: u64, expiry: Expiry) {
        let entry = (seq, hash);
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

    /// Counts one live entry as gone (the caller has made it a tombstone: its slot no longer
    /// has its insertion number). True when the order should be compacted.
    pub(super) fn unlink(&mut self) -> bool {
        self.live -= 1;
        self.tombstones += 1;
        u64::from(self.tombstones) > u64::from(self.live) + TOMBSTONE_SLACK
    }

    /// The first live entry of `bucket`, popping the tombstones before it.
    fn front<L>(
        bucket: &mut Bucket,
        tombstones: &mut u32,
        is_live: &mut impl FnMut(u64, u64) -> Option<L>,
    ) -> Option<(u64, u64, L)> {
        while let Some(&(seq, hash)) = bucket.front() {
            if let Some(at) = is_live(seq, hash) {
                return Some((seq, hash, at));
            }
            bucket.pop_front();
            *tombstones -= 1;
        }
        None
    }

    /// The next victim: the earliest-expiring, earliest-inserted live entry, with where
    /// `is_live` found it.
    pub(super) fn first<L>(&mut self, mut is_live: impl FnMut(u64, u64) -> Option<L>) -> Option<(u64, u64, L)> {
        while let Some(mut bucket) = self.older.first_entry() {
            if let Some(found) = Self::front(bucket.get_mut(), &mut self.tombstones, &mut is_live) {
                return Some(found);
            }
            bucket.remove();
        }
        Self::front(&mut self.newest, &mut self.tombstones, &mut is_live)
    }

    /// Drops every tombstone.
    pub(super) fn compact<L>(&mut self, mut is_live: impl FnMut(u64, u64) -> Option<L>) {
        let mut keep = |b: &mut Bucket| {
            b.retain(|&(seq, hash)| is_live(seq, hash).is_some());
            b.shrink_to_fit();
            !b.is_empty()
        };
        self.older.retain(|_, b| keep(b));
        keep(&mut self.newest);
        self.tombstones = 0;
    }

    /// The live entries in order: (expiry, insertion number, where `is_live` found it).
    pub(super) fn live_entries<L>(&self, mut is_live: impl FnMut(u64, u64) -> Option<L>) -> Vec<(Expiry, u64, L)> {
        let older = self.older.iter().flat_map(|(e, b)| b.iter().map(move |x| (*e, *x)));
        let newest = self.newest.iter().map(|x| (self.latest, *x));
        older.chain(newest).filter_map(|(e, (seq, hash))| is_live(seq, hash).map(|at| (e, seq, at))).collect()
    }
}
