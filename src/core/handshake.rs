//! What a TLS 1.2 session-ID handshake does to the cache, without TLS: OpenSSL's
//! `lookup_sess_in_cache`, `ssl_get_prev_session`, `ssl_get_new_session` with
//! `ssl_generate_session_id`, and `ssl_update_cache`, plus the counters around them.
//!
//! Connections here are treated as cleanly shut down: there is no TLS engine, hence no
//! "bad session" to clear when a connection is freed or given another session.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

// TLS1_2_VERSION: the version every driven handshake negotiates; TLS1_3_VERSION: what a fresh
// `SSL` reports before any handshake.
use crate::abi::{SSL_VERIFY_PEER, TLS1_2_VERSION, TLS1_3_VERSION};

use super::context::{RemoveHook, SessionCtx};
use super::entry::Cacheable;
use super::key::{Bytes32, SessionKey, MAX_ID_LENGTH};
use super::mode::CacheMode;
use super::session::{Session, SessionRef};
use super::stats::Stat;

/// The auto-flush runs when the low 8 bits of the `*_good` counter are all set
/// (`ssl_update_cache`): during the 256th, 512th, ... completed handshake.
pub const AUTO_FLUSH_MASK: i32 = 0xff;
/// `MAX_SESS_ID_ATTEMPTS`: draws of the default id generator before it gives up.
pub const MAX_SESS_ID_ATTEMPTS: usize = 10;
/// `X509_V_OK`.
pub const X509_V_OK: i64 = 0;

/// The versions for which OpenSSL generates a 32-byte server session id.
const KNOWN_VERSIONS: [i32; 8] = [0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x0100, 0xfeff, 0xfefd];

/// The application callbacks a handshake may run. Each runs with no sesscache lock held.
pub trait HandshakeHooks<H>: RemoveHook<H> {
    /// `get_session_cb(ssl, id, len, &copy)` with OpenSSL's reference rule already applied:
    /// the returned handle owns one reference whatever `*copy` said.
    fn get_session(&self, id: &[u8]) -> Option<H>;
    /// `new_session_cb(ssl, sess)` with its reference rule applied. `None` when no callback
    /// is installed.
    fn new_session(&self, s: &H);
    /// The application's `generate_session_id` callback: `None` when none is installed,
    /// otherwise the callback's verdict; it may shorten `len`.
    fn generate_id(&self, id: &mut [u8; MAX_ID_LENGTH], len: &mut u32) -> Option<bool>;
    /// Fills `buf` with random bytes (the default generator and master keys).
    fn random(&self, buf: &mut [u8]);
}

/// OpenSSL's `lookup_sess_in_cache(s, id, len)` for a connection of `version`.
pub fn lookup_in_cache<H: Cacheable>(
    ctx: &SessionCtx<H>,
    hooks: &impl HandshakeHooks<H>,
    version: i32,
    id: &[u8],
    now: i64,
) -> Option<H> {
    let mode = ctx.mode();
    if !mode.contains(CacheMode::NO_INTERNAL_LOOKUP) {
        let key = SessionKey::from_slice(version, id)?;
        // The mode's SERVER bit is not consulted: OpenSSL looks up even with caching off.
        if let Some(s) = ctx.cache().get(&key) {
            return Some(s);
        }
        ctx.stats().bump(Stat::Misses);
    }
    let s = hooks.get_session(id)?;
    // CVE-2024-2511 hardening (3.0.14+): a not-resumable session from the callback is dropped.
    if s.is_marked_not_resumable() {
        return None;
    }
    ctx.stats().bump(Stat::CbHits);
    if !mode.contains(CacheMode::NO_INTERNAL_STORE) {
        ctx.add_session(&s, now, hooks);
    }
    Some(s)
}

/// The cache-relevant state of one `SSL`. Every field is behind its own short lock or is an
/// atomic, and none is held while a callback runs, so callbacks may call back into the `SSL`.
pub struct Conn {
    server: AtomicBool,
    version: AtomicI32,
    session: Mutex<Option<SessionRef>>,
    hit: AtomicBool,
    sid_ctx: Mutex<Bytes32>,
    verify_mode: AtomicI32,
    completed: AtomicU32,
}

