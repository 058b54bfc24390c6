//! The cache against a model of OpenSSL 3.0's semantics (spec §4.2–§4.6), and the measured
//! eviction sequences of Appendix A.2. Time is always explicit: no clock, no randomness
//! beyond a seeded PRNG.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use super::*;
use crate::core::key::Bytes32;
use crate::core::session::{Session, SessionRef};
use crate::test_rng::Rng;

/// A fixed "now" for sessions whose time does not matter.
const T0: i64 = 1_700_000_000;

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
    fn add(&mut self, objs: &mut [Obj], o: usize, cap: usize, stamp: Option<i64>) -> (bool, Vec<usize>, Option<usize>) {
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
    let mut r = Rng::new(seed);
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
