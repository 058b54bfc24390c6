//! Which cache lists each libssl session (OpenSSL 3.0's `SSL_SESSION.owner`), so that
//! `SSL_SESSION_set_time` / `set_timeout` on a cached session move it to the place of its new
//! expiry, as in 3.0. libssl's own `owner` stays NULL, its cache being empty.
//!
//! A table keyed by the session's address, sharded so adds on many threads do not contend. An
//! entry lives from the add to the removal (eviction, flush, replacement); the cache holds a
//! reference all that time, so the address cannot be reused meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use sesscache::core::cache::Cache;
use sesscache::core::key::SessionKey;

use crate::handle::LibSession;

const SHARDS: usize = 64;

struct Owner {
    cache: Weak<Cache<LibSession>>,
    key: SessionKey,
}

static OWNERS: Lazy<Vec<Mutex<HashMap<usize, Owner>>>> =
    Lazy::new(|| (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect());

fn shard(addr: usize) -> &'static Mutex<HashMap<usize, Owner>> {
    // Sessions are heap objects: the low bits carry no information.
    &OWNERS[(addr >> 6) % SHARDS]
}

/// Records that `cache` lists the session at `addr` under `key`.
pub fn attach(addr: usize, cache: &Weak<Cache<LibSession>>, key: SessionKey) {
    shard(addr).lock().insert(addr, Owner { cache: cache.clone(), key });
}

/// Forgets the record of the session at `addr` if it names `cache`.
pub fn detach(addr: usize, cache: &Cache<LibSession>) {
    let mut map = shard(addr).lock();
    if map.get(&addr).is_some_and(|o| std::ptr::eq(o.cache.as_ptr(), cache)) {
        map.remove(&addr);
    }
}

/// The cache listing the session at `addr`, and its key there.
pub fn owner(addr: usize) -> Option<(Arc<Cache<LibSession>>, SessionKey)> {
    let map = shard(addr).lock();
    let o = map.get(&addr)?;
    Some((o.cache.upgrade()?, o.key))
}
