//! `sesscache_redis_attach`: sessions shared between servers through Redis, as OpenSSL's
//! external-cache callbacks over `i2d_SSL_SESSION` / `d2i_SSL_SESSION` bytes.
#![cfg(feature = "redis")]

use std::os::raw::{c_char, c_int, c_long, c_uchar};
use std::sync::Arc;
use std::time::Duration;

use crate::core::der::{self, DerSession};
use crate::core::session::Session;
use crate::core::time;
use crate::redis_store::{remaining_ttl, session_key, RedisStat, RedisStore, DEFAULT_TIMEOUT};

use super::callbacks::removal_keeps_external;
use super::handle;
use super::types::{SSL, SSL_CTX, SSL_SESSION};
use crate::core::key::MAX_ID_LENGTH;
use crate::guard::guard;

/// `sesscache_redis_stat`: lookups that returned a session.
pub const SESSCACHE_REDIS_HITS: c_int = 0;
/// `sesscache_redis_stat`: lookups that returned none (absent, failed, or corrupt).
pub const SESSCACHE_REDIS_MISSES: c_int = 1;
/// `sesscache_redis_stat`: sessions written.
pub const SESSCACHE_REDIS_STORES: c_int = 2;
/// `sesscache_redis_stat`: sessions deleted.
pub const SESSCACHE_REDIS_DELETES: c_int = 3;
/// `sesscache_redis_stat`: operations that failed (connection refused or reset, errors).
pub const SESSCACHE_REDIS_ERRORS: c_int = 4;
/// `sesscache_redis_stat`: operations abandoned at the timeout.
pub const SESSCACHE_REDIS_TIMEOUTS: c_int = 5;
/// `sesscache_redis_stat`: values that were not a session for their key (undecodable, or
/// another session's bytes); each is also a miss.
pub const SESSCACHE_REDIS_CORRUPT: c_int = 6;
/// `sesscache_redis_stat`: operations skipped because Redis failed within the last 200 ms.
pub const SESSCACHE_REDIS_SKIPPED: c_int = 7;

// The C numbers are the core's counter indexes.
const _: () = assert!(
    true && SESSCACHE_REDIS_HITS == RedisStat::Hits as c_int
        && SESSCACHE_REDIS_MISSES == RedisStat::Misses as c_int
        && SESSCACHE_REDIS_STORES == RedisStat::Stores as c_int
        && SESSCACHE_REDIS_DELETES == RedisStat::Deletes as c_int
        && SESSCACHE_REDIS_ERRORS == RedisStat::Errors as c_int
        && SESSCACHE_REDIS_TIMEOUTS == RedisStat::Timeouts as c_int
        && SESSCACHE_REDIS_CORRUPT == RedisStat::Corrupt as c_int
        && SESSCACHE_REDIS_SKIPPED == RedisStat::Skipped as c_int
);

/// The store attached to `ctx`, if any.
fn store_of(ctx: &SSL_CTX) -> Option<Arc<RedisStore>> {
    ctx.redis.read().clone()
}

/// Shares `ctx`'s sessions through the Redis server at `url`
/// (`redis://[[user]:password@]host[:port][/db]`; give an IP address: a host name is resolved
/// on the handshake path). Installs the context's new, get and remove session callbacks
/// (replacing any) and keeps the connection pool in `ctx`; a second call replaces the first.
///
/// - new: the session's `i2d_SSL_SESSION` bytes are stored under
///   `sesscache:<hex sid_ctx>:<hex id>` with a TTL of its remaining lifetime;
/// - get: the key of the connection's sid_ctx and the offered id is read and decoded with
///   `d2i_SSL_SESSION`; a value that does not decode, or is another session, is a miss
///   (counted as corrupt). Keys are namespaced per sid_ctx: services with different contexts
///   never resume each other's sessions;
/// - remove: `SSL_CTX_remove_session` and failed handshakes delete the key; sessions that the
///   internal cache evicts or flushes (also at `SSL_CTX_free`) stay in Redis until their TTL.
///
/// Works as the only store (`SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE`) or as
/// a second tier behind the internal cache. Each Redis operation waits at most `timeout_ms`
/// milliseconds (0 or less: 50); when Redis is down or slow the lookup is a miss within that
/// bound, Redis is skipped for the next 200 ms, and caching resumes on its own when Redis
/// returns. Redis is not contacted here: it may come up later.
///
/// Returns 1; 0 when `ctx` or `url` is NULL, or `url` is not UTF-8 or not a `redis://` URL.
/// Thread-safe; the callbacks run on the handshake's thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_redis_attach(ctx: *mut SSL_CTX, url: *const c_char, timeout_ms: c_long) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: a non-NULL `url` is a NUL-terminated string.
        let url = unsafe { handle::c_str(url) }?.to_str().ok()?;
        let timeout = match u64::try_from(timeout_ms) {
            Ok(ms) if ms > 0 => Duration::from_millis(ms),
            _ => DEFAULT_TIMEOUT,
        };
        let store = RedisStore::open(url, timeout).ok()?;
        *c.redis.write() = Some(Arc::new(store));
        // SAFETY: the slots hold extern "C" fn pointers of exactly these types.
        unsafe {
            c.callbacks.new.set(Some(redis_new_cb));
            c.callbacks.get.set(Some(redis_get_cb));
            c.callbacks.remove.set(Some(redis_remove_cb));
        }
        Some(1)
    })
}

