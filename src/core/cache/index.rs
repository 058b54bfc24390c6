//! The index: the keys of a cache, each with its session, in 64 open-addressing tables (shards,
//! by the hash's top bits) readable without a lock.
//!
//! A table is groups of eight slots with one control word per group (see `group`), probed
//! group after group from the one the hash's low bits name until a group with an empty slot.
//! Its storage grows by doubling over a [`Segmented`] array, so slots never move in memory and
//! are never freed while the cache lives: a reader may always look at what it found. A slot
//! holds the whole key and its session on one cache line.
//!
//! Readers (`contains`, `get`) take no lock and write nothing shared: they read the shard's
//! state word, the control word and the slot, and the state word again; what they read counts
//! only if the word did not change and was even. `get` also takes the slot's small lock to
//! clone the session. The one writer holds the cache's lock ([`IndexWriter`] stands for it) and
//! makes the state word odd while it changes a shard: filling or emptying a slot, swapping its
//! session, or rebuilding the table when its full and deleted slots reach 7/8 of it: at the
//! same size if that clears enough deleted slots, doubled otherwise (see `Index::insert`).

use std::sync::atomic::{fence, AtomicU64, Ordering};

use once_cell::sync::OnceCell;

use super::group::{bits, byte, free, full, has_empty, matches, tag, with_byte, Group, Slot, DELETED, EMPTY};
use super::segmented::Segmented;
use crate::core::entry::Cacheable;
use crate::core::key::KeyWords;

/// Shards: one table each, chosen by the hash's top six bits.
pub(super) const SHARDS: usize = 64;

/// Lock-free attempts before a reader asks under the cache's lock (a writer preempted in the
/// middle of a change, or a table being rebuilt).
const READ_ATTEMPTS: usize = 64;

/// The state word: the log2 of the table's groups in the top six bits (`NO_TABLE` before the
/// first add), a change counter below, odd while the writer changes the shard.
const LOG_SHIFT: u32 = 58;
const COUNTER: u64 = (1 << LOG_SHIFT) - 1;
const NO_TABLE: u64 = 63;

fn shard_of(hash: u64) -> usize {
    (hash >> 58) as usize
}

/// Full and deleted slots a table of `2^log` groups may hold: 7/8 of its slots, so that every
/// probe meets an empty slot.
fn max_used(log: u64) -> usize {
    7 << log
}

/// Where a key is, for the writer: shard, slot number in its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Loc(usize, usize);

/// One segment of a table: its groups' control words (dense, so that probes read few lines)
/// and their slots.
struct Segment<H> {
    ctrl: Box<[AtomicU64]>,
    groups: Box<[Group<H>]>,
}

struct Table<H> {
    segments: Segmented<Segment<H>>,
}

impl<H: Cacheable> Table<H> {
    /// Group `g`: its control word and its slots.
    #[inline]
    fn group(&self, g: usize) -> (&AtomicU64, &Group<H>) {
        // unwrap: the writer makes the segments before it publishes a larger table, and
        // readers only index below the size they read (a stale size is smaller, never larger).
        let Some((seg, o)) = self.segments.get(g) else { unreachable!("group {g} exists") };
        (&seg.ctrl[o], &seg.groups[o])
    }

    fn ctrl(&self, g: usize) -> &AtomicU64 {
        self.group(g).0
    }

    fn slot(&self, i: usize) -> &Slot<H> {
        &self.group(i / 8).1.slots[i % 8]
    }

    /// Makes groups `0..n` exist.
    fn grow_to(&self, n: usize) -> bool {
        self.segments.grow_to(n, |len| Segment {
            ctrl: (0..len).map(|_| AtomicU64::new(0)).collect(),
            groups: (0..len).map(|_| Group::default()).collect(),
        })
    }

