//! The state we hang on every `SSL_CTX`: sesscache's [`SessionCtx`] over libssl sessions, the
//! host's callbacks and the settings it sees, and the operations the exports delegate to.
//!
//! The real context runs with `NO_INTERNAL` added to its mode and our three trampolines as its
//! callbacks, so libssl's own cache stays empty and every cache decision lands here.

use std::cell::Cell;
use std::ffi::c_long;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use sesscache::core::context::{RemoveHook, SessionCtx};
use sesscache::core::handshake::{lookup_in_cache, HandshakeHooks};
use sesscache::core::key::{Bytes32, MAX_ID_LENGTH};
use sesscache::core::mode::CacheMode;
use sesscache::core::stats::Stat;
use sesscache::core::store_rule::{stores_internally, StoreFacts};
use sesscache::core::time;

use crate::config::config;
use crate::sys::libssl::{GetCb, NewCb, Real, RemoveCb};
use crate::sys::objects::{call_get, call_new, call_remove, Ctx, Ssl};
use crate::sys::session::LibSession;
use crate::{fleet, log, report};

/// `SSL_CTRL_SESS_NUMBER` … `SSL_CTRL_SESS_CACHE_FULL`, and the size and mode commands.
pub mod cmd {
    pub use sesscache::abi::SSL_CTRL_GET_SESS_CACHE_MODE as GET_MODE;
    pub use sesscache::abi::SSL_CTRL_GET_SESS_CACHE_SIZE as GET_SIZE;
    pub use sesscache::abi::SSL_CTRL_SESS_ACCEPT as ACCEPT;
    pub use sesscache::abi::SSL_CTRL_SESS_ACCEPT_GOOD as ACCEPT_GOOD;
    pub use sesscache::abi::SSL_CTRL_SESS_ACCEPT_RENEGOTIATE as ACCEPT_RENEGOTIATE;
    pub use sesscache::abi::SSL_CTRL_SESS_CACHE_FULL as CACHE_FULL;
    pub use sesscache::abi::SSL_CTRL_SESS_CB_HIT as CB_HIT;
    pub use sesscache::abi::SSL_CTRL_SESS_CONNECT as CONNECT;
    pub use sesscache::abi::SSL_CTRL_SESS_CONNECT_GOOD as CONNECT_GOOD;
    pub use sesscache::abi::SSL_CTRL_SESS_CONNECT_RENEGOTIATE as CONNECT_RENEGOTIATE;
    pub use sesscache::abi::SSL_CTRL_SESS_HIT as HIT;
    pub use sesscache::abi::SSL_CTRL_SESS_MISSES as MISSES;
    pub use sesscache::abi::SSL_CTRL_SESS_NUMBER as NUMBER;
    pub use sesscache::abi::SSL_CTRL_SESS_TIMEOUTS as TIMEOUTS;
    pub use sesscache::abi::SSL_CTRL_SET_SESS_CACHE_MODE as SET_MODE;
    pub use sesscache::abi::SSL_CTRL_SET_SESS_CACHE_SIZE as SET_SIZE;
}

/// The host's own session callbacks, as it installed them.
#[derive(Clone, Copy, Default)]
pub struct HostCbs {
    /// `new_session_cb`.
    pub new: Option<NewCb>,
    /// `remove_session_cb`.
    pub remove: Option<RemoveCb>,
    /// `get_session_cb`.
    pub get: Option<GetCb>,
}

/// One `SSL_CTX`'s cache state.
pub struct PCtx {
    /// The real context.
    pub ctx: Ctx,
    /// The order in which contexts were created, from 1: names the context in logs and stats.
    pub id: u64,
    real: &'static Real,
    sc: SessionCtx<LibSession>,
    cbs: RwLock<HostCbs>,
    /// The mode, size and timeout the host set and reads back; the effective values (after
    /// the environment's overrides) are in `sc` and on the real context.
    shown_mode: AtomicU32,
    shown_size: AtomicU64,
    shown_timeout: AtomicI64,
    /// The session-id context set with `SSL_CTX_set_session_id_context` (fleet mode's keys).
    sid_ctx: Mutex<Bytes32>,
}

