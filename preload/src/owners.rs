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
use sesscache::core::entry::Listing;

use crate::sys::session::LibSession;

const SHARDS: usize = 64;

type Owners = HashMap<usize, Weak<Listing<LibSession>>>;

static OWNERS: Lazy<Vec<Mutex<Owners>>> = Lazy::new(|| (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect());

fn shard(addr: usize) -> &'static Mutex<Owners> {
    // Sessions are heap objects: the low bits carry no information.
    &OWNERS[(addr >> 6) % SHARDS]
}

/// Records that a cache lists the session at `addr` (`listing`).
pub fn attach(addr: usize, listing: &Arc<Listing<LibSession>>) {
    shard(addr).lock().insert(addr, Arc::downgrade(listing));
}

/// Forgets the record of the session at `addr` if it is `listing`.
pub fn detach(addr: usize, listing: &Listing<LibSession>) {
    let mut map = shard(addr).lock();
    if map.get(&addr).is_some_and(|o| std::ptr::eq(o.as_ptr(), listing)) {
        map.remove(&addr);
    }
}

/// The listing of the session at `addr`, while its cache still lists it.
pub fn owner(addr: usize) -> Option<Arc<Listing<LibSession>>> {
    shard(addr).lock().get(&addr)?.upgrade()
}
