//! The cache core against a model: random operation sequences on one `Cache<SessionRef>`,
//! each checked against a plain list of entries ordered by (expiry, insertion), with
//! `validate()` after every operation. Shared by `tests/core_model.rs` (a seeded random
//! source) and `fuzz/fuzz_targets/core_ops.rs` (libFuzzer's bytes).
//!
//! The model is OpenSSL 3.0's: eviction takes the earliest expiry, earliest insertion first;
//! an add evicts while the count, the new entry included, is at least the capacity; a session
//! with the key of a different cached object replaces it silently; re-adding the cached object
//! repositions it; `set_time`/`set_timeout` reposition the listing the session last attached.
#![allow(dead_code)]

#[path = "rng.rs"]
mod rng;

use std::sync::Arc;

use sesscache::core::cache::Cache;
use sesscache::core::entry::Cacheable;
use sesscache::core::key::{Bytes32, SessionKey};
use sesscache::core::session::{Session, SessionRef, LIVE_SESSIONS};
use sesscache::core::time::Expiry;

use rng::Rng;

/// Where the operations come from: a PRNG or fuzzer bytes. `None` ends the sequence.
pub trait Source {
    /// The next byte, `None` when exhausted.
    fn byte(&mut self) -> Option<u8>;
}

/// `n` bytes of a seeded SplitMix64 generator: a random operation sequence.
pub struct Seeded {
    rng: Rng,
    left: usize,
}

impl Seeded {
    pub fn new(seed: u64, n: usize) -> Seeded {
        Seeded { rng: Rng::new(seed), left: n }
    }
}

impl Source for Seeded {
    fn byte(&mut self) -> Option<u8> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(self.rng.byte())
    }
}

/// Bytes from a fuzzer input.
pub struct Bytes<'a>(pub &'a [u8]);

impl Source for Bytes<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
}

const POOL: usize = 8;

/// One listing in the model.
#[derive(Clone, Copy, Debug)]
struct Entry {
    listing: u64,
    key: SessionKey,
    obj: usize,
    expiry: Expiry,
    seq: u64,
}

/// The model: entries in no particular order (sorted on demand), which listing each pool
/// object last attached, and a counter for insertion order.
#[derive(Default)]
struct Model {
    entries: Vec<Entry>,
    owner: [Option<u64>; POOL],
    seq: u64,
    next_listing: u64,
}

impl Model {
    fn sorted(&self) -> Vec<Entry> {
        let mut v = self.entries.clone();
        v.sort_by_key(|e| (e.expiry, e.seq));
        v
    }

    fn find(&self, key: &SessionKey) -> Option<usize> {
        self.entries.iter().position(|e| e.key == *key)
    }

    fn unlist(&mut self, i: usize) -> Entry {
        let e = self.entries.swap_remove(i);
        if self.owner[e.obj] == Some(e.listing) {
            self.owner[e.obj] = None;
        }
        e
    }

    fn victim(&self, except: Option<u64>) -> Option<usize> {
        (0..self.entries.len())
            .filter(|&i| Some(self.entries[i].listing) != except)
            .min_by_key(|&i| (self.entries[i].expiry, self.entries[i].seq))
    }
}

fn pick<S: Source>(src: &mut S, n: usize) -> Option<usize> {
    Some(usize::from(src.byte()?) % n)
}

fn small_time<S: Source>(src: &mut S) -> Option<i64> {
    Some(match src.byte()? {
        0 => i64::MAX,
        1 => -5,
        2 => i64::MAX - 3,
        b => i64::from(b % 12),
    })
}

fn id_of<S: Source>(src: &mut S) -> Option<Bytes32> {
    // Short ids from a tiny alphabet, so that keys collide; length 0 (empty) included.
    let b = src.byte()?;
    let len = usize::from(b % 4);
    let fill = (b >> 2) % 3;
    Bytes32::new(&vec![fill; len])
}

/// Runs one sequence from `src`; panics on the first disagreement. Returns the number of
/// operations executed. Every session is released at the end and the live count checked
/// against `live_before` (the caller makes sure nothing else creates sessions meanwhile).
pub fn run<S: Source>(src: &mut S, check_leaks: bool) -> usize {
    let live_before = LIVE_SESSIONS.get();
    let ops = run_inner(src);
    if check_leaks {
        assert_eq!(LIVE_SESSIONS.get(), live_before, "sessions leaked by the sequence");
    }
    ops
}