/// Our callbacks as the core sees them: the host's callbacks, with the connection at hand and
/// what to call a removal in the log.
struct Hooks<'a> {
    st: &'a PCtx,
    ssl: Option<Ssl>,
    event: &'static str,
    /// Set when the host's get callback was asked (for the log line of a lookup).
    asked: Cell<bool>,
    /// Set when the session found came from Redis (fleet mode).
    from_redis: Cell<bool>,
}

impl<'a> Hooks<'a> {
    fn new(st: &'a PCtx, ssl: Option<Ssl>, event: &'static str) -> Hooks<'a> {
        Hooks { st, ssl, event, asked: Cell::new(false), from_redis: Cell::new(false) }
    }
}

impl RemoveHook<LibSession> for Hooks<'_> {
    fn removed(&self, s: &LibSession) {
        log::event(self.st, self.event, Some(s), "");
        // Copied out first: the callback runs with no lock held (it may set callbacks).
        let cb = self.st.cbs.read().remove;
        if let Some(cb) = cb {
            call_remove(cb, self.st.ctx, s);
        }
        // Only an explicit removal leaves Redis: evictions and flushes keep the other
        // servers' copy (RemoveHook::evicted and ::flushed land here with another event).
        if self.event == "remove" {
            fleet::delete(s);
        }
    }
}

impl HandshakeHooks<LibSession> for Hooks<'_> {
    /// The external tiers, after an internal miss: the host's get callback, then Redis.
    fn get_session(&self, id: &[u8]) -> Option<LibSession> {
        let ssl = self.ssl?;
        let cb = self.st.cbs.read().get;
        if let Some(cb) = cb {
            self.asked.set(true);
            if let Some(s) = call_get(self.st.real, cb, ssl, id) {
                return Some(s);
            }
        }
        let s = fleet::lookup(self.st.real, ssl, id)?;
        self.from_redis.set(true);
        Some(s)
    }

    /// Not used by `lookup_in_cache`: libssl runs the new callback.
    fn new_session(&self, _s: &LibSession) {}

    /// Not used by `lookup_in_cache`: libssl generates session ids.
    fn generate_id(&self, _id: &mut [u8; MAX_ID_LENGTH], _len: &mut u32) -> Option<bool> {
        None
    }

    /// Not used by `lookup_in_cache`.
    fn random(&self, buf: &mut [u8]) {
        buf.fill(0);
    }
}

impl PCtx {
    /// The state for a context libssl has just created, with the settings it was created
    /// with; nothing changes on the real context until [`PCtx::activate`].
    pub fn attach(real: &'static Real, ctx: Ctx, id: u64) -> Arc<PCtx> {
        let cfg = config();
        let shown_mode = ctx.ctrl(real, cmd::GET_MODE, 0) as u32;
        let shown_size = ctx.ctrl(real, cmd::GET_SIZE, 0) as u64;
        let shown_timeout = ctx.timeout(real) as i64;
        let st = PCtx {
            ctx,
            id,
            real,
            sc: SessionCtx::new(),
            cbs: RwLock::new(HostCbs::default()),
            shown_mode: AtomicU32::new(shown_mode),
            shown_size: AtomicU64::new(shown_size),
            shown_timeout: AtomicI64::new(shown_timeout),
            sid_ctx: Mutex::new(Bytes32::EMPTY),
        };
        st.sc.set_size(cfg.size.unwrap_or(shown_size));
        st.sc.set_mode(cfg.mode.unwrap_or(shown_mode));
        st.sc.set_timeout(cfg.timeout.unwrap_or(shown_timeout));
        Arc::new(st)
    }

    /// Puts the real context in `NO_INTERNAL` mode with the effective settings, once the
    /// state is reachable from it.
    pub fn activate(&self) {
        self.apply_mode(self.shown_mode.load(Ordering::Relaxed));
        if let Some(t) = config().timeout {
            self.ctx.set_timeout(self.real, t as c_long);
        }
    }

