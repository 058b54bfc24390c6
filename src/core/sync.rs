//! The locks of the core and the cache-line padding they sit in.

/// The lock that serialises mutations. Its critical sections last a few hundred nanoseconds,
/// less than parking and waking a thread, so waiters spin; every 1024th pause they yield, so
/// that a holder preempted on an oversubscribed machine gets to run. (With parking_lot's mutex
/// two threads churning at capacity reached 1.3 M adds/s; with this lock, 2.0 M.)
pub(crate) type OrderLock<T> = spin::mutex::SpinMutex<T, SpinThenYield>;

/// A spinning mutex for critical sections of a few instructions (a session's owner record):
/// one locked instruction to take it, a plain store to release it.
pub(crate) type TinyLock<T> = spin::mutex::SpinMutex<T, SpinThenYield>;

/// The relax strategy of [`OrderLock`].
pub(crate) struct SpinThenYield;

thread_local! {
    static SPINS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl spin::RelaxStrategy for SpinThenYield {
    // Out of line: the thread-local counter costs a `__tls_get_addr` call in a shared library,
    // which the compiler would otherwise hoist in front of every uncontended lock.
    #[cold]
    #[inline(never)]
    fn relax() {
        let n = SPINS.with(|c| {
            let n = c.get().wrapping_add(1);
            c.set(n);
            n
        });
        if n.is_multiple_of(1024) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Keeps a value on cache lines of its own, so that writers of it do not slow down readers of
/// its neighbours (in a `Cache`, lookups read `shards` and `hasher`; every mutation writes
/// `serial`).
#[repr(align(128))]
pub(crate) struct Own<T>(pub(crate) T);

impl<T> std::ops::Deref for Own<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
