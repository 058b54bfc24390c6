//! `sesscache_redis_attach`: sessions shared between servers through Redis, as OpenSSL's
//! external-cache callbacks over `i2d_SSL_SESSION` / `d2i_SSL_SESSION` bytes.
#![cfg(feature = "redis")]

use std::os::raw::{c_char, c_int, c_long, c_uchar};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::core::der::{self, DerSession};
use crate::core::session::Session;
use crate::core::time;
use crate::redis_store::seal::{self, SealKeys};
use crate::redis_store::tls::TlsFiles;
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
/// `sesscache_redis_stat`: values that were not a session for their key (undecodable, another
/// session's bytes, a sealed value that does not open, or an unsealed one where keys are set);
/// each is also a miss.
pub const SESSCACHE_REDIS_CORRUPT: c_int = 6;
/// `sesscache_redis_stat`: operations skipped because Redis failed within the skip window (200 ms,
/// or twice the timeout when that is longer).
pub const SESSCACHE_REDIS_SKIPPED: c_int = 7;
/// `sesscache_redis_stat`: Redis Cluster `MOVED` and `ASK` redirections followed.
pub const SESSCACHE_REDIS_REDIRECTS: c_int = 8;
/// `sesscache_redis_stat`: topology look-ups: a Redis Cluster's slot map asked for
/// (`CLUSTER SLOTS`), or Redis Sentinel asked for the primary.
pub const SESSCACHE_REDIS_REFRESHES: c_int = 9;

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
        && SESSCACHE_REDIS_REDIRECTS == RedisStat::Redirects as c_int
        && SESSCACHE_REDIS_REFRESHES == RedisStat::Refreshes as c_int
);

/// The store attached to `ctx`, if any, with the context's seal keys.
fn tier_of(ctx: &SSL_CTX) -> Option<(Arc<RedisStore>, Option<Arc<SealKeys>>)> {
    let store = ctx.redis.read().clone()?;
    Some((store, ctx.redis_seal.read().clone()))
}

/// A path argument: any bytes but NUL (paths need not be UTF-8).
///
/// # Safety
/// A non-NULL `p` is a NUL-terminated string.
unsafe fn path_arg(p: *const c_char) -> Option<PathBuf> {
    // SAFETY: per the contract.
    let s = unsafe { handle::c_str(p) }?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(s.to_bytes())))
}

/// `sesscache_redis_attach` and `_attach_tls`: opens the store and installs the callbacks.
///
/// # Safety
/// `ctx` is NULL or a live context; `url` is NULL or a NUL-terminated string.
unsafe fn attach(ctx: *mut SSL_CTX, url: *const c_char, timeout_ms: c_long, tls: Option<TlsFiles>) -> Option<c_int> {
    // SAFETY: the caller holds a reference on a non-NULL `ctx`.
    let c = unsafe { handle::ctx(ctx) }?;
    // SAFETY: a non-NULL `url` is a NUL-terminated string.
    let url = unsafe { handle::c_str(url) }?.to_str().ok()?;
    let timeout = match u64::try_from(timeout_ms) {
        Ok(ms) if ms > 0 => Duration::from_millis(ms),
        _ => DEFAULT_TIMEOUT,
    };
    let store = RedisStore::open(url, timeout, tls.as_ref().unwrap_or(&TlsFiles::default())).ok()?;
    if tls.is_some() && !store.is_tls() {
        return None;
    }
    *c.redis.write() = Some(Arc::new(store));
    // SAFETY: the slots hold extern "C" fn pointers of exactly these types.
    unsafe {
        c.callbacks.new.set(Some(redis_new_cb));
        c.callbacks.get.set(Some(redis_get_cb));
        c.callbacks.remove.set(Some(redis_remove_cb));
    }
    Some(1)
}