    /// The first slot from `hash`'s home group for which `is` holds, among the candidates the
    /// tag picks, in a table of `2^log` groups; stops at a group with an empty slot.
    #[inline]
    fn probe(&self, hash: u64, log: u64, mut is: impl FnMut(&Slot<H>) -> bool) -> Option<usize> {
        let (t, mask) = (tag(hash), (1usize << log) - 1);
        let mut g = hash as usize & mask;
        for _ in 0..=mask {
            let (ctrl, group) = self.group(g);
            let ctrl = ctrl.load(Ordering::Relaxed);
            if let Some(b) = bits(matches(ctrl, t)).find(|&b| is(&group.slots[b])) {
                return Some(g * 8 + b);
            }
            if has_empty(ctrl) {
                return None;
            }
            g = (g + 1) & mask;
        }
        None
    }

    /// The slot holding key `w` (`Ok`), or else the first empty or deleted slot of its probe
    /// and whether it is empty: one probe for what an add needs to know.
    fn locate(&self, hash: u64, log: u64, w: &KeyWords) -> Result<usize, (usize, bool)> {
        let (t, mask) = (tag(hash), (1usize << log) - 1);
        let mut g = hash as usize & mask;
        let mut first_free = None;
        for _ in 0..=mask {
            let (ctrl, group) = self.group(g);
            let ctrl = ctrl.load(Ordering::Relaxed);
            if let Some(b) = bits(matches(ctrl, t)).find(|&b| group.slots[b].holds(w)) {
                return Ok(g * 8 + b);
            }
            if first_free.is_none() {
                first_free = bits(free(ctrl)).next().map(|b| (g * 8 + b, byte(ctrl, b) == EMPTY));
            }
            if has_empty(ctrl) {
                break;
            }
            g = (g + 1) & mask;
        }
        // unwrap: a table is never more than 7/8 used, so a probe meets a free slot.
        Err(first_free.unwrap_or_else(|| unreachable!("a table has a free slot")))
    }

    /// The first empty or deleted slot of `hash`'s probe, and whether it is empty.
    fn free_slot(&self, hash: u64, log: u64) -> (usize, bool) {
        let mask = (1usize << log) - 1;
        let mut g = hash as usize & mask;
        loop {
            let ctrl = self.ctrl(g).load(Ordering::Relaxed);
            if let Some(b) = bits(free(ctrl)).next() {
                return (g * 8 + b, byte(ctrl, b) == EMPTY);
            }
            // Terminates: a table is never more than 7/8 used.
            g = (g + 1) & mask;
        }
    }

    /// Fills slot `i` (empty or deleted). The shard must be changing.
    fn fill(&self, i: usize, hash: u64, w: &KeyWords, seq: u64, h: Option<H>) {
        let old = self.slot(i).set(w, seq, h);
        debug_assert!(old.is_none(), "a free slot holds no session");
        let c = self.ctrl(i / 8);
        c.store(with_byte(c.load(Ordering::Relaxed), i % 8, tag(hash)), Ordering::Relaxed);
    }
}

/// One shard: its state word and its table, on a cache line of their own.
#[repr(align(64))]
struct Shard<H> {
    state: AtomicU64,
    table: OnceCell<Box<Table<H>>>,
}

/// A shard that the writer is changing: its state word is odd until this is dropped, and then
/// says `log`.
struct Changing<'a, H> {
    shard: &'a Shard<H>,
    log: u64,
}

impl<H> Drop for Changing<'_, H> {
    fn drop(&mut self) {
        let s = self.shard.state.load(Ordering::Relaxed);
        self.shard.state.store(self.log << LOG_SHIFT | (s + 1) & COUNTER, Ordering::Release);
    }
}

impl<H> Shard<H> {
    fn log(&self) -> u64 {
        self.state.load(Ordering::Relaxed) >> LOG_SHIFT
    }

    /// Makes the state word odd until the result is dropped: readers retry meanwhile.
    fn change(&self) -> Changing<'_, H> {
        let s = self.state.load(Ordering::Relaxed);
        self.state.store(s & !COUNTER | (s + 1) & COUNTER, Ordering::Relaxed);
        // Orders the odd word before every write that follows (see `Index::read`).
        fence(Ordering::Release);
        Changing { shard: self, log: s >> LOG_SHIFT }
    }
}

