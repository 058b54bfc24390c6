//! Four threads on one context: adds, lookups, removals, flushes, repositions and
//! `has_session` interleaved; the index and the expiry order must agree at the end and every
//! session must be freed. Once on the core (with `validate()`), once through the C ABI.

mod common;
#[path = "support/rng.rs"]
mod rng;

use std::os::raw::c_long;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sesscache::core::context::{RemoveHook, SessionCtx};
use sesscache::core::key::Bytes32;
use sesscache::core::session::{Session, SessionRef};
use sesscache::ffi::ctrl::*;
use sesscache::ffi::driver::*;
use sesscache::ffi::method::*;
use sesscache::ffi::ssl::*;
use sesscache::ffi::ssl_ctx::*;
use sesscache::ffi::ssl_session::*;

use common::Leaks;
use rng::Rng;

const THREADS: u64 = 4;
const OPS: usize = if cfg!(miri) { 40 } else { 4000 };
const T0: i64 = 1_700_000_000;

#[derive(Default)]
struct Count(AtomicUsize);

impl RemoveHook<SessionRef> for Count {
    fn removed(&self, s: &SessionRef) {
        // The callback runs with no lock held: it may look at the session and the cache.
        let _ = s.is_cached();
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn core_four_threads() {
    let leaks = Leaks::start();
    let ctx = SessionCtx::<SessionRef>::new();
    ctx.set_size(48);
    let hooks = Count::default();
    let added = AtomicUsize::new(0);
    std::thread::scope(|sc| {
        for t in 0..THREADS {
            let (ctx, hooks, added) = (&ctx, &hooks, &added);
            sc.spawn(move || {
                let mut r = Rng::new(t);
                let mut mine: Vec<SessionRef> = Vec::new();
                for _ in 0..OPS {
                    let id = [r.below(96) as u8; 32];
                    match r.below(100) {
                        0..=34 => {
                            let s = Arc::new(Session::new(T0 + r.below(100) as i64));
                            s.update(|f| {
                                f.version = 0x0303;
                                f.id = Bytes32::new(&id).unwrap();
                                f.timeout = r.below(200) as i64;
                            });
                            if ctx.add_session(&s, T0, hooks) {
                                added.fetch_add(1, Ordering::Relaxed);
                            }
                            mine.push(s);
                            if mine.len() > 16 {
                                mine.remove(0);
                            }
                        }
                        35..=44 if !mine.is_empty() => {
                            let s = &mine[r.below(mine.len() as u64) as usize];
                            if ctx.add_session(s, T0, hooks) {
                                added.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        45..=54 if !mine.is_empty() => {
                            let s = mine[r.below(mine.len() as u64) as usize].clone();
                            ctx.remove_session(&s, hooks);
                            assert!(s.is_not_resumable());
                        }
                        55..=64 if !mine.is_empty() => {
                            let s = &mine[r.below(mine.len() as u64) as usize];
                            let t = T0 + r.below(300) as i64;
                            s.update_expiry(|f| f.time = t);
                        }
                        65..=69 => {
                            ctx.flush(T0 + r.below(300) as i64, hooks);
                        }
                        70..=84 => {
                            if let Some(s) =
                                ctx.cache().get(&sesscache::core::key::SessionKey::from_slice(0x0303, &id).unwrap())
                            {
                                assert_eq!(
                                    s.read(|f| f.id.as_slice().to_vec()),
                                    id.to_vec(),
                                    "a lookup returns its key"
                                );
                            }
                        }
                        _ => {
                            let _ = ctx.has_session(0x0303, &id);
                        }
                    }
                }
            });
        }
    });
    ctx.cache().validate();
    let left = ctx.cache().len();
    assert!(left <= 47, "a cache of size 48 holds at most 47");
    assert_eq!(ctx.cache().snapshot().len(), left);
    assert_eq!(ctx.flush(0, &hooks), left);
    ctx.cache().validate();
    assert!(ctx.cache().is_empty());
    // Replacements (same key, another object) leave without a callback, so only a bound holds.
    assert!(hooks.0.load(Ordering::Relaxed) > 0 && added.load(Ordering::Relaxed) > left);
    drop(ctx);
    leaks.check();
}

/// Every entry that enters the cache leaves it exactly once (evicted, replaced, removed or
/// flushed) or is still there: adds race with evictions of their own key, removals and flushes,
/// at a tiny capacity so that nearly every add evicts.
#[test]
fn core_entries_are_conserved_under_races() {
    use sesscache::core::cache::Cache;
    use sesscache::core::key::SessionKey;
    let leaks = Leaks::start();
    let cache = Cache::<SessionRef>::new();
    let entered = AtomicUsize::new(0);
    let left = AtomicUsize::new(0);
    std::thread::scope(|sc| {
        for t in 0..THREADS {
            let (cache, entered, left) = (&cache, &entered, &left);
            sc.spawn(move || {
                let mut r = Rng::new(0xc0ffee ^ t);
                let mut mine: Vec<SessionRef> = Vec::new();
                for _ in 0..OPS * 4 {
                    let id = [r.below(24) as u8; 32];
                    let key = SessionKey::from_slice(0x0303, &id).unwrap();
                    let add = |s: &SessionRef| {
                        let a = cache.add(s, 8, None);
                        entered.fetch_add(usize::from(a.is_new), Ordering::Relaxed);
                        left.fetch_add(a.evicted.len() + usize::from(a.replaced.is_some()), Ordering::Relaxed);
                        assert!(a.evicted.iter().all(|v| v.is_not_resumable()));
                    };
                    match r.below(100) {
                        0..=44 => {
                            let s = Arc::new(Session::new(T0));
                            s.update(|f| {
                                f.version = 0x0303;
                                f.id = Bytes32::new(&id).unwrap();
                                f.timeout = 10 + r.below(5) as i64;
                            });
                            add(&s);
                            mine.push(s);
                            if mine.len() > 8 {
                                mine.remove(0);
                            }
                        }
                        45..=64 if !mine.is_empty() => add(&mine[r.below(mine.len() as u64) as usize].clone()),
                        65..=79 => {
                            if cache.remove(&key).is_some() {
                                left.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        80..=82 => {
                            left.fetch_add(cache.flush(T0 + 12).len(), Ordering::Relaxed);
                        }
                        _ => {
                            if let Some(s) = cache.get(&key) {
                                assert_eq!(s.read(|f| f.id), Bytes32::new(&id).unwrap(), "a lookup returns its key");
                            }
                        }
                    }
                }
            });
        }
    });
    cache.validate();
    let (entered, left) = (entered.load(Ordering::Relaxed), left.load(Ordering::Relaxed));
    assert!(entered > 1000, "the test did too little: {entered} entries");
    assert_eq!(entered, left + cache.len(), "entries entered = entries that left + entries cached");
    assert!(cache.len() <= 7, "a cache of size 8 holds at most 7");
    for s in cache.snapshot() {
        assert!(s.is_cached());
    }
    drop(cache);
    leaks.check();
}

/// `SSL_SESSION_set_time` racing with the add that caches the session: the new expiry must
/// decide the session's place whichever runs first (a set_time that found no owner yet used to
/// be lost when the add had already read the old expiry).
#[test]
fn set_time_racing_an_add_is_not_lost() {
    use sesscache::core::cache::Cache;
    use sesscache::core::entry::Cacheable;
    use std::sync::atomic::AtomicU64;
    let leaks = Leaks::start();
    let cache = Cache::<SessionRef>::new();
    let make = |n: u8, timeout: i64| {
        let s = Arc::new(Session::new(T0));
        s.update(|f| {
            f.version = 0x0303;
            f.id = Bytes32::new(&[n; 32]).unwrap();
            f.timeout = timeout;
        });
        s
    };
    let a = make(1, 50); // expires at T0 + 50
    cache.add(&a, 0, None);
    let h = make(2, 10); // expires at T0 + 10 until the racing set_time moves it to T0 + 100
    let iters: u64 = if cfg!(miri) { 20 } else { 20_000 };
    let (turn, done) = (AtomicU64::new(0), AtomicU64::new(0));
    let mut lost = 0u64;
    std::thread::scope(|sc| {
        let (h2, turn2, done2) = (h.clone(), &turn, &done);
        sc.spawn(move || {
            for i in 1..=iters {
                while turn2.load(Ordering::Acquire) != i {
                    std::hint::spin_loop();
                }
                h2.update_expiry(|f| f.time = T0 + 90);
                done2.store(i, Ordering::Release);
            }
        });
        for i in 1..=iters {
            h.update(|f| f.time = T0); // not cached here, so no reposition
            turn.store(i, Ordering::Release);
            cache.add(&h, 0, None);
            while done.load(Ordering::Acquire) != i {
                std::hint::spin_loop();
            }
            let order: Vec<u8> = cache.snapshot().iter().map(|s| s.read(|f| f.id.as_slice()[0])).collect();
            if order != [1, 2] {
                lost += 1;
            }
            cache.remove(&h.key());
        }
    });
    cache.validate();
    drop((a, h, cache));
    leaks.check();
    assert_eq!(lost, 0, "set_time lost in {lost} of {iters} races");
}

/// Lookups read the index without a lock while one writer grows it, rebuilds it and churns
/// through it: a key cached all along must be found every time (with its own session), and a
/// key never added must never be (a wrong "yes" is the one answer `SSL_has_matching_session_id`
/// may never give).
#[test]
fn lock_free_lookups_never_answer_wrong_while_the_index_changes() {
    use sesscache::core::cache::Cache;
    use sesscache::core::entry::Cacheable;
    let leaks = Leaks::start();
    let cache = Cache::<SessionRef>::new();
    let make = |n: u32| {
        let s = Arc::new(Session::new(T0));
        s.update(|f| {
            f.version = 0x0303;
            let mut id = [0u8; 32];
            id[..4].copy_from_slice(&n.to_le_bytes());
            id[31] = 0x5a;
            f.id = Bytes32::new(&id).unwrap();
            f.timeout = 100;
        });
        s
    };
    let stable: Vec<SessionRef> = (0..512).map(make).collect();
    stable.iter().for_each(|s| drop(cache.add(s, 0, None)));
    let absent: Vec<_> = (1_000_000..1_000_512).map(|n| make(n).key()).collect();
    let rounds: u32 = if cfg!(miri) { 2 } else { 100 };
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            // Grows the index from 64 keys to thousands and back, over and over.
            for r in 0..rounds {
                let n = if cfg!(miri) { 40 } else { 8000 };
                let batch: Vec<SessionRef> = (0..n).map(|i| make(1000 + r * n + i)).collect();
                batch.iter().for_each(|s| drop(cache.add(s, 0, None)));
                batch.iter().for_each(|s| drop(cache.remove(&s.key())));
            }
            done.store(true, Ordering::Release);
        });
        let mut checks = 0u64;
        while !done.load(Ordering::Acquire) || checks == 0 {
            for (s, k) in stable.iter().zip(&absent) {
                assert!(cache.contains(&s.key()), "a cached key was missed");
                assert!(cache.get(&s.key()).is_some_and(|g| Arc::ptr_eq(&g, s)), "a cached key gave another session");
                assert!(!cache.contains(k), "a key never added was found");
                checks += 1;
            }
        }
    });
    cache.validate();
    assert_eq!(cache.len(), stable.len());
    drop((stable, cache));
    leaks.check();
}

static REMOVED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count_remove(ctx: *mut SSL_CTX, _s: *mut SSL_SESSION) {
    // SAFETY: a live context; re-entering is allowed.
    let _ = unsafe { SSL_CTX_sess_number(ctx) };
    REMOVED.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn ffi_four_threads_with_handshakes() {
    let leaks = Leaks::start();
    // SAFETY: every object is live while used; the context outlives the threads.
    unsafe {
        let sctx = SSL_CTX_new(TLS_server_method());
        let cctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_sess_set_cache_size(sctx, 64);
        SSL_CTX_sess_set_remove_cb(sctx, Some(count_remove));
        let (sp, cp) = (sctx as usize, cctx as usize);
        let ops = OPS / 8;
        std::thread::scope(|sc| {
            for t in 0..THREADS {
                sc.spawn(move || {
                    let (sctx, cctx) = (sp as *mut SSL_CTX, cp as *mut SSL_CTX);
                    let mut r = Rng::new(100 + t);
                    let mut offer: *mut SSL_SESSION = std::ptr::null_mut();
                    for _ in 0..ops {
                        let (server, client) = (SSL_new(sctx), SSL_new(cctx));
                        match r.below(10) {
                            0..=5 => {
                                SSL_set_session(client, offer);
                                assert_eq!(sesscache_handshake(client, server), 1);
                                SSL_SESSION_free(offer);
                                offer = SSL_get1_session(client);
                                let id = SSL_SESSION_get_id(offer, std::ptr::null_mut());
                                let _ = SSL_has_matching_session_id(server, id, 32);
                            }
                            6 => {
                                if !offer.is_null() {
                                    SSL_CTX_remove_session(sctx, offer);
                                }
                            }
                            7 => SSL_CTX_flush_sessions(sctx, sesscache::core::time::now() as c_long + 8000),
                            _ => {
                                let s = common::session(r.below(200) as u8, 100);
                                SSL_CTX_add_session(sctx, s);
                                SSL_SESSION_free(s);
                            }
                        }
                        SSL_free(server);
                        SSL_free(client);
                    }
                    SSL_SESSION_free(offer);
                });
            }
        });
        let n = SSL_CTX_sess_number(sctx);
        assert!((0..64).contains(&n));
        assert!(SSL_CTX_sess_hits(sctx) > 0, "some handshakes resumed");
        assert_eq!(SSL_CTX_sess_accept(sctx), SSL_CTX_sess_accept_good(sctx));
        assert_eq!(leaks.delta(), n, "only cached sessions are alive");
        let before = REMOVED.load(Ordering::Relaxed);
        SSL_CTX_free(sctx);
        assert_eq!(REMOVED.load(Ordering::Relaxed) - before, n as usize);
        SSL_CTX_free(cctx);
    }
    leaks.check();
}
