//! One connection to Redis that never waits past a deadline.
//!
//! The `redis` crate's own connection applies a timeout to each read or write system call, so
//! one operation that makes several (the TLS handshake, the setup commands, a reply in pieces)
//! can wait several times its bound. Here the store owns the socket: every read and write first
//! sets the socket's timeout to what is left until the operation's deadline, and fails with
//! `TimedOut` once it has passed. Connecting, the TLS handshake (rustls), `AUTH`/`SELECT`, the
//! command and its reply all share that one deadline. The crate still parses URLs, encodes
//! commands and parses replies ([`redis::Parser`]); [`Conn`] implements
//! [`redis::ConnectionLike`], so the crate's typed commands run on it, and a cluster or
//! sentinel backend can open its node connections with [`Conn::open`].
//!
//! No `CLIENT SETINFO` is sent. Not bounded by the deadline: a host name in the URL is resolved
//! when connecting (by the system resolver: give an IP address), and connecting to a Unix
//! socket whose listen queue is full.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::{ConnectionAddr, ConnectionLike, ErrorKind, IntoConnectionInfo, Parser, RedisError, RedisResult, Value};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use zeroize::Zeroizing;

/// Where and how to connect: parsed once from the URL when the store opens.
pub struct Target {
    addr: Addr,
    /// TLS: the client configuration and the name the certificate must carry.
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    /// `AUTH` and `SELECT` as one packed pipeline, and how many replies it gets.
    setup: Zeroizing<Vec<u8>>,
    setup_replies: usize,
    db: i64,
}

/// Without the setup commands, which carry the password.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("tls", &self.tls.is_some()).field("db", &self.db).finish_non_exhaustive()
    }
}

enum Addr {
    Tcp(String, u16),
    Unix(PathBuf),
}

