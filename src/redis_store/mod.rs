//! A session store in Redis with one deadline per operation: the backend of
//! `sesscache_redis_attach` and of the preload's fleet mode.
//!
//! Safe Rust, no C types. Every operation (taking or opening a connection, the TLS handshake,
//! `AUTH`/`SELECT`, writing the command, reading the reply) shares one deadline, the store's
//! timeout less a margin; when it passes, or Redis fails, the operation gives up, the
//! connection is dropped and the store skips Redis for its skip window (200 ms, or twice the
//! timeout when that is longer), so a dead or stalled Redis costs a handshake at most one
//! timeout and then nothing. After that pause the next operation tries again: caching
//! resumes on its own.
//!
//! - [`conn`]: one connection on a deadline (TCP or Unix socket; TLS with rustls);
//! - [`tls`]: the rustls client configuration (CA file or system store, client certificate);
//! - [`seal`]: sealed values (XChaCha20-Poly1305 under a fleet key, bound to the Redis key);
//! - [`node`]: one server's idle connections and skip window, over [`conn`];
//! - [`seeds`]: the URLs that name several servers, and the targets made from them;
//! - [`cluster`], [`sentinel`]: Redis Cluster (slot map, `MOVED`/`ASK`) and Sentinel (the
//!   primary the sentinels name) over [`node`]s, within the operation's one deadline;
//! - [`backend`]: one of the three, chosen by the URL's scheme.
//!
//! They import nothing of this module (but the cluster tests, which use [`session_key`]).
//! Sealing, the commands and the counters live here, above the backend: a value is sealed
//! and opened the same way whichever server holds it.
#![forbid(unsafe_code)]

pub mod backend;
pub mod cluster;
pub mod conn;
pub mod node;
pub mod seal;
pub mod seeds;
pub mod sentinel;
pub mod tls;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::{RedisError, RedisResult, Value};
use zeroize::Zeroizing;

use backend::Backend;
use conn::{pack, Conn};
use node::{Events, Fail, Pace};
use seal::SealKeys;
use tls::TlsFiles;

/// The default bound on one operation (lookup, store or delete).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);
/// The shortest time the store skips Redis after a connection error or a timeout (the skip
/// window is this or twice the timeout, whichever is longer).
pub const RETRY_AFTER: Duration = Duration::from_millis(200);
pub use node::MAX_IDLE;
/// The prefix of every key.
pub const KEY_PREFIX: &str = "sesscache:";
/// `take` where the server has no `GETDEL` (Redis before 6.2): the same, atomically, in Lua.
const TAKE_SCRIPT: &[u8] = b"local v = redis.call('GET', KEYS[1]) if v then redis.call('DEL', KEYS[1]) end return v";

/// The store's counters, in the order of [`RedisStats::get`]'s index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisStat {
    /// Lookups that returned a session.
    Hits = 0,
    /// Lookups that returned none: nothing stored, a failure, or a corrupt value.
    Misses = 1,
    /// Sessions written.
    Stores = 2,
    /// Sessions deleted.
    Deletes = 3,
    /// Operations that failed with an error (connection refused or reset, TLS, protocol, ...).
    Errors = 4,
    /// Operations that gave up at the deadline.
    Timeouts = 5,
    /// Values that were not a session for the key (undecodable, another session's bytes, or
    /// a sealed value that does not open).
    Corrupt = 6,
    /// Operations not attempted because Redis (the server that holds the key) failed within
    /// the skip window.
    Skipped = 7,
    /// Cluster `MOVED` and `ASK` redirections followed.
    Redirects = 8,
    /// Topology look-ups: `CLUSTER SLOTS` asked, or the sentinels asked for the primary.
    Refreshes = 9,
}

/// The number of counters.
pub const STAT_COUNT: usize = 10;

/// Relaxed counters, readable while operations run.
#[derive(Default)]
pub struct RedisStats([AtomicU64; STAT_COUNT]);

impl RedisStats {
    /// Adds one to `s`.
    pub fn bump(&self, s: RedisStat) {
        self.add(s, 1);
    }