impl Conn {
    /// A fresh connection: version 0x0304 as OpenSSL reports before any handshake.
    pub fn new(server: bool, sid_ctx: Bytes32) -> Conn {
        Conn {
            server: AtomicBool::new(server),
            version: AtomicI32::new(TLS1_3_VERSION),
            session: Mutex::new(None),
            hit: AtomicBool::new(false),
            sid_ctx: Mutex::new(sid_ctx),
            verify_mode: AtomicI32::new(0),
            completed: AtomicU32::new(0),
        }
    }

    /// `SSL_is_server`.
    pub fn is_server(&self) -> bool {
        self.server.load(Ordering::Relaxed)
    }

    /// `SSL_set_accept_state` (true) / `SSL_set_connect_state` (false).
    pub fn set_server(&self, v: bool) {
        self.server.store(v, Ordering::Relaxed);
    }

    /// `SSL_version`.
    pub fn version(&self) -> i32 {
        self.version.load(Ordering::Relaxed)
    }

    /// The session (`SSL_get1_session`).
    pub fn session(&self) -> Option<SessionRef> {
        self.session.lock().clone()
    }

    /// Replaces the session; the previous one is returned so the caller drops it unlocked.
    pub fn replace_session(&self, s: Option<SessionRef>) -> Option<SessionRef> {
        std::mem::replace(&mut *self.session.lock(), s)
    }

    /// Reads the session pointer without taking a reference (`SSL_get_session`).
    pub fn with_session<R>(&self, f: impl FnOnce(Option<&SessionRef>) -> R) -> R {
        f(self.session.lock().as_ref())
    }

    /// `SSL_session_reused`.
    pub fn is_hit(&self) -> bool {
        self.hit.load(Ordering::Relaxed)
    }

    /// The connection's sid_ctx.
    pub fn sid_ctx(&self) -> Bytes32 {
        *self.sid_ctx.lock()
    }

    /// `SSL_set_session_id_context`.
    pub fn set_sid_ctx(&self, v: Bytes32) {
        *self.sid_ctx.lock() = v;
    }

    /// `SSL_get_verify_mode`.
    pub fn verify_mode(&self) -> i32 {
        self.verify_mode.load(Ordering::Relaxed)
    }

    /// `SSL_set_verify` (the mode only).
    pub fn set_verify_mode(&self, v: i32) {
        self.verify_mode.store(v, Ordering::Relaxed);
    }

    fn verify_peer_without_sid_ctx(&self) -> bool {
        self.verify_mode() & SSL_VERIFY_PEER != 0 && self.sid_ctx().is_empty()
    }
}

/// The outcome of [`server_lookup`], OpenSSL's `ssl_get_prev_session` return values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// 1: the session is resumed.
    Resumed,
    /// 0: no usable session; a full handshake follows.
    NotFound,
    /// -1: the handshake fails.
    Fatal,
}

/// The start of a handshake: `sess_connect`/`sess_accept` (or `*_renegotiate` when a handshake
/// already completed on this connection), TLS 1.2 negotiated, the reuse flag cleared.
pub fn start(ctx: &SessionCtx<SessionRef>, conn: &Conn) {
    let stat = match (conn.is_server(), conn.completed.load(Ordering::Relaxed) > 0) {
        (true, false) => Stat::Accept,
        (true, true) => Stat::AcceptRenegotiate,
        (false, false) => Stat::Connect,
        (false, true) => Stat::ConnectRenegotiate,
    };
    ctx.stats().bump(stat);
    conn.version.store(TLS1_2_VERSION, Ordering::Relaxed);
    conn.hit.store(false, Ordering::Relaxed);
}

/// `ssl_get_prev_session` for a TLS 1.2 ClientHello without a ticket.
pub fn server_lookup(
    ctx: &SessionCtx<SessionRef>,
    hooks: &impl HandshakeHooks<SessionRef>,
    conn: &Conn,
    id: &[u8],
    now: i64,
) -> Lookup {
    if id.len() > MAX_ID_LENGTH {
        // A ClientHello with a longer id is a decode error before any lookup.
        return Lookup::Fatal;
    }
    if id.is_empty() {
        return Lookup::NotFound;
    }
    let Some(cand) = lookup_in_cache(ctx, hooks, conn.version(), id, now) else {
        return Lookup::NotFound;
    };
    let (version, sid_ctx, expiry) = cand.read(|f| (f.version, f.sid_ctx, f.expiry()));
    if version != conn.version() || sid_ctx != conn.sid_ctx() {
        return Lookup::NotFound;
    }
    if conn.verify_peer_without_sid_ctx() {
        // SSL_R_SESSION_ID_CONTEXT_UNINITIALIZED
        return Lookup::Fatal;
    }
    if expiry.is_expired_at(now) {
        ctx.stats().bump(Stat::Timeouts);
        ctx.remove_session(&cand, hooks);
        return Lookup::NotFound;
    }
    ctx.stats().bump(Stat::Hits);
    drop(conn.replace_session(Some(cand)));
    conn.hit.store(true, Ordering::Relaxed);
    Lookup::Resumed
}

