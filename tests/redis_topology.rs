//! The Redis Cluster and Sentinel backends against fake servers on loopback, for what a real
//! deployment can only show by chance: a stalled node met by a map refresh, a dead primary whose
//! refresh lands on a stalled node, a retry on a new owner that stalls, a stalled sentinel. The
//! rule checked: one operation never waits more than its one deadline, whatever the topology
//! code does, and a node that fails costs the slots of that node only. Also an unusual layout:
//! five primaries with striped (non-contiguous) slot ranges, announced at another address than
//! the one seed the URL names.
//!
//! A fake server speaks just enough RESP: `CLUSTER SLOTS`, `ROLE`, `SENTINEL
//! get-master-addr-by-name`, `ASKING`, `GET`, `SET`, `DEL`, `GETDEL`, answering `MOVED` for a key
//! whose slot the shared map gives to another node. A silent one accepts (its kernel does) and
//! reads, and never answers, as a Redis stopped with SIGSTOP.
//!
//! Times: the store's timeout is 300 ms (an operation has 240 ms), so one wait is under 240 ms
//! and two would be over 480 ms; an operation counts as too long at 400 ms. The machine is shared
//! (and cargo runs tests in parallel): one operation of a series may be late by a scheduler
//! stall, not two.
#![cfg(feature = "redis-store")]
#![cfg(not(miri))]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sesscache::redis_store::cluster::{key_slot, SLOTS};
use sesscache::redis_store::tls::TlsFiles;
use sesscache::redis_store::{session_key, RedisStat, RedisStore};

const TIMEOUT: Duration = Duration::from_millis(300);
/// What one operation may take here: its 240 ms, and 160 ms for the machine.
const TOO_LONG: Duration = Duration::from_millis(400);
/// The skip window at a 300 ms timeout (twice the timeout), and a margin.
const PAST_SKIP: Duration = Duration::from_millis(700);

/// What every fake server shares: the slot map (cluster), the primary (sentinel), the data.
#[derive(Default)]
struct World {
    /// `CLUSTER SLOTS`: ranges and the address announced for their primary. Empty: not a
    /// cluster (no `MOVED`).
    map: Vec<(u16, u16, SocketAddr)>,
    /// What the sentinels name.
    primary: Option<SocketAddr>,
    data: HashMap<Vec<u8>, Vec<u8>>,
}

type Shared = Arc<Mutex<World>>;

struct Fake {
    addr: SocketAddr,
    behaviour: Arc<Behaviour>,
}

/// How a fake server misbehaves.
#[derive(Default)]
struct Behaviour {
    /// It reads and never answers (a Redis stopped with SIGSTOP).
    silent: AtomicBool,
    /// It answers every command this late, in milliseconds.
    delay_ms: AtomicU64,
    /// It answers every data command with this error reply (`CLUSTERDOWN ...`).
    error: Mutex<Option<String>>,
}

impl Fake {
    /// A fake server on 127.0.0.1.
    fn start(world: &Shared) -> Fake {
        Fake::start_on(&["127.0.0.1"], world)
    }

    /// A fake server listening on the same port at each of `ips` (the first is its address).
    fn start_on(ips: &[&str], world: &Shared) -> Fake {
        let listeners = (0..20)
            .find_map(|_| {
                let first = TcpListener::bind((ips[0], 0)).ok()?;
                let port = first.local_addr().ok()?.port();
                let mut ls = vec![first];
                for ip in &ips[1..] {
                    ls.push(TcpListener::bind((*ip, port)).ok()?);
                }
                Some(ls)
            })
            .expect("a port free on every address");
        let addr = listeners[0].local_addr().unwrap();
        let behaviour = Arc::new(Behaviour::default());
        for l in listeners {
            let (w, b) = (world.clone(), behaviour.clone());
            thread::spawn(move || {
                for c in l.incoming().flatten() {
                    let (w, b) = (w.clone(), b.clone());
                    thread::spawn(move || serve(c, addr.port(), &w, &b));
                }
            });
        }
        Fake { addr, behaviour }
    }

    fn stall(&self) {
        self.behaviour.silent.store(true, Ordering::SeqCst);
    }

    fn slow(&self, ms: u64) {
        self.behaviour.delay_ms.store(ms, Ordering::SeqCst);
    }

    fn fail_with(&self, error: &str) {
        *self.behaviour.error.lock().unwrap() = Some(error.to_string());
    }
}

