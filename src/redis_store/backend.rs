//! What the store talks to: one server, a Redis Cluster or a primary watched by sentinels,
//! chosen by the URL's scheme. Each runs an operation on the right server before the
//! operation's one deadline and says what it did ([`Events`]); the store above it keeps the
//! counters, the sealing and the commands.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Instant;

use redis::RedisResult;
use rustls::ClientConfig;

use super::cluster::Cluster;
use super::conn::{Conn, Target};
use super::node::{Events, Fail, Node, Pace};
use super::seeds::{self, Kind};
use super::sentinel::Sentinel;

/// The servers behind a store.
pub enum Backend {
    /// `redis://`, `rediss://`, `redis+unix://`: one server.
    Single(Node),
    /// `redis-cluster://`, `rediss-cluster://`: the primaries of a cluster, by key slot.
    Cluster(Cluster),
    /// `redis-sentinel://`, `rediss-sentinel://`: the primary the sentinels name.
    Sentinel(Sentinel),
}

impl Backend {
    /// The backend of `url`, with `tls` the client configuration when the URL asks for TLS;
    /// each server is paced by `pace`. Connects to nothing.
    pub fn open(url: &str, tls: Option<Arc<ClientConfig>>, pace: Pace) -> Result<Backend, String> {
        match seeds::kind_of(url) {
            None => Ok(Backend::Single(Node::new(String::new(), Target::parse(url, tls)?, pace))),
            Some((kind, _)) => {
                let seeds = seeds::parse(url, kind, tls)?;
                match kind {
                    Kind::Cluster => Ok(Backend::Cluster(Cluster::new(seeds, pace)?)),
                    Kind::Sentinel => Ok(Backend::Sentinel(Sentinel::new(seeds, pace)?)),
                }
            }
        }
    }

    /// Whether `url` asks for TLS: `rediss://` (or `valkeys://`), `rediss-cluster://`,
    /// `rediss-sentinel://`.
    pub fn wants_tls(url: &str) -> bool {
        match seeds::kind_of(url) {
            Some((_, tls)) => tls,
            None => redis::parse_redis_url(url).is_some_and(|u| matches!(u.scheme(), "rediss" | "valkeys")),
        }
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        match self {
            Backend::Single(n) => n.is_tls(),
            Backend::Cluster(c) => c.is_tls(),
            Backend::Sentinel(s) => s.is_tls(),
        }
    }

    /// Runs `op` for `key` on the server that holds it, before `deadline`.
    pub fn run<T>(
        &self,
        key: &[u8],
        deadline: Instant,
        ev: &mut Events,
        op: impl FnMut(&mut Conn) -> RedisResult<T>,
    ) -> Result<T, Fail> {
        match self {
            Backend::Single(n) => n.run(deadline, op),
            Backend::Cluster(c) => c.run(key, deadline, ev, op),
            Backend::Sentinel(s) => s.run(deadline, ev, op),
        }
    }
}
