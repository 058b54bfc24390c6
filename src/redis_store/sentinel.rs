//! Redis Sentinel: the primary is the one the sentinels name, and the store follows a failover
//! by itself.
//!
//! The primary's address comes from `SENTINEL get-master-addr-by-name <name>`, asked of the
//! sentinels in turn (the one that answered last first), and every new connection to it checks
//! with `ROLE` that it is a primary. The sentinels are asked when there is no primary yet, and
//! again after the primary failed (refused, reset, timed out, not a primary) or answered
//! `READONLY`, `LOADING` or `MASTERDOWN`: at most once per [`REFRESH_INTERVAL`] per process, by
//! one operation, within that operation's deadline; when they name another primary and time is
//! left, the operation is retried there. Until the failover is over the primary is skipped for
//! its skip window after each failure: lookups are misses at once, and sessions are stored
//! again as soon as the sentinels name the new primary.
//!
//! Sentinels are asked without credentials; one that answers `NOAUTH` gets the URL's
//! credentials (`AUTH`) on the same connection and is asked again, and from then on each
//! question to it is sent after `AUTH` (so sentinels may have no password, or the data nodes'
//! one). TLS (a
//! `rediss-sentinel://` URL) applies to the sentinels and to the primary alike.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use redis::{ErrorKind, RedisError, RedisResult, Value};
use zeroize::Zeroizing;

use super::conn::{pack, Conn};
use super::node::{addr_of, Events, Fail, Node, Pace, Turns};
use super::seeds::{Role, Seeds};

/// The shortest time between two rounds of questions to the sentinels from one process.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(500);
/// The same while no primary is known (the sentinels failed, or ran out of time, at the first
/// tries).
pub const FIRST_INTERVAL: Duration = Duration::from_millis(50);
/// Data nodes remembered (their pools and skip windows) besides the current primary.
const KNOWN: usize = 8;

struct SentinelNode {
    node: Node,
    /// It answered `NOAUTH`: questions go after `AUTH`.
    needs_auth: AtomicBool,
}

/// Whether a round of questions ran.
enum Resolved {
    Done,
    NotDue,
    Failed(Fail),
}

/// A primary watched by sentinels.
pub struct Sentinel {
    seeds: Seeds,
    master: String,
    sentinels: Vec<SentinelNode>,
    auth: Option<Zeroizing<Vec<u8>>>,
    pace: Pace,
    primary: RwLock<Option<Arc<Node>>>,
    known: Mutex<Vec<Arc<Node>>>,
    /// The primary failed: the sentinels are asked again when a round is due.
    stale: AtomicBool,
    /// When the next round of questions is due.
    turns: Turns,
    /// The sentinel that answered last.
    preferred: AtomicUsize,
}

impl Sentinel {
    /// The primary named `seeds.master` by the sentinels `seeds.hosts`; every server is
    /// skipped for `skip` after a failure. Connects to nothing.
    pub fn new(seeds: Seeds, pace: Pace) -> Result<Sentinel, String> {
        let master = seeds.master.clone().ok_or("no master name")?;
        let mut sentinels = Vec::new();
        for (h, p) in &seeds.hosts {
            let node = Node::new(addr_of(h, *p), seeds.maker.target(h, *p, Role::Sentinel)?, pace);
            sentinels.push(SentinelNode { node, needs_auth: AtomicBool::new(false) });
        }
        let auth = seeds.maker.auth_command();
        Ok(Sentinel {
            seeds,
            master,
            sentinels,
            auth,
            pace,
            primary: RwLock::new(None),
            known: Mutex::new(Vec::new()),
            stale: AtomicBool::new(false),
            turns: Turns::default(),
            preferred: AtomicUsize::new(0),
        })
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.seeds.maker.is_tls()
    }

    /// Runs `op` on the primary before `deadline`.
    pub fn run<T>(
        &self,
        deadline: Instant,
        ev: &mut Events,
        mut op: impl FnMut(&mut Conn) -> RedisResult<T>,
    ) -> Result<T, Fail> {
        let mut last = None;
        if self.stale.load(Ordering::Relaxed) || self.primary.read().is_none() {
            if let Resolved::Failed(f) = self.resolve(deadline, ev) {
                last = Some(f);
            }
        }
        let Some(mut node) = self.primary.read().clone() else { return Err(last.unwrap_or(Fail::Skipped)) };
        let mut asked_again = false;
        loop {
            let f = match node.run(deadline, &mut op) {
                Ok(v) => {
                    self.stale.store(false, Ordering::Relaxed);
                    return Ok(v);
                }
                Err(f) => f,
            };
            let moved_on = match &f {
                Fail::Skipped => false,
                Fail::Down(_) => true,
                Fail::Reply(e) => {
                    matches!(e.kind(), ErrorKind::ReadOnly | ErrorKind::BusyLoadingError | ErrorKind::MasterDown)
                }
            };
            if moved_on {
                self.stale.store(true, Ordering::Relaxed);
            }
            if !asked_again && self.stale.load(Ordering::Relaxed) {
                asked_again = true;
                if let Resolved::Done = self.resolve(deadline, ev) {
                    if let Some(n) = self.primary.read().clone().filter(|n| !Arc::ptr_eq(n, &node)) {
                        node = n;
                        continue;
                    }
                }
            }
            return Err(f);
        }
    }

    /// Whether this caller, with `deadline`, may ask the sentinels now (see [`Turns::take`]).
    fn take_turn(&self, deadline: Instant) -> bool {
        let interval = if self.primary.read().is_some() { REFRESH_INTERVAL } else { FIRST_INTERVAL };
        self.turns.take(interval, deadline, self.pace.look_up_time())
    }

