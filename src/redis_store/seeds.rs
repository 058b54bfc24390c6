//! The URLs that name several servers: `redis-cluster://` (seed nodes of a Redis Cluster) and
//! `redis-sentinel://` (the sentinels that know a primary), each with a TLS twin
//! (`rediss-cluster://`, `rediss-sentinel://`), and the per-server targets made from them.
//!
//! ```text
//! redis-cluster://[[user]:password@]host[:port][,host[:port]...][/]
//! redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/<master-name>[/<db>]
//! ```
//!
//! Every server the store later learns of (a node named by `CLUSTER SLOTS` or a `MOVED`, the
//! primary named by the sentinels) gets a target made the same way: the URL's credentials
//! (`AUTH`) and database (`SELECT`), TLS with the same verification, and the server's own
//! address as the name its certificate must carry. The credentials are kept only inside the
//! per-server setup commands and this maker's copy of the URL's user part, wiped when dropped.
#![forbid(unsafe_code)]

use std::sync::Arc;

use redis::IntoConnectionInfo;
use rustls::ClientConfig;
use zeroize::Zeroizing;

use super::conn::{pack_into, Target};
use super::node::addr_of;

/// The default port of a cluster node.
pub const CLUSTER_PORT: u16 = 6379;
/// The default port of a sentinel.
pub const SENTINEL_PORT: u16 = 26379;
/// The most servers one URL may name.
pub const MAX_SEEDS: usize = 64;

/// Which kind of multi-server URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `redis-cluster://`, `rediss-cluster://`.
    Cluster,
    /// `redis-sentinel://`, `rediss-sentinel://`.
    Sentinel,
}

/// The kind of `url` and whether it asks for TLS, when it is a multi-server URL.
pub fn kind_of(url: &str) -> Option<(Kind, bool)> {
    let scheme = url.split_once("://")?.0.to_ascii_lowercase();
    match scheme.as_str() {
        "redis-cluster" => Some((Kind::Cluster, false)),
        "rediss-cluster" => Some((Kind::Cluster, true)),
        "redis-sentinel" => Some((Kind::Sentinel, false)),
        "rediss-sentinel" => Some((Kind::Sentinel, true)),
        _ => None,
    }
}

/// What a server is to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It holds the sessions: the URL's credentials and database.
    Data,
    /// A sentinel: no credentials at connection (see [`Maker::auth_command`]) and no database
    /// (sentinels have none).
    Sentinel,
}

/// Makes the target of any server of one deployment: same credentials, database and TLS.
pub struct Maker {
    tls: Option<Arc<ClientConfig>>,
    /// `user:password@` as written in the URL (percent-encoded), or empty.
    userinfo: Zeroizing<String>,
    db: i64,
}

impl Maker {
    /// The target of the server at `host:port`, for `role`.
    pub fn target(&self, host: &str, port: u16, role: Role) -> Result<Target, String> {
        let scheme = if self.tls.is_some() { "rediss" } else { "redis" };
        let addr = addr_of(host, port);
        let userinfo = if role == Role::Sentinel { "" } else { self.userinfo.as_str() };
        let db = if role == Role::Data { self.db } else { 0 };
        let url = Zeroizing::new(format!("{scheme}://{userinfo}{addr}/{db}"));
        Target::parse(&url, self.tls.clone()).map_err(|e| format!("{addr}: {e}"))
    }

    /// Whether the URL carries credentials.
    pub fn has_credentials(&self) -> bool {
        !self.userinfo.is_empty()
    }

    /// The URL's credentials as a packed `AUTH` command (wiped when dropped), if it has any:
    /// for a server that answers `NOAUTH` on a connection opened without them.
    pub fn auth_command(&self) -> Option<Zeroizing<Vec<u8>>> {
        let url = Zeroizing::new(format!("redis://{}127.0.0.1/0", self.userinfo.as_str()));
        let info = url.as_str().into_connection_info().ok()?;
        let password = Zeroizing::new(info.redis.password?);
        let mut out = Zeroizing::new(Vec::new());
        match &info.redis.username {
            Some(user) => pack_into(&mut out, &[b"AUTH", user.as_bytes(), password.as_bytes()]),
            None => pack_into(&mut out, &[b"AUTH", password.as_bytes()]),
        }
        Some(out)
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

/// A parsed multi-server URL.
pub struct Seeds {
    /// The servers named, in order.
    pub hosts: Vec<(String, u16)>,
    /// Sentinel: the primary's name.
    pub master: Option<String>,
    /// Targets for these servers and any other of the deployment.
    pub maker: Maker,
}

impl std::fmt::Debug for Seeds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seeds").field("hosts", &self.hosts).field("master", &self.master).finish_non_exhaustive()
    }
}