impl Target {
    /// The target of `url` (`redis://`, `rediss://`, `redis+unix://`, `unix://`). `tls` is
    /// required for `rediss://` and refused otherwise. A `#insecure` URL is refused: the
    /// server's certificate is always verified.
    pub fn parse(url: &str, tls: Option<Arc<ClientConfig>>) -> Result<Target, String> {
        let info = url.into_connection_info().map_err(|e| e.to_string())?;
        let (addr, tls) = match (info.addr, tls) {
            (ConnectionAddr::Tcp(host, port), None) => (Addr::Tcp(host, port), None),
            (ConnectionAddr::TcpTls { insecure: true, .. }, _) => {
                return Err("#insecure is not supported: the server's certificate is always verified".into())
            }
            (ConnectionAddr::TcpTls { host, port, .. }, Some(config)) => {
                let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
                    .map_err(|_| format!("{host} is not a host name or an IP address"))?
                    .to_owned();
                (Addr::Tcp(host, port), Some((config, name)))
            }
            (ConnectionAddr::TcpTls { .. }, None) => return Err("rediss:// needs a TLS configuration".into()),
            (ConnectionAddr::Unix(path), None) => (Addr::Unix(path), None),
            (_, Some(_)) => return Err("TLS settings were given for a URL that is not rediss://".into()),
        };
        let r = &info.redis;
        let mut setup = Zeroizing::new(Vec::new());
        let mut setup_replies = 0;
        if let Some(password) = &r.password {
            let password = Zeroizing::new(password.clone());
            match &r.username {
                Some(user) => pack_into(&mut setup, &[b"AUTH", user.as_bytes(), password.as_bytes()]),
                None => pack_into(&mut setup, &[b"AUTH", password.as_bytes()]),
            }
            setup_replies += 1;
        }
        if r.db != 0 {
            pack_into(&mut setup, &[b"SELECT", r.db.to_string().as_bytes()]);
            setup_replies += 1;
        }
        Ok(Target { addr, tls, setup, setup_replies, db: r.db })
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

/// Appends the RESP encoding of the command `args` to `out` (what `redis::cmd` packs, but into
/// a buffer the caller controls, so that a value can be wiped).
pub fn pack_into(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The packed command `args`, in a buffer wiped on drop.
pub fn pack(args: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(args.iter().map(|a| a.len() + 16).sum::<usize>() + 16));
    pack_into(&mut out, args);
    out
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the operation's deadline passed")
}

enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A socket whose reads and writes wait at most until `deadline`.
struct Timed {
    sock: Socket,
    deadline: Instant,
}

/// The kernel ends a socket wait (`SO_RCVTIMEO`, `SO_SNDTIMEO`) up to about a scheduler tick
/// late (measured: a 40 ms timeout returns after 44 ms at HZ=250), so each wait asks for a
/// tick less and is resumed if it ends early; within a tick of the deadline the operation
/// gives up rather than start a wait that would end past it.
const TICK: Duration = Duration::from_millis(4);

impl Timed {
    /// Runs `f` (one read or write with the socket timeout it is given) until it does not
    /// time out, or the deadline comes.
    fn io<R>(&mut self, mut f: impl FnMut(&mut Socket, Duration) -> io::Result<R>) -> io::Result<R> {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left <= TICK {
                return Err(timed_out());
            }
            match f(&mut self.sock, left - TICK) {
                // The socket timeout (reported as WouldBlock) or a signal: wait again.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) => {}
                r => return r,
            }
        }
    }
}

/// A connect that fails with `WouldBlock` ran out of time.
fn deadline_error(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        timed_out()
    } else {
        e
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io(|sock, wait| match sock {
            Socket::Tcp(s) => s.set_read_timeout(Some(wait)).and_then(|()| s.read(buf)),
            Socket::Unix(s) => s.set_read_timeout(Some(wait)).and_then(|()| s.read(buf)),
        })
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io(|sock, wait| match sock {
            Socket::Tcp(s) => s.set_write_timeout(Some(wait)).and_then(|()| s.write(buf)),
            Socket::Unix(s) => s.set_write_timeout(Some(wait)).and_then(|()| s.write(buf)),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Wire {
    Plain(Timed),
    Tls(Box<StreamOwned<ClientConnection, Timed>>),
}

impl Wire {
    fn timed(&mut self) -> &mut Timed {
        match self {
            Wire::Plain(t) => t,
            Wire::Tls(s) => &mut s.sock,
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Wire::Plain(t) => t.read(buf),
            Wire::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Wire::Plain(t) => t.write(buf),
            Wire::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Wire::Plain(t) => t.flush(),
            Wire::Tls(s) => s.flush(),
        }
    }
}

/// An open connection, set up (TLS, `AUTH`, `SELECT`) and ready for commands.
pub struct Conn {
    wire: Wire,
    parser: Parser,
    db: i64,
    open: bool,
    /// The process that opened it: a child after `fork` must not share its parent's stream.
    pid: u32,
}

fn connect_tcp(host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (host, port).to_socket_addrs()?.collect(),
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name has no address");
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = deadline_error(e),
        }
    }
    Err(last)
}

impl Conn {
    /// Connects to `target` and sets the connection up, all before `deadline`.
    pub fn open(target: &Target, deadline: Instant) -> RedisResult<Conn> {
        let sock = match &target.addr {
            Addr::Tcp(host, port) => Socket::Tcp(connect_tcp(host, *port, deadline)?),
            Addr::Unix(path) => Socket::Unix(UnixStream::connect(path)?),
        };
        let timed = Timed { sock, deadline };
        let wire = match &target.tls {
            None => Wire::Plain(timed),
            Some((config, name)) => {
                let tls = ClientConnection::new(config.clone(), name.clone())
                    .map_err(|e| RedisError::from(io::Error::other(e)))?;
                let mut s = StreamOwned::new(tls, timed);
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock)?;
                }
                Wire::Tls(Box::new(s))
            }
        };
        let mut c = Conn { wire, parser: Parser::new(), db: target.db, open: true, pid: std::process::id() };
        if target.setup_replies > 0 {
            c.request(&target.setup, target.setup_replies)?;
        }
        Ok(c)
    }

    /// Whether this process opened it (not a parent before `fork`).
    pub fn is_ours(&self) -> bool {
        self.pid == std::process::id()
    }