/// Shares `ctx`'s sessions through the Redis server at `url`:
/// `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS, with the server's
/// certificate verified against the system trust store (for a CA file or a client
/// certificate, use `sesscache_redis_attach_tls`); give an IP address: a host name is
/// resolved on the handshake path. Installs the context's new, get and remove session
/// callbacks (replacing any) and keeps the connection pool in `ctx`; a second call replaces
/// the first.
///
/// A Redis Cluster: `redis-cluster://[[user]:password@]host:port[,host:port...]`, the seed
/// nodes (one is enough; the slot map names the others); each key goes to the primary of its
/// slot, `MOVED` and `ASK` are followed within the same timeout, and a primary that fails is
/// skipped alone while the other slots are served. A primary watched by Redis Sentinel:
/// `redis-sentinel://[[user]:password@]host:port[,host:port...]/<master-name>[/<db>]`, the
/// sentinels; the store follows a failover by itself. `rediss-cluster://` and
/// `rediss-sentinel://` are the same with TLS to every server (docs/fleet.md).
///
/// - new: the session's `i2d_SSL_SESSION` bytes are stored under
///   `sesscache:<hex sid_ctx>:<hex id>` with a TTL of its remaining lifetime, sealed when
///   the context has seal keys (`sesscache_redis_seal`);
/// - get: the key of the connection's sid_ctx and the offered id is read (and opened) and
///   decoded with `d2i_SSL_SESSION`; a value that does not open, does not decode, or is
///   another session, is a miss (counted as corrupt). Keys are namespaced per sid_ctx:
///   services with different contexts never resume each other's sessions;
/// - remove: `SSL_CTX_remove_session` and failed handshakes delete the key; sessions that the
///   internal cache evicts or flushes (also at `SSL_CTX_free`) stay in Redis until their TTL.
///
/// Works as the only store (`SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE`) or as
/// a second tier behind the internal cache. Each Redis operation (connect, TLS handshake,
/// `AUTH`/`SELECT`, command, reply) shares one deadline within `timeout_ms` milliseconds
/// (0 or less: 50); when Redis is down, stalled or silent the lookup is a miss within that
/// bound, Redis is skipped for 200 ms (or twice the timeout when longer), and caching resumes
/// on its own when Redis returns. Redis is not contacted here: it may come up later.
///
/// Without seal keys the session's master secret is stored in Redis as it is: whoever can
/// read Redis (or, without TLS, the network) can decrypt the recorded traffic of those
/// sessions and resume them.
///
/// Returns 1; 0 when `ctx` or `url` is NULL, or `url` is not UTF-8 or not a usable Redis URL
/// (`#insecure` is refused; the certificate is always verified; for `rediss://` the system
/// trust store must hold a certificate). Thread-safe; the callbacks run on the handshake's
/// thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_redis_attach(ctx: *mut SSL_CTX, url: *const c_char, timeout_ms: c_long) -> c_int {
    // SAFETY: forwarded under the same contract.
    guard(0, || unsafe { attach(ctx, url, timeout_ms, None) })
}

/// `sesscache_redis_attach` for a `rediss://` URL with explicit TLS files, read (and
/// checked) now: `ca_file`, a PEM file of the CA certificates that verify the server's
/// certificate (NULL: the system trust store); `cert_file` and `key_file`, PEM files of a
/// client certificate chain and its private key (both NULL: none; Redis's
/// `tls-auth-clients`). The strings are read during the call only. The certificate's name
/// must match the URL's host (an IP address needs an IP subjectAltName). Verification cannot
/// be turned off.
///
/// Returns 1; 0 when `ctx` or `url` is NULL, the URL is not `rediss://` (or
/// `rediss-cluster://`, `rediss-sentinel://`), a file cannot be
/// read or holds no certificate or key, or only one of `cert_file` and `key_file` is given.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_redis_attach_tls(
    ctx: *mut SSL_CTX,
    url: *const c_char,
    timeout_ms: c_long,
    ca_file: *const c_char,
    cert_file: *const c_char,
    key_file: *const c_char,
) -> c_int {
    guard(0, || {
        // SAFETY: non-NULL arguments are NUL-terminated strings.
        let tls = unsafe { TlsFiles { ca: path_arg(ca_file), cert: path_arg(cert_file), key: path_arg(key_file) } };
        // SAFETY: forwarded under the same contract.
        unsafe { attach(ctx, url, timeout_ms, Some(tls)) }
    })
}

