//! The per-context statistics counters: relaxed atomics, striped so that threads bumping the
//! same counter do not share a cache line.

use std::sync::atomic::{AtomicI32, Ordering};

/// Stripes per counter. A power of two.
const STRIPES: usize = 8;

/// One cache line per stripe, so two cores never write the same line.
#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicI32);

impl Padded {
    // Used only as an array-repeat initializer: each stripe is its own atomic.
    #[allow(clippy::declare_interior_mutable_const)]
    const ZERO: Padded = Padded(AtomicI32::new(0));
}

/// An OpenSSL `int` statistics counter: wraps like OpenSSL's, read as the wrapping sum of its
/// stripes, which equals a single wrapping counter modulo 2^32.
#[derive(Default)]
pub struct Counter {
    stripes: [Padded; STRIPES],
}

/// The stripe of the calling thread, from the address of a local: threads run on different
/// stacks (megabytes apart), so they land on different stripes without a thread-local lookup,
/// which costs a `__tls_get_addr` call inside a shared library.
#[inline]
fn my_stripe() -> usize {
    let marker = 0u8;
    let page = (std::ptr::addr_of!(marker) as usize as u64) >> 16;
    // Fibonacci hashing of the 64 KiB stack page: nearby stacks spread over all stripes.
    (page.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 61) as usize % STRIPES
}

impl Counter {
    /// A counter at zero, usable in a `static`.
    pub const fn new() -> Counter {
        Counter { stripes: [Padded::ZERO; STRIPES] }
    }

    /// Adds one (relaxed, wrapping).
    pub fn bump(&self) {
        self.stripes[my_stripe()].0.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` (relaxed, wrapping); negative values subtract.
    pub fn add(&self, n: i32) {
        self.stripes[my_stripe()].0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i32 {
        self.stripes.iter().fold(0i32, |acc, s| acc.wrapping_add(s.0.load(Ordering::Relaxed)))
    }
}

/// Which counter, named after OpenSSL's `SSL_CTRL_SESS_*` commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    /// `sess_connect`: client handshakes started.
    Connect,
    /// `sess_connect_good`: client handshakes completed.
    ConnectGood,
    /// `sess_connect_renegotiate`: client renegotiations started.
    ConnectRenegotiate,
    /// `sess_accept`: server handshakes started.
    Accept,
    /// `sess_accept_good`: server handshakes completed.
    AcceptGood,
    /// `sess_accept_renegotiate`: server renegotiations started.
    AcceptRenegotiate,
    /// `sess_hit`: resumptions.
    Hits,
    /// `sess_cb_hit`: sessions supplied by the get callback.
    CbHits,
    /// `sess_miss`: internal lookups that failed.
    Misses,
    /// `sess_timeout`: resumption candidates found expired.
    Timeouts,
    /// `sess_cache_full`: evictions.
    CacheFull,
}

/// The eleven counters of one `SSL_CTX`.
#[derive(Default)]
pub struct Stats {
    connect: Counter,
    connect_good: Counter,
    connect_renegotiate: Counter,
    accept: Counter,
    accept_good: Counter,
    accept_renegotiate: Counter,
    hits: Counter,
    cb_hits: Counter,
    misses: Counter,
    timeouts: Counter,
    cache_full: Counter,
}

impl Stats {
    /// The counter for `stat`.
    pub fn counter(&self, stat: Stat) -> &Counter {
        match stat {
            Stat::Connect => &self.connect,
            Stat::ConnectGood => &self.connect_good,
            Stat::ConnectRenegotiate => &self.connect_renegotiate,
            Stat::Accept => &self.accept,
            Stat::AcceptGood => &self.accept_good,
            Stat::AcceptRenegotiate => &self.accept_renegotiate,
            Stat::Hits => &self.hits,
            Stat::CbHits => &self.cb_hits,
            Stat::Misses => &self.misses,
            Stat::Timeouts => &self.timeouts,
            Stat::CacheFull => &self.cache_full,
        }
    }

    /// Adds one to `stat`.
    pub fn bump(&self, stat: Stat) {
        self.counter(stat).bump();
    }

    /// Reads `stat`.
    pub fn get(&self, stat: Stat) -> i32 {
        self.counter(stat).get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_like_an_int() {
        let c = Counter::default();
        c.add(i32::MAX);
        c.bump();
        assert_eq!(c.get(), i32::MIN);
    }

    #[test]
    fn sums_across_threads() {
        let s = std::sync::Arc::new(Stats::default());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| s.bump(Stat::Hits)))
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(s.get(Stat::Hits), 4000);
        assert_eq!(s.get(Stat::Misses), 0);
    }
}