/// `ssl_generate_session_id`: the connection's or context's callback (chosen by the caller's
/// hooks), else random bytes; then OpenSSL's length and conflict checks.
fn generate_id(ctx: &SessionCtx<SessionRef>, hooks: &impl HandshakeHooks<SessionRef>, version: i32) -> Option<Bytes32> {
    if !KNOWN_VERSIONS.contains(&version) {
        return None;
    }
    let mut buf = [0u8; MAX_ID_LENGTH];
    let mut len = MAX_ID_LENGTH as u32;
    match hooks.generate_id(&mut buf, &mut len) {
        Some(false) => None,
        Some(true) => {
            let len = usize::try_from(len).ok().filter(|l| (1..=MAX_ID_LENGTH).contains(l))?;
            let id = &buf[..len];
            (!ctx.has_session(version, id)).then(|| Bytes32::new(id)).flatten()
        }
        None => (0..MAX_SESS_ID_ATTEMPTS).find_map(|_| {
            hooks.random(&mut buf);
            (!ctx.has_session(version, &buf)).then(|| Bytes32::new(&buf)).flatten()
        }),
    }
}

/// The cipher of the driver's new sessions: ECDHE-ECDSA-AES256-GCM-SHA384, what OpenSSL 3.0's
/// default cipher list negotiates for TLS 1.2 with a P-256 key (so that `i2d_SSL_SESSION`
/// encodes driver sessions).
pub const DRIVER_CIPHER_ID: u32 = 0x0300_c02c;

/// A full handshake's new server session (`ssl_get_new_session(s, 1)`). False when the id
/// could not be generated, which is fatal to the handshake.
pub fn server_new_session(
    ctx: &SessionCtx<SessionRef>,
    hooks: &impl HandshakeHooks<SessionRef>,
    conn: &Conn,
    now: i64,
) -> bool {
    drop(conn.replace_session(None));
    let Some(id) = generate_id(ctx, hooks, conn.version()) else {
        return false;
    };
    let mut master = [0u8; 48];
    hooks.random(&mut master);
    drop(conn.replace_session(Some(new_session(ctx, conn, id, &master, now))));
    true
}

/// A session as `ssl_get_new_session` builds it for `conn`.
fn new_session(ctx: &SessionCtx<SessionRef>, conn: &Conn, id: Bytes32, master: &[u8], now: i64) -> SessionRef {
    let s = Session::new(now);
    s.update(|f| {
        f.timeout = ctx.session_timeout();
        f.id = id;
        f.sid_ctx = conn.sid_ctx();
        f.version = conn.version();
        f.verify_result = X509_V_OK;
        f.cipher_id = DRIVER_CIPHER_ID;
        f.set_master_key(master);
    });
    Arc::new(s)
}

/// `ssl_update_cache(s, mode)` followed by the `*_good` counter (and, on a client, `sess_hit`),
/// as at the end of a TLS 1.2 handshake.
pub fn finish(ctx: &SessionCtx<SessionRef>, hooks: &impl HandshakeHooks<SessionRef>, conn: &Conn, now: i64) {
    update_cache(ctx, hooks, conn, now);
    conn.completed.fetch_add(1, Ordering::Relaxed);
    if conn.is_server() {
        ctx.stats().bump(Stat::AcceptGood);
    } else {
        if conn.is_hit() {
            ctx.stats().bump(Stat::Hits);
        }
        ctx.stats().bump(Stat::ConnectGood);
    }
}