/// Seals the values of `ctx`'s Redis tier: every session stored is encrypted and
/// authenticated (XChaCha20-Poly1305) under the first of the `keys_len / 32` keys at `keys`
/// (32 bytes each, back to back), bound to its Redis key; a value is opened with whichever of
/// the keys sealed it. To rotate, call again with the new key first and the old ones after;
/// values sealed with a key no longer given are misses (counted as corrupt). Every server of
/// a fleet needs the keys that its peers seal with.
///
/// The keys are copied (the caller may wipe its buffer) and wiped when replaced or when the
/// context is freed. May be called before or after `sesscache_redis_attach` (which keeps
/// them); sessions stored before this call returns are not sealed. With keys, values that are
/// not sealed are misses (counted as corrupt).
///
/// Returns 1; 0, changing nothing, when `ctx` or `keys` is NULL, `keys_len` is not a non-zero
/// multiple of 32 or above 64 keys, or a key is all zero or repeated. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_redis_seal(ctx: *mut SSL_CTX, keys: *const c_uchar, keys_len: usize) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        if keys.is_null() {
            return None;
        }
        // SAFETY: a non-NULL `keys` points to `keys_len` readable bytes (at most 64 keys).
        let bytes = unsafe { handle::bytes(keys, keys_len, seal::MAX_KEYS * seal::KEY_LEN) }?;
        let set = SealKeys::from_bytes(bytes).ok()?;
        *c.redis_seal.write() = Some(Arc::new(set));
        Some(1)
    })
}

/// `sesscache_redis_seal` with the keys read from the file `path` (read during the call only):
/// one key per line, 64 hex characters (32 bytes); blank lines and lines starting with `#` are
/// skipped; the first key seals. The file's contents are wiped from memory after reading.
///
/// Returns 1; 0, changing nothing, when `ctx` or `path` is NULL, the file cannot be read, a
/// line is not a key, a key repeats, or there is no key. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_redis_seal_file(ctx: *mut SSL_CTX, path: *const c_char) -> c_int {
    guard(0, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let c = unsafe { handle::ctx(ctx) }?;
        // SAFETY: a non-NULL `path` is a NUL-terminated string.
        let set = SealKeys::from_file(&unsafe { path_arg(path) }?).ok()?;
        *c.redis_seal.write() = Some(Arc::new(set));
        Some(1)
    })
}

/// Returns one counter of the Redis tier of `ctx` (`SESSCACHE_REDIS_*`), or -1 when `ctx` is
/// NULL, has no Redis tier, or `which` is unknown. Thread-safe; counters only grow.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sesscache_redis_stat(ctx: *const SSL_CTX, which: c_int) -> c_long {
    guard(-1, || {
        // SAFETY: the caller holds a reference on a non-NULL `ctx`.
        let (store, _) = unsafe { handle::ctx(ctx) }.and_then(tier_of)?;
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
        let (store, seal) = tier_of(ssl.ctx())?;
        let (bytes, key, ttl) = s.read(|f| {
            (
                Zeroizing::new(der::encode(&DerSession::from_fields(f))),
                session_key(f.sid_ctx.as_slice(), f.id.as_slice()),
                remaining_ttl(f.time, f.timeout, time::now()),
            )
        });
        if let (false, Some(ttl)) = (bytes.is_empty(), ttl) {
            store.put_session(&key, &bytes, ttl, seal.as_deref());
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
        let (store, seal) = tier_of(ssl.ctx())?;
        let sid_ctx = ssl.conn.sid_ctx();
        let bytes = store.get_session(&session_key(sid_ctx.as_slice(), id), seal.as_deref(), false)?;
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
        tier_of(c)?.0.delete(&key);
        Some(())
    })
}