    /// Adds `n` to `s`.
    pub fn add(&self, s: RedisStat, n: u64) {
        if n > 0 {
            self.0[s as usize].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The counter with index `i` (see [`RedisStat`]), `None` when out of range.
    pub fn get(&self, i: usize) -> Option<u64> {
        self.0.get(i).map(|c| c.load(Ordering::Relaxed))
    }
}

/// Why [`RedisStore::open`] refused its settings: one line for an operator (never a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError(pub String);

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Redis connection pool with one deadline per operation.
pub struct RedisStore {
    backend: Backend,
    timeout: Duration,
    stats: RedisStats,
    /// The server answered `GETDEL` with "unknown command": [`RedisStore::take`] runs a script.
    no_getdel: AtomicBool,
    last_error: Mutex<Option<String>>,
}

impl RedisStore {
    /// A store for `url`: `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS, the
    /// server's certificate verified with `tls`: its CA file, else the system trust store, and
    /// its client certificate if any), or `redis+unix:///path`; a Redis Cluster,
    /// `redis-cluster://[[user]:password@]host:port[,host:port...]` (seed nodes), or a primary
    /// watched by sentinels, `redis-sentinel://[[user]:password@]host:port[,...]/<master>[/<db>]`
    /// (`rediss-cluster://`, `rediss-sentinel://` with TLS). TLS files for a URL without TLS
    /// are refused, as is `#insecure`. Reads the files now; does not connect: Redis may come
    /// up later.
    pub fn open(url: &str, timeout: Duration, tls: &TlsFiles) -> Result<RedisStore, OpenError> {
        let wants_tls = Backend::wants_tls(url);
        let config = match (wants_tls, tls.is_default()) {
            (true, _) => Some(tls::client_config(tls).map_err(OpenError)?),
            (false, true) => None,
            (false, false) => {
                return Err(OpenError("TLS files were given but the URL is not rediss://".into()));
            }
        };
        let pace = Pace { skip: skip_window(timeout), fair: budget(timeout) / 2 };
        let backend = Backend::open(url, config, pace).map_err(OpenError)?;
        Ok(RedisStore {
            backend,
            timeout,
            stats: RedisStats::default(),
            no_getdel: AtomicBool::new(false),
            last_error: Mutex::new(None),
        })
    }

    /// The counters.
    pub fn stats(&self) -> &RedisStats {
        &self.stats
    }

    /// The bound on one operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.backend.is_tls()
    }

    /// The last failure, as one line (for logs), if any.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }

    /// How long Redis (a server of it) is skipped after a failure.
    pub fn skip_window(&self) -> Duration {
        skip_window(self.timeout)
    }

    /// The value under `key`; `None` (counted as a miss) when absent or when Redis fails or is
    /// too slow. The caller counts the hit, or the miss of a value it cannot use. The value is
    /// wiped when dropped.
    pub fn get(&self, key: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.miss_if_none(self.run(key, |c| bulk(c.request(&pack(&[b"GET", key]), 1)?)).flatten())
    }

    /// The value under `key`, deleted in the same step (`GETDEL`; a Lua script where Redis is
    /// older than 6.2), so that of several servers asking at once exactly one gets it.
    /// Counted as [`RedisStore::get`].
    pub fn take(&self, key: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let v = self.run(key, |c| {
            if !self.no_getdel.load(Ordering::Relaxed) {
                match c.request(&pack(&[b"GETDEL", key]), 1) {
                    Err(e) if is_unknown_command(&e) => self.no_getdel.store(true, Ordering::Relaxed),
                    r => return bulk(r?),
                }
            }
            bulk(c.request(&pack(&[b"EVAL", TAKE_SCRIPT, b"1", key]), 1)?)
        });
        let v = self.miss_if_none(v.flatten());
        if v.is_some() {
            self.stats.bump(RedisStat::Deletes);
        }
        v
    }

    fn miss_if_none(&self, v: Option<Zeroizing<Vec<u8>>>) -> Option<Zeroizing<Vec<u8>>> {
        if v.is_none() {
            self.stats.bump(RedisStat::Misses);
        }
        v
    }

    /// Adds one to a counter (the caller's part of a lookup: hit, or corrupt and miss).
    pub fn count(&self, s: RedisStat) {
        self.stats.bump(s);
    }

    /// Stores `value` under `key` for `ttl_secs` seconds (at least 1). False on failure.
    pub fn put(&self, key: &[u8], value: &[u8], ttl_secs: u64) -> bool {
        let ttl = ttl_secs.max(1).to_string();
        let ok = self.run(key, |c| c.request(&pack(&[b"SET", key, value, b"EX", ttl.as_bytes()]), 1)).is_some();
        if ok {
            self.stats.bump(RedisStat::Stores);
        }
        ok
    }

    /// Deletes `key`. False on failure.
    pub fn delete(&self, key: &[u8]) -> bool {
        self.del(key).is_some()
    }

    /// Deletes `key` and says whether this call deleted it: false when it was not there (taken
    /// by another server) or Redis failed.
    pub fn claim(&self, key: &[u8]) -> bool {
        self.del(key) == Some(1)
    }

    fn del(&self, key: &[u8]) -> Option<i64> {
        let n = self.run(key, |c| redis::from_owned_redis_value::<i64>(c.request(&pack(&[b"DEL", key]), 1)?))?;
        if n > 0 {
            self.stats.bump(RedisStat::Deletes);
        }
        Some(n)
    }

    /// Stores a session's DER under `key` for `ttl_secs`, sealed when `seal` is given. False
    /// when nothing was stored (Redis failed, or no random nonce: never a value unsealed).
    pub fn put_session(&self, key: &[u8], der: &[u8], ttl_secs: u64, seal: Option<&SealKeys>) -> bool {
        match seal {
            None => self.put(key, der, ttl_secs),
            Some(keys) => match keys.seal(key, der) {
                Some(sealed) => self.put(key, &sealed, ttl_secs),
                None => {
                    self.failure("no random nonce from the operating system".into());
                    self.stats.bump(RedisStat::Errors);
                    false
                }
            },
        }
    }

    /// The session DER under `key`, opened with `seal` when given; taken (deleted in the same
    /// step, see [`RedisStore::take`]) when `take`. `None` when absent or Redis failed (a miss),
    /// or when the value does not open, or is sealed and no keys are given (corrupt and miss).
    /// The caller decodes it and counts the hit, or corrupt and miss. Wiped when dropped.
    pub fn get_session(&self, key: &[u8], seal: Option<&SealKeys>, take: bool) -> Option<Zeroizing<Vec<u8>>> {
        let raw = if take { self.take(key) } else { self.get(key) }?;
        let opened = match seal {
            Some(keys) => keys.open(key, &raw),
            None => (!seal::looks_sealed(&raw)).then_some(raw),
        };
        if opened.is_none() {
            self.stats.bump(RedisStat::Corrupt);
            self.stats.bump(RedisStat::Misses);
        }
        opened
    }

    /// The deadline of an operation that starts at `start`: the timeout less a fifth (at least
    /// 2 ms), for what follows a timed-out wait (the kernel rounds a socket timeout up to its
    /// tick, the thread must be scheduled) and must still fit in the bound.
    fn deadline(&self, start: Instant) -> Instant {
        start + budget(self.timeout)
    }

    /// Runs `op` for `key` on the server that holds it, all before one deadline (redirections
    /// and topology look-ups included); `None` on any failure (counted).
    fn run<T>(&self, key: &[u8], op: impl FnMut(&mut Conn) -> RedisResult<T>) -> Option<T> {
        let start = Instant::now();
        let mut ev = Events::default();
        let r = self.backend.run(key, self.deadline(start), &mut ev, op);
        self.stats.add(RedisStat::Redirects, ev.redirects);
        self.stats.add(RedisStat::Refreshes, ev.refreshes);
        match r {
            Ok(v) => Some(v),
            Err(Fail::Skipped) => {
                self.stats.bump(RedisStat::Skipped);
                None
            }
            Err(Fail::Down(e) | Fail::Reply(e)) => self.failed(&e, start),
        }
    }

    fn failure(&self, what: String) {
        *self.last_error.lock() = Some(what);
    }

    fn failed<T>(&self, e: &RedisError, start: Instant) -> Option<T> {
        let timed_out = e.is_timeout() || Instant::now() >= self.deadline(start);
        self.stats.bump(if timed_out { RedisStat::Timeouts } else { RedisStat::Errors });
        self.failure(e.to_string());
        None
    }
}

/// The time an operation has, for a store with `timeout`: the timeout less a fifth (at least
/// 2 ms; see [`RedisStore::deadline`]).
fn budget(timeout: Duration) -> Duration {
    let margin = (timeout / 5).max(Duration::from_millis(2));
    timeout.saturating_sub(margin).max(Duration::from_millis(1))
}

/// How long a server is skipped after a failure, for a store with `timeout`: 200 ms, or twice
/// the timeout when that is longer.
fn skip_window(timeout: Duration) -> Duration {
    RETRY_AFTER.max(timeout.saturating_mul(2))
}

/// A bulk string reply (wiped when dropped), or none for a nil reply.
fn bulk(v: Value) -> RedisResult<Option<Zeroizing<Vec<u8>>>> {
    match v {
        Value::Nil => Ok(None),
        Value::BulkString(b) => Ok(Some(Zeroizing::new(b))),
        other => redis::from_owned_redis_value::<Vec<u8>>(other).map(|b| Some(Zeroizing::new(b))),
    }
}

/// The server does not know the command (Redis older than the command, or renamed away).
fn is_unknown_command(e: &RedisError) -> bool {
    e.code() == Some("ERR") && e.detail().is_some_and(|d| d.starts_with("unknown command"))
}

/// The TTL of a session created at `time` with a lifetime of `timeout` seconds, at `now`: its
/// remaining lifetime in seconds, `None` when nothing is left.
pub fn remaining_ttl(time: i64, timeout: i64, now: i64) -> Option<u64> {
    let ttl = time.saturating_add(timeout).saturating_sub(now);
    u64::try_from(ttl).ok().filter(|&t| t > 0)
}

/// The key of a session: `sesscache:<hex sid_ctx>:<hex id>`, so that services with different
/// session-id contexts never see each other's sessions.
pub fn session_key(sid_ctx: &[u8], id: &[u8]) -> Vec<u8> {
    let mut k = String::with_capacity(KEY_PREFIX.len() + 2 * (sid_ctx.len() + id.len()) + 1);
    k.push_str(KEY_PREFIX);
    for b in sid_ctx {
        k.push_str(&format!("{b:02x}"));
    }
    k.push(':');
    for b in id {
        k.push_str(&format!("{b:02x}"));
    }
    k.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_by_sid_ctx() {
        assert_eq!(session_key(b"\x01\xab", b"\xff\x00"), b"sesscache:01ab:ff00".to_vec());
        assert_eq!(session_key(b"", b"\x01"), b"sesscache::01".to_vec());
        assert_ne!(session_key(b"\x01", b"\x02\x03"), session_key(b"\x01\x02", b"\x03"));
    }

    #[test]
    fn ttl_is_the_remaining_lifetime() {
        assert_eq!(remaining_ttl(100, 300, 150), Some(250));
        assert_eq!(remaining_ttl(100, 300, 400), None);
        assert_eq!(remaining_ttl(100, 300, 500), None);
        assert_eq!(remaining_ttl(i64::MAX, i64::MAX, 0), Some(i64::MAX as u64));
    }

    fn open(url: &str, timeout: Duration) -> Result<RedisStore, OpenError> {
        RedisStore::open(url, timeout, &TlsFiles::default())
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(open("http://127.0.0.1/", DEFAULT_TIMEOUT).is_err());
        assert!(open("redis://127.0.0.1:6379/0", DEFAULT_TIMEOUT).is_ok());
        let ca = TlsFiles { ca: Some("/nonexistent/ca.pem".into()), ..TlsFiles::default() };
        let e = RedisStore::open("redis://127.0.0.1:6379/0", DEFAULT_TIMEOUT, &ca).err().unwrap();
        assert_eq!(e.to_string(), "TLS files were given but the URL is not rediss://");
        let e = RedisStore::open("rediss://127.0.0.1:6379/0", DEFAULT_TIMEOUT, &ca).err().unwrap();
        assert!(e.0.starts_with("/nonexistent/ca.pem: "), "{e}");
    }

    #[test]
    fn the_skip_window_is_200_ms_or_twice_the_timeout() {
        assert_eq!(open("redis://127.0.0.1", DEFAULT_TIMEOUT).unwrap().skip_window(), RETRY_AFTER);
        assert_eq!(
            open("redis://127.0.0.1", Duration::from_millis(300)).unwrap().skip_window(),
            Duration::from_millis(600)
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_dead_server_is_a_bounded_miss_then_skipped() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let s = open("redis://127.0.0.1:1/0", Duration::from_millis(50)).unwrap();
        let t = Instant::now();
        assert_eq!(s.get(b"k"), None);
        assert!(t.elapsed() < Duration::from_millis(1000));
        assert_eq!(s.get(b"k"), None);
        assert_eq!(
            s.stats().get(RedisStat::Errors as usize).unwrap() + s.stats().get(RedisStat::Timeouts as usize).unwrap(),
            1
        );
        assert_eq!(s.stats().get(RedisStat::Skipped as usize), Some(1));
        assert_eq!(s.stats().get(RedisStat::Misses as usize), Some(2));
        assert_eq!(s.stats().get(STAT_COUNT), None);
    }
}

#[cfg(test)]
mod stall_tests {
    use super::*;
    use std::net::TcpListener;

    /// At a 300 ms timeout an operation has 240 ms: one wait ends before 400 ms even on a busy
    /// machine (cargo runs tests in parallel), two would not.
    const TIMEOUT: Duration = Duration::from_millis(300);
    const TOO_LONG: Duration = Duration::from_millis(400);

    /// A server that accepts and never answers: one timeout, then the store skips it (the
    /// store, and the same holds for each node of a cluster).
    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_silent_server_is_one_timeout_then_skipped() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let s =
            RedisStore::open(&format!("redis://{}", l.local_addr().unwrap()), TIMEOUT, &TlsFiles::default()).unwrap();
        let t = Instant::now();
        assert_eq!(s.get(b"k"), None);
        assert!(t.elapsed() < TOO_LONG, "{:?}", t.elapsed());
        assert!(!s.put(b"k", b"v", 10));
        assert_eq!(s.get(b"k"), None);
        assert!(t.elapsed() < TOO_LONG, "{:?}", t.elapsed());
        assert_eq!(s.stats().get(RedisStat::Timeouts as usize), Some(1));
        assert_eq!(s.stats().get(RedisStat::Skipped as usize), Some(2));
    }

    /// The same with a pooled connection: the server answers once, then stalls.
    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_stalled_server_is_one_timeout_then_skipped() {
        use std::io::{Read, Write};
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}", l.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 256];
            let _ = c.read(&mut buf);
            c.write_all(b"+OK\r\n").unwrap();
            std::thread::sleep(Duration::from_millis(1000));
        });
        let s = RedisStore::open(&url, TIMEOUT, &TlsFiles::default()).unwrap();
        assert!(s.put(b"k", b"v", 10));
        let t = Instant::now();
        assert_eq!(s.get(b"k"), None);
        assert!(!s.put(b"k", b"v", 10));
        assert_eq!(s.get(b"k"), None);
        assert!(t.elapsed() < TOO_LONG, "{:?}", t.elapsed());
        assert_eq!(s.stats().get(RedisStat::Timeouts as usize), Some(1));
        assert_eq!(s.stats().get(RedisStat::Skipped as usize), Some(2));
        server.join().unwrap();
    }
}