/// OpenSSL's `ssl_update_cache` for a TLS 1.2 connection.
fn update_cache(ctx: &SessionCtx<SessionRef>, hooks: &impl HandshakeHooks<SessionRef>, conn: &Conn, now: i64) {
    let Some(s) = conn.session() else { return };
    let (empty_id, sid_ctx_empty) = s.read(|f| (f.id.is_empty(), f.sid_ctx.is_empty()));
    if empty_id || s.is_not_resumable() {
        return;
    }
    let server = conn.is_server();
    if server && sid_ctx_empty && conn.verify_mode() & SSL_VERIFY_PEER != 0 {
        return;
    }
    let mode = ctx.mode();
    let role = if server { CacheMode::SERVER } else { CacheMode::CLIENT };
    if mode.intersects(role) && !conn.is_hit() {
        if !mode.contains(CacheMode::NO_INTERNAL_STORE) {
            ctx.add_session(&s, now, hooks);
        }
        hooks.new_session(&s);
    }
    if !mode.contains(CacheMode::NO_AUTO_CLEAR) && mode.contains(role) {
        let good = ctx.stats().get(if server { Stat::AcceptGood } else { Stat::ConnectGood });
        if good & AUTO_FLUSH_MASK == AUTO_FLUSH_MASK {
            ctx.flush(now, hooks);
        }
    }
}

/// The two ends of a driven handshake, each with its context and hooks.
pub struct End<'a, K> {
    /// The connection's context.
    pub ctx: &'a SessionCtx<SessionRef>,
    /// The connection's callbacks.
    pub hooks: &'a K,
    /// The connection state.
    pub conn: &'a Conn,
}

/// What a fatal alert does to the session of the sending or receiving end.
fn fatal_alert<K: HandshakeHooks<SessionRef>>(end: &End<'_, K>) {
    if let Some(s) = end.conn.session() {
        end.ctx.remove_session(&s, end.hooks);
    }
}

