//! Redis Cluster over the store's own bounded connections.
//!
//! The `redis` crate's synchronous `ClusterConnection` applies its timeouts to each read and
//! write and follows redirections and retries (with sleeps) inside one call, so one lookup could
//! wait several timeouts. Here every step of an operation runs on [`Node`]s before the
//! operation's one deadline: the slot map refresh when one is needed, the command, each `MOVED`
//! (the slot map learns the new owner and the command goes there) and each `ASK` (`ASKING`,
//! then the command, on the node named, once per redirection), at most [`MAX_REDIRECTS`] of
//! them. The crate parses the replies and the redirections ([`RedisError::redirect_node`]);
//! the slot of a key is CRC16 (XMODEM) modulo 16384 with Redis's hash-tag rule, computed with
//! the `crc16` crate, the one the redis crate's cluster client uses (its `get_slot` is private
//! to the crate in 0.32).
//!
//! The slot map comes from `CLUSTER SLOTS`, asked of any node the store knows that is not in its
//! skip window (the seeds of the URL, then every node of the last map, starting with a different
//! one each time). It is asked before the command only when the store has none. Otherwise it is
//! asked by an operation whose slot cannot be served where the map says (the node failed, is
//! skipped, or answers `CLUSTERDOWN`, `TRYAGAIN`, `MASTERDOWN`): that operation would miss
//! anyway, so it spends its time left on the refresh and, if another node owns the slot now (a
//! replica promoted), retries there. At most one refresh per [`REFRESH_INTERVAL`] per process;
//! a `MOVED` teaches the map one slot at once. So a refresh never delays an operation whose
//! node is up, and a node that fails costs the slots of that node only: it is skipped alone for
//! its skip window while the other nodes keep serving theirs.
//!
//! Keys carry no hash tag (`sesscache:<hex sid_ctx>:<hex id>`): the whole key is hashed, so the
//! sessions of one service spread over every slot and so over every primary.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use redis::{ErrorKind, RedisError, RedisResult, Value};

use super::conn::{pack, Conn};
use super::node::{addr_of, Events, Fail, Node, Pace, Turns};
use super::seeds::{Role, Seeds};

/// The number of hash slots of a Redis Cluster.
pub const SLOTS: u16 = 16384;
/// The most `MOVED`/`ASK` redirections one operation follows.
pub const MAX_REDIRECTS: usize = 5;
/// The shortest time between two slot map refreshes of one process.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(500);
/// The same while no map is known (the seeds failed, or ran out of time, at the first tries).
pub const FIRST_INTERVAL: Duration = Duration::from_millis(50);
/// The most nodes a map may name (Redis recommends clusters of at most 1000 nodes).
pub const MAX_NODES: usize = 2048;
const NO_NODE: u16 = u16::MAX;

/// The hash slot of `key`: CRC16 (XMODEM) of the key, or of its hash tag (the bytes between the
/// first `{` and the next `}`, when there are some), modulo 16384.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let tag = &key[open + 1..];
            tag.iter().position(|&b| b == b'}').filter(|&len| len > 0).map(|len| &tag[..len])
        })
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(hashed) % SLOTS
}

/// A slot map: the nodes it names and, for each slot, the index of its primary.
struct Topology {
    nodes: Vec<Arc<Node>>,
    slots: Box<[AtomicU16]>,
    /// Whether it came from a `CLUSTER SLOTS` reply (the first map is empty).
    known: bool,
}

impl Topology {
    fn new(nodes: Vec<Arc<Node>>, owners: &[u16], known: bool) -> Topology {
        Topology { nodes, slots: owners.iter().map(|&i| AtomicU16::new(i)).collect(), known }
    }

    fn owners(&self) -> Vec<u16> {
        self.slots.iter().map(|s| s.load(Ordering::Relaxed)).collect()
    }

    fn find(&self, addr: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.addr() == addr)
    }
}

/// Whether a refresh ran.
enum Refreshed {
    Done,
    NotDue,
    Failed(Fail),
}