/// Parses `url` (of kind `kind`, see [`kind_of`]); `tls` is the client configuration of a
/// `rediss-…` URL. Messages never contain the credentials.
pub fn parse(url: &str, kind: Kind, tls: Option<Arc<ClientConfig>>) -> Result<Seeds, String> {
    let rest = url.split_once("://").map(|(_, r)| r).ok_or("not a URL")?;
    match (kind_of(url).is_some_and(|(_, t)| t), tls.is_some()) {
        (true, false) => return Err("a rediss-… URL needs a TLS configuration".into()),
        (false, true) => return Err("TLS settings were given for a URL without TLS".into()),
        _ => {}
    }
    if rest.contains(['?', '#']) {
        return Err("query parameters and fragments are not supported in a multi-server URL".into());
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Zeroizing::new(format!("{u}@")), h),
        None => (Zeroizing::new(String::new()), authority),
    };
    let default_port = match kind {
        Kind::Cluster => CLUSTER_PORT,
        Kind::Sentinel => SENTINEL_PORT,
    };
    let hosts = hosts.split(',').map(|h| host_port(h.trim(), default_port)).collect::<Result<Vec<_>, _>>()?;
    if hosts.len() > MAX_SEEDS {
        return Err(format!("more than {MAX_SEEDS} servers"));
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (master, db) = match (kind, segments.as_slice()) {
        (Kind::Cluster, []) => (None, 0),
        (Kind::Cluster, ["0"]) => (None, 0),
        (Kind::Cluster, _) => return Err("a cluster has database 0 only: no path after the nodes".into()),
        (Kind::Sentinel, [m]) => (Some(m), 0),
        (Kind::Sentinel, [m, db]) => {
            (Some(m), db.parse::<i64>().map_err(|_| format!("{db:?} is not a database number"))?)
        }
        (Kind::Sentinel, _) => return Err("expected /<master-name>[/<db>] after the sentinels".into()),
    };
    let master = master.map(|m| m.to_string());
    if db < 0 {
        return Err("the database number is negative".into());
    }
    let maker = Maker { tls, userinfo, db };
    // Each server's target is made now once, so that a bad host or credential is refused here.
    for (h, p) in &hosts {
        maker.target(h, *p, Role::Data)?;
        maker.target(h, *p, Role::Sentinel)?;
    }
    Ok(Seeds { hosts, master, maker })
}

/// `host[:port]` or `[v6]:port`.
fn host_port(s: &str, default_port: u16) -> Result<(String, u16), String> {
    let bad = || format!("{s:?} is not host[:port]");
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        (h, after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => return Err(format!("{s:?}: write an IPv6 address in brackets")),
            None => (s, None),
        }
    };
    if host.is_empty() || host.contains(['@', '/', ' ']) {
        return Err(bad());
    }
    let port = match port {
        None => default_port,
        Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(bad)?,
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind_of("redis-cluster://a"), Some((Kind::Cluster, false)));
        assert_eq!(kind_of("REDISS-CLUSTER://a"), Some((Kind::Cluster, true)));
        assert_eq!(kind_of("redis-sentinel://a/m"), Some((Kind::Sentinel, false)));
        assert_eq!(kind_of("rediss-sentinel://a/m"), Some((Kind::Sentinel, true)));
        assert_eq!(kind_of("redis://a"), None);
        assert_eq!(kind_of("nothing"), None);
    }

    #[test]
    fn cluster_urls() {
        let s =
            parse("redis-cluster://127.0.0.1:7000,127.0.0.1:7001, [::1]:7002,10.0.0.9", Kind::Cluster, None).unwrap();
        assert_eq!(
            s.hosts,
            vec![
                ("127.0.0.1".into(), 7000),
                ("127.0.0.1".into(), 7001),
                ("::1".into(), 7002),
                ("10.0.0.9".into(), CLUSTER_PORT)
            ]
        );
        assert!(s.master.is_none() && !s.maker.has_credentials());
        let s = parse("redis-cluster://u:p%40w@127.0.0.1:7000/", Kind::Cluster, None).unwrap();
        assert!(s.maker.has_credentials());
        assert_eq!(s.maker.auth_command().unwrap().as_slice(), b"*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$3\r\np@w\r\n");
        let s = parse("redis-cluster://:pw@127.0.0.1:7000/", Kind::Cluster, None).unwrap();
        assert_eq!(s.maker.auth_command().unwrap().as_slice(), b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
        assert!(parse("redis-cluster://127.0.0.1", Kind::Cluster, None).unwrap().maker.auth_command().is_none());
        assert!(parse("redis-cluster://127.0.0.1:7000/3", Kind::Cluster, None).unwrap_err().contains("database 0"));
        assert!(parse("redis-cluster://127.0.0.1:x", Kind::Cluster, None).is_err());
        assert!(parse("redis-cluster://127.0.0.1:0", Kind::Cluster, None).is_err());
        assert!(parse("redis-cluster://", Kind::Cluster, None).is_err());
        assert!(parse("redis-cluster://a,,b", Kind::Cluster, None).is_err());
        assert!(parse("redis-cluster://::1:7000", Kind::Cluster, None).unwrap_err().contains("brackets"));
        assert!(parse("redis-cluster://a?x=1", Kind::Cluster, None).is_err());
        let e = parse("redis-cluster://user:secret@127.0.0.1:70000", Kind::Cluster, None).unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn sentinel_urls() {
        let s = parse("redis-sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/2", Kind::Sentinel, None).unwrap();
        assert_eq!(s.hosts.len(), 2);
        assert_eq!(s.master.as_deref(), Some("mymaster"));
        assert_eq!(s.maker.db, 2);
        let s = parse("redis-sentinel://127.0.0.1/m", Kind::Sentinel, None).unwrap();
        assert_eq!((s.hosts[0].1, s.maker.db), (SENTINEL_PORT, 0));
        assert!(parse("redis-sentinel://127.0.0.1", Kind::Sentinel, None).is_err());
        assert!(parse("redis-sentinel://127.0.0.1/m/x", Kind::Sentinel, None).is_err());
        assert!(parse("redis-sentinel://127.0.0.1/m/-1", Kind::Sentinel, None).is_err());
        assert!(parse("redis-sentinel://127.0.0.1/m/1/2", Kind::Sentinel, None).is_err());
        assert!(parse("rediss-sentinel://127.0.0.1/m", Kind::Sentinel, None).is_err(), "TLS needs a configuration");
    }
}