/// Returns one counter of the Redis tier of `ctx` (`SESSCACHE_REDIS_*`), or -1 when `ctx` is
/// NULL, has no Redis tier, or `which` is unknown. Thread-safe; counters only grow.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_redis_stat(ctx: *const SSL_CTX, which: c_int) -> c_long {
    guard(-1, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let store = unsafe { handle::ctx(ctx) }.and_then(store_of)?;
        let i = usize::try_from(which).ok()?;
        store.stats().get(i).map(|v| c_long::try_from(v).unwrap_or(c_long::MAX))
    })
}

/// The new-session callback: stores the session's DER, returns 0 (keeps no reference).
unsafe extern "C" fn redis_new_cb(ssl: *mut SSL, sess: *mut SSL_SESSION) -> c_int {
    guard(0, || {
        // SAFETY: called by the library with a live SSL.
        let ssl = unsafe { handle::ssl(ssl) }?;
        // SAFETY: called by the library with a session it holds a reference on.
        let s = unsafe { handle::session(sess) }?;
        let store = store_of(ssl.ctx())?;
        let (bytes, key, ttl) = s.read(|f| {
            (
                der::encode(&DerSession::from_fields(f)),
                session_key(f.sid_ctx.as_slice(), f.id.as_slice()),
                remaining_ttl(f.time, f.timeout, time::now()),
            )
        });
        if let (false, Some(ttl)) = (bytes.is_empty(), ttl) {
            store.put(&key, &bytes, ttl);
        }
        Some(0)
    })
}

/// The get-session callback: reads and decodes; a session found is handed over (`*copy = 0`).
unsafe extern "C" fn redis_get_cb(
    ssl: *mut SSL,
    data: *const c_uchar,
    len: c_int,
    copy: *mut c_int,
) -> *mut SSL_SESSION {
    guard(std::ptr::null_mut(), || {
        // SAFETY: called by the library with a live SSL.
        let ssl = unsafe { handle::ssl(ssl) }?;
        // SAFETY: called by the library with `len` bytes of id at `data`.
        let id = unsafe { handle::bytes(data, usize::try_from(len).unwrap_or(0), MAX_ID_LENGTH) }?;
        let store = store_of(ssl.ctx())?;
        let sid_ctx = ssl.conn.sid_ctx();
        let bytes = store.get(&session_key(sid_ctx.as_slice(), id))?;
        let now = time::now();
        let session = match der::decode(&bytes, now) {
            Ok((d, used)) if used == bytes.len() && d.session_id == id && d.sid_ctx == sid_ctx.as_slice() => {
                let s = Session::new(now);
                s.update(|f| d.apply_to(f)).then_some(s)
            }
            _ => None,
        };
        let Some(session) = session else {
            store.count(RedisStat::Corrupt);
            store.count(RedisStat::Misses);
            return None;
        };
        store.count(RedisStat::Hits);
        // SAFETY: `copy` is the library's valid out-parameter.
        unsafe { handle::write_out(copy, 0) };
        Some(handle::session_into_raw(Arc::new(session)))
    })
}

/// The remove-session callback: deletes the key, except for evictions and flushes.
unsafe extern "C" fn redis_remove_cb(ctx: *mut SSL_CTX, sess: *mut SSL_SESSION) {
    guard((), || {
        if removal_keeps_external() {
            return Some(());
        }
        // SAFETY: called by the library with a live context.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: called by the library with a live session.
        let s = unsafe { handle::session(sess) }?;
        let key = s.read(|f| session_key(f.sid_ctx.as_slice(), f.id.as_slice()));
        store_of(c)?.delete(&key);
        Some(())
    })
}
