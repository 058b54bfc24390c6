//! Fleet mode, `SESSCACHE_REDIS=redis://host:port/db`: every context's server sessions are
//! also kept in Redis, so that unmodified servers on several hosts resume each other's
//! sessions. The client is the core's [`RedisStore`] (one per process: one connection pool,
//! one set of counters), with its keys (`sesscache:<hex sid_ctx>:<hex id>`), TTLs (the
//! session's remaining lifetime) and bounded waits; the bytes are libssl's own
//! `i2d_SSL_SESSION` / `d2i_SSL_SESSION` of its own sessions.
//!
//! Redis is a second tier: `PCtx::lookup` asks it when the internal cache (and the program's
//! own get callback) found nothing; a new session goes to both. A context that caches nothing
//! (`NO_INTERNAL_STORE` and no new-session callback) takes no part ([`takes_part`]); with the
//! program's new-session callback, or the operator's `SESSCACHE_MODE=…|no_internal_store`,
//! Redis is the only internal-side store. `SSL_CTX_remove_session` (and so libssl's removal
//! of a session after a failed handshake or on expiry) deletes the key; evictions and flushes
//! do not, so one server's small cache or restart takes nothing from the others.

use once_cell::sync::Lazy;
use sesscache::core::key::Bytes32;
use sesscache::core::mode::CacheMode;
use sesscache::core::store_rule::{stores_internally, StoreFacts};
use sesscache::core::time;
use sesscache::redis_store::{remaining_ttl, session_key, RedisStat, RedisStore};

use crate::config::config;
use crate::sys::loader::LibSsl;
use crate::sys::session::LibSession;

static STORE: Lazy<Option<RedisStore>> = Lazy::new(|| {
    let cfg = config();
    // The URL was checked when the configuration was read.
    RedisStore::open(cfg.redis.as_deref()?, cfg.redis_timeout()).ok()
});

/// The process's Redis store, when fleet mode is on.
pub fn store() -> Option<&'static RedisStore> {
    STORE.as_ref()
}

/// Whether fleet mode is on.
pub fn enabled() -> bool {
    store().is_some()
}

/// The server lookup's last tier: the session stored under `sid_ctx` (the one the connection
/// compares with) and `id`, decoded by `lib`. A value that libssl rejects, that has bytes left
/// over, or that is another session (id or sid_ctx) is a miss, counted as corrupt.
pub fn lookup(lib: &'static LibSsl, sid_ctx: Bytes32, id: &[u8]) -> Option<LibSession> {
    let store = store()?;
    let bytes = store.get(&session_key(sid_ctx.as_slice(), id))?;
    match LibSession::from_der(lib, &bytes) {
        Some((s, used)) if used == bytes.len() && s.id().as_slice() == id && s.sid_ctx() == sid_ctx => {
            store.count(RedisStat::Hits);
            Some(s)
        }
        _ => {
            store.count(RedisStat::Corrupt);
            store.count(RedisStat::Misses);
            None
        }
    }
}

/// Whether a context takes part in fleet mode (stores in Redis and looks there) with the
/// effective `mode` and, or without, a new-session callback of the program. It does unless it
/// caches nothing: a mode with `NO_INTERNAL_STORE` and no new-session callback announces ids
/// and stores nothing (nginx's `ssl_session_cache none`), and fleet mode leaves it so. An
/// operator's `SESSCACHE_MODE` with `no_internal_store` is a choice of Redis as the only store.
pub fn takes_part(mode: CacheMode, new_cb: bool) -> bool {
    enabled() && (!mode.contains(CacheMode::NO_INTERNAL_STORE) || new_cb || config().mode.is_some())
}

/// Whether a new session goes to Redis: a server's, on a context that takes part, under the
/// rules by which libssl would cache it internally with `NO_INTERNAL_STORE` cleared and no
/// remove callback (TLS 1.2, and TLS 1.3 only when its ticket is stateful or early data needs
/// anti-replay): a stateless TLS 1.3 ticket carries its session itself.
pub fn wants(mode: CacheMode, facts: &StoreFacts, new_cb: bool) -> bool {
    takes_part(mode, new_cb)
        && facts.server
        && stores_internally(mode - CacheMode::NO_INTERNAL_STORE, &StoreFacts { remove_cb: false, ..*facts })
}

/// Stores `s` under its own sid_ctx and id for its remaining lifetime. False when nothing was
/// stored (no id, expired, not encodable, Redis failed).
pub fn put(s: &LibSession) -> bool {
    let Some(store) = store() else { return false };
    let id = s.id();
    let (t, timeout) = s.time_and_timeout();
    let (false, Some(ttl)) = (id.is_empty(), remaining_ttl(t, timeout, time::now())) else { return false };
    let Some(der) = s.to_der() else { return false };
    store.put(&session_key(s.sid_ctx().as_slice(), id.as_slice()), &der, ttl)
}

/// Deletes `s`'s key.
pub fn delete(s: &LibSession) {
    if let Some(store) = store() {
        let id = s.id();
        if !id.is_empty() {
            store.delete(&session_key(s.sid_ctx().as_slice(), id.as_slice()));
        }
    }
}

/// The counters, in `RedisStat` order, with their names (for the statistics file).
pub fn counters() -> Option<Vec<(&'static str, u64)>> {
    const NAMES: [&str; 8] = ["hits", "misses", "stores", "deletes", "errors", "timeouts", "corrupt", "skipped"];
    let store = store()?;
    Some(NAMES.iter().enumerate().map(|(i, n)| (*n, store.stats().get(i).unwrap_or(0))).collect())
}
