//! A session store in Redis with a bounded wait: the backend of `sesscache_redis_attach`.
//!
//! Safe Rust, no C types. Every operation (taking or opening a connection, writing the command,
//! reading the reply) shares one deadline, the store's timeout; when it passes, or Redis fails,
//! the operation gives up, the connection is dropped and the store skips Redis for
//! [`RETRY_AFTER`], so a dead or stalled Redis costs a handshake at most one timeout and then
//! nothing. After that pause the next operation tries again: caching resumes on its own.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::{Client, Connection, RedisError, RedisResult};

/// The default bound on one operation (lookup, store or delete).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);
/// How long the store skips Redis after a connection error or a timeout.
pub const RETRY_AFTER: Duration = Duration::from_millis(200);
/// Idle connections kept for reuse; more concurrent operations open (and then drop) their own.
pub const MAX_IDLE: usize = 16;
/// The prefix of every key.
pub const KEY_PREFIX: &str = "sesscache:";

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
    /// Operations that failed with an error (connection refused or reset, protocol, ...).
    Errors = 4,
    /// Operations that gave up at the deadline.
    Timeouts = 5,
    /// Values that were not a session for the key (undecodable, or another session's bytes).
    Corrupt = 6,
    /// Operations not attempted because Redis failed less than [`RETRY_AFTER`] ago.
    Skipped = 7,
}

/// The number of counters.
pub const STAT_COUNT: usize = 8;

/// Relaxed counters, readable while operations run.
#[derive(Default)]
pub struct RedisStats([AtomicU64; STAT_COUNT]);

impl RedisStats {
    /// Adds one to `s`.
    pub fn bump(&self, s: RedisStat) {
        self.0[s as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The counter with index `i` (see [`RedisStat`]), `None` when out of range.
    pub fn get(&self, i: usize) -> Option<u64> {
        self.0.get(i).map(|c| c.load(Ordering::Relaxed))
    }
}

/// Why [`RedisStore::open`] refused a URL.
#[derive(Debug)]
pub struct BadUrl(pub String);

/// A Redis connection pool with a deadline per operation.
pub struct RedisStore {
    client: Client,
    timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    /// Nanoseconds after `epoch` before which Redis is not tried (0: try).
    down_until: AtomicU64,
    epoch: Instant,
    stats: RedisStats,
}

impl RedisStore {
    /// A store for `url` (`redis://[user:password@]host[:port][/db]`; `rediss://` is refused,
    /// this build has no TLS). Does not connect: Redis may come up later.
    pub fn open(url: &str, timeout: Duration) -> Result<RedisStore, BadUrl> {
        if url.starts_with("rediss://") {
            return Err(BadUrl("rediss:// needs a TLS-enabled build".into()));
        }
        let client = Client::open(url).map_err(|e| BadUrl(e.to_string()))?;
        Ok(RedisStore {
            client,
            timeout,
            idle: Mutex::new(Vec::new()),
            down_until: AtomicU64::new(0),
            epoch: Instant::now(),
            stats: RedisStats::default(),
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

    /// The value under `key`; `None` (counted as a miss) when absent or when Redis fails or is
    /// too slow. The caller counts the hit, or the miss of a value it cannot use.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let v = self.run(|c| redis::cmd("GET").arg(key).query::<Option<Vec<u8>>>(c)).flatten();
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
        let ttl = ttl_secs.max(1);
        let ok = self.run(|c| redis::cmd("SET").arg(key).arg(value).arg("EX").arg(ttl).query::<()>(c)).is_some();
        if ok {
            self.stats.bump(RedisStat::Stores);
        }
        ok
    }

    /// Deletes `key`. False on failure.
    pub fn delete(&self, key: &[u8]) -> bool {
        let ok = self.run(|c| redis::cmd("DEL").arg(key).query::<i64>(c)).is_some();
        if ok {
            self.stats.bump(RedisStat::Deletes);
        }
        ok
    }

    fn nanos_since_epoch(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX).max(1)
    }

    /// Runs `op` on a connection within the deadline; `None` on any failure (counted).
    fn run<T>(&self, op: impl FnOnce(&mut Connection) -> RedisResult<T>) -> Option<T> {
        let start = Instant::now();
        if self.nanos_since_epoch(start) < self.down_until.load(Ordering::Relaxed) {
            self.stats.bump(RedisStat::Skipped);
            return None;
        }
        // Every wait (connecting included) comes out of a budget a fifth (at least 2 ms) below
        // the bound: the kernel rounds socket timeouts up to its tick, the client library adds
        // its own work after a timed-out read (measured: about 5 ms), and the handshake must
        // not wait past the bound.
        let budget = self.timeout.saturating_sub((self.timeout / 5).max(Duration::from_millis(2)));
        let budget = budget.max(Duration::from_millis(1));
        let pooled = self.idle.lock().pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => match self.client.get_connection_with_timeout(budget) {
                Ok(c) => c,
                Err(e) => return self.failed(&e, start),
            },
        };
        let left = budget.saturating_sub(start.elapsed());
        if left.is_zero() {
            self.idle_push(conn);
            self.stats.bump(RedisStat::Timeouts);
            self.pause(start);
            return None;
        }
        let wait = left.max(Duration::from_millis(1));
        if let Err(e) = conn.set_read_timeout(Some(wait)).and_then(|()| conn.set_write_timeout(Some(wait))) {
            return self.failed(&e, start);
        }
        match op(&mut conn) {
            Ok(v) => {
                self.idle_push(conn);
                Some(v)
            }
            // The connection is dropped: after a timeout its reply may still arrive.
            Err(e) => self.failed(&e, start),
        }
    }

    fn idle_push(&self, conn: Connection) {
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    fn failed<T>(&self, e: &RedisError, start: Instant) -> Option<T> {
        let timed_out = e.is_timeout() || start.elapsed() >= self.timeout.saturating_sub(self.timeout / 5);
        self.stats.bump(if timed_out { RedisStat::Timeouts } else { RedisStat::Errors });
        if timed_out || e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
            self.pause(Instant::now());
            // Pooled connections to a server that failed are likely dead too.
            self.idle.lock().clear();
        }
        None
    }

    fn pause(&self, now: Instant) {
        self.down_until.store(self.nanos_since_epoch(now + RETRY_AFTER), Ordering::Relaxed);
    }
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

    #[test]
    fn bad_urls_are_refused() {
        assert!(RedisStore::open("http://127.0.0.1/", DEFAULT_TIMEOUT).is_err());
        assert!(RedisStore::open("rediss://127.0.0.1/", DEFAULT_TIMEOUT).is_err());
        assert!(RedisStore::open("redis://127.0.0.1:6379/0", DEFAULT_TIMEOUT).is_ok());
    }

    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_dead_server_is_a_bounded_miss_then_skipped() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let s = RedisStore::open("redis://127.0.0.1:1/0", Duration::from_millis(50)).unwrap();
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