/// A Redis Cluster: its seed nodes, its slot map and every node's pool and skip window.
pub struct Cluster {
    seeds: Seeds,
    seed_nodes: Vec<Arc<Node>>,
    pace: Pace,
    topo: RwLock<Arc<Topology>>,
    /// When the next refresh is due.
    turns: Turns,
    /// Where the next refresh starts asking.
    rotor: AtomicUsize,
}

impl Cluster {
    /// A cluster reached through `seeds`; each node is skipped for `skip` after a failure.
    /// Connects to nothing: the first operation asks for the slot map.
    pub fn new(seeds: Seeds, pace: Pace) -> Result<Cluster, String> {
        let mut seed_nodes: Vec<Arc<Node>> = Vec::new();
        for (h, p) in &seeds.hosts {
            let addr = addr_of(h, *p);
            if seed_nodes.iter().all(|n| n.addr() != addr) {
                seed_nodes.push(Arc::new(Node::new(addr, seeds.maker.target(h, *p, Role::Data)?, pace)));
            }
        }
        Ok(Cluster {
            seeds,
            seed_nodes,
            pace,
            topo: RwLock::new(Arc::new(Topology::new(Vec::new(), &[NO_NODE; SLOTS as usize], false))),
            turns: Turns::default(),
            rotor: AtomicUsize::new(0),
        })
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.seeds.maker.is_tls()
    }

    /// Runs `op` on the primary of `key`'s slot, following redirections, before `deadline`.
    ///
    /// The slot map is asked for first only when there is none. A map that may be out of date
    /// is not refreshed before the command: an operation whose slot has a live primary runs at
    /// once, so that a refresh that meets a stalled node never costs the slots of the other
    /// nodes. `MOVED` teaches the map one slot; when the slot's node failed, is skipped, or
    /// answers that it cannot serve the slot now (`CLUSTERDOWN`, `TRYAGAIN`, `MASTERDOWN`), the
    /// operation, which would miss anyway, asks for the map (when a refresh is due) and retries
    /// on the slot's new primary, if another node owns it now, in the time left.
    pub fn run<T>(
        &self,
        key: &[u8],
        deadline: Instant,
        ev: &mut Events,
        mut op: impl FnMut(&mut Conn) -> RedisResult<T>,
    ) -> Result<T, Fail> {
        let slot = key_slot(key);
        let mut last = None;
        if !self.topo.read().known {
            if let Refreshed::Failed(f) = self.refresh(deadline, ev) {
                last = Some(f);
            }
        }
        let mut target = self.owner(slot);
        let mut asking = false;
        let mut looked_again = false;
        for _ in 0..=MAX_REDIRECTS {
            let Some(node) = target.take() else { return Err(last.unwrap_or(Fail::Skipped)) };
            let ask = std::mem::take(&mut asking);
            let f = match node.run(deadline, |c| {
                if ask {
                    c.request(&pack(&[b"ASKING"]), 1)?;
                }
                op(c)
            }) {
                Ok(v) => return Ok(v),
                Err(Fail::Reply(e)) if matches!(e.kind(), ErrorKind::Moved | ErrorKind::Ask) => {
                    let Some(next) = self.redirected(&e, &node) else { return Err(Fail::Reply(e)) };
                    ev.redirects += 1;
                    asking = e.kind() == ErrorKind::Ask;
                    target = Some(next);
                    continue;
                }
                Err(f) => f,
            };
            let unserved = match &f {
                Fail::Skipped | Fail::Down(_) => true,
                Fail::Reply(e) => {
                    matches!(e.kind(), ErrorKind::ClusterDown | ErrorKind::TryAgain | ErrorKind::MasterDown)
                }
            };
            // A failover may have given the slot to another node: look, once, in the time left.
            if unserved && !looked_again {
                looked_again = true;
                if let Refreshed::Done = self.refresh(deadline, ev) {
                    if let Some(n) = self.owner(slot).filter(|n| !Arc::ptr_eq(n, &node)) {
                        target = Some(n);
                        continue;
                    }
                }
            }
            return Err(f);
        }
        Err(Fail::Reply(RedisError::from((ErrorKind::ClientError, "too many cluster redirections"))))
    }

