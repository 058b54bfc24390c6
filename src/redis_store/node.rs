//! One Redis server as the store sees it: where it is, its idle connections, and its own skip
//! window. A single-server store has one; a Cluster store has one per node it has heard of and a
//! Sentinel store one per sentinel and one per primary it has been pointed at, so that a server
//! that fails is skipped alone while the others go on serving.
//!
//! Every call runs before the deadline its caller gives: [`Node`] adds no wait of its own.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::{ConnectionLike, ErrorKind, RedisError, RedisResult, Value};

use super::conn::{pack, Conn, Target};

/// Idle connections kept for reuse per server; more concurrent operations open (and then drop)
/// their own.
pub const MAX_IDLE: usize = 16;

/// Why a call on a [`Node`] gave nothing.
#[derive(Debug)]
pub enum Fail {
    /// The server failed within its skip window: it was not tried.
    Skipped,
    /// The server failed now (refused, reset, TLS, `AUTH`, a timeout, or it is not a primary
    /// where one was required): it is skipped for its window.
    Down(RedisError),
    /// The server answered with an error reply (`MOVED`, `READONLY`, ...): it is up, the
    /// connection is kept.
    Reply(RedisError),
}

impl Fail {
    /// The error, if the server was tried.
    pub fn error(&self) -> Option<&RedisError> {
        match self {
            Fail::Skipped => None,
            Fail::Down(e) | Fail::Reply(e) => Some(e),
        }
    }
}

/// How a server is paced: how long it is skipped after a failure, and how much of an
/// operation's time it must have had for a timeout to count against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// The skip window.
    pub skip: Duration,
    /// A timeout marks the server down only when the server had at least this long (half an
    /// operation's time): a server reached late, after a topology look-up or a redirection had
    /// used most of the time, is not blamed for the operation's deadline.
    pub fair: Duration,
}

impl Pace {
    /// The least time left for an operation to start a topology look-up (a quarter of an
    /// operation's time): one that waited out its deadline on a stalled server leaves the
    /// look-up to the next operation, which has its whole time for it.
    pub fn look_up_time(&self) -> Duration {
        self.fair / 2
    }
}

/// Topology look-ups (a cluster's slot map, the sentinels' primary) rate-limited per process:
/// one per interval, by the first operation that finds one due and has time for it.
#[derive(Debug)]
pub struct Turns {
    /// Nanoseconds after `epoch` before which no look-up starts.
    next: AtomicU64,
    epoch: Instant,
}

impl Default for Turns {
    fn default() -> Turns {
        Turns { next: AtomicU64::new(0), epoch: Instant::now() }
    }
}

