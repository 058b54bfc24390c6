//! `SESSCACHE_STATS=path`: the counters of every context, as the host would read them,
//! written at exit, at most once a second while the caches are in use, and when a context is
//! freed (a freed context keeps its last line). In fleet mode a last line, `redis …`, has the
//! counters of the process's Redis tier.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use sesscache::core::time;

use crate::config::config;
use crate::state::{cmd, PCtx};
use crate::sys::{at_exit, pid, stderr_line};

struct Entry {
    id: u64,
    live: Weak<PCtx>,
    /// The last line of a freed context.
    last: Option<String>,
}

/// Every context of the process. The lock is held while live contexts' counters are read, and
/// a context leaves only under it (in [`freed`]), so no freed context is ever read.
static REGISTRY: Lazy<Mutex<Vec<Entry>>> = Lazy::new(|| Mutex::new(Vec::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static LAST_WRITE: AtomicI64 = AtomicI64::new(0);
static EXIT_HOOK: AtomicBool = AtomicBool::new(false);
static WRITE_FAILED: AtomicBool = AtomicBool::new(false);
/// Freed contexts whose last line is kept.
const KEEP_FREED: usize = 1024;

/// The id of the next context.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Lists a new context.
pub fn register(st: &Arc<PCtx>) {
    if config().stats.is_none() {
        return;
    }
    REGISTRY.lock().push(Entry { id: st.id, live: Arc::downgrade(st), last: None });
    if !EXIT_HOOK.swap(true, Ordering::Relaxed) {
        at_exit(write_at_exit);
    }
}

/// Called after cache events: writes the file if a second has passed since the last write.
pub fn tick() {
    if config().stats.is_none() {
        return;
    }
    let now = time::now();
    let last = LAST_WRITE.load(Ordering::Relaxed);
    if now > last && LAST_WRITE.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        write("periodic");
    }
}

/// A context is being freed: keep its last line and write the file.
pub fn freed(st: &PCtx) {
    if config().stats.is_none() {
        return;
    }
    {
        let mut reg = REGISTRY.lock();
        if let Some(e) = reg.iter_mut().find(|e| e.id == st.id) {
            e.last = Some(line(st, false));
            e.live = Weak::new();
        }
        let dead = reg.iter().filter(|e| e.last.is_some()).count();
        if dead > KEEP_FREED {
            if let Some(i) = reg.iter().position(|e| e.last.is_some()) {
                reg.remove(i);
            }
        }
    }
    write("free");
}

extern "C" fn write_at_exit() {
    crate::sys::guard((), || write("exit"));
}

/// One context's line: every counter as `SSL_CTX_ctrl` returns it to the host, then the
/// effective mode, size and timeout.
fn line(st: &PCtx, live: bool) -> String {
    const COUNTERS: [(&str, std::ffi::c_int); 12] = [
        ("number", cmd::NUMBER),
        ("connect", cmd::CONNECT),
        ("connect_good", cmd::CONNECT_GOOD),
        ("connect_renegotiate", cmd::CONNECT_RENEGOTIATE),
        ("accept", cmd::ACCEPT),
        ("accept_good", cmd::ACCEPT_GOOD),
        ("accept_renegotiate", cmd::ACCEPT_RENEGOTIATE),
        ("hits", cmd::HIT),
        ("cb_hits", cmd::CB_HIT),
        ("misses", cmd::MISSES),
        ("timeouts", cmd::TIMEOUTS),
        ("cache_full", cmd::CACHE_FULL),
    ];
    let mut out = format!("ctx={} live={}", st.id, u8::from(live));
    for (name, c) in COUNTERS {
        let _ = write!(out, " {name}={}", st.ctrl(c, 0).unwrap_or(0));
    }
    let (mode, size, timeout) = st.effective();
    let _ = write!(out, " mode=0x{mode:x} size={size} timeout={timeout}");
    out
}

fn write(reason: &str) {
    let Some(path) = config().stats.as_ref() else { return };
    let mut body = format!("# sesscache preload statistics: pid={} time={} reason={reason}\n", pid(), time::now());
    {
        let reg = REGISTRY.lock();
        for e in reg.iter() {
            let l = match (e.live.upgrade(), &e.last) {
                (Some(st), _) => line(&st, true),
                (None, Some(last)) => last.clone(),
                (None, None) => continue,
            };
            body.push_str(&l);
            body.push('\n');
        }
    }
    if let Some(counters) = crate::fleet::counters() {
        body.push_str(&format!("redis timeout_ms={}", config().redis_timeout().as_millis()));
        for (name, v) in counters {
            let _ = write!(body, " {name}={v}");
        }
        body.push('\n');
    }
    let mut tmp = path.clone().into_os_string();
    tmp.push(format!(".tmp.{}", pid()));
    let res = std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = res {
        if !WRITE_FAILED.swap(true, Ordering::Relaxed) {
            stderr_line(&format!("sesscache preload: cannot write SESSCACHE_STATS={}: {e}", path.display()));
        }
    }
}