    /// The node a `MOVED` or `ASK` from `from` names (a `MOVED` also updates the slot map).
    fn redirected(&self, e: &RedisError, from: &Node) -> Option<Arc<Node>> {
        let (addr, slot) = e.redirect_node()?;
        let (host, port) = split_addr(addr)?;
        // An empty host: the node does not know its address; it is the one that answered.
        let host = if host.is_empty() { split_addr(from.addr())?.0 } else { host };
        let addr = addr_of(host, port);
        let mut topo = self.topo.write();
        let index = match topo.find(&addr) {
            Some(i) => i,
            None => {
                if topo.nodes.len() >= MAX_NODES {
                    return None;
                }
                let node = self.seed_nodes.iter().find(|n| n.addr() == addr).cloned().map(Ok).unwrap_or_else(|| {
                    self.seeds
                        .maker
                        .target(host, port, Role::Data)
                        .map(|t| Arc::new(Node::new(addr.clone(), t, self.pace)))
                });
                let mut nodes = topo.nodes.clone();
                nodes.push(node.ok()?);
                *topo = Arc::new(Topology::new(nodes, &topo.owners(), topo.known));
                topo.nodes.len() - 1
            }
        };
        if e.kind() == ErrorKind::Moved && slot < SLOTS {
            topo.slots[usize::from(slot)].store(u16::try_from(index).ok()?, Ordering::Relaxed);
        }
        Some(topo.nodes[index].clone())
    }

    /// The primary of `slot` in the map; for a slot without one (no map yet, or a hole), any
    /// node that is not skipped (it redirects, or says the cluster is down), else a seed.
    fn owner(&self, slot: u16) -> Option<Arc<Node>> {
        let topo = self.topo.read().clone();
        let i = topo.slots.get(usize::from(slot)).map_or(NO_NODE, |s| s.load(Ordering::Relaxed));
        if let Some(n) = topo.nodes.get(usize::from(i)) {
            return Some(n.clone());
        }
        let now = Instant::now();
        topo.nodes.iter().chain(&self.seed_nodes).find(|n| !n.is_skipped(now)).or(self.seed_nodes.first()).cloned()
    }

    /// Whether this caller, with `deadline`, may refresh now (see [`Turns::take`]).
    fn take_refresh_turn(&self, deadline: Instant) -> bool {
        let interval = if self.topo.read().known { REFRESH_INTERVAL } else { FIRST_INTERVAL };
        self.turns.take(interval, deadline, self.pace.look_up_time())
    }

    /// Asks nodes for `CLUSTER SLOTS` in turn until one answers, before `deadline`.
    fn refresh(&self, deadline: Instant, ev: &mut Events) -> Refreshed {
        if !self.take_refresh_turn(deadline) {
            return Refreshed::NotDue;
        }
        ev.refreshes += 1;
        let topo = self.topo.read().clone();
        let mut candidates: Vec<Arc<Node>> = Vec::new();
        for n in self.seed_nodes.iter().chain(&topo.nodes) {
            if candidates.iter().all(|c| c.addr() != n.addr()) {
                candidates.push(n.clone());
            }
        }
        let now = Instant::now();
        candidates.retain(|n| !n.is_skipped(now));
        if candidates.is_empty() {
            return Refreshed::Failed(Fail::Skipped);
        }
        let start = self.rotor.fetch_add(1, Ordering::Relaxed) % candidates.len();
        candidates.rotate_left(start);
        let mut last = Fail::Skipped;
        for n in candidates {
            if Instant::now() >= deadline {
                break;
            }
            match n.run(deadline, |c| c.request(&pack(&[b"CLUSTER", b"SLOTS"]), 1)) {
                Ok(v) => match self.install(&v, &n) {
                    Ok(()) => return Refreshed::Done,
                    Err(e) => last = Fail::Reply(RedisError::from((ErrorKind::ParseError, "CLUSTER SLOTS", e))),
                },
                Err(f) => last = f,
            }
        }
        Refreshed::Failed(last)
    }

