//! `Session`: sesscache's own `SSL_SESSION`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use zeroize::Zeroize;

use crate::abi::SSL_MAX_MASTER_KEY_LENGTH;

use super::entry::{Cacheable, Listing};
use super::key::{Bytes32, SessionKey};
use super::sync::TinyLock;
use super::time::Expiry;

/// The timeout of a bare `SSL_SESSION_new()`: 5 minutes + 4 seconds (ssl/ssl_sess.c).
pub const NEW_SESSION_TIMEOUT: i64 = 60 * 5 + 4;
/// The `verify_result` of a bare `SSL_SESSION_new()`: 1, deliberately not `X509_V_OK`.
pub const NEW_SESSION_VERIFY_RESULT: i64 = 1;
/// The largest master key OpenSSL 3.0 accepts (`TLS13_MAX_RESUMPTION_PSK_LENGTH`).
pub const MAX_MASTER_KEY_LENGTH: usize = 512;
/// `TLSEXT_max_fragment_length_UNSPECIFIED`, which 3.0's `SSL_SESSION_new` stores.
pub const MFL_UNSPECIFIED: u32 = 255;

/// The longest master key kept inline: `SSL_MAX_MASTER_KEY_LENGTH`, 48, every TLS 1.2 key.
const INLINE_KEY: usize = SSL_MAX_MASTER_KEY_LENGTH as usize;

/// A master key: 48 bytes inline (every TLS 1.2 key), longer ones (TLS 1.3 PSKs) on the heap.
#[derive(Clone)]
enum MasterKey {
    Inline { len: u8, buf: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

impl MasterKey {
    fn new(bytes: &[u8]) -> MasterKey {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE_KEY => {
                let mut buf = [0u8; INLINE_KEY];
                buf[..bytes.len()].copy_from_slice(bytes);
                MasterKey::Inline { len, buf }
            }
            _ => MasterKey::Heap(bytes.into()),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            MasterKey::Inline { len, buf } => &buf[..usize::from(*len)],
            MasterKey::Heap(b) => b,
        }
    }
}

impl Drop for MasterKey {
    /// OpenSSL cleanses the master key when a session dies; so do we, with volatile writes the
    /// compiler cannot elide (`zeroize`).
    fn drop(&mut self) {
        match self {
            MasterKey::Inline { buf, .. } => buf.zeroize(),
            MasterKey::Heap(b) => b.zeroize(),
        }
    }
}

/// Fields that only the DER codec uses; absent on sessions built through the API. Absent
/// optional fields hold the value that makes OpenSSL omit them from the encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// Raw DER of the peer certificate (`[3]`): the complete TLV, kept opaque.
    pub peer_cert: Option<Vec<u8>>,
    /// The SNI host name (`[6]`). Strings (this and `[7]`, `[8]`, `[12]`) are written up to
    /// their first NUL (OpenSSL stores C strings) and cut there on decode; `Some(empty)` is
    /// written as an empty string.
    pub hostname: Option<Vec<u8>>,
    /// PSK identity hint (`[7]`), a string.
    pub psk_identity_hint: Option<Vec<u8>>,
    /// PSK identity (`[8]`), a string.
    pub psk_identity: Option<Vec<u8>>,
    /// Ticket lifetime hint (`[9]`); 0 = omitted.
    pub tick_lifetime_hint: u64,
    /// Session ticket (`[10]`).
    pub ticket: Option<Vec<u8>>,
    /// Compression method (`[11]`); `None` and `Some(0)` are both omitted; decode yields `None`
    /// for a present `00` byte (OpenSSL's `compress_meth` 0).
    pub comp_id: Option<u8>,
    /// SRP user name (`[12]`), a string.
    pub srp_username: Option<Vec<u8>>,
    /// Session flags (`[13]`); bit 0 is extended master secret. 0 = omitted; decode keeps only
    /// the low 32 bits.
    pub flags: u64,
    /// TLS 1.3 ticket age add (`[14]`); 0 = omitted.
    pub tick_age_add: u32,
    /// TLS 1.3 max early data (`[15]`); 0 = omitted.
    pub max_early_data: u32,
    /// Selected ALPN protocol (`[16]`).
    pub alpn_selected: Option<Vec<u8>>,
    /// Ticket application data (`[18]`).
    pub ticket_appdata: Option<Vec<u8>>,
    /// Key exchange group (`[19]`); always written, even when 0.
    pub kex_group: u32,
}