    /// Stores the effective mode (the override, else `shown`) in the core, and on the real
    /// context with `NO_INTERNAL` added.
    fn apply_mode(&self, shown: u32) {
        let mode = config().mode.unwrap_or(shown);
        self.sc.set_mode(mode);
        self.ctx.ctrl(self.real, cmd::SET_MODE, c_long::from(mode | CacheMode::NO_INTERNAL.bits()));
    }

    /// The core state.
    pub fn core(&self) -> &SessionCtx<LibSession> {
        &self.sc
    }

    /// The host's callbacks.
    pub fn callbacks(&self) -> HostCbs {
        *self.cbs.read()
    }

    /// Changes the host's callbacks.
    pub fn set_callbacks(&self, f: impl FnOnce(&mut HostCbs)) {
        f(&mut self.cbs.write());
    }

    /// `SSL_CTX_ctrl` for the session commands; `None` for every other command (forwarded).
    /// The counters libssl keeps for handshakes (connect, accept, hits, timeouts) come from
    /// the real context; the cache's own (number, cb_hits, cache_full) from sesscache; misses
    /// from both (libssl counts the client's, sesscache the server lookups').
    pub fn ctrl(&self, cmd: std::ffi::c_int, larg: c_long) -> Option<c_long> {
        let ours = |s: Stat| c_long::from(self.sc.stats().get(s));
        Some(match cmd {
            cmd::NUMBER => c_long::try_from(self.sc.cache().len()).unwrap_or(c_long::MAX),
            cmd::CONNECT..=cmd::HIT | cmd::TIMEOUTS => self.ctx.ctrl(self.real, cmd, 0),
            cmd::CB_HIT => ours(Stat::CbHits),
            // Both are C ints that wrap; so does their sum.
            cmd::MISSES => {
                c_long::from((self.ctx.ctrl(self.real, cmd, 0) as i32).wrapping_add(ours(Stat::Misses) as i32))
            }
            cmd::CACHE_FULL => ours(Stat::CacheFull),
            cmd::SET_SIZE => {
                let Ok(size) = u64::try_from(larg) else { return Some(0) };
                if config().size.is_none() {
                    self.sc.set_size(size);
                }
                self.shown_size.swap(size, Ordering::Relaxed) as c_long
            }
            cmd::GET_SIZE => self.shown_size.load(Ordering::Relaxed) as c_long,
            cmd::SET_MODE => {
                let mode = larg as u32;
                self.apply_mode(mode);
                c_long::from(self.shown_mode.swap(mode, Ordering::Relaxed))
            }
            cmd::GET_MODE => c_long::from(self.shown_mode.load(Ordering::Relaxed)),
            _ => return None,
        })
    }

    /// `SSL_CTX_set_session_id_context` succeeded with `sid_ctx`.
    pub fn set_sid_ctx(&self, sid_ctx: Bytes32) {
        *self.sid_ctx.lock() = sid_ctx;
    }

    /// The context's session-id context.
    pub fn sid_ctx(&self) -> Bytes32 {
        *self.sid_ctx.lock()
    }

    /// `SSL_CTX_set_timeout`: with `SESSCACHE_TIMEOUT` the real context keeps the override
    /// and the host's value is only shown back.
    pub fn set_timeout(&self, t: c_long) -> c_long {
        if config().timeout.is_none() {
            self.ctx.set_timeout(self.real, t);
            self.sc.set_timeout(i64::from(t));
        }
        self.shown_timeout.swap(i64::from(t), Ordering::Relaxed) as c_long
    }

    /// `SSL_CTX_get_timeout`.
    pub fn timeout(&self) -> c_long {
        self.shown_timeout.load(Ordering::Relaxed) as c_long
    }

    /// `SSL_CTX_add_session`.
    pub fn add(&self, s: &LibSession) -> bool {
        let new = self.sc.add_session(s, time::now(), &Hooks::new(self, None, "evict"));
        log::event(self, "add", Some(s), if new { "new=1" } else { "new=0" });
        report::tick();
        new
    }

    /// `SSL_CTX_remove_session`.
    pub fn remove(&self, s: &LibSession) -> bool {
        let found = self.sc.remove_session(s, &Hooks::new(self, None, "remove"));
        report::tick();
        found
    }