    /// Sets the deadline of the next operation.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.wire.timed().deadline = deadline;
    }

    /// Sends `packed` (one or more commands) and reads `replies` replies; returns the last.
    /// An error reply (of any) is an error that leaves the connection usable; any other error
    /// closes it (a late reply would otherwise answer the next command).
    pub fn request(&mut self, packed: &[u8], replies: usize) -> RedisResult<Value> {
        self.exchange(packed, replies)?.pop().ok_or_else(|| RedisError::from((ErrorKind::ClientError, "no reply")))
    }

    fn exchange(&mut self, packed: &[u8], replies: usize) -> RedisResult<Vec<Value>> {
        let raw = self.transfer(packed, replies);
        if raw.is_err() {
            self.open = false;
        }
        raw?.into_iter().map(Value::extract_error).collect()
    }

    fn transfer(&mut self, packed: &[u8], replies: usize) -> RedisResult<Vec<Value>> {
        self.wire.write_all(packed)?;
        self.wire.flush()?;
        (0..replies).map(|_| self.parser.parse_value(&mut self.wire)).collect()
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        self.request(cmd, 1)
    }

    fn req_packed_commands(&mut self, cmd: &[u8], offset: usize, count: usize) -> RedisResult<Vec<Value>> {
        Ok(self.exchange(cmd, offset + count)?.split_off(offset))
    }

    fn get_db(&self) -> i64 {
        self.db
    }

    fn check_connection(&mut self) -> bool {
        self.request(&pack(&[b"PING"]), 1).is_ok()
    }

    fn is_open(&self) -> bool {
        self.open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn commands_are_packed_as_resp() {
        assert_eq!(pack(&[b"GET", b"k"]).as_slice(), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(
            pack(&[b"SET", b"k", b"", b"EX", b"5"]).as_slice(),
            &redis::cmd("SET").arg("k").arg("").arg("EX").arg(5).get_packed_command()[..]
        );
    }

    #[test]
    fn urls_are_checked() {
        assert!(Target::parse("redis://127.0.0.1:6379/0", None).is_ok());
        assert!(Target::parse("rediss://127.0.0.1:6379/0", None).unwrap_err().contains("TLS"));
        assert!(Target::parse("http://127.0.0.1/", None).is_err());
        let t = Target::parse("redis://user:pw@127.0.0.1:1/3", None).unwrap();
        assert_eq!(t.setup_replies, 2);
        assert_eq!(
            t.setup.as_slice(),
            b"*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$2\r\npw\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
        );
        assert_eq!(Target::parse("redis://:pw@127.0.0.1", None).unwrap().setup_replies, 1);
        assert!(!Target::parse("redis://127.0.0.1", None).unwrap().is_tls());
    }

    /// A server that accepts and never answers (or a stalled one, whose kernel accepts for it):
    /// the whole operation, connect and setup included, ends at the deadline.
    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_server_that_never_answers_costs_one_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://:pw@{}/2", l.local_addr().unwrap());
        let t = Target::parse(&url, None).unwrap();
        let start = Instant::now();
        let e = Conn::open(&t, start + Duration::from_millis(60)).err().unwrap();
        let took = start.elapsed();
        assert!(e.is_timeout(), "{e}");
        assert!(took >= Duration::from_millis(55) && took < Duration::from_millis(200), "{took:?}");
    }

    /// A server that answers one byte at a time, slowly: every read gets only what is left.
    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_trickling_reply_does_not_extend_the_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}", l.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf);
            for b in b"$1000\r\n".iter().chain([b'x'; 1000].iter()) {
                if s.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let t = Target::parse(&url, None).unwrap();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(80);
        let mut c = Conn::open(&t, deadline).unwrap();
        let e = c.request(&pack(&[b"GET", b"k"]), 1).unwrap_err();
        let took = start.elapsed();
        assert!(e.is_timeout(), "{e}");
        assert!(took < Duration::from_millis(150), "{took:?}");
        assert!(!c.is_open());
        drop(c);
        server.join().unwrap();
    }

    /// The same through TLS: the handshake waits for the server's first flight until the
    /// deadline, not a timeout per read.
    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_stalled_tls_handshake_costs_one_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("rediss://:pw@{}/2", l.local_addr().unwrap());
        let config = ClientConfig::builder_with_provider(crate::redis_store::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let t = Target::parse(&url, Some(Arc::new(config))).unwrap();
        assert!(t.is_tls());
        let start = Instant::now();
        let e = Conn::open(&t, start + Duration::from_millis(60)).err().unwrap();
        let took = start.elapsed();
        assert!(e.is_timeout(), "{e}");
        assert!(took >= Duration::from_millis(55) && took < Duration::from_millis(200), "{took:?}");
        assert!(Target::parse(&format!("{url}#insecure"), None).unwrap_err().contains("always verified"));
    }

    #[test]
    #[cfg_attr(miri, ignore = "sockets")]
    fn a_refused_connection_fails_at_once() {
        let t = Target::parse("redis://127.0.0.1:1", None).unwrap();
        let start = Instant::now();
        let e = Conn::open(&t, start + Duration::from_millis(500)).err().unwrap();
        assert!(e.is_connection_refusal() || e.is_io_error(), "{e}");
        assert!(start.elapsed() < Duration::from_millis(100));
    }
}