impl Turns {
    fn nanos(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether the caller may look now: a look-up is due, and the caller has at least `least`
    /// before its `deadline` (a caller without the time leaves its turn to the next one). The
    /// next look-up is then due `interval` from now.
    pub fn take(&self, interval: Duration, deadline: Instant, least: Duration) -> bool {
        let now = Instant::now();
        let next = self.next.load(Ordering::Relaxed);
        deadline.saturating_duration_since(now) >= least
            && self.nanos(now) >= next
            && self
                .next
                .compare_exchange(next, self.nanos(now + interval), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// What a topology did for one operation, for the store's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Events {
    /// `MOVED` and `ASK` replies followed.
    pub redirects: u64,
    /// Topology look-ups made (`CLUSTER SLOTS`, a sentinel asked for the primary).
    pub refreshes: u64,
}

/// One server: its target, idle connections and skip window.
pub struct Node {
    addr: String,
    target: Target,
    idle: Mutex<Vec<Conn>>,
    /// Nanoseconds after `epoch` before which the server is not tried (0: try).
    down_until: AtomicU64,
    epoch: Instant,
    pace: Pace,
    /// Each new connection must find a primary (`ROLE`): a server named by sentinels.
    primary_only: bool,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Node {
    /// The server at `addr` (`host:port`, for matching and messages) reached through `target`,
    /// paced by `pace`.
    pub fn new(addr: String, target: Target, pace: Pace) -> Node {
        Node {
            addr,
            target,
            idle: Mutex::new(Vec::new()),
            down_until: AtomicU64::new(0),
            epoch: Instant::now(),
            pace,
            primary_only: false,
        }
    }

    /// The same, for a server that must be a primary: every new connection asks `ROLE` (in the
    /// same deadline) and a replica is a failure.
    pub fn primary(addr: String, target: Target, pace: Pace) -> Node {
        Node { primary_only: true, ..Node::new(addr, target, pace) }
    }

    /// `host:port`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.target.is_tls()
    }

    fn nanos(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX).max(1)
    }

    /// Whether the server failed within its skip window.
    pub fn is_skipped(&self, now: Instant) -> bool {
        self.nanos(now) < self.down_until.load(Ordering::Relaxed)
    }

    /// Skips the server for its window from now and drops its idle connections (likely dead too).
    pub fn mark_down(&self) {
        self.down_until.store(self.nanos(Instant::now() + self.pace.skip), Ordering::Relaxed);
        self.idle.lock().clear();
    }

    /// Runs `op` on a connection to this server, all before `deadline`.
    pub fn run<T>(&self, deadline: Instant, op: impl FnOnce(&mut Conn) -> RedisResult<T>) -> Result<T, Fail> {
        let start = Instant::now();
        if self.is_skipped(start) {
            return Err(Fail::Skipped);
        }
        let blame = |e: &RedisError| {
            let late = deadline.saturating_duration_since(start) < self.pace.fair;
            if !(late && (e.is_timeout() || Instant::now() >= deadline)) {
                self.mark_down();
            }
        };
        let mut conn = match self.pooled() {
            Some(c) => c,
            // A connection that cannot be set up (refused, TLS, AUTH, not a primary) pauses it.
            None => match self.open(deadline) {
                Ok(c) => c,
                Err(e) => {
                    blame(&e);
                    return Err(Fail::Down(e));
                }
            },
        };
        conn.set_deadline(deadline);
        match op(&mut conn) {
            Ok(v) => {
                self.idle_push(conn);
                Ok(v)
            }
            Err(e) => {
                // A connection still in step (the server answered with an error) is kept.
                let in_step = conn.is_open();
                self.idle_push(conn);
                if !in_step || is_failure(&e) || Instant::now() >= deadline {
                    blame(&e);
                    Err(Fail::Down(e))
                } else {
                    Err(Fail::Reply(e))
                }
            }
        }
    }

    fn open(&self, deadline: Instant) -> RedisResult<Conn> {
        let mut c = Conn::open(&self.target, deadline)?;
        if self.primary_only {
            let role = c.request(&pack(&[b"ROLE"]), 1)?;
            if !is_primary_role(&role) {
                return Err(RedisError::from((ErrorKind::ReadOnly, "not a primary (ROLE)")));
            }
        }
        Ok(c)
    }

    /// An idle connection of this process; a parent's (before `fork`) is dropped here, unused.
    fn pooled(&self) -> Option<Conn> {
        let mut idle = self.idle.lock();
        while let Some(c) = idle.pop() {
            if c.is_ours() {
                return Some(c);
            }
        }
        None
    }

    fn idle_push(&self, conn: Conn) {
        if !conn.is_open() {
            return;
        }
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}

/// An error that says the server (or the way to it) failed, not that it answered.
fn is_failure(e: &RedisError) -> bool {
    e.is_timeout() || e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped()
}

/// A `ROLE` reply whose first element is `master`.
fn is_primary_role(v: &Value) -> bool {
    match v {
        Value::Array(items) => matches!(items.first(), Some(Value::BulkString(r)) if r == b"master"),
        _ => false,
    }
}

/// `host:port`, with an IPv6 address in brackets.
pub fn addr_of(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_addresses() {
        let role = |r: &[u8]| Value::Array(vec![Value::BulkString(r.to_vec()), Value::Int(0)]);
        assert!(is_primary_role(&role(b"master")));
        assert!(!is_primary_role(&role(b"slave")));
        assert!(!is_primary_role(&Value::Nil));
        assert_eq!(addr_of("127.0.0.1", 7000), "127.0.0.1:7000");
        assert_eq!(addr_of("::1", 7000), "[::1]:7000");
        assert_eq!(addr_of("[::1]", 7000), "[::1]:7000");
    }

    #[test]
    fn turns_are_rate_limited_and_need_time() {
        let t = Turns::default();
        let (interval, least) = (Duration::from_secs(60), Duration::from_millis(10));
        assert!(!t.take(interval, Instant::now() + Duration::from_millis(5), least), "no time left");
        let later = Instant::now() + Duration::from_secs(1);
        assert!(t.take(interval, later, least), "the turn was left to a caller with time");
        assert!(!t.take(interval, later, least), "one per interval");
    }

    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_failed_node_is_skipped_alone() {
        let pace = Pace { skip: Duration::from_secs(5), fair: Duration::from_millis(20) };
        let dead = Node::new("127.0.0.1:1".into(), Target::parse("redis://127.0.0.1:1", None).unwrap(), pace);
        let other = Node::new("127.0.0.1:2".into(), Target::parse("redis://127.0.0.1:2", None).unwrap(), pace);
        let deadline = Instant::now() + Duration::from_millis(200);
        assert!(matches!(dead.run(deadline, |c| c.request(&pack(&[b"PING"]), 1)), Err(Fail::Down(_))));
        assert!(matches!(dead.run(deadline, |c| c.request(&pack(&[b"PING"]), 1)), Err(Fail::Skipped)));
        assert!(!other.is_skipped(Instant::now()));
    }
}