/// The mutable fields of a session.
///
/// `repr(C)`, in this order: what a server's lookup reads of the session it resumes (time,
/// timeout, version, sid_ctx) comes first, so that with the reference count and the lock before
/// it, it spans two cache lines wherever the allocator puts the session (see [`Session`]).
#[derive(Clone)]
#[repr(C)]
pub struct Fields {
    /// Creation time, seconds since the epoch.
    pub time: i64,
    /// Lifetime in seconds.
    pub timeout: i64,
    /// `ssl_version`: part of the cache key.
    pub version: i32,
    /// The session-id context.
    pub sid_ctx: Bytes32,
    /// The session id: part of the cache key.
    pub id: Bytes32,
    master_key: MasterKey,
    /// The cipher's full id (`0x0300XXXX`), 0 when unset.
    pub cipher_id: u32,
    /// The peer verification result.
    pub verify_result: i64,
    /// `max_fragment_len_mode`.
    pub max_fragment_len_mode: u32,
    /// Rarely used DER fields.
    pub extras: Option<Box<Extras>>,
}

impl Fields {
    /// The master key.
    pub fn master_key(&self) -> &[u8] {
        self.master_key.as_slice()
    }

    /// Replaces the master key; `false` when longer than 512 bytes.
    pub fn set_master_key(&mut self, key: &[u8]) -> bool {
        if key.len() > MAX_MASTER_KEY_LENGTH {
            return false;
        }
        self.master_key = MasterKey::new(key);
        true
    }

    /// The expiry these fields give.
    pub fn expiry(&self) -> Expiry {
        Expiry::of(self.time, self.timeout)
    }
}

/// The number of [`Session`]s alive in this process: a leak check for tests and applications.
/// Striped, so creating sessions on many threads does not contend on one cache line.
pub static LIVE_SESSIONS: super::stats::Counter = super::stats::Counter::new();

/// sesscache's `SSL_SESSION`.
///
/// `repr(C)`, the fields first: in an `Arc`, the reference counts (16 bytes), the lock word (8)
/// and the first 53 bytes of the fields make the 77 bytes a resumption reads, which the
/// allocator's 16-byte alignment always leaves on two cache lines.
#[repr(C)]
pub struct Session {
    /// A reader-writer lock, not a mutex: C callers hold pointers into the fields
    /// (`SSL_SESSION_get_id`, `get0_id_context`, `get_master_key`) and read through them while
    /// other threads read the same session; a mutex's guard is a `&mut Fields`, which Rust's
    /// aliasing rules count as a write to every field, and so a data race with those reads (Miri's
    /// stress test found it). Reads take a shared reference.
    fields: RwLock<Fields>,
    not_resumable: AtomicBool,
    /// Where the session is cached, so that `set_time` can reposition it (3.0's `owner`).
    owner: TinyLock<Option<Listing>>,
}

/// A counted reference to a [`Session`]: what `SSL_SESSION *` stands for.
pub type SessionRef = Arc<Session>;

impl Session {
    /// `SSL_SESSION_new`: version 0, empty id, time `now`, timeout 304, verify_result 1.
    pub fn new(now: i64) -> Session {
        Session::with_fields(Fields {
            version: 0,
            id: Bytes32::EMPTY,
            sid_ctx: Bytes32::EMPTY,
            master_key: MasterKey::new(&[]),
            time: now,
            timeout: NEW_SESSION_TIMEOUT,
            cipher_id: 0,
            verify_result: NEW_SESSION_VERIFY_RESULT,
            max_fragment_len_mode: MFL_UNSPECIFIED,
            extras: None,
        })
    }