/// Full and used (full or deleted) slots of each shard, and adds since its table was last
/// rebuilt: the writer's counts.
#[derive(Clone, Copy, Default)]
struct Counts {
    live: usize,
    used: usize,
    since: usize,
}

/// Keys a same-size rebuild may move per add since the previous rebuild, at most: past that
/// the table doubles instead.
const MOVES_PER_ADD: usize = 8;

/// The index's state that only the writer touches; holding `&mut` to it means holding the
/// cache's lock.
pub(super) struct IndexWriter {
    counts: [Counts; SHARDS],
}

impl IndexWriter {
    pub(super) fn new() -> IndexWriter {
        IndexWriter { counts: [Counts::default(); SHARDS] }
    }
}

/// See the module documentation. Why a lock-free read is right (docs/performance.md has the
/// same argument at more length):
///
/// - **Memory.** Nothing a reader touches is ever freed or moved while the cache lives (the
///   reader borrows the cache): a table's segments are made once and freed with the index,
///   and every field of a slot is an atomic or sits behind the slot's lock. A read of a slot
///   that the writer is changing can give a wrong value, never an invalid access. No listing
///   exists to reclaim: the order names a slot by (insertion number, hash), plain data.
/// - **Sessions.** A reader takes its reference under the slot's lock, and the writer takes the
///   same lock to swap or remove the session (which it keeps or hands back, never frees,
///   there): so the reader clones a session that the slot still owns, which is alive. If the
///   read then fails its check, the reader drops that clone (possibly the last reference) on
///   its own thread, with no lock held.
/// - **Consistency (a sequence lock).** The writer stores the state word odd (relaxed), issues
///   a release fence, makes its relaxed stores, and stores the word even with release. A
///   reader loads the word with acquire (odd: retry), makes its relaxed loads, issues an
///   acquire fence and loads the word again. If one of its loads read a store of a change that
///   began after its first load, that change's release fence synchronises with the reader's
///   acquire fence (or the slot lock's unlock with the reader's lock), so the odd store
///   happens before the second load, which then differs: the reader retries. If the second
///   load equals the first, every load read the shard as it was between two changes, so the
///   answer was true at that point: each key's presence is linearisable. (An add that evicts
///   changes two shards one after the other: a reader may see the victim gone before the new
///   key is in. Each key's answer is still one that held at some instant.)
/// - **ABA.** The word's counter has 57 bits for its even values: a reader would have to sleep
///   through 2^57 changes of one shard to be fooled. Insertion numbers are never reused, so a
///   stale (insertion number, hash) never names another entry.
/// - **Progress.** A reader retries at most `READ_ATTEMPTS` times (a writer preempted inside a
///   change, a rebuild), then asks under the cache's lock, as OpenSSL's readers always do.
/// - **What it costs.** Tables never shrink and are freed only with the cache: their largest
///   size stays resident (65 bytes a slot: the slot's line and its control byte).
pub(super) struct Index<H> {
    shards: Box<[Shard<H>]>,
}

impl<H: Cacheable> Index<H> {
    pub(super) fn new() -> Index<H> {
        let shard = || Shard { state: AtomicU64::new(NO_TABLE << LOG_SHIFT), table: OnceCell::new() };
        Index { shards: (0..SHARDS).map(|_| shard()).collect() }
    }

    // ---- Readers: no lock on the keys. `None` means "ask under the lock". ----

