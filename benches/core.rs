//! A benchmark of the cache core alone (no C, no FFI), so regressions show without the C
//! benchmark: fill, lookups, churn at capacity and a 90/10 mix, at 1 and 2 threads.
//!
//! `cargo bench --bench core [-- SESSIONS SECONDS]` (defaults: 100000 sessions, 0.5 s each).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[path = "../tests/support/rng.rs"]
mod rng;

use rng::Rng;
use sesscache::core::cache::Cache;
use sesscache::core::entry::Cacheable;
use sesscache::core::key::Bytes32;
use sesscache::core::session::{Session, SessionRef};

const VERSION: i32 = 0x0303;

fn session(n: u64) -> SessionRef {
    let s = Session::new(1_700_000_000);
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&n.to_le_bytes());
    id[8..16].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    s.update(|f| {
        f.version = VERSION;
        f.id = Bytes32::new(&id).unwrap_or(Bytes32::EMPTY);
        f.timeout = 7200;
    });
    Arc::new(s)
}

/// Runs `op` on `threads` threads for `secs`; returns operations per second.
fn timed(threads: usize, secs: f64, op: impl Fn(usize, &mut Rng) + Sync) -> f64 {
    let stop = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let barrier = Barrier::new(threads + 1);
    let mut elapsed = Duration::ZERO;
    std::thread::scope(|s| {
        for t in 0..threads {
            let (stop, total, barrier, op) = (&stop, &total, &barrier, &op);
            s.spawn(move || {
                let mut rng = Rng::new(0x1234_5678 + t as u64 * 7919);
                barrier.wait();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        op(t, &mut rng);
                    }
                    n += 64;
                }
                total.fetch_add(n, Ordering::Relaxed);
            });
        }
        barrier.wait();
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
        elapsed = t0.elapsed();
    });
    total.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let secs: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0.5);

    let sessions: Vec<SessionRef> = (0..n).map(session).collect();
    let cache = Cache::<SessionRef>::new();
    let t0 = Instant::now();
    for s in &sessions {
        cache.add(s, 0, None);
    }
    println!("core fill      1 thread : {:>12.0} adds/s", n as f64 / t0.elapsed().as_secs_f64());
    let keys: Vec<_> = sessions.iter().map(|s| s.key()).collect();

    for threads in [1, 2] {
        let r = timed(threads, secs, |_, rng| {
            let k = &keys[(rng.next_u64() % n) as usize];
            assert!(cache.get(k).is_some());
        });
        println!("core lookup    {threads} thread : {r:>12.0} ops/s");
    }

    // At capacity: the cache holds n - 1; each add of a fresh session evicts one.
    let next = AtomicU64::new(n);
    let capacity = n as usize;
    for threads in [1, 2] {
        let r = timed(threads, secs, |_, _| {
            let s = session(next.fetch_add(1, Ordering::Relaxed));
            drop(cache.add(&s, capacity, None));
        });
        println!("core churn     {threads} thread : {r:>12.0} adds/s");
    }

    let recent = AtomicU64::new(0);
    for threads in [1, 2] {
        let r = timed(threads, secs, |_, rng| {
            let x = rng.next_u64();
            if x % 10 == 0 {
                let id = next.fetch_add(1, Ordering::Relaxed);
                drop(cache.add(&session(id), capacity, None));
                recent.store(id, Ordering::Relaxed);
            } else {
                // A session among the newest half, which eviction (oldest first) keeps.
                let top = recent.load(Ordering::Relaxed).max(n);
                let id = top - (x >> 8) % (n / 2);
                let _ = cache.get(&session_key(id));
            }
        });
        println!("core mixed     {threads} thread : {r:>12.0} ops/s (90% lookup, 10% add)");
    }
    cache.validate();
}

fn session_key(n: u64) -> sesscache::core::key::SessionKey {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&n.to_le_bytes());
    id[8..16].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    sesscache::core::key::SessionKey::from_slice(VERSION, &id).unwrap_or_else(|| unreachable!())
}