    /// A session with the given fields, resumable flag clear, in no cache.
    pub fn with_fields(fields: Fields) -> Session {
        LIVE_SESSIONS.bump();
        Session { fields: RwLock::new(fields), not_resumable: AtomicBool::new(false), owner: TinyLock::new(None) }
    }

    /// A snapshot of the fields.
    pub fn fields(&self) -> Fields {
        self.fields.read().clone()
    }

    /// Reads the fields under the session's lock.
    pub fn read<R>(&self, f: impl FnOnce(&Fields) -> R) -> R {
        f(&self.fields.read())
    }

    /// Changes fields that do not affect the cache (id, sid_ctx, master key, version, cipher).
    /// Like OpenSSL, a cached session is not rehashed: the cache keeps the key it was added with.
    pub fn update<R>(&self, f: impl FnOnce(&mut Fields) -> R) -> R {
        f(&mut self.fields.write())
    }

    /// `SSL_SESSION_set_time` / `set_timeout`: changes the time or timeout and, if a cache lists
    /// the session, moves it to the position of its new expiry (3.0 behaviour).
    pub fn update_expiry(self: &Arc<Self>, f: impl FnOnce(&mut Fields)) {
        f(&mut self.fields.write());
        let listing = *self.owner.lock();
        if let Some(l) = listing {
            if let Some(cache) = l.cache::<SessionRef>() {
                cache.reposition_listing(l);
            }
        }
    }

    /// True once the session was removed from a cache or evicted.
    pub fn is_not_resumable(&self) -> bool {
        self.not_resumable.load(Ordering::Relaxed)
    }

    /// Clears or sets the `not_resumable` flag directly (DER decoding starts clear).
    pub fn set_not_resumable(&self, v: bool) {
        self.not_resumable.store(v, Ordering::Relaxed);
    }

    /// `SSL_SESSION_is_resumable`: not marked, and an id or a ticket to resume with.
    pub fn is_resumable(&self) -> bool {
        !self.is_not_resumable()
            && self.read(|f| !f.id.is_empty() || f.extras.as_ref().is_some_and(|e| e.ticket.is_some()))
    }

    /// True when some cache lists the session (OpenSSL's `owner != NULL`).
    pub fn is_cached(&self) -> bool {
        let listing = *self.owner.lock();
        listing.is_some_and(|l| l.cache::<SessionRef>().is_some_and(|c| c.lists(l)))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        LIVE_SESSIONS.add(-1);
    }
}

impl Cacheable for SessionRef {
    fn key(&self) -> SessionKey {
        self.read(|f| SessionKey::new(f.version, f.id))
    }

    fn expiry(&self) -> Expiry {
        self.read(Fields::expiry)
    }

    fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(self, other)
    }

    fn mark_not_resumable(&self) {
        self.set_not_resumable(true);
    }

    fn is_marked_not_resumable(&self) -> bool {
        self.is_not_resumable()
    }

    fn stamp_time(&self, now: i64) {
        self.update(|f| f.time = now);
    }

    fn attach(&self, listing: Listing) {
        *self.owner.lock() = Some(listing);
    }

    fn reattach(&self, old: Listing, new: Listing) {
        let mut owner = self.owner.lock();
        if *owner == Some(old) {
            *owner = Some(new);
        }
    }

    fn detach(&self, listing: Listing) {
        let mut owner = self.owner.lock();
        if *owner == Some(listing) {
            *owner = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a resumption reads (the `Arc`'s counts, the lock, time, timeout, version, sid_ctx)
    /// lies in the first 80 bytes of the allocation: two cache lines at a 16-byte alignment.
    #[test]
    fn what_a_resumption_reads_is_at_the_front() {
        let s: SessionRef = Arc::new(Session::new(0));
        let start = Arc::as_ptr(&s) as usize - 2 * std::mem::size_of::<usize>();
        let end = s.read(|f| std::ptr::addr_of!(f.sid_ctx) as usize + std::mem::size_of::<Bytes32>());
        let first = s.read(|f| std::ptr::addr_of!(f.time) as usize);
        assert!(end - start <= 80, "{} bytes", end - start);
        assert!(first - start <= 24, "the fields start after the counts and the lock");
    }
}