/// An address where nothing listens: connections are refused.
fn dead_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn serve(mut c: TcpStream, me: u16, world: &Shared, b: &Behaviour) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match c.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if b.silent.load(Ordering::SeqCst) {
            continue;
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some((args, used)) = parse(&buf) {
            buf.drain(..used);
            thread::sleep(Duration::from_millis(b.delay_ms.load(Ordering::SeqCst)));
            let data = !matches!(&args[0][..], b"CLUSTER" | b"ROLE" | b"SENTINEL" | b"ASKING" | b"AUTH");
            let reply = match b.error.lock().unwrap().as_ref().filter(|_| data) {
                Some(e) => format!("-{e}\r\n").into_bytes(),
                None => answer(&args, me, world),
            };
            if b.silent.load(Ordering::SeqCst) || c.write_all(&reply).is_err() {
                break;
            }
        }
    }
}

/// One RESP command (`*N` of `$len` strings) from the front of `buf`, and its length.
fn parse(buf: &[u8]) -> Option<(Vec<Vec<u8>>, usize)> {
    fn line(buf: &[u8], at: usize) -> Option<(usize, usize)> {
        let end = at + buf.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        Some((std::str::from_utf8(&buf[at + 1..end]).ok()?.parse().ok()?, end + 2))
    }
    let (n, mut at) = line(buf, 0)?;
    let mut args = Vec::new();
    for _ in 0..n {
        let (len, start) = line(buf, at)?;
        args.push(buf.get(start..start + len)?.to_vec());
        at = start + len + 2;
        if buf.len() < at {
            return None;
        }
    }
    Some((args, at))
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// The reply of the server on port `me` (ports tell the fakes apart, whatever address a client
/// used) to the command `args`.
fn answer(args: &[Vec<u8>], me: u16, world: &Shared) -> Vec<u8> {
    let mut w = world.lock().unwrap();
    let cmd = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    let mut out = Vec::new();
    match cmd.as_str() {
        "CLUSTER" => {
            out.extend_from_slice(format!("*{}\r\n", w.map.len()).as_bytes());
            for (start, end, a) in &w.map {
                out.extend_from_slice(format!("*3\r\n:{start}\r\n:{end}\r\n*3\r\n").as_bytes());
                bulk(&mut out, a.ip().to_string().as_bytes());
                out.extend_from_slice(format!(":{}\r\n", a.port()).as_bytes());
                bulk(&mut out, b"0123456789abcdef0123456789abcdef01234567");
            }
        }
        "ROLE" => out.extend_from_slice(b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"),
        "SENTINEL" => match w.primary {
            Some(p) => {
                out.extend_from_slice(b"*2\r\n");
                bulk(&mut out, p.ip().to_string().as_bytes());
                bulk(&mut out, p.port().to_string().as_bytes());
            }
            None => out.extend_from_slice(b"*-1\r\n"),
        },
        "ASKING" | "AUTH" | "SELECT" => out.extend_from_slice(b"+OK\r\n"),
        _ => {
            let key = &args[1];
            let slot = key_slot(key);
            let owner = w.map.iter().find(|(s, e, _)| (*s..=*e).contains(&slot)).map(|r| r.2);
            if let Some(o) = owner.filter(|o| o.port() != me) {
                return format!("-MOVED {slot} {o}\r\n").into_bytes();
            }
            match cmd.as_str() {
                "GET" | "GETDEL" => {
                    let v = if cmd == "GET" { w.data.get(key).cloned() } else { w.data.remove(key) };
                    match v {
                        Some(v) => bulk(&mut out, &v),
                        None => out.extend_from_slice(b"$-1\r\n"),
                    }
                }
                "SET" => {
                    w.data.insert(key.clone(), args[2].clone());
                    out.extend_from_slice(b"+OK\r\n");
                }
                "DEL" => out.extend_from_slice(format!(":{}\r\n", u8::from(w.data.remove(key).is_some())).as_bytes()),
                _ => out.extend_from_slice(b"-ERR unknown command\r\n"),
            }
        }
    }
    out
}

fn open(url: &str) -> RedisStore {
    RedisStore::open(url, TIMEOUT, &TlsFiles::default()).unwrap()
}

fn key(i: u32) -> Vec<u8> {
    session_key(b"\x01\x00\x00\x00", &i.to_be_bytes())
}

fn owner(world: &Shared, k: &[u8]) -> SocketAddr {
    let slot = key_slot(k);
    world.lock().unwrap().map.iter().find(|(s, e, _)| (*s..=*e).contains(&slot)).unwrap().2
}

fn stat(s: &RedisStore, st: RedisStat) -> u64 {
    s.stats().get(st as usize).unwrap()
}

/// Runs `f`, timed.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

/// At most one of `times` (a series of operations) reached `limit`.
fn at_most_one_over(times: &[Duration], limit: Duration) -> bool {
    times.iter().filter(|&&t| t >= limit).count() <= 1
}

/// Slots in stripes of `stripe` dealt to `nodes` in turn: every node has many non-contiguous
/// ranges.
fn striped(nodes: &[SocketAddr], stripe: u16) -> Vec<(u16, u16, SocketAddr)> {
    let mut map = Vec::new();
    let mut start = 0u16;
    let mut i = 0;
    while start < SLOTS {
        let end = (start + stripe - 1).min(SLOTS - 1);
        map.push((start, end, nodes[i % nodes.len()]));
        start = end + 1;
        i += 1;
    }
    map
}

/// Five primaries announced on 127.0.0.2 (as with `cluster-announce-ip`), their slots striped,
/// and a URL that names one of them at another address (127.0.0.1): the store learns the others
/// from the map, spreads the keys over all five, and a stalled one costs its own keys one wait
/// per skip window while the other four keep hitting.
#[test]
fn an_unusual_layout_and_a_stalled_primary() {
    let world: Shared = Arc::default();
    let fakes: Vec<Fake> = (0..5).map(|_| Fake::start_on(&["127.0.0.2", "127.0.0.1"], &world)).collect();
    let announced: Vec<SocketAddr> = fakes.iter().map(|f| f.addr).collect();
    world.lock().unwrap().map = striped(&announced, 700);
    let s = open(&format!("redis-cluster://127.0.0.1:{}", fakes[0].addr.port()));
    let keys: Vec<Vec<u8>> = (0..60).map(key).collect();
    for k in &keys {
        assert!(s.put(k, b"v", 60), "{:?}", s.last_error());
    }
    let mut per_node = HashMap::new();
    for k in &keys {
        *per_node.entry(owner(&world, k)).or_insert(0) += 1;
        assert!(world.lock().unwrap().data.contains_key(k));
    }
    assert_eq!(per_node.len(), 5, "the keys land on every primary: {per_node:?}");
    assert!(keys.iter().all(|k| s.get(k).is_some()));
    assert_eq!(stat(&s, RedisStat::Redirects), 0, "the map named every owner");

    let stalled = announced[2];
    fakes[2].stall();
    for round in 0..2 {
        if round > 0 {
            thread::sleep(PAST_SKIP);
        }
        let mut other_times = Vec::new();
        let mut waits = Vec::new();
        for k in &keys {
            let (v, t) = timed(|| s.get(k));
            if owner(&world, k) == stalled {
                assert!(v.is_none());
                waits.push(t);
            } else {
                assert!(v.is_some(), "a key of a live primary missed (round {round})");
                other_times.push(t);
            }
        }
        let long = waits.iter().filter(|t| t.as_millis() >= 120).count();
        assert!(at_most_one_over(&waits, TOO_LONG), "round {round}: {waits:?}");
        assert!(at_most_one_over(&other_times, Duration::from_millis(150)), "round {round}: {other_times:?}");
        // The first lookup on the stalled node waits (the 240 ms of one operation), the others
        // are skipped within the node's skip window (a stalled scheduler may add one).
        assert!((1..=2).contains(&long), "round {round}: {waits:?}");
    }
}

/// The key's primary is dead (refused at once); the refresh that follows asks the only other
/// node, which is stalled: one deadline in all, and the next lookups are quick misses.
#[test]
fn a_dead_owner_and_a_stalled_refresh_share_one_deadline() {
    let world: Shared = Arc::default();
    let seed = Fake::start(&world);
    let dead = dead_addr();
    world.lock().unwrap().map = vec![(0, 8191, seed.addr), (8192, SLOTS - 1, dead)];
    let s = open(&format!("redis-cluster://{}", seed.addr));
    let k = (0..).map(key).find(|k| key_slot(k) >= 8192).unwrap();
    let mine = (0..).map(key).find(|k| key_slot(k) < 8192).unwrap();
    assert!(s.put(&mine, b"v", 60));
    assert!(s.get(&k).is_none(), "dead");
    thread::sleep(Duration::from_millis(600)); // a refresh is due, the dead node is not skipped
    seed.stall();
    let mut times = Vec::new();
    for _ in 0..2 {
        let (v, t) = timed(|| s.get(&k));
        assert!(v.is_none());
        times.push(t);
        thread::sleep(PAST_SKIP);
    }
    assert!(at_most_one_over(&times, TOO_LONG), "{times:?}");
    assert!(stat(&s, RedisStat::Refreshes) >= 2);
}

/// The key's primary is dead; the refresh answers that a replica took over: the lookup is
/// retried there and hits. Then the same where the node asked for the map answers late (200 ms
/// of the 240) and the new owner stalls: the retry waits only for what is left of the one
/// deadline (a retry given time of its own would wait 440 ms).
#[test]
fn a_retry_on_a_new_owner_keeps_the_deadline() {
    let world: Shared = Arc::default();
    let seed = Fake::start(&world);
    let promoted = Fake::start(&world);
    let dead = dead_addr();
    let k = (0..).map(key).find(|k| key_slot(k) >= 8192).unwrap();
    world.lock().unwrap().data.insert(k.clone(), b"v".to_vec());
    let failover = |stall: bool| {
        seed.slow(0);
        world.lock().unwrap().map = vec![(0, 8191, seed.addr), (8192, SLOTS - 1, dead)];
        let s = open(&format!("redis-cluster://{}", seed.addr));
        assert!(s.get(&k).is_none(), "its primary is dead");
        world.lock().unwrap().map[1].2 = promoted.addr;
        if stall {
            seed.slow(200);
            promoted.stall();
        }
        // Past the dead node's skip window and the refresh interval.
        thread::sleep(PAST_SKIP);
        let (v, t) = timed(|| s.get(&k));
        assert_eq!(v.is_some(), !stall, "{:?}", s.last_error());
        assert!(stat(&s, RedisStat::Refreshes) >= 2);
        t
    };
    let hit = failover(false);
    assert!(hit < Duration::from_millis(150) || failover(false) < Duration::from_millis(150), "{hit:?}");
    let times = [failover(true), failover(true)];
    assert!(at_most_one_over(&times, TOO_LONG), "{times:?}");
}

/// The map's owner answers late (200 ms) with `MOVED` to a node that stalls, or with
/// `CLUSTERDOWN`, after which the node asked for the map stalls: one deadline each time.
#[test]
fn a_late_redirection_or_refusal_keeps_the_deadline() {
    let world: Shared = Arc::default();
    let old = Fake::start(&world);
    let new = Fake::start(&world);
    let k = (0..).map(key).find(|k| key_slot(k) >= 8192).unwrap();
    let run = |clusterdown: bool| {
        old.slow(0);
        world.lock().unwrap().map = vec![(0, 8191, new.addr), (8192, SLOTS - 1, old.addr)];
        let s = open(&format!("redis-cluster://{}", new.addr));
        assert!(s.put(&k, b"v", 60));
        if clusterdown {
            old.fail_with("CLUSTERDOWN The cluster is down");
            thread::sleep(PAST_SKIP); // a refresh is due
        } else {
            world.lock().unwrap().map[1].2 = new.addr; // the slot moved: `old` answers MOVED
        }
        old.slow(200);
        new.stall();
        let (v, t) = timed(|| s.get(&k));
        assert!(v.is_none());
        *old.behaviour.error.lock().unwrap() = None;
        new.behaviour.silent.store(false, Ordering::SeqCst);
        t
    };
    for clusterdown in [false, true] {
        let times = [run(clusterdown), run(clusterdown)];
        assert!(at_most_one_over(&times, TOO_LONG), "CLUSTERDOWN {clusterdown}: {times:?}");
    }
}

/// A map made stale by a node's failure is not refreshed before an operation whose primary is
/// up: a refresh that would meet the stalled node never costs another node's key.
#[test]
fn a_stale_map_never_delays_a_live_primary() {
    let world: Shared = Arc::default();
    let live = Fake::start(&world);
    let stalled = Fake::start(&world);
    world.lock().unwrap().map = vec![(0, 8191, live.addr), (8192, SLOTS - 1, stalled.addr)];
    let s = open(&format!("redis-cluster://{}", live.addr));
    let kl = (0..).map(key).find(|k| key_slot(k) < 8192).unwrap();
    let ks = (0..).map(key).find(|k| key_slot(k) >= 8192).unwrap();
    assert!(s.put(&kl, b"v", 60) && s.put(&ks, b"v", 60));
    stalled.stall();
    let mut times = Vec::new();
    for _ in 0..4 {
        assert!(s.get(&ks).is_none());
        thread::sleep(PAST_SKIP); // a refresh is due, the stalled node is not skipped
        let (v, t) = timed(|| s.get(&kl));
        assert!(v.is_some(), "a live primary's key missed");
        times.push(t);
    }
    assert!(at_most_one_over(&times, Duration::from_millis(150)), "{times:?}");
}

/// Sentinel: the first sentinel asked is stalled, then the primary stalls, then the sentinels
/// name another primary: one deadline per lookup throughout, and the new primary serves.
#[test]
fn sentinel_waits_keep_one_deadline() {
    let world: Shared = Arc::default();
    let stalled_sentinel = Fake::start(&world);
    let sentinel = Fake::start(&world);
    let primary = Fake::start(&world);
    let next = Fake::start(&world);
    world.lock().unwrap().primary = Some(primary.addr);
    stalled_sentinel.stall();
    let s = open(&format!("redis-sentinel://{},{}/m", stalled_sentinel.addr, sentinel.addr));
    let mut times = Vec::new();
    // The first sentinel takes the whole deadline; the next lookup asks the other one.
    let (v, t) = timed(|| s.put(b"k", b"v", 60));
    assert!(!v);
    times.push(t);
    thread::sleep(Duration::from_millis(100));
    let (v, t) = timed(|| s.put(b"k", b"v", 60));
    assert!(v, "{:?}", s.last_error());
    times.push(t);
    primary.stall();
    let (v, t) = timed(|| s.get(b"k"));
    assert!(v.is_none());
    times.push(t);
    // The failover: the sentinels name `next`, which has the session.
    {
        let mut w = world.lock().unwrap();
        w.primary = Some(next.addr);
    }
    thread::sleep(PAST_SKIP);
    let (v, t) = timed(|| s.get(b"k"));
    assert!(v.is_some(), "the new primary serves: {:?}", s.last_error());
    times.push(t);
    assert!(stat(&s, RedisStat::Refreshes) >= 3);
    // A sentinel that answers late (200 ms) names a primary that stalls: the lookup waits only
    // for what is left (a lookup that gave the primary time of its own would wait 440 ms).
    sentinel.slow(200);
    next.stall();
    for _ in 0..2 {
        let s = open(&format!("redis-sentinel://{}/m", sentinel.addr));
        let (v, t) = timed(|| s.get(b"k"));
        assert!(v.is_none());
        times.push(t);
    }
    assert!(at_most_one_over(&times, TOO_LONG), "{times:?}");
}

/// Looks `k` up every 20 ms from a stalled primary's start; after 900 ms runs `failover` (the
/// topology names another primary, which has the session). How long after it the store found
/// the session there; `None` if not within 6 s.
fn time_to_follow(s: &RedisStore, k: &[u8], failover: impl FnOnce()) -> Option<Duration> {
    let start = Instant::now();
    let mut failover = Some(failover);
    let mut switched = None;
    while start.elapsed() < Duration::from_secs(6) {
        if start.elapsed() > Duration::from_millis(900) {
            if let Some(f) = failover.take() {
                f();
                switched = Some(Instant::now());
            }
        }
        if s.get(k).is_some() {
            if let Some(t) = switched {
                return Some(t.elapsed());
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Lookups every 20 ms while the primary is stalled; the sentinels then name another one. At a
/// 200 ms timeout (a skip window of 400 ms, shorter than the 500 ms between two rounds of
/// questions) a round must never be spent by a lookup that has no time left (one that waited
/// out its deadline on the stalled primary): the store follows the new primary within about a
/// round and a skip window, not when the timings drift apart.
#[test]
fn sentinel_follows_a_failover_away_from_a_stalled_primary() {
    let world: Shared = Arc::default();
    let sentinel = Fake::start(&world);
    let (old, new) = (Fake::start(&world), Fake::start(&world));
    world.lock().unwrap().primary = Some(old.addr);
    let url = format!("redis-sentinel://{}/m", sentinel.addr);
    let s = RedisStore::open(&url, Duration::from_millis(200), &TlsFiles::default()).unwrap();
    assert!(s.put(b"k", b"v", 60));
    old.stall();
    let followed = time_to_follow(&s, b"k", || world.lock().unwrap().primary = Some(new.addr));
    assert!(followed.is_some_and(|t| t < Duration::from_millis(1500)), "{followed:?}");
}

/// The same for a cluster: a primary stalls, then its replica takes over its slots.
#[test]
fn cluster_follows_a_failover_away_from_a_stalled_primary() {
    let world: Shared = Arc::default();
    let (seed, old, new) = (Fake::start(&world), Fake::start(&world), Fake::start(&world));
    world.lock().unwrap().map = vec![(0, 8191, seed.addr), (8192, SLOTS - 1, old.addr)];
    let url = format!("redis-cluster://{}", seed.addr);
    let s = RedisStore::open(&url, Duration::from_millis(200), &TlsFiles::default()).unwrap();
    let k = (0..).map(key).find(|k| key_slot(k) >= 8192).unwrap();
    assert!(s.put(&k, b"v", 60));
    old.stall();
    let followed = time_to_follow(&s, &k, || world.lock().unwrap().map[1].2 = new.addr);
    assert!(followed.is_some_and(|t| t < Duration::from_millis(1500)), "{followed:?}");
}