    /// Asks the sentinels in turn for the primary's address until one names it.
    fn resolve(&self, deadline: Instant, ev: &mut Events) -> Resolved {
        if !self.take_turn(deadline) {
            return Resolved::NotDue;
        }
        ev.refreshes += 1;
        let n = self.sentinels.len();
        let first = self.preferred.load(Ordering::Relaxed);
        let mut last = Fail::Skipped;
        for i in (0..n).map(|k| (first + k) % n) {
            if Instant::now() >= deadline {
                break;
            }
            match self.ask(&self.sentinels[i], deadline) {
                Ok((host, port)) => match self.point_at(&host, port) {
                    Ok(()) => {
                        self.preferred.store(i, Ordering::Relaxed);
                        return Resolved::Done;
                    }
                    Err(e) => last = Fail::Reply(RedisError::from((ErrorKind::ClientError, "primary address", e))),
                },
                Err(f) => last = f,
            }
        }
        Resolved::Failed(last)
    }

    /// One sentinel's answer: the primary's host and port.
    fn ask(&self, s: &SentinelNode, deadline: Instant) -> Result<(String, u16), Fail> {
        let query = pack(&[b"SENTINEL", b"get-master-addr-by-name", self.master.as_bytes()]);
        // AUTH and the question in one write (two replies, the answer last).
        let authed = self.auth.as_ref().map(|a| {
            let mut both = Zeroizing::new(a.to_vec());
            both.extend_from_slice(&query);
            both
        });
        let reply = s.node.run(deadline, |c| match (&authed, s.needs_auth.load(Ordering::Relaxed)) {
            (Some(both), true) => c.request(both, 2),
            (authed, _) => match c.request(&query, 1) {
                Err(e) if e.code() == Some("NOAUTH") && authed.is_some() => {
                    s.needs_auth.store(true, Ordering::Relaxed);
                    authed.as_ref().map_or(Err(e), |both| c.request(both, 2))
                }
                r => r,
            },
        })?;
        let unknown =
            || Fail::Reply(RedisError::from((ErrorKind::ResponseError, "the sentinel does not know the master")));
        let Value::Array(items) = reply else { return Err(unknown()) };
        let text = |v: Option<&Value>| match v {
            Some(Value::BulkString(b)) => String::from_utf8(b.clone()).ok(),
            _ => None,
        };
        let host = text(items.first()).filter(|h| !h.is_empty()).ok_or_else(unknown)?;
        let port = text(items.get(1)).and_then(|p| p.parse::<u16>().ok()).ok_or_else(unknown)?;
        Ok((host, port))
    }

    /// Makes `host:port` the primary, reusing its node if known.
    fn point_at(&self, host: &str, port: u16) -> Result<(), String> {
        let addr = addr_of(host, port);
        if self.primary.read().as_ref().is_some_and(|p| p.addr() == addr) {
            return Ok(());
        }
        let mut known = self.known.lock();
        let node = match known.iter().find(|n| n.addr() == addr) {
            Some(n) => n.clone(),
            None => {
                let n = Arc::new(Node::primary(addr, self.seeds.maker.target(host, port, Role::Data)?, self.pace));
                if known.len() >= KNOWN {
                    known.remove(0);
                }
                known.push(n.clone());
                n
            }
        };
        drop(known);
        *self.primary.write() = Some(node);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis_store::seeds::{self, Kind};

    fn sentinel(url: &str) -> Sentinel {
        let pace = Pace { skip: Duration::from_millis(200), fair: Duration::from_millis(20) };
        Sentinel::new(seeds::parse(url, Kind::Sentinel, None).unwrap(), pace).unwrap()
    }

    #[test]
    fn credentials_are_kept_for_sentinels_that_ask() {
        let s = sentinel("redis-sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/1");
        assert_eq!(s.master, "mymaster");
        assert_eq!(s.sentinels.len(), 2);
        assert!(s.auth.is_some());
        assert!(sentinel("redis-sentinel://127.0.0.1/m").auth.is_none());
    }

    #[test]
    fn a_known_primary_is_reused() {
        let s = sentinel("redis-sentinel://127.0.0.1/m");
        s.point_at("127.0.0.1", 7000).unwrap();
        let a = s.primary.read().clone().unwrap();
        s.point_at("127.0.0.1", 7001).unwrap();
        s.point_at("127.0.0.1", 7000).unwrap();
        assert!(Arc::ptr_eq(&a, s.primary.read().as_ref().unwrap()));
        let deadline = Instant::now() + Duration::from_secs(1);
        assert!(s.take_turn(deadline) && !s.take_turn(deadline));
    }

    /// No sentinel answers (nothing listens): a bounded failure, then no round before the
    /// interval.
    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn no_sentinel_is_a_bounded_failure() {
        let s = sentinel("redis-sentinel://127.0.0.1:1,127.0.0.1:2/m");
        let mut ev = Events::default();
        let t = Instant::now();
        let r = s.run(t + Duration::from_millis(100), &mut ev, |c| c.request(&pack(&[b"PING"]), 1));
        assert!(matches!(r, Err(Fail::Down(_))), "{r:?}");
        assert!(t.elapsed() < Duration::from_millis(500));
        assert_eq!(ev.refreshes, 1);
        let r = s.run(Instant::now() + Duration::from_millis(100), &mut ev, |c| c.request(&pack(&[b"PING"]), 1));
        assert!(matches!(r, Err(Fail::Skipped)), "{r:?}");
        assert_eq!(ev.refreshes, 1);
    }
}