    /// Replaces the map with a `CLUSTER SLOTS` reply given by `from`, keeping the nodes (their
    /// pools and skip windows) that it still names.
    fn install(&self, reply: &Value, from: &Node) -> Result<(), String> {
        let ranges = parse_slots(reply, split_addr(from.addr()).map_or("", |a| a.0))?;
        let old = self.topo.read().clone();
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        let mut owners = vec![NO_NODE; usize::from(SLOTS)];
        for (start, end, host, port) in ranges {
            let addr = addr_of(&host, port);
            let i = match nodes.iter().position(|n| n.addr() == addr) {
                Some(i) => i,
                None if nodes.len() >= MAX_NODES => return Err(format!("more than {MAX_NODES} nodes")),
                None => {
                    let known = old.nodes.iter().chain(&self.seed_nodes).find(|n| n.addr() == addr).cloned();
                    let node = match known {
                        Some(n) => n,
                        None => Arc::new(Node::new(addr, self.seeds.maker.target(&host, port, Role::Data)?, self.pace)),
                    };
                    nodes.push(node);
                    nodes.len() - 1
                }
            };
            let i = u16::try_from(i).map_err(|_| "too many nodes".to_string())?;
            owners[usize::from(start)..=usize::from(end)].fill(i);
        }
        *self.topo.write() = Arc::new(Topology::new(nodes, &owners, true));
        Ok(())
    }
}

/// `host:port` (the host may be an IPv6 address, bracketed or not, or empty) as its parts.
fn split_addr(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    Some((host, port.parse().ok()?))
}