    /// Runs `f` on the slot holding key `w` (or `None`) in a consistent view of its shard;
    /// `f`'s result is kept only if the shard did not change meanwhile.
    #[inline]
    fn read<R>(&self, hash: u64, w: &KeyWords, f: impl Fn(Option<&Slot<H>>) -> R) -> Option<R> {
        let shard = &self.shards[shard_of(hash)];
        for _ in 0..READ_ATTEMPTS {
            let s = shard.state.load(Ordering::Acquire);
            if s % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let log = s >> LOG_SHIFT;
            let slot = match shard.table.get() {
                Some(t) if log != NO_TABLE => t.probe(hash, log, |x| x.holds(w)).map(|i| t.slot(i)),
                _ => None,
            };
            let r = f(slot);
            fence(Ordering::Acquire);
            if shard.state.load(Ordering::Relaxed) == s {
                return Some(r);
            }
        }
        None
    }

    /// True when key `w` is indexed.
    #[inline]
    pub(super) fn contains(&self, hash: u64, w: &KeyWords) -> Option<bool> {
        self.read(hash, w, |s| s.is_some())
    }

    /// The session indexed under key `w`, with a reference taken.
    #[inline]
    pub(super) fn get(&self, hash: u64, w: &KeyWords) -> Option<Option<H>> {
        self.read(hash, w, |s| s.and_then(|s| s.clone_handle()))
    }

    // ---- The writer. ----

    fn table(&self, shard: usize) -> Option<(&Table<H>, u64)> {
        let s = &self.shards[shard];
        Some((&**s.table.get()?, s.log())).filter(|(_, log)| *log != NO_TABLE)
    }

    fn slot(&self, at: Loc) -> &Slot<H> {
        let Some((t, _)) = self.table(at.0) else { unreachable!("a located key has a table") };
        t.slot(at.1)
    }

    /// Where key `w` is (`Ok`), or where it would be added (`Err`, `None` before the shard's
    /// first add): the slot for [`Index::insert`], and whether it is empty.
    pub(super) fn locate(&self, _wr: &IndexWriter, hash: u64, w: &KeyWords) -> Result<Loc, Option<(Loc, bool)>> {
        let shard = shard_of(hash);
        let Some((t, log)) = self.table(shard) else { return Err(None) };
        t.locate(hash, log, w).map(|i| Loc(shard, i)).map_err(|(i, empty)| Some((Loc(shard, i), empty)))
    }

    /// Where key `w` is.
    pub(super) fn find(&self, _wr: &IndexWriter, hash: u64, w: &KeyWords) -> Option<Loc> {
        let shard = shard_of(hash);
        let (t, log) = self.table(shard)?;
        t.probe(hash, log, |s| s.holds(w)).map(|i| Loc(shard, i))
    }

    /// Where the entry with hash `hash` and insertion number `seq` is.
    pub(super) fn find_seq(&self, _wr: &IndexWriter, hash: u64, seq: u64) -> Option<Loc> {
        let shard = shard_of(hash);
        let (t, log) = self.table(shard)?;
        t.probe(hash, log, |s| s.seq() == seq).map(|i| Loc(shard, i))
    }

    /// The key words at `at`.
    pub(super) fn words(&self, _wr: &IndexWriter, at: Loc) -> KeyWords {
        self.slot(at).words()
    }

    /// The insertion number at `at`.
    pub(super) fn seq(&self, _wr: &IndexWriter, at: Loc) -> u64 {
        self.slot(at).seq()
    }

    /// Sets the insertion number at `at` (0: not linked). Readers never look at it.
    pub(super) fn set_seq(&self, _wr: &mut IndexWriter, at: Loc, seq: u64) {
        self.slot(at).set_seq(seq);
    }

    /// Runs `f` on the session at `at`.
    pub(super) fn with_handle<R>(&self, _wr: &IndexWriter, at: Loc, f: impl FnOnce(Option<&H>) -> R) -> R {
        self.slot(at).with_handle(f)
    }

    /// Puts `h` in place of the session at `at` and returns that one.
    pub(super) fn swap_handle(&self, _wr: &mut IndexWriter, at: Loc, h: H) -> Option<H> {
        let _c = self.shards[at.0].change();
        self.slot(at).swap_handle(Some(h))
    }

