//! `SESSCACHE_LOG=1`: one stderr line per cache event.

use std::fmt::Write;

use sesscache::core::entry::Cacheable;

use crate::config::config;
use crate::sys::session::LibSession;
use crate::sys::{pid, stderr_line};

/// Logs `what` happening on the cache of context `ctx` (to `s`, if any), which then holds
/// `number` sessions, when logging is on.
///
/// Events: `add` (`new=1` for a new entry), `evict`, `remove`, `expire` (a flushed session),
/// `flush`, `hit`, `cb_hit`, `redis_hit`, `miss` (a server lookup), `redis_store` (a new
/// session written to Redis), `new` and `free` (a context), `bypass` (a context changed past
/// the preload).
pub fn event(ctx: u64, number: usize, what: &str, s: Option<&LibSession>, extra: &str) {
    if !config().log {
        return;
    }
    let mut line = format!("sesscache[{}] ctx={ctx} {what}", pid());
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
    let _ = write!(line, " number={number}");
    stderr_line(&line);
}
