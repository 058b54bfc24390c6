//! `SESSCACHE_LOG=1`: one stderr line per cache event.

use std::fmt::Write;

use sesscache::core::entry::Cacheable as Handle;

use crate::config::config;
use crate::state::PCtx;
use crate::sys::session::LibSession;
use crate::sys::{pid, stderr_line};

/// Logs `what` happening on `st`'s cache (to `s`, if any), when logging is on.
///
/// Events: `add` (`new=1` for a new entry), `evict`, `remove`, `expire` (a flushed session),
/// `flush`, `hit`, `cb_hit`, `redis_hit`, `miss` (a server lookup), `redis_store` (a new
/// session written to Redis), `new` and `free` (a context).
pub fn event(st: &PCtx, what: &str, s: Option<&LibSession>, extra: &str) {
    if !config().log {
        return;
    }
    let mut line = format!("sesscache[{}] ctx={} {what}", pid(), st.id);
    if let Some(s) = s {
        let key = s.key();
        let _ = write!(line, " version=0x{:04x} id=", key.version());
        for b in key.id().as_slice() {
            let _ = write!(line, "{b:02x}");
        }
    }
    if !extra.is_empty() {
        line.push(' ');
        line.push_str(extra);
    }
    let _ = write!(line, " number={}", st.core().cache().len());
    stderr_line(&line);
}
