//! The pieces of an index table: a slot (a whole key, its place in the order, its session), a
//! group of eight slots on a 64-byte boundary, and the eight control bytes that say which
//! slots of a group are empty, deleted or full (with a 7-bit tag of the key's hash).
//!
//! Every field is an atomic or a lock: readers look at slots while the writer changes them,
//! and trust what they read only when the table's state word says nothing changed meanwhile
//! (see `index`).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::core::entry::Cacheable;
use crate::core::key::KeyWords;
use crate::core::sync::TinyLock;

/// Control bytes. A full slot holds `FULL | tag`.
pub(super) const EMPTY: u8 = 0x00;
pub(super) const DELETED: u8 = 0x01;
pub(super) const FULL: u8 = 0x80;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The control byte of a key with this hash: bits 51..58, which neither the shard (the top
/// six bits) nor the group (the low bits) uses.
pub(super) fn tag(hash: u64) -> u8 {
    FULL | (hash >> 51) as u8 & 0x7f
}

/// The slots (0..8) of `group` equal to `byte`, as bit 7 of each byte, for a byte with its top
/// bit set. May also report a byte just above a match that differs from it only in its lowest
/// bit: callers check the key of every candidate.
pub(super) fn matches(group: u64, byte: u8) -> u64 {
    let x = group ^ (LO * u64::from(byte));
    x.wrapping_sub(LO) & !x & HI
}

/// True when `group` has an empty byte (exact: a false positive needs a zero byte below it).
pub(super) fn has_empty(group: u64) -> bool {
    group.wrapping_sub(LO) & !group & HI != 0
}

/// The empty or deleted bytes of `group` (bit 7 of each).
pub(super) fn free(group: u64) -> u64 {
    !group & HI
}

/// The full bytes of `group` (bit 7 of each).
pub(super) fn full(group: u64) -> u64 {
    group & HI
}

/// The slot numbers (0..8) of the set bits of a byte mask.
pub(super) fn bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let bit = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            bit / 8
        })
    })
}

/// `group` with byte `i` set to `byte`.
pub(super) fn with_byte(group: u64, i: usize, byte: u8) -> u64 {
    let shift = 8 * i;
    group & !(0xff << shift) | u64::from(byte) << shift
}

/// Byte `i` of `group`.
pub(super) fn byte(group: u64, i: usize) -> u8 {
    (group >> (8 * i)) as u8
}

/// One slot: the key's words, its insertion number in the order (0 while it is not linked),
/// and its session. Only the writer changes a slot; readers read the key words lock-free and
/// take the session's small lock only to clone it. 64 bytes for sesscache's own sessions: one
/// cache line, which is all a lookup that finds its key reads of the table (besides the
/// control word).
pub(super) struct Slot<H> {
    words: [AtomicU64; 5],
    seq: AtomicU64,
    handle: TinyLock<Option<H>>,
}

impl<H: Cacheable> Slot<H> {
    fn new() -> Slot<H> {
        Slot { words: Default::default(), seq: AtomicU64::new(0), handle: TinyLock::new(None) }
    }

    /// The key words (consistent only under a validated state word, or for the writer).
    pub(super) fn words(&self) -> KeyWords {
        std::array::from_fn(|i| self.words[i].load(Ordering::Relaxed))
    }

    /// True when the slot holds key `w`. Every word is read: one cache line either way, and no
    /// branch per word.
    #[inline]
    pub(super) fn holds(&self, w: &KeyWords) -> bool {
        let diff = self.words.iter().zip(w).fold(0, |d, (a, b)| d | (a.load(Ordering::Relaxed) ^ b));
        diff == 0
    }

    /// The insertion number (the writer's view).
    pub(super) fn seq(&self) -> u64 {
        self.seq.load(Ordering::Relaxed)
    }

    /// A counted reference to the session, if the slot holds one.
    #[inline]
    pub(super) fn clone_handle(&self) -> Option<H> {
        self.handle.lock().clone()
    }

    /// Runs `f` on the session (a full slot always holds one, outside the writer's changes).
    pub(super) fn with_handle<R>(&self, f: impl FnOnce(Option<&H>) -> R) -> R {
        f(self.handle.lock().as_ref())
    }

    // ---- The writer (the table is changing). ----

    /// Fills the slot; returns the session it held (none, for a free slot).
    pub(super) fn set(&self, w: &KeyWords, seq: u64, h: Option<H>) -> Option<H> {
        for (a, b) in self.words.iter().zip(w) {
            a.store(*b, Ordering::Relaxed);
        }
        self.seq.store(seq, Ordering::Relaxed);
        self.swap_handle(h)
    }

    pub(super) fn set_seq(&self, seq: u64) {
        self.seq.store(seq, Ordering::Relaxed);
    }

    pub(super) fn swap_handle(&self, h: Option<H>) -> Option<H> {
        std::mem::replace(&mut *self.handle.lock(), h)
    }
}

/// Eight slots on a 64-byte boundary.
#[repr(C, align(64))]
pub(super) struct Group<H> {
    pub(super) slots: [Slot<H>; 8],
}

impl<H: Cacheable> Default for Group<H> {
    fn default() -> Self {
        Group { slots: std::array::from_fn(|_| Slot::new()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_match_and_report_empties() {
        let mut group = 0u64;
        for (i, b) in [0x85u8, 0x00, 0x85, 0x01, 0xff, 0x84, 0x00, 0x85].iter().enumerate() {
            group = with_byte(group, i, *b);
        }
        assert_eq!(byte(group, 4), 0xff);
        let found: Vec<usize> = bits(matches(group, 0x85)).collect();
        // Exact matches 0, 2, 7; byte 5 (0x84) may show up as a false positive, never others.
        assert!([0, 2, 7].iter().all(|i| found.contains(i)), "{found:?}");
        assert!(found.iter().all(|i| [0, 2, 5, 7].contains(i)), "{found:?}");
        assert!(has_empty(group));
        assert!(!has_empty(with_byte(with_byte(group, 1, 0xff), 6, 0x80)));
        assert_eq!(bits(free(group)).collect::<Vec<_>>(), [1, 3, 6]);
        assert_eq!(bits(full(group)).collect::<Vec<_>>(), [0, 2, 4, 5, 7]);
    }

    #[test]
    fn a_slot_is_a_cache_line() {
        use crate::core::session::SessionRef;
        assert_eq!(std::mem::size_of::<Slot<SessionRef>>(), 64);
        assert_eq!(std::mem::size_of::<Group<SessionRef>>(), 512);
        assert_eq!(std::mem::align_of::<Group<SessionRef>>(), 64);
    }
}
