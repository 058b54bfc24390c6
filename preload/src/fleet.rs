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
//!
//! `rediss://` with `SESSCACHE_REDIS_CA` (else the system trust store) and optionally
//! `SESSCACHE_REDIS_CERT`/`_KEY` puts TLS on the wire; `SESSCACHE_REDIS_SEAL_KEYS` seals every
//! value. A TLS 1.3 session that libssl uses at most once (early data with anti-replay) is
//! taken from Redis, or claimed there when found locally, so that one server of the fleet
//! accepts it: the fleet behaves as one server (see [`claim`]).

use once_cell::sync::Lazy;
use sesscache::core::key::Bytes32;
use sesscache::core::mode::CacheMode;
use sesscache::core::store_rule::{is_tls13, stores_internally, StoreFacts, OP_NO_ANTI_REPLAY};
use sesscache::core::time;
use sesscache::redis_store::seal::SealKeys;
use sesscache::redis_store::{remaining_ttl, session_key, RedisStat, RedisStore, STAT_COUNT};
use zeroize::Zeroizing;

use crate::config::{config, Config};
use crate::sys::loader::LibSsl;
use crate::sys::objects::Ssl;
use crate::sys::session::LibSession;
use crate::sys::stderr_line;

/// The process's Redis store and the fleet's seal keys.
pub struct Fleet {
    store: RedisStore,
    seal: Option<SealKeys>,
}

/// Opened at the first `SSL_CTX_new`, files read then; a bad setting is one stderr line and no
/// fleet mode. With `SESSCACHE_REDIS_SEAL_KEYS` set, keys that do not load turn fleet mode off:
/// storing sessions unsealed when sealing was asked for would be the wrong failure.
static FLEET: Lazy<Option<Fleet>> = Lazy::new(|| {
    let cfg = config();
    let url = cfg.redis.as_deref()?;
    open(cfg, url).map_err(|e| stderr_line(&format!("sesscache preload: {e}"))).ok()
});

/// The fleet for `cfg`, or the one line that says why not.
fn open(cfg: &Config, url: &str) -> Result<Fleet, String> {
    let seal = match &cfg.redis_seal_keys {
        None => None,
        Some(path) => Some(SealKeys::from_file(path).map_err(|e| {
            format!("SESSCACHE_REDIS_SEAL_KEYS: {e}; fleet mode is off (sessions are not stored unsealed)")
        })?),
    };
    // The URL may carry a password: the message names the problem, never the URL.
    let store = RedisStore::open(url, cfg.redis_timeout(), &cfg.redis_tls).map_err(|e| {
        format!("ignoring SESSCACHE_REDIS: not a usable Redis URL or TLS setting ({e}); running without Redis")
    })?;
    Ok(Fleet { store, seal })
}

/// The process's Redis store, when fleet mode is on.
pub fn store() -> Option<&'static RedisStore> {
    FLEET.as_ref().map(|f| &f.store)
}

/// Whether fleet mode is on.
pub fn enabled() -> bool {
    FLEET.is_some()
}

/// Whether libssl will use a session found for `ssl` at most once: its anti-replay check
/// (`tls_parse_ctos_psk`: a TLS 1.3 server with `max_early_data > 0` and anti-replay on
/// removes the session with `SSL_CTX_remove_session` and refuses it if that fails).
fn single_use(lib: &LibSsl, ssl: Ssl) -> bool {
    ssl.is_server(lib)
        && is_tls13(ssl.version(lib))
        && ssl.max_early_data(lib) > 0
        && ssl.options(lib) & OP_NO_ANTI_REPLAY == 0
}

/// Fleet-wide anti-replay for a session this process found in its own cache (or the host's):
/// when libssl will use it only once, it may be used only if this process deletes its Redis
/// key now (another server took it otherwise, or Redis is unreachable and no one can tell:
/// then it is refused). A session taken from Redis (`GETDEL`) needs no claim. True when the
/// session may be used.
pub fn claim(lib: &LibSsl, ssl: Ssl, s: &LibSession) -> bool {
    let Some(f) = FLEET.as_ref() else { return true };
    if !single_use(lib, ssl) {
        return true;
    }
    // divergence: libssl alone accepts a session from its own cache once (its anti-replay
    // removal succeeds); in fleet mode only when this process also deletes the Redis copy,
    // so a session is accepted once fleet-wide, and refused while Redis cannot tell.
    f.store.claim(&session_key(s.sid_ctx().as_slice(), s.id().as_slice()))
}

