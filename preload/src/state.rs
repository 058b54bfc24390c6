//! The state we hang on every `SSL_CTX`: sesscache's [`SessionCtx`] over libssl sessions, the
//! host's callbacks and the settings it sees, and the operations the exports delegate to.
//!
//! The real context runs with `NO_INTERNAL` added to its mode and our three trampolines as its
//! callbacks, so libssl's own cache stays empty and every cache decision lands here. A caller
//! that bypasses the preload (loaded with `RTLD_DEEPBIND`) can change both on the real context;
//! [`PCtx::notice_bypass`] finds that out and takes the change as the program's own.

use std::cell::Cell;
use std::ffi::c_long;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};
use sesscache::core::context::{RemoveHook, SessionCtx};
use sesscache::core::handshake::{lookup_in_cache, HandshakeHooks};
use sesscache::core::key::{Bytes32, MAX_ID_LENGTH};
use sesscache::core::mode::CacheMode;
use sesscache::core::stats::Stat;
use sesscache::core::store_rule::{is_tls13, stores_internally, StoreFacts};
use sesscache::core::time;

use crate::config::config;
use crate::sys::libssl::{GetCb, NewCb, RemoveCb};
use crate::sys::loader::LibSsl;
use crate::sys::objects::{Ctx, RealCallbacks, Ssl, Trampolines};
use crate::sys::session::{call_get, call_new, call_remove, LibSession};
use crate::sys::stderr_line;
use crate::{fleet, log};

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

    /// Whether `cmd` is one of the session commands above (those the preload answers).
    pub fn is_session(cmd: std::ffi::c_int) -> bool {
        (NUMBER..=CACHE_FULL).contains(&cmd) || (SET_SIZE..=GET_MODE).contains(&cmd)
    }
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
    lib: &'static LibSsl,
    sc: SessionCtx<LibSession>,
    cbs: RwLock<HostCbs>,
    /// The mode, size and timeout the host set and reads back; the effective values (after
    /// the environment's overrides) are in `sc` and on the real context.
    shown_mode: AtomicU32,
    shown_size: AtomicU64,
    shown_timeout: AtomicI64,
    /// The session-id context set with `SSL_CTX_set_session_id_context` (fleet mode's keys).
    sid_ctx: Mutex<Bytes32>,
    /// Our callbacks, as installed on the real context.
    trampolines: OnceLock<Trampolines>,
    /// The mode last written on the real context.
    installed_mode: AtomicU32,
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
        self.st.log(self.event, Some(s), "");
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
        let cbs = self.st.callbacks();
        if let Some(cb) = cbs.get {
            self.asked.set(true);
            if let Some(s) = call_get(self.st.lib, cb, ssl, id) {
                return Some(s);
            }
        }
        if !fleet::takes_part(self.st.sc.mode(), cbs.new.is_some()) {
            return None;
        }
        let s = fleet::lookup(self.st.lib, ssl, self.st.conn_sid_ctx(ssl), id)?;
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
    /// The state for a context `lib` has just created, with the settings it was created
    /// with; nothing changes on the real context until [`PCtx::activate`].
    pub fn new(lib: &'static LibSsl, ctx: Ctx, id: u64) -> Arc<PCtx> {
        let cfg = config();
        let shown_mode = ctx.ctrl(lib, cmd::GET_MODE, 0) as u32;
        let shown_size = ctx.ctrl(lib, cmd::GET_SIZE, 0) as u64;
        let shown_timeout = ctx.timeout(lib) as i64;
        let st = PCtx {
            ctx,
            id,
            lib,
            sc: SessionCtx::new(),
            cbs: RwLock::new(HostCbs::default()),
            shown_mode: AtomicU32::new(shown_mode),
            shown_size: AtomicU64::new(shown_size),
            shown_timeout: AtomicI64::new(shown_timeout),
            sid_ctx: Mutex::new(Bytes32::EMPTY),
            trampolines: OnceLock::new(),
            installed_mode: AtomicU32::new(shown_mode),
        };
        st.sc.set_size(cfg.size.unwrap_or(shown_size));
        st.sc.set_mode(cfg.mode.unwrap_or(shown_mode));
        st.sc.set_timeout(cfg.timeout.unwrap_or(shown_timeout));
        Arc::new(st)
    }

    /// Puts the real context in `NO_INTERNAL` mode with the effective settings and installs
    /// our callbacks on it, once the state is reachable from it.
    pub fn activate(&self, trampolines: Trampolines) {
        self.apply_mode(self.shown_mode.load(Ordering::Relaxed));
        if let Some(t) = config().timeout {
            self.ctx.set_timeout(self.lib, t as c_long);
        }
        let _ = self.trampolines.set(trampolines);
        self.ctx.install_trampolines(self.lib, trampolines);
    }

    /// Stores the effective mode (the override, else `shown`) in the core, and on the real
    /// context with `NO_INTERNAL` added.
    fn apply_mode(&self, shown: u32) {
        let mode = config().mode.unwrap_or(shown);
        self.sc.set_mode(mode);
        let installed = mode | CacheMode::NO_INTERNAL.bits();
        self.installed_mode.store(installed, Ordering::Relaxed);
        self.ctx.ctrl(self.lib, cmd::SET_MODE, c_long::from(installed));
    }

    /// Compares the real context's callbacks and mode with those we installed. A difference
    /// was made by a caller that bypasses the preload (its calls bind straight to libssl:
    /// `RTLD_DEEPBIND`): a callback it set becomes the program's, a mode it set the program's
    /// mode, and ours are put back, so no session it handshakes afterwards is missed. Said
    /// once per process on stderr. The bits `NO_INTERNAL_*` that the preload itself adds
    /// cannot be told from the caller's: for those, the program's earlier mode stays.
    pub fn notice_bypass(&self) {
        let Some(ours) = self.trampolines.get().copied() else { return };
        let now = self.ctx.real_callbacks(self.lib);
        let mode = self.ctx.ctrl(self.lib, cmd::GET_MODE, 0) as u32;
        let installed = self.installed_mode.load(Ordering::Relaxed);
        let (get_ok, new_ok, remove_ok) = same_callbacks(&now, &ours);
        if get_ok && new_ok && remove_ok && mode == installed {
            return;
        }
        {
            let mut cbs = self.cbs.write();
            if !get_ok {
                cbs.get = now.get;
            }
            if !new_ok {
                cbs.new = now.new;
            }
            if !remove_ok {
                cbs.remove = now.remove;
            }
        }
        let mut changed = Vec::new();
        if !(get_ok && new_ok && remove_ok) {
            changed.push("callbacks");
            self.ctx.install_trampolines(self.lib, ours);
        }
        if mode != installed {
            // divergence: the NO_INTERNAL_* bits that the preload adds are ambiguous in a mode
            // set past it (read back, or chosen): for those, the program's earlier mode stays,
            // so sessions are stored rather than dropped.
            changed.push("mode");
            let shown = self.shown_mode.load(Ordering::Relaxed);
            let forced = CacheMode::NO_INTERNAL.bits() & !config().mode.unwrap_or(shown);
            let adopted = (mode & !forced) | (shown & forced);
            self.shown_mode.store(adopted, Ordering::Relaxed);
            self.apply_mode(adopted);
        }
        let what = changed.join(" and ");
        self.log("bypass", None, &what);
        static SAID: AtomicBool = AtomicBool::new(false);
        if !SAID.swap(true, Ordering::Relaxed) {
            stderr_line(&format!(
                "sesscache preload: a call that bypassed the preload (a library loaded with RTLD_DEEPBIND?) changed \
                 the session {what} of a context (ctx={}); the preload takes the change as the program's own",
                self.id
            ));
        }
    }

    /// Writes one `SESSCACHE_LOG` line about this context.
    pub fn log(&self, what: &str, s: Option<&LibSession>, extra: &str) {
        log::event(self.id, self.sc.cache().len(), what, s, extra);
    }

    /// The session-id context a server lookup on `ssl` compares with (libssl's `s->sid_ctx`):
    /// the connection's own (`SSL_set_session_id_context`), else its current context's.
    fn conn_sid_ctx(&self, ssl: Ssl) -> Bytes32 {
        ssl.own_sid_ctx(self.lib)
            .or_else(|| ssl.current_ctx(self.lib)?.state::<PCtx>(self.lib).map(|st| st.sid_ctx()))
            .unwrap_or(Bytes32::EMPTY)
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
            cmd::CONNECT..=cmd::HIT | cmd::TIMEOUTS => self.ctx.ctrl(self.lib, cmd, 0),
            cmd::CB_HIT => ours(Stat::CbHits),
            // Both are C ints that wrap; so does their sum.
            cmd::MISSES => {
                c_long::from((self.ctx.ctrl(self.lib, cmd, 0) as i32).wrapping_add(ours(Stat::Misses) as i32))
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
            self.ctx.set_timeout(self.lib, t);
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
        self.log("add", Some(s), if new { "new=1" } else { "new=0" });
        new
    }

    /// `SSL_CTX_remove_session`.
    pub fn remove(&self, s: &LibSession) -> bool {
        self.sc.remove_session(s, &Hooks::new(self, None, "remove"))
    }

    /// `SSL_CTX_flush_sessions`.
    pub fn flush(&self, t: i64) {
        let n = self.sc.flush(t, &Hooks::new(self, None, "expire"));
        if n > 0 {
            self.log("flush", None, &format!("removed={n}"));
        }
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
        let found = lookup_in_cache(&self.sc, &hooks, ssl.version(self.lib), id, time::now());
        // Fleet-wide anti-replay: a session used at most once must be this server's to use.
        let found = found.filter(|s| hooks.from_redis.get() || fleet::claim(self.lib, ssl, s));
        let what = match (&found, hooks.asked.get(), hooks.from_redis.get()) {
            (Some(_), _, true) => "redis_hit",
            (Some(_), false, false) => "hit",
            (Some(_), true, false) => "cb_hit",
            (None, _, _) => "miss",
        };
        self.log(what, found.as_ref(), "");
        found
    }

    /// Our new callback, which libssl's `ssl_update_cache` calls where OpenSSL would first
    /// store the session and then call the host's new callback (the host's mode has the
    /// connection's role, and the handshake was new or TLS 1.3). libssl took a reference on
    /// `s` for the call: the return value says whether the host kept it (1) or libssl drops it.
    pub fn new_session(&self, ssl: Ssl, s: &LibSession) -> std::ffi::c_int {
        let cbs = self.callbacks();
        let facts = StoreFacts {
            tls13: is_tls13(ssl.version(self.lib)),
            server: ssl.is_server(self.lib),
            max_early_data: ssl.max_early_data(self.lib),
            options: ssl.options(self.lib),
            remove_cb: cbs.remove.is_some(),
        };
        if stores_internally(self.sc.mode(), &facts) {
            self.add(s);
        }
        if fleet::wants(self.sc.mode(), &facts, cbs.new.is_some()) && fleet::put(s) {
            self.log("redis_store", Some(s), "");
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

    /// The context is being freed (`SSL_CTX_free` already flushed it through us): drop
    /// anything still cached.
    pub fn drop_all(&self) {
        self.sc.flush(0, &Hooks::new(self, None, "expire"));
        self.log("free", None, "");
    }

    /// The effective mode, size and timeout, for the statistics file.
    pub fn effective(&self) -> (u32, u64, i64) {
        (self.sc.mode().bits(), self.sc.size(), self.sc.timeout())
    }
}

/// Whether each real callback (get, new, remove) is the one we installed.
fn same_callbacks(now: &RealCallbacks, ours: &Trampolines) -> (bool, bool, bool) {
    (
        now.get.is_some_and(|f| std::ptr::fn_addr_eq(f, ours.get)),
        now.new.is_some_and(|f| std::ptr::fn_addr_eq(f, ours.new)),
        now.remove.is_some_and(|f| std::ptr::fn_addr_eq(f, ours.remove)),
    )
}