    /// Removes the key at `at` and returns its session. Its slot becomes empty when its group
    /// has an empty slot already (then no probe goes past the group, so none needs this one),
    /// deleted otherwise. Other `Loc`s stay valid.
    pub(super) fn remove(&self, wr: &mut IndexWriter, at: Loc) -> Option<H> {
        let Loc(si, i) = at;
        let Some((t, _)) = self.table(si) else { unreachable!("a located key has a table") };
        let shard = &self.shards[si];
        let _c = shard.change();
        let ctrl = t.ctrl(i / 8);
        let group = ctrl.load(Ordering::Relaxed);
        let empty = has_empty(group);
        ctrl.store(with_byte(group, i % 8, if empty { EMPTY } else { DELETED }), Ordering::Relaxed);
        let counts = &mut wr.counts[si];
        counts.live -= 1;
        counts.used -= usize::from(empty);
        let slot = t.slot(i);
        slot.set_seq(0);
        slot.swap_handle(None)
    }

    /// Adds key `w` (absent, hash `hash`) with its session and insertion number, at `at` when
    /// [`Index::locate`] gave it (and no insert came between). `hash_of` computes the hash of
    /// any key (for the keys a rebuild moves).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert(
        &self,
        wr: &mut IndexWriter,
        hash_of: &impl Fn(&KeyWords) -> u64,
        at: Option<(Loc, bool)>,
        hash: u64,
        w: &KeyWords,
        seq: u64,
        h: H,
    ) {
        let si = shard_of(hash);
        let shard = &self.shards[si];
        if self.table(si).is_none() {
            self.rebuild(wr, si, 0, hash_of);
        }
        let mut at = at.map(|(Loc(_, i), empty)| (i, empty));
        loop {
            let Some((t, log)) = self.table(si) else { unreachable!("the table was just made") };
            let (i, empty) = at.take().unwrap_or_else(|| t.free_slot(hash, log));
            let counts = &mut wr.counts[si];
            if !empty || counts.used < max_used(log) {
                let _c = shard.change();
                t.fill(i, hash, w, seq, Some(h));
                counts.live += 1;
                counts.used += usize::from(empty);
                counts.since += 1;
                return;
            }
            // Full. Rebuilding at the same size clears the deleted slots; under steady churn
            // they come back, the sooner the fuller the table. So it is rebuilt at its size
            // while that costs at most `MOVES_PER_ADD` moved keys per add since the previous
            // rebuild, and doubled otherwise (a fixed load threshold would double most tables
            // of a cache that stays at its capacity: their counts wander above any threshold
            // close to the mean, and a table never shrinks).
            let same = counts.used > counts.live && counts.since * MOVES_PER_ADD >= counts.live;
            self.rebuild(wr, si, if same { log } else { log + 1 }, hash_of);
        }
    }

    /// Rebuilds shard `si`'s table with `2^log` groups: every key out, every slot empty, every
    /// key back from its home group.
    fn rebuild(&self, wr: &mut IndexWriter, si: usize, log: u64, hash_of: &impl Fn(&KeyWords) -> u64) {
        let shard = &self.shards[si];
        let t = shard.table.get_or_init(|| Box::new(Table { segments: Segmented::new() }));
        let old = self.table(si).map_or(0, |(_, l)| 1usize << l);
        let mut c = shard.change();
        let mut moved = Vec::with_capacity(wr.counts[si].live);
        for g in 0..old {
            let ctrl = t.ctrl(g);
            for b in bits(full(ctrl.load(Ordering::Relaxed))) {
                let slot = t.slot(g * 8 + b);
                let words = slot.words();
                moved.push((hash_of(&words), words, slot.seq(), slot.swap_handle(None)));
            }
            ctrl.store(0, Ordering::Relaxed);
        }
        if !t.grow_to(1usize << log) {
            unreachable!("fewer than 2^32 groups");
        }
        for (hash, words, seq, h) in moved {
            let (i, _) = t.free_slot(hash, log);
            t.fill(i, hash, &words, seq, h);
        }
        let counts = &mut wr.counts[si];
        counts.used = counts.live;
        counts.since = 0;
        c.log = log;
    }

    /// Checks every table; returns the number of keys. `hash_of` computes a key's hash. Panics
    /// on the first broken invariant.
    pub(super) fn validate(&self, wr: &IndexWriter, hash_of: &impl Fn(&KeyWords) -> u64) -> usize {
        let mut keys = 0;
        for (si, shard) in self.shards.iter().enumerate() {
            let s = shard.state.load(Ordering::Relaxed);
            assert_eq!(s % 2, 0, "a shard is left changing");
            let (mut live, mut used) = (0, 0);
            if let Some((t, log)) = self.table(si) {
                for g in 0..1usize << log {
                    let ctrl = t.ctrl(g).load(Ordering::Relaxed);
                    for b in 0..8 {
                        let i = g * 8 + b;
                        let slot = t.slot(i);
                        let held = slot.with_handle(|h| h.is_some());
                        if byte(ctrl, b) & 0x80 != 0 {
                            live += 1;
                            let h = hash_of(&slot.words());
                            assert_eq!(shard_of(h), si, "a key is in another shard than its hash's");
                            assert_eq!(byte(ctrl, b), tag(h), "a control byte is not its key's tag");
                            assert_eq!(t.probe(h, log, |x| x.holds(&slot.words())), Some(i), "a key cannot be found");
                            assert!(held, "a full slot has no session");
                            assert_ne!(slot.seq(), 0, "a full slot is not linked");
                        } else {
                            assert!(byte(ctrl, b) == EMPTY || byte(ctrl, b) == DELETED, "an unknown control byte");
                            assert!(!held, "an empty slot holds a session");
                        }
                        used += usize::from(byte(ctrl, b) != EMPTY);
                    }
                }
                assert!(used <= max_used(log), "a table is over-full");
            }
            let counts = wr.counts[si];
            assert_eq!((counts.live, counts.used), (live, used), "a shard's counts are stale");
            keys += live;
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::core::key::{KeyHasher, SessionKey};
    use crate::core::session::{Session, SessionRef};

    fn key(n: u32) -> KeyWords {
        SessionKey::from_slice(0x0303, &n.to_le_bytes()).unwrap_or_else(|| unreachable!()).words()
    }

    #[test]
    fn tables_grow_and_clean_up_under_churn() {
        let idx: Index<SessionRef> = Index::new();
        let mut wr = IndexWriter::new();
        let hasher = KeyHasher::new();
        let hash_of = |w: &KeyWords| hasher.hash_words(w);
        let s: SessionRef = Arc::new(Session::new(0));
        let n = if cfg!(miri) { 300 } else { 5000 };
        for k in 0..n {
            let w = key(k);
            idx.insert(&mut wr, &hash_of, None, hash_of(&w), &w, u64::from(k) + 1, s.clone());
        }
        assert_eq!(idx.validate(&wr, &hash_of), n as usize);
        // Churn: remove and re-add so that deleted slots pile up and tables get rebuilt.
        for round in 0..4u32 {
            for k in (round..n).step_by(3) {
                let w = key(k);
                let h = hash_of(&w);
                let at = idx.find(&wr, h, &w).unwrap_or_else(|| panic!("key {k} is lost"));
                assert!(idx.remove(&mut wr, at).is_some_and(|x| Arc::ptr_eq(&x, &s)));
                assert_eq!(idx.contains(h, &w), Some(false));
                // Where `locate` says the key goes.
                let Err(at) = idx.locate(&wr, h, &w) else { panic!("key {k} is still there") };
                idx.insert(&mut wr, &hash_of, at, h, &w, u64::from(k) + 1, s.clone());
                assert_eq!(idx.locate(&wr, h, &w).ok(), idx.find(&wr, h, &w));
                assert_eq!(idx.contains(h, &w), Some(true));
                assert_eq!(idx.find_seq(&wr, h, u64::from(k) + 1), idx.find(&wr, h, &w));
            }
            assert_eq!(idx.validate(&wr, &hash_of), n as usize);
        }
        let got = idx.get(hash_of(&key(7)), &key(7)).flatten();
        assert!(got.is_some_and(|h| Arc::ptr_eq(&h, &s)));
        assert_eq!(idx.contains(hash_of(&key(n + 1)), &key(n + 1)), Some(false));
        // One table holds about 1/64 of the keys, at least 1/8 of its slots empty.
        let groups: usize = (0..SHARDS).filter_map(|i| idx.table(i)).map(|(_, log)| 1usize << log).sum();
        assert!(groups * 8 * 7 / 8 >= n as usize && groups * 8 <= 4 * n as usize, "{groups} groups for {n} keys");
    }

    /// A table that stays at about 3/4 full under churn (oldest key out, a new one in) is
    /// rebuilt at its size again and again, never doubled: deleted slots cost rebuilds, not
    /// memory.
    #[test]
    fn a_table_at_a_steady_count_keeps_its_size() {
        let idx: Index<SessionRef> = Index::new();
        let mut wr = IndexWriter::new();
        let s: SessionRef = Arc::new(Session::new(0));
        // Every key in shard 0, home groups spread.
        let hash = |n: u64| n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 6;
        let hash_of = |w: &KeyWords| hash(w[0]);
        let add = |idx: &Index<SessionRef>, wr: &mut IndexWriter, n: u32| {
            let (h, w) = (hash(u64::from(n)), key(n));
            let at = idx.locate(wr, h, &w).err().flatten();
            idx.insert(wr, &hash_of, at, h, &w, u64::from(n) + 1, s.clone());
        };
        // 195 keys: 32 groups (256 slots, 224 usable), 76% full.
        let n = 195;
        for k in 0..n {
            add(&idx, &mut wr, k);
        }
        assert_eq!(idx.table(0).map(|(_, log)| log), Some(5));
        let rounds = if cfg!(miri) { 10 } else { 100 };
        for k in n..n * rounds {
            let old = k - n;
            let at = idx.find(&wr, hash(u64::from(old)), &key(old)).unwrap_or_else(|| panic!("key {old} is lost"));
            assert!(idx.remove(&mut wr, at).is_some());
            add(&idx, &mut wr, k);
        }
        assert_eq!(idx.validate(&wr, &hash_of), n as usize);
        assert_eq!(idx.table(0).map(|(_, log)| log), Some(5), "the table grew under churn");
    }

    /// A hash that puts every key in one shard and one home group: probes cross groups, and
    /// the table still finds, removes and rebuilds them.
    #[test]
    fn crowded_hashes_probe_across_groups() {
        let idx: Index<SessionRef> = Index::new();
        let mut wr = IndexWriter::new();
        let s: SessionRef = Arc::new(Session::new(0));
        let hash = |n: u64| n.wrapping_mul(0x9e37_79b9_7f4a_7c15) & 0x03ff_ffff_0000_0000;
        let hash_of = |w: &KeyWords| hash(w[0]);
        for n in 0..100u32 {
            let at = idx.locate(&wr, hash(u64::from(n)), &key(n)).err().flatten();
            idx.insert(&mut wr, &hash_of, at, hash(u64::from(n)), &key(n), u64::from(n) + 1, s.clone());
        }
        assert_eq!(idx.validate(&wr, &hash_of), 100);
        for n in (0..100u32).step_by(2) {
            let at = idx.find(&wr, hash(u64::from(n)), &key(n)).unwrap_or_else(|| unreachable!());
            assert!(idx.remove(&mut wr, at).is_some());
        }
        assert_eq!(idx.validate(&wr, &hash_of), 50);
        for n in 0..100u32 {
            assert_eq!(idx.contains(hash(u64::from(n)), &key(n)), Some(n % 2 == 1), "key {n}");
        }
    }
}