    /// `SSL_CTX_flush_sessions`.
    pub fn flush(&self, t: i64) {
        let n = self.sc.flush(t, &Hooks::new(self, None, "expire"));
        if n > 0 {
            log::event(self, "flush", None, &format!("removed={n}"));
        }
        report::tick();
    }

    /// `SSL_has_matching_session_id` for a connection of `version`.
    pub fn has_session(&self, version: i32, id: &[u8]) -> bool {
        self.sc.has_session(version, id)
    }

    /// Our get callback: OpenSSL's `lookup_sess_in_cache` (internal lookup unless the host's
    /// mode has `NO_INTERNAL_LOOKUP`, then the host's get callback and in fleet mode Redis,
    /// then the internal store unless `NO_INTERNAL_STORE`), run by the core. libssl counts
    /// nothing of it that the host reads: its own `cb_hit` is not shown. A session from Redis
    /// counts as a `cb_hit`, as from any external cache.
    pub fn lookup(&self, ssl: Ssl, id: &[u8]) -> Option<LibSession> {
        let hooks = Hooks::new(self, Some(ssl), "evict");
        let found = lookup_in_cache(&self.sc, &hooks, ssl.version(self.real), id, time::now());
        let what = match (&found, hooks.asked.get(), hooks.from_redis.get()) {
            (Some(_), _, true) => "redis_hit",
            (Some(_), false, false) => "hit",
            (Some(_), true, false) => "cb_hit",
            (None, _, _) => "miss",
        };
        log::event(self, what, found.as_ref(), "");
        report::tick();
        found
    }

    /// Our new callback, which libssl's `ssl_update_cache` calls where OpenSSL would first
    /// store the session and then call the host's new callback (the host's mode has the
    /// connection's role, and the handshake was new or TLS 1.3). libssl took a reference on
    /// `s` for the call: the return value says whether the host kept it (1) or libssl drops it.
    pub fn new_session(&self, ssl: Ssl, s: &LibSession) -> std::ffi::c_int {
        let cbs = self.callbacks();
        let facts = StoreFacts {
            tls13: is_tls13(ssl.version(self.real)),
            server: ssl.is_server(self.real),
            max_early_data: ssl.max_early_data(self.real),
            options: ssl.options(self.real),
            remove_cb: cbs.remove.is_some(),
        };
        if stores_internally(self.sc.mode(), &facts) {
            self.add(s);
        }
        if fleet::wants(self.sc.mode(), &facts) && fleet::put(s) {
            log::event(self, "redis_store", Some(s), "");
        }
        match cbs.new {
            Some(cb) => call_new(cb, ssl, s),
            None => 0,
        }
    }

    /// Our remove callback on the real context. libssl 3.0 calls it only from its own cache,
    /// which stays empty; older code paths read the callback directly where the mode has
    /// `NO_INTERNAL_STORE` (always true on the real context) and call
    /// `SSL_CTX_remove_session` otherwise: we do what the host's mode asks for.
    pub fn removed_by_libssl(&self, s: &LibSession) {
        if self.sc.mode().contains(CacheMode::NO_INTERNAL_STORE) {
            let cb = self.cbs.read().remove;
            if let Some(cb) = cb {
                call_remove(cb, self.ctx, s);
            }
            fleet::delete(s);
        } else {
            self.remove(s);
        }
    }

    /// The context is being freed (`SSL_CTX_free` already flushed it through us): keep its
    /// final counters for the statistics file and drop anything still cached.
    pub fn freed(&self) {
        report::freed(self);
        self.sc.flush(0, &Hooks::new(self, None, "expire"));
        log::event(self, "free", None, "");
    }

    /// The effective mode, size and timeout, for the statistics file.
    pub fn effective(&self) -> (u32, u64, i64) {
        (self.sc.mode().bits(), self.sc.size(), self.sc.timeout())
    }
}

/// `SSL_IS_TLS13`: TLS 1.3 or a later TLS version (DTLS versions count down from 0xfeff).
fn is_tls13(version: i32) -> bool {
    (0x0304..0x0400).contains(&version)
}