fn run_inner<S: Source>(src: &mut S) -> usize {
    let cache: Arc<Cache<SessionRef>> = Cache::new();
    let pool: Vec<SessionRef> = (0..POOL)
        .map(|i| {
            let s = Arc::new(Session::new(0));
            s.update(|f| {
                f.version = 0x0303;
                f.id = Bytes32::new(&[i as u8 % 3, 7]).unwrap();
                f.timeout = i as i64;
            });
            s
        })
        .collect();
    let mut m = Model::default();
    let mut ops = 0;
    while let Some(op) = src.byte() {
        ops += 1;
        match op % 10 {
            // add(obj, capacity, stamp)
            0..=2 => {
                let (Some(o), Some(cap), Some(st)) = (pick(src, POOL), src.byte(), src.byte()) else { break };
                let cap = usize::from(cap % 6);
                let stamp = (st % 4 == 0).then_some(i64::from(st >> 4));
                let h = &pool[o];
                let added = cache.add(h, cap, stamp);
                let (key, expiry) = (h.key(), h.expiry());
                // The model.
                let mut want_new = true;
                let mut want_replaced = None;
                let listing = match m.find(&key) {
                    Some(i) if m.entries[i].obj == o => {
                        want_new = false;
                        m.entries[i].listing
                    }
                    Some(i) => {
                        let old = m.unlist(i);
                        want_replaced = Some(old.obj);
                        m.next_listing += 1;
                        m.next_listing
                    }
                    None => {
                        m.next_listing += 1;
                        m.next_listing
                    }
                };
                let mut want_evicted = Vec::new();
                if want_new {
                    // The count includes the new entry, which is never its own victim.
                    while cap > 0 && m.entries.len() + 1 >= cap {
                        let Some(v) = m.victim(None) else { break };
                        want_evicted.push(m.unlist(v).obj);
                    }
                    m.seq += 1;
                    m.entries.push(Entry { listing, key, obj: o, expiry, seq: m.seq });
                } else {
                    let i = m.find(&key).unwrap();
                    m.seq += 1;
                    m.entries[i].expiry = expiry;
                    m.entries[i].seq = m.seq;
                }
                m.owner[o] = Some(listing);
                assert_eq!(added.is_new, want_new, "add: is_new");
                let got_evicted: Vec<usize> = added.evicted.iter().map(|e| index_of(&pool, e)).collect();
                assert_eq!(got_evicted, want_evicted, "add: evicted sessions, in order");
                assert!(added.evicted.iter().all(|e| e.is_not_resumable()), "evicted sessions are not resumable");
                assert_eq!(added.replaced.as_ref().map(|r| index_of(&pool, r)), want_replaced, "add: replaced");
                if want_new && cap > 0 {
                    // CVE-2024-2511: a cache of size N never grows past N, whatever the ids.
                    assert!(cache.len() <= (cap - 1).max(1), "a cache of size {cap} holds {}", cache.len());
                }
            }
            // remove(key)
            3 => {
                let (Some(o), Some(k)) = (pick(src, POOL), src.byte()) else { break };
                let key = if k % 2 == 0 {
                    pool[o].key()
                } else {
                    let Some(id) = id_of(src) else { break };
                    SessionKey::new(0x0303, id)
                };
                let got = cache.remove(&key).map(|h| index_of(&pool, &h));
                let want = m.find(&key).map(|i| m.unlist(i).obj);
                assert_eq!(got, want, "remove");
            }
            // flush(t)
            4 => {
                let Some(t) = src.byte() else { break };
                let t = i64::from(t % 24);
                let got: Vec<usize> = cache.flush(t).iter().map(|h| index_of(&pool, h)).collect();
                let mut want = Vec::new();
                while let Some(v) = m.victim(None) {
                    // The stop test reads the session's current expiry (OpenSSL's
                    // `sess_timedout(t, s)`), which differs from the listing's position only
                    // for a session re-keyed and cached twice.
                    if t != 0 && !pool[m.entries[v].obj].expiry().is_expired_at(t) {
                        break;
                    }
                    want.push(m.unlist(v).obj);
                }
                assert_eq!(got, want, "flush({t})");
            }
            // get / contains
            5 => {
                let Some(id) = id_of(src) else { break };
                let Some(v) = src.byte() else { break };
                let key = SessionKey::new(if v % 2 == 0 { 0x0303 } else { 0x0304 }, id);
                let want = m.find(&key).map(|i| m.entries[i].obj);
                assert_eq!(cache.get(&key).map(|h| index_of(&pool, &h)), want, "get");
                assert_eq!(cache.contains(&key), want.is_some(), "contains");
            }
            // set_time / set_timeout: repositions the listing the session last attached
            6 => {
                let (Some(o), Some(w)) = (pick(src, POOL), src.byte()) else { break };
                let Some(t) = small_time(src) else { break };
                if w % 2 == 0 {
                    pool[o].update_expiry(|f| f.time = t);
                } else {
                    pool[o].update_expiry(|f| f.timeout = t);
                }
                let expiry = pool[o].expiry();
                if let Some(l) = m.owner[o] {
                    if let Some(i) = m.entries.iter().position(|e| e.listing == l) {
                        m.seq += 1;
                        m.entries[i].expiry = expiry;
                        m.entries[i].seq = m.seq;
                    }
                }
            }
            // set the id or version of a (possibly cached) session: the cache keeps its key
            7 => {
                let (Some(o), Some(w)) = (pick(src, POOL), src.byte()) else { break };
                if w % 3 == 0 {
                    pool[o].update(|f| f.version = if f.version == 0x0303 { 0x0304 } else { 0x0303 });
                } else {
                    let Some(id) = id_of(src) else { break };
                    pool[o].update(|f| f.id = id);
                }
            }
            // reposition(key, h) as SSL_CTX_add_session's callers may use
            8 => {
                let Some(o) = pick(src, POOL) else { break };
                let key = pool[o].key();
                cache.reposition(&key, &pool[o]);
                if let Some(i) = m.find(&key).filter(|&i| m.entries[i].obj == o) {
                    // Repositions that listing (whether or not it is the session's owner).
                    m.seq += 1;
                    m.entries[i].expiry = pool[o].expiry();
                    m.entries[i].seq = m.seq;
                }
            }
            // a snapshot check only
            _ => {}
        }
        cache.validate();
        assert_eq!(cache.len(), m.entries.len(), "len");
        let snap: Vec<usize> = cache.snapshot().iter().map(|h| index_of(&pool, h)).collect();
        let want: Vec<usize> = m.sorted().iter().map(|e| e.obj).collect();
        assert_eq!(snap, want, "the expiry order");
    }
    // Release everything: the cache's references, then ours.
    drop(cache.flush(0));
    cache.validate();
    assert!(cache.is_empty());
    drop(cache);
    drop(pool);
    ops
}

fn index_of(pool: &[SessionRef], h: &SessionRef) -> usize {
    pool.iter().position(|p| Arc::ptr_eq(p, h)).expect("a session from outside the pool")
}