/// The slot ranges of a `CLUSTER SLOTS` reply with their primary's host and port. A primary
/// whose address is empty is the node that answered (`from_host`); one whose address is unknown
/// (`?`) is left out, so its slots have no owner.
fn parse_slots(reply: &Value, from_host: &str) -> Result<Vec<(u16, u16, String, u16)>, String> {
    let Value::Array(entries) = reply else { return Err("not an array".into()) };
    let mut ranges = Vec::new();
    for entry in entries {
        let Value::Array(items) = entry else { return Err("an entry is not an array".into()) };
        let (Some(start), Some(end), Some(Value::Array(primary))) =
            (int(items.first()), int(items.get(1)), items.get(2))
        else {
            return Err("an entry is not [start, end, [host, port, ...], ...]".into());
        };
        let (Some(host), Some(port)) = (text(primary.first()), int(primary.get(1))) else {
            return Err("a primary is not [host, port, ...]".into());
        };
        let (Ok(start), Ok(end), Ok(port)) = (u16::try_from(start), u16::try_from(end), u16::try_from(port)) else {
            return Err("a slot or a port is out of range".into());
        };
        if start > end || end >= SLOTS {
            return Err(format!("slot range {start}-{end}"));
        }
        match host.as_str() {
            "?" => continue,
            "" => ranges.push((start, end, from_host.to_string(), port)),
            _ => ranges.push((start, end, host, port)),
        }
    }
    if ranges.is_empty() {
        return Err("no slot is served".into());
    }
    Ok(ranges)
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Int(i) => Some(*i),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis_store::seeds::{self, Kind};
    use crate::redis_store::session_key;

    #[test]
    fn slots_are_redis_s() {
        // Values from Redis's CLUSTER KEYSLOT.
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        let whole = |k: &[u8]| crc16::State::<crc16::XMODEM>::calculate(k) % SLOTS;
        assert_eq!(key_slot(b"foo{}{bar}"), whole(b"foo{}{bar}"));
        assert_eq!(key_slot(b"foo{bar"), whole(b"foo{bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
    }

    /// No hash tag: one service's sessions spread over the slots of every primary.
    #[test]
    fn one_service_s_keys_spread_over_the_slots() {
        let mut per_third = [0usize; 3];
        for i in 0u32..3000 {
            let key = session_key(b"\x01\x00\x00\x00", &i.to_be_bytes());
            assert!(!key.contains(&b'{'));
            per_third[usize::from(key_slot(&key)) * 3 / usize::from(SLOTS)] += 1;
        }
        assert!(per_third.iter().all(|&n| n > 800), "{per_third:?}");
    }

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn range(start: i64, end: i64, host: &str, port: i64) -> Value {
        let primary = Value::Array(vec![bulk(host), Value::Int(port), bulk("id")]);
        let replica = Value::Array(vec![bulk("10.0.0.9"), Value::Int(1), bulk("id2")]);
        Value::Array(vec![Value::Int(start), Value::Int(end), primary, replica])
    }

    #[test]
    fn cluster_slots_replies() {
        let reply = Value::Array(vec![
            range(0, 5460, "127.0.0.1", 7000),
            range(10923, 16383, "", 7002),
            range(5461, 10922, "?", 7001),
        ]);
        let r = parse_slots(&reply, "10.1.1.1").unwrap();
        assert_eq!(r, vec![(0, 5460, "127.0.0.1".into(), 7000), (10923, 16383, "10.1.1.1".into(), 7002)]);
        assert!(parse_slots(&Value::Array(vec![range(5, 4, "a", 1)]), "").is_err());
        assert!(parse_slots(&Value::Array(vec![range(0, 16384, "a", 1)]), "").is_err());
        assert!(parse_slots(&Value::Array(vec![]), "").is_err());
        assert!(parse_slots(&Value::Nil, "").is_err());
        assert_eq!(split_addr("[::1]:7000"), Some(("::1", 7000)));
        assert_eq!(split_addr("::1:7000"), Some(("::1", 7000)));
        assert_eq!(split_addr(":7000"), Some(("", 7000)));
        assert_eq!(split_addr("nope"), None);
    }

    fn cluster(url: &str) -> Cluster {
        let pace = Pace { skip: Duration::from_millis(200), fair: Duration::from_millis(20) };
        Cluster::new(seeds::parse(url, Kind::Cluster, None).unwrap(), pace).unwrap()
    }

    /// Ranges in any order and not contiguous; nodes shared between ranges, and kept (with
    /// their skip windows) across refreshes; a MOVED teaches one slot.
    #[test]
    fn maps_and_redirections() {
        let c = cluster("redis-cluster://127.0.0.1:7000");
        let from = c.seed_nodes[0].clone();
        let reply = Value::Array(vec![
            range(100, 200, "127.0.0.1", 7001),
            range(0, 99, "127.0.0.1", 7000),
            range(201, 16383, "127.0.0.1", 7001),
        ]);
        c.install(&reply, &from).unwrap();
        assert!(Arc::ptr_eq(&c.owner(5).unwrap(), &from), "the seed is reused");
        let n7001 = c.owner(150).unwrap();
        assert_eq!(n7001.addr(), "127.0.0.1:7001");
        assert!(Arc::ptr_eq(&n7001, &c.owner(16383).unwrap()));
        n7001.mark_down();
        c.install(&reply, &from).unwrap();
        assert!(c.owner(150).unwrap().is_skipped(Instant::now()), "a node keeps its skip window");
        let moved = RedisError::from((ErrorKind::Moved, "moved", "150 :7005".to_string()));
        let n = c.redirected(&moved, &n7001).unwrap();
        assert_eq!(n.addr(), "127.0.0.1:7005");
        assert!(Arc::ptr_eq(&c.owner(150).unwrap(), &n));
        assert_eq!(c.owner(151).unwrap().addr(), "127.0.0.1:7001");
        let ask = RedisError::from((ErrorKind::Ask, "ask", "151 127.0.0.1:7006".to_string()));
        assert_eq!(c.redirected(&ask, &n7001).unwrap().addr(), "127.0.0.1:7006");
        assert_eq!(c.owner(151).unwrap().addr(), "127.0.0.1:7001", "ASK does not change the map");
    }

    #[test]
    fn refreshes_are_rate_limited() {
        let c = cluster("redis-cluster://127.0.0.1:1");
        let deadline = Instant::now() + Duration::from_secs(1);
        assert!(c.take_refresh_turn(deadline));
        assert!(!c.take_refresh_turn(deadline));
    }
}
