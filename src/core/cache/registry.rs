//! The registry of live caches, by id: how a listing finds its cache without holding a counted
//! reference to it.

use std::any::Any;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};

use once_cell::sync::Lazy;
use parking_lot::RwLock;

/// Every live cache by id, so that a session can find the cache that lists it without holding
/// a counted reference to it (which would make every add and drop touch one shared counter).
static CACHES: Lazy<RwLock<HashMap<NonZeroU32, Weak<dyn Any + Send + Sync>>>> = Lazy::new(Default::default);
static NEXT_CACHE_ID: AtomicU32 = AtomicU32::new(1);

/// The live cache registered under `id`, if it is a `T`.
pub(super) fn lookup<T: Any + Send + Sync>(id: NonZeroU32) -> Option<Arc<T>> {
    let any = CACHES.read().get(&id)?.upgrade()?;
    any.downcast::<T>().ok()
}

/// Registers the cache `make` builds from a fresh id. Ids are 32 bits (they sit in every
/// listing); after a wrap, 0 and ids still in use are skipped, so no two live caches ever share
/// one.
pub(super) fn register<T: Any + Send + Sync>(make: impl FnOnce(NonZeroU32) -> Arc<T>) -> Arc<T> {
    let mut caches = CACHES.write();
    let id = loop {
        match NonZeroU32::new(NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed)) {
            Some(id) if !caches.contains_key(&id) => break id,
            _ => {}
        }
    };
    let cache = make(id);
    let any: Arc<dyn Any + Send + Sync> = cache.clone();
    caches.insert(id, Arc::downgrade(&any));
    drop(caches);
    cache
}

/// Forgets the cache registered under `id` (its `Drop`).
pub(super) fn unregister(id: NonZeroU32) {
    CACHES.write().remove(&id);
}
