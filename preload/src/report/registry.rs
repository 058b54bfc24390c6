//! Every context of the process, live or freed, and the values read from them.
//!
//! The lock is held while live contexts' counters are read, and a context leaves only under it
//! ([`freed`], which libssl calls while the `SSL_CTX` is still whole), so no freed context is
//! ever read. It is a `std` mutex (a futex word, no global table) because the fork handlers
//! take it.

use std::ffi::c_long;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError, Weak};

use sesscache::core::stats::Stat;

use super::render::{counter_value, CtxId, CtxValues, COUNTERS};
use crate::state::{cmd, PCtx};
use crate::sys::process;

/// Freed contexts listed one by one; older ones are summed into one `ctx="freed"` entry, so
/// that a process that makes and frees contexts all day keeps a small file and totals that
/// never go down.
pub const KEEP_FREED: usize = 64;

struct Entry {
    id: u64,
    /// The context while it lives (`None` once freed).
    live: Option<Weak<PCtx>>,
    /// The last values of a freed context.
    last: Option<CtxValues>,
}

/// The contexts, in creation order.
pub struct Registry {
    entries: Vec<Entry>,
    /// The sum of the freed contexts beyond [`KEEP_FREED`].
    folded: Option<CtxValues>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { entries: Vec::new(), folded: None });
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The index of `SSL_CTX_sess_connect` and `_accept` in [`COUNTERS`].
const CONNECT: usize = 0;
const ACCEPT: usize = 3;

/// The id of the next context.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Takes the lock (always, without a deadline); with `deadline_ms` (of
/// [`process::monotonic_ms`]) gives up then.
pub fn lock(deadline_ms: Option<i64>) -> Option<MutexGuard<'static, Registry>> {
    lock_until(&REGISTRY, deadline_ms)
}

/// Takes `m`, waiting until `deadline_ms` at most when it is given. A poisoned lock is taken
/// as it is: nothing it guards can be left half-updated by a panic.
pub fn lock_until<T>(m: &'static Mutex<T>, deadline_ms: Option<i64>) -> Option<MutexGuard<'static, T>> {
    let Some(deadline) = deadline_ms else { return Some(m.lock().unwrap_or_else(PoisonError::into_inner)) };
    loop {
        match m.try_lock() {
            Ok(g) => return Some(g),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) if process::monotonic_ms() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(TryLockError::WouldBlock) => return None,
        }
    }
}

/// Lists a new context.
pub fn register(st: &Arc<PCtx>) {
    if let Some(mut reg) = lock(None) {
        reg.entries.push(Entry { id: st.id, live: Some(Arc::downgrade(st)), last: None });
    }
}

/// A context is being freed: keep its last values, unless it never counted anything in this
/// process (a context a worker inherited from its parent and frees unused): nothing is lost
/// and the file stays short.
pub fn freed(st: &PCtx) {
    let Some(mut reg) = lock(None) else { return };
    let last = values(st, false);
    let Some(i) = reg.entries.iter().position(|e| e.id == st.id) else { return };
    if last.counters.iter().all(|&c| c == 0) {
        reg.entries.remove(i);
        return;
    }
    reg.entries[i].last = Some(last);
    reg.entries[i].live = None;
    reg.fold();
}

impl Registry {
    /// Sums the oldest freed contexts into `folded` while more than [`KEEP_FREED`] are listed.
    fn fold(&mut self) {
        while self.entries.iter().filter(|e| e.last.is_some()).count() > KEEP_FREED {
            let Some(i) = self.entries.iter().position(|e| e.last.is_some()) else { return };
            let Some(v) = self.entries.remove(i).last else { return };
            let sum = self.folded.get_or_insert(CtxValues {
                ctx: CtxId::Freed,
                live: false,
                sessions: 0,
                counters: [0; COUNTERS.len()],
                settings: None,
            });
            for (s, c) in sum.counters.iter_mut().zip(v.counters) {
                *s = s.saturating_add(c);
            }
        }
    }

    /// Whether a context, live or freed, ever started a handshake: two counters of each live
    /// context, without the rest of a snapshot.
    pub fn handshaken(&self) -> bool {
        let started = |st: &PCtx| counter(st, Stat::Accept) != 0 || counter(st, Stat::Connect) != 0;
        self.entries.iter().any(|e| match (e.live.as_ref().and_then(Weak::upgrade), &e.last) {
            (Some(st), _) => started(&st),
            (None, Some(last)) => used(std::slice::from_ref(last)),
            (None, None) => false,
        }) || self.folded.as_ref().is_some_and(|f| used(std::slice::from_ref(f)))
    }

    /// The values of every context, in creation order, the folded ones last.
    pub fn snapshot(&self) -> Vec<CtxValues> {
        let mut out: Vec<CtxValues> = self
            .entries
            .iter()
            .filter_map(|e| match (e.live.as_ref().and_then(Weak::upgrade), &e.last) {
                (Some(st), _) => Some(values(&st, true)),
                (None, Some(last)) => Some(last.clone()),
                (None, None) => None,
            })
            .collect();
        out.extend(self.folded.clone());
        out
    }
}

/// Whether any of these contexts ever started a handshake: only then does a process write.
pub fn used(vals: &[CtxValues]) -> bool {
    vals.iter().any(|v| v.counters[CONNECT] != 0 || v.counters[ACCEPT] != 0)
}

/// One context's values as `SSL_CTX_ctrl` returns them to the program.
fn values(st: &PCtx, live: bool) -> CtxValues {
    CtxValues {
        ctx: CtxId::Id(st.id),
        live,
        sessions: u64::try_from(st.ctrl(cmd::NUMBER, 0).unwrap_or(0)).unwrap_or(0),
        counters: COUNTERS.map(|k| counter_value(counter(st, k.stat))),
        settings: Some(st.effective()),
    }
}

/// The counter `what` of `st`, as the program reads it (`SSL_CTX_sess_accept` …).
fn counter(st: &PCtx, what: Stat) -> c_long {
    let c = match what {
        Stat::Connect => cmd::CONNECT,
        Stat::ConnectGood => cmd::CONNECT_GOOD,
        Stat::ConnectRenegotiate => cmd::CONNECT_RENEGOTIATE,
        Stat::Accept => cmd::ACCEPT,
        Stat::AcceptGood => cmd::ACCEPT_GOOD,
        Stat::AcceptRenegotiate => cmd::ACCEPT_RENEGOTIATE,
        Stat::Hits => cmd::HIT,
        Stat::CbHits => cmd::CB_HIT,
        Stat::Misses => cmd::MISSES,
        Stat::Timeouts => cmd::TIMEOUTS,
        Stat::CacheFull => cmd::CACHE_FULL,
    };
    st.ctrl(c, 0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_contexts_beyond_the_limit_are_summed() {
        let mut reg = Registry { entries: Vec::new(), folded: None };
        for id in 1..=(KEEP_FREED as u64 + 3) {
            let mut counters = [0; COUNTERS.len()];
            counters[ACCEPT] = id;
            let last = CtxValues { ctx: CtxId::Id(id), live: false, sessions: 0, counters, settings: Some((2, 1, 1)) };
            reg.entries.push(Entry { id, live: None, last: Some(last) });
            reg.fold();
        }
        let snap = reg.snapshot();
        assert_eq!(snap.len(), KEEP_FREED + 1);
        assert_eq!(snap[0].ctx, CtxId::Id(4));
        let folded = snap.last().unwrap();
        assert_eq!((folded.ctx, folded.counters[ACCEPT], folded.settings), (CtxId::Freed, 1 + 2 + 3, None));
        assert!(used(&snap));
        assert!(!used(&[]));
    }
}