/// A whole TLS 1.2 session-ID handshake between a client and a server: the client offers its
/// session if it is resumable, the server resumes it or makes a new one, and both ends update
/// their caches in the order real TLS finishes (full: server first; abbreviated: client first).
/// False when the handshake failed.
pub fn handshake<KC: HandshakeHooks<SessionRef>, KS: HandshakeHooks<SessionRef>>(
    client: &End<'_, KC>,
    server: &End<'_, KS>,
    now: i64,
) -> bool {
    client.conn.set_server(false);
    server.conn.set_server(true);
    start(client.ctx, client.conn);
    start(server.ctx, server.conn);
    let offered = client
        .conn
        .session()
        .filter(|s| s.is_resumable() && s.read(|f| f.version) == TLS1_2_VERSION)
        .map(|s| s.read(|f| f.id));
    if offered.is_none() {
        // A fresh client session with an empty id (`ssl_get_new_session(s, 0)`).
        let fresh = new_session(client.ctx, client.conn, Bytes32::EMPTY, &[], now);
        drop(client.conn.replace_session(Some(fresh)));
    }
    let offered_id = offered.unwrap_or(Bytes32::EMPTY);
    let mut lookup = server_lookup(server.ctx, server.hooks, server.conn, offered_id.as_slice(), now);
    if lookup == Lookup::NotFound && !server_new_session(server.ctx, server.hooks, server.conn, now) {
        lookup = Lookup::Fatal;
    }
    match lookup {
        Lookup::Fatal => {
            fatal_alert(server);
            fatal_alert(client);
            false
        }
        Lookup::Resumed => {
            client.conn.hit.store(true, Ordering::Relaxed);
            finish(client.ctx, client.hooks, client.conn, now);
            finish(server.ctx, server.hooks, server.conn, now);
            true
        }
        Lookup::NotFound => {
            if !offered_id.is_empty() {
                client.ctx.stats().bump(Stat::Misses);
            }
            // server_new_session succeeded, so the server has a session.
            let Some(ss) = server.conn.session() else { return false };
            if !server.ctx.mode().contains(CacheMode::SERVER) {
                // `tls_construct_server_hello`: a server whose context does not cache server
                // sessions empties the new session's id and sends it empty.
                ss.update(|f| f.id = Bytes32::EMPTY);
            }
            let (sent_id, master) = ss.read(|f| (f.id, f.master_key().to_vec()));
            let fresh = new_session(client.ctx, client.conn, sent_id, &master, now);
            drop(client.conn.replace_session(Some(fresh)));
            finish(server.ctx, server.hooks, server.conn, now);
            finish(client.ctx, client.hooks, client.conn, now);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    //! The handshake scenarios of spec Appendix A.3 (TLS 1.2, `SSL_OP_NO_TICKET`), driven
    //! through [`handshake`] with explicit times and deterministic test hooks.

    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::core::stats::Stat;
    use crate::test_rng::Rng;

    const T0: i64 = 1_700_000_000;

    /// Test callbacks: an external cache that keeps copies of new sessions (as an application
    /// storing DER would) and can serve them back; counters; a deterministic random source.
    #[derive(Default)]
    struct TestHooks {
        removed: Cell<usize>,
        new_calls: Cell<usize>,
        get_calls: Cell<usize>,
        keep_new: Cell<bool>,
        serve: Cell<bool>,
        external: RefCell<Vec<SessionRef>>,
        fixed_id: RefCell<Option<Vec<u8>>>,
        rand: RefCell<Rng>,
    }

    impl RemoveHook<SessionRef> for TestHooks {
        fn removed(&self, _s: &SessionRef) {
            self.removed.set(self.removed.get() + 1);
        }
    }

    impl HandshakeHooks<SessionRef> for TestHooks {
        fn get_session(&self, id: &[u8]) -> Option<SessionRef> {
            self.get_calls.set(self.get_calls.get() + 1);
            if !self.serve.get() {
                return None;
            }
            self.external.borrow().iter().find(|s| s.read(|f| f.id.as_slice() == id)).cloned()
        }

        fn new_session(&self, s: &SessionRef) {
            self.new_calls.set(self.new_calls.get() + 1);
            if self.keep_new.get() {
                // A copy, as after i2d/d2i: another object, resumable, in no cache.
                self.external.borrow_mut().push(Arc::new(Session::with_fields(s.fields())));
            }
        }

        fn generate_id(&self, id: &mut [u8; MAX_ID_LENGTH], len: &mut u32) -> Option<bool> {
            let fixed = self.fixed_id.borrow();
            let v = fixed.as_ref()?;
            id[..v.len()].copy_from_slice(v);
            *len = v.len() as u32;
            Some(true)
        }

        fn random(&self, buf: &mut [u8]) {
            let mut rng = self.rand.borrow_mut();
            buf.iter_mut().for_each(|b| *b = rng.byte());
        }
    }

    /// One end's context and callbacks.
    #[derive(Default)]
    struct Side {
        ctx: SessionCtx<SessionRef>,
        hooks: TestHooks,
    }

    impl Side {
        fn stat(&self, s: Stat) -> i32 {
            self.ctx.stats().get(s)
        }
        fn number(&self) -> usize {
            self.ctx.cache().len()
        }
    }

    /// A handshake on two fresh connections; the client offers `offer`. Returns (completed,
    /// client conn, server conn).
    fn hs(client: &Side, server: &Side, offer: Option<&SessionRef>, now: i64) -> (bool, Conn, Conn) {
        let cc = Conn::new(false, client.ctx.sid_ctx());
        let sc = Conn::new(true, server.ctx.sid_ctx());
        drop(cc.replace_session(offer.cloned()));
        let ok = handshake(
            &End { ctx: &client.ctx, hooks: &client.hooks, conn: &cc },
            &End { ctx: &server.ctx, hooks: &server.hooks, conn: &sc },
            now,
        );
        if ok {
            assert_eq!(cc.is_hit(), sc.is_hit(), "both ends agree on resumption");
            let ids = (cc.session().map(|s| s.read(|f| f.id)), sc.session().map(|s| s.read(|f| f.id)));
            assert_eq!(ids.0, ids.1, "both ends hold the same session id");
        }
        (ok, cc, sc)
    }

    fn pair() -> (Side, Side) {
        (Side::default(), Side::default())
    }

    #[test]
    fn full_then_resume() {
        let (c, s) = pair();
        let (ok, cc, sc) = hs(&c, &s, None, T0);
        assert!(ok && !sc.is_hit());
        assert_eq!(s.number(), 1);
        assert_eq!(s.hooks.new_calls.get(), 1);
        let cached = sc.session().unwrap();
        assert!(cached.is_cached());
        assert_eq!(cached.read(|f| (f.version, f.timeout, f.verify_result)), (TLS1_2_VERSION, 7200, X509_V_OK));
        let offer = cc.session().unwrap();
        let (ok, cc2, sc2) = hs(&c, &s, Some(&offer), T0 + 1);
        assert!(ok && sc2.is_hit() && cc2.is_hit());
        assert!(Arc::ptr_eq(&sc2.session().unwrap(), &cached), "the server resumed the cached object");
        assert_eq!(
            [Stat::Accept, Stat::AcceptGood, Stat::Hits, Stat::Misses, Stat::CbHits].map(|x| s.stat(x)),
            [2, 2, 1, 0, 0]
        );
        assert_eq!([Stat::Connect, Stat::ConnectGood, Stat::Hits].map(|x| c.stat(x)), [2, 2, 1]);
        assert_eq!(s.number(), 1);
        assert_eq!(c.number(), 0, "a default (SERVER) client context stores nothing");
        assert_eq!(s.hooks.new_calls.get(), 1, "a resumption makes no new session");
        s.ctx.cache().validate();
    }

    #[test]
    fn expired_candidate_is_removed() {
        let (c, s) = pair();
        let (_, cc, _) = hs(&c, &s, None, T0);
        let (ok, _, sc) = hs(&c, &s, cc.session().as_ref(), T0 + 7201);
        assert!(ok && !sc.is_hit());
        assert_eq!([Stat::Timeouts, Stat::Hits, Stat::Misses].map(|x| s.stat(x)), [1, 0, 0]);
        assert_eq!(s.hooks.removed.get(), 1);
        assert_eq!(s.number(), 1, "the old session went, the new one came");
        assert_eq!(c.stat(Stat::Misses), 1, "the client counts a refused offer");
        // Exactly at the expiry it still resumes.
        let (c, s) = pair();
        let (_, cc, _) = hs(&c, &s, None, T0);
        assert!(hs(&c, &s, cc.session().as_ref(), T0 + 7200).2.is_hit());
    }

    /// The external-cache scenarios: full handshake, internal copy removed, two resumptions.
    /// Returns (misses, cb_hits, hits, number) after each resumption.
    fn external(mode: CacheMode) -> Vec<[i64; 4]> {
        let (c, s) = pair();
        s.ctx.set_mode(mode.bits());
        s.hooks.keep_new.set(true);
        s.hooks.serve.set(true);
        let (ok, cc, sc) = hs(&c, &s, None, T0);
        assert!(ok);
        assert_eq!(s.hooks.external.borrow().len(), 1);
        if let Some(cached) = sc.session().filter(|x| x.is_cached()) {
            assert!(s.ctx.remove_session(&cached, &s.hooks));
        }
        let offer = cc.session().unwrap();
        let mut out = vec![];
        for i in 0..2 {
            let (ok, _, sc) = hs(&c, &s, Some(&offer), T0 + 1 + i);
            assert!(ok && sc.is_hit(), "resumption {i}");
            let [m, cb, h] = [Stat::Misses, Stat::CbHits, Stat::Hits].map(|x| i64::from(s.stat(x)));
            out.push([m, cb, h, s.number() as i64]);
            s.ctx.cache().validate();
        }
        out
    }

    #[test]
    fn external_cache_revives_into_the_internal_one() {
        assert_eq!(external(CacheMode::SERVER), [[1, 1, 1, 1], [1, 1, 2, 1]]);
    }

    #[test]
    fn external_cache_with_no_internal_store() {
        assert_eq!(external(CacheMode::SERVER | CacheMode::NO_INTERNAL_STORE), [[1, 1, 1, 0], [2, 2, 2, 0]]);
    }

    #[test]
    fn external_cache_with_no_internal_lookup() {
        assert_eq!(external(CacheMode::SERVER | CacheMode::NO_INTERNAL_LOOKUP), [[0, 1, 1, 1], [0, 2, 2, 1]]);
    }

    #[test]
    fn not_resumable_session_from_get_cb_is_refused() {
        let (c, s) = pair();
        s.hooks.keep_new.set(true);
        s.hooks.serve.set(true);
        let (_, cc, sc) = hs(&c, &s, None, T0);
        s.ctx.remove_session(&sc.session().unwrap(), &s.hooks);
        s.hooks.external.borrow()[0].mark_not_resumable();
        let (ok, _, sc) = hs(&c, &s, cc.session().as_ref(), T0 + 1);
        assert!(ok && !sc.is_hit(), "a full handshake follows");
        assert_eq!([Stat::Misses, Stat::CbHits, Stat::Hits].map(|x| s.stat(x)), [1, 0, 0]);
        assert_eq!(s.hooks.get_calls.get(), 1);
    }

    /// 300 handshakes: the first 255 at `T0`, the rest after every one of those expired.
    fn auto_clear(mode: CacheMode) -> (usize, usize, usize, usize) {
        let (c, s) = pair();
        s.ctx.set_mode(mode.bits());
        let mut after_255 = (0, 0);
        for i in 1..=300 {
            let now = if i <= 255 { T0 } else { T0 + 10_000 };
            assert!(hs(&c, &s, None, now).0);
            if i == 255 {
                after_255 = (s.hooks.removed.get(), s.number());
            }
            if i == 256 {
                return (after_255.0, after_255.1, s.hooks.removed.get(), s.number());
            }
        }
        unreachable!()
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn auto_clear_during_the_256th_handshake() {
        assert_eq!(auto_clear(CacheMode::SERVER), (0, 255, 255, 1));
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn no_auto_clear() {
        let (c, s) = pair();
        s.ctx.set_mode((CacheMode::SERVER | CacheMode::NO_AUTO_CLEAR).bits());
        for i in 0..300 {
            assert!(hs(&c, &s, None, if i < 255 { T0 } else { T0 + 10_000 }).0);
        }
        assert_eq!((s.hooks.removed.get(), s.number()), (0, 300));
        assert_eq!(s.stat(Stat::AcceptGood), 300);
    }

    #[test]
    fn sid_ctx_mismatch_is_a_silent_miss() {
        let (c, s) = pair();
        s.ctx.set_sid_ctx(Bytes32::new(b"A").unwrap());
        let (_, cc, _) = hs(&c, &s, None, T0);
        s.ctx.set_sid_ctx(Bytes32::new(b"B").unwrap());
        let (ok, _, sc) = hs(&c, &s, cc.session().as_ref(), T0 + 1);
        assert!(ok && !sc.is_hit());
        assert_eq!([Stat::Hits, Stat::Misses].map(|x| s.stat(x)), [0, 0]);
        assert_eq!(s.number(), 2);
    }

    #[test]
    fn verify_peer_without_sid_ctx_fails_resumption() {
        let (c, s) = pair();
        let (_, cc, _) = hs(&c, &s, None, T0);
        let ccon = Conn::new(false, Bytes32::EMPTY);
        let scon = Conn::new(true, Bytes32::EMPTY);
        scon.set_verify_mode(SSL_VERIFY_PEER);
        drop(ccon.replace_session(cc.session()));
        let ok = handshake(
            &End { ctx: &c.ctx, hooks: &c.hooks, conn: &ccon },
            &End { ctx: &s.ctx, hooks: &s.hooks, conn: &scon },
            T0 + 1,
        );
        assert!(!ok);
        assert_eq!([Stat::Accept, Stat::AcceptGood, Stat::Hits].map(|x| s.stat(x)), [2, 1, 0]);
        // With VERIFY_PEER and no sid_ctx a new server session is not cached either.
        let (c, s) = pair();
        let scon = Conn::new(true, Bytes32::EMPTY);
        scon.set_verify_mode(SSL_VERIFY_PEER);
        let ccon = Conn::new(false, Bytes32::EMPTY);
        let end_c = End { ctx: &c.ctx, hooks: &c.hooks, conn: &ccon };
        assert!(handshake(&end_c, &End { ctx: &s.ctx, hooks: &s.hooks, conn: &scon }, T0));
        assert_eq!((s.number(), s.hooks.new_calls.get()), (0, 0));
    }

    #[test]
    fn update_time_does_not_refresh_on_internal_hit() {
        let (c, s) = pair();
        s.ctx.set_mode((CacheMode::SERVER | CacheMode::UPDATE_TIME).bits());
        let (_, cc, sc) = hs(&c, &s, None, T0);
        let (ok, _, sc2) = hs(&c, &s, cc.session().as_ref(), T0 + 100);
        assert!(ok && sc2.is_hit());
        assert_eq!(sc.session().unwrap().read(|f| f.time), T0);
    }

    #[test]
    fn server_with_caching_off_sends_an_empty_id() {
        let (c, s) = pair();
        s.ctx.set_mode(CacheMode::empty().bits());
        let (ok, cc, sc) = hs(&c, &s, None, T0);
        assert!(ok);
        assert!(sc.session().unwrap().read(|f| f.id.is_empty()));
        assert!(!cc.session().unwrap().is_resumable());
        assert_eq!(s.number(), 0);
        let (ok, _, sc) = hs(&c, &s, cc.session().as_ref(), T0 + 1);
        assert!(ok && !sc.is_hit());
        assert_eq!([Stat::Misses, Stat::Hits].map(|x| s.stat(x)), [0, 0], "nothing offered, nothing looked up");
    }

    #[test]
    fn lookups_happen_with_caching_off() {
        let (_, s) = pair();
        s.ctx.set_mode(CacheMode::empty().bits());
        let sess = Arc::new(Session::new(T0));
        sess.update(|f| {
            f.version = TLS1_2_VERSION;
            f.id = Bytes32::new(&[5; 32]).unwrap();
        });
        assert!(s.ctx.add_session(&sess, T0, &s.hooks), "add works in every mode");
        let conn = Conn::new(true, Bytes32::EMPTY);
        start(&s.ctx, &conn);
        assert_eq!(server_lookup(&s.ctx, &s.hooks, &conn, &[5; 32], T0), Lookup::Resumed);
        assert_eq!(server_lookup(&s.ctx, &s.hooks, &conn, &[5; 33], T0), Lookup::Fatal);
        assert_eq!(server_lookup(&s.ctx, &s.hooks, &conn, &[], T0), Lookup::NotFound);
        assert_eq!(server_lookup(&s.ctx, &s.hooks, &conn, &[6; 32], T0), Lookup::NotFound);
        assert_eq!([Stat::Hits, Stat::Misses].map(|x| s.stat(x)), [1, 1]);
    }

    #[test]
    fn client_side_caching() {
        let (c, s) = pair();
        c.ctx.set_mode(CacheMode::CLIENT.bits());
        let (_, cc, _) = hs(&c, &s, None, T0);
        assert_eq!((c.number(), c.hooks.new_calls.get()), (1, 1));
        assert!(cc.session().unwrap().is_cached());
        let (ok, _, _) = hs(&c, &s, cc.session().as_ref(), T0 + 1);
        assert!(ok);
        assert_eq!((c.number(), c.hooks.new_calls.get()), (1, 1), "a client hit stores nothing");
    }

    #[test]
    fn renegotiation_counters() {
        let (c, s) = pair();
        let cc = Conn::new(false, Bytes32::EMPTY);
        let sc = Conn::new(true, Bytes32::EMPTY);
        for i in 0..2 {
            let ends =
                (End { ctx: &c.ctx, hooks: &c.hooks, conn: &cc }, End { ctx: &s.ctx, hooks: &s.hooks, conn: &sc });
            assert!(handshake(&ends.0, &ends.1, T0 + i));
        }
        assert_eq!([Stat::Accept, Stat::AcceptRenegotiate, Stat::AcceptGood].map(|x| s.stat(x)), [1, 1, 2]);
        assert_eq!([Stat::Connect, Stat::ConnectRenegotiate, Stat::ConnectGood].map(|x| c.stat(x)), [1, 1, 2]);
        assert!(sc.is_hit(), "the second handshake resumed the first session");
    }

    #[test]
    fn generated_ids_are_checked() {
        let (c, s) = pair();
        *s.hooks.fixed_id.borrow_mut() = Some(vec![9; 16]);
        let (ok, _, sc) = hs(&c, &s, None, T0);
        assert!(ok);
        assert_eq!(sc.session().unwrap().read(|f| f.id.as_slice().to_vec()), vec![9; 16]);
        // The same id again conflicts with the cached session: the handshake fails.
        assert!(!hs(&c, &s, None, T0).0);
        *s.hooks.fixed_id.borrow_mut() = Some(vec![]);
        assert!(!hs(&c, &s, None, T0).0, "an empty generated id is refused");
        assert_eq!(s.number(), 1);
    }
}