/// The server lookup's last tier: the session stored under `sid_ctx` (the one the connection
/// `ssl` compares with) and `id`, opened (when sealed) and decoded by `lib`. A value that does
/// not open, that libssl rejects, that has bytes left over, or that is another session (id or
/// sid_ctx) is a miss, counted as corrupt. The plaintext is wiped once libssl has decoded it.
pub fn lookup(lib: &'static LibSsl, ssl: Ssl, sid_ctx: Bytes32, id: &[u8]) -> Option<LibSession> {
    let f = FLEET.as_ref()?;
    let store = &f.store;
    // A session that libssl uses at most once is taken (read and deleted in one step), so
    // that one server of the fleet gets it.
    let bytes = store.get_session(&session_key(sid_ctx.as_slice(), id), f.seal.as_ref(), single_use(lib, ssl))?;
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

/// Stores `s` under its own sid_ctx and id for its remaining lifetime, sealed when the fleet
/// has keys. False when nothing was stored (no id, expired, not encodable, Redis failed).
pub fn put(s: &LibSession) -> bool {
    let Some(f) = FLEET.as_ref() else { return false };
    let id = s.id();
    let (t, timeout) = s.time_and_timeout();
    let (false, Some(ttl)) = (id.is_empty(), remaining_ttl(t, timeout, time::now())) else { return false };
    // Wiped when dropped (i2d wrote exactly this allocation).
    let Some(der) = s.to_der().map(Zeroizing::new) else { return false };
    f.store.put_session(&session_key(s.sid_ctx().as_slice(), id.as_slice()), &der, ttl, f.seal.as_ref())
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
    const NAMES: [&str; STAT_COUNT] =
        ["hits", "misses", "stores", "deletes", "errors", "timeouts", "corrupt", "skipped", "redirects", "refreshes"];
    let f = FLEET.as_ref()?;
    Some(NAMES.iter().enumerate().map(|(i, n)| (*n, f.store.stats().get(i).unwrap_or(0))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Config {
        Config::parse(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).0
    }

    #[test]
    fn bad_settings_are_one_line_and_no_fleet() {
        let e = |vars: &[(&str, &str)]| {
            let c = cfg(vars);
            open(&c, c.redis.as_deref().unwrap()).err().unwrap()
        };
        let m = e(&[("SESSCACHE_REDIS", "http://:secret@127.0.0.1/")]);
        assert!(m.starts_with("ignoring SESSCACHE_REDIS: ") && m.ends_with("running without Redis"), "{m}");
        assert!(!m.contains("secret"), "the URL is not echoed: {m}");
        let m = e(&[("SESSCACHE_REDIS", "redis://127.0.0.1/"), ("SESSCACHE_REDIS_CA", "/nonexistent/ca.pem")]);
        assert!(m.contains("not rediss://"), "a CA for a plain URL: {m}");
        let m = e(&[("SESSCACHE_REDIS", "rediss://127.0.0.1/"), ("SESSCACHE_REDIS_CA", "/nonexistent/ca.pem")]);
        assert!(m.contains("/nonexistent/ca.pem"), "{m}");
        let m = e(&[("SESSCACHE_REDIS", "redis://127.0.0.1/"), ("SESSCACHE_REDIS_SEAL_KEYS", "/nonexistent/keys")]);
        assert!(m.starts_with("SESSCACHE_REDIS_SEAL_KEYS: cannot read the key file: /nonexistent/keys"), "{m}");
        assert!(m.ends_with("fleet mode is off (sessions are not stored unsealed)"), "{m}");
        assert!(!m.contains('\n'));
    }

    #[test]
    fn good_settings_open() {
        let c = cfg(&[("SESSCACHE_REDIS", "redis://127.0.0.1:6379/0")]);
        let f = open(&c, c.redis.as_deref().unwrap()).unwrap();
        assert!(!f.store.is_tls() && f.seal.is_none());
    }
}
