//! The ABI fuzzer: random sequences of exported calls, with random, NULL, zero, negative and
//! oversized arguments, checked against a simple model. Shared by `tests/abi_fuzz.rs` (a seeded
//! random source) and `fuzz/fuzz_targets/abi.rs` (libFuzzer's bytes).
//!
//! Two worlds share one process:
//! - **M**, a context driven with the cache calls on a pool of sessions the fuzzer makes. The
//!   model knows its exact content and order (as `support/core_model.rs`), its counters, every
//!   `remove_cb` call, and each pool session's reference count: ours + the cache's + the probe
//!   `SSL`'s + an external store's (references that `remove_cb` frees when it sees the session).
//!   The `remove_cb` also re-enters (`SSL_CTX_sess_number`, a nested `SSL_CTX_remove_session`).
//! - **H**, a server and a client context driven with the handshake calls (`sesscache_handshake`,
//!   the step functions), with new/get/remove/generate callbacks that keep, lend, hand over and
//!   free sessions. The model checks the handshake counters and that nothing leaks.
//!
//! After each sequence everything is released and `sesscache_live_sessions()` must be back
//! where it started.
#![allow(dead_code, clippy::missing_safety_doc)]

use std::cell::{Cell, RefCell};
use std::os::raw::{c_int, c_long, c_uchar, c_uint};
use std::sync::Arc;

use sesscache::abi::*;
use sesscache::core::session::Session;
use sesscache::core::time::Expiry;
use sesscache::ffi::ctrl::*;
use sesscache::ffi::driver::*;
use sesscache::ffi::method::*;
use sesscache::ffi::ssl::*;
use sesscache::ffi::ssl_ctx::*;
use sesscache::ffi::ssl_session::*;

use super::core_model::Source;

const POOL: usize = 8;
const BUF: usize = 1024;

/// The strong count of a live session (the number of references on it).
fn strong(p: *mut SSL_SESSION) -> usize {
    // SAFETY: `p` is live (the model says someone holds a reference); ManuallyDrop keeps the
    // count unchanged.
    let a = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(p as *const Session) });
    Arc::strong_count(&a)
}

// ---- callback state (thread-local: callbacks run on the calling thread) ----

thread_local! {
    static RM_SEEN: RefCell<Vec<(usize, c_long)>> = const { RefCell::new(Vec::new()) };
    static RM_NESTED: RefCell<Vec<c_int>> = const { RefCell::new(Vec::new()) };
    static RM_REENTER: Cell<bool> = const { Cell::new(false) };
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// M's external store: references `remove_cb` frees when it sees their session.
    static EXTERNAL: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    /// H's external cache: references kept by `new_cb`, lent or handed over by `get_cb`,
    /// freed by `remove_cb`.
    static KEPT: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    static NEW_RET: Cell<c_int> = const { Cell::new(0) };
    static GET_COPY0: Cell<bool> = const { Cell::new(false) };
    static GEN_LEN: Cell<c_uint> = const { Cell::new(32) };
    static CB_CALLS: Cell<u64> = const { Cell::new(0) };
    static STATS: RefCell<Stats> = const { RefCell::new(Stats { operations: 0, evictions: 0, handshakes: 0, get_hits: 0 }) };
}

/// What the sequences exercised, so that a run can show it was not vacuous.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// Fuzzed operations.
    pub operations: u64,
    /// Sessions evicted from M.
    pub evictions: u64,
    /// Handshakes completed in H (each end counted).
    pub handshakes: u64,
    /// Sessions the get callback supplied.
    pub get_hits: u64,
}

/// Callbacks run so far on this thread, and the totals of [`Stats`].
pub fn exercised() -> (u64, Stats) {
    (CB_CALLS.get(), STATS.with_borrow(|s| *s))
}

unsafe extern "C" fn m_remove_cb(ctx: *mut SSL_CTX, sess: *mut SSL_SESSION) {
    CB_CALLS.set(CB_CALLS.get() + 1);
    let depth = DEPTH.get() + 1;
    DEPTH.set(depth);
    // SAFETY: the library passes a live context.
    let number = unsafe { SSL_CTX_sess_number(ctx) };
    RM_SEEN.with_borrow_mut(|v| v.push((sess as usize, number)));
    let ext = EXTERNAL.with_borrow_mut(|v| v.iter().position(|&p| p == sess as usize).map(|i| v.swap_remove(i)));
    if let Some(p) = ext {
        // SAFETY: the store's own reference; the library still holds the one it lends us.
        unsafe { SSL_SESSION_free(p as *mut SSL_SESSION) };
    }
    if depth == 1 && RM_REENTER.get() {
        // SAFETY: live arguments, lent for the call.
        let r = unsafe { SSL_CTX_remove_session(ctx, sess) };
        RM_NESTED.with_borrow_mut(|v| v.push(r));
    }
    DEPTH.set(depth - 1);
}

unsafe extern "C" fn h_remove_cb(ctx: *mut SSL_CTX, sess: *mut SSL_SESSION) {
    CB_CALLS.set(CB_CALLS.get() + 1);
    let depth = DEPTH.get() + 1;
    DEPTH.set(depth);
    let kept = KEPT.with_borrow_mut(|v| v.iter().position(|&p| p == sess as usize).map(|i| v.swap_remove(i)));
    if let Some(p) = kept {
        // SAFETY: our kept reference; the library lends another one for the call.
        unsafe { SSL_SESSION_free(p as *mut SSL_SESSION) };
    }
    if depth == 1 && RM_REENTER.get() {
        // SAFETY: live arguments.
        unsafe {
            SSL_CTX_sess_number(ctx);
            SSL_CTX_remove_session(ctx, sess);
            SSL_CTX_flush_sessions(ctx, 1);
        }
    }
    DEPTH.set(depth - 1);
}

unsafe extern "C" fn h_new_cb(_ssl: *mut SSL, sess: *mut SSL_SESSION) -> c_int {
    CB_CALLS.set(CB_CALLS.get() + 1);
    let ret = NEW_RET.get();
    if ret != 0 {
        KEPT.with_borrow_mut(|v| v.push(sess as usize));
    }
    ret
}

unsafe extern "C" fn h_get_cb(_ssl: *mut SSL, id: *const c_uchar, len: c_int, copy: *mut c_int) -> *mut SSL_SESSION {
    CB_CALLS.set(CB_CALLS.get() + 1);
    // SAFETY: the library passes `len` bytes and a writable `copy` preset to 1.
    let (want, preset) = unsafe { (std::slice::from_raw_parts(id, len as usize), *copy) };
    assert_eq!(preset, 1, "get_cb: *copy is preset to 1");
    let found = KEPT.with_borrow(|v| {
        v.iter().copied().find(|&p| {
            let mut n: c_uint = 0;
            // SAFETY: kept sessions are live.
            let got = unsafe { SSL_SESSION_get_id(p as *mut SSL_SESSION, &mut n) };
            // SAFETY: `got` points to `n` bytes of the session's id.
            n as usize == want.len() && unsafe { std::slice::from_raw_parts(got, n as usize) } == want
        })
    });
    let Some(p) = found else { return std::ptr::null_mut() };
    STATS.with_borrow_mut(|s| s.get_hits += 1);
    if GET_COPY0.get() {
        // SAFETY: live; the extra reference is handed to the library with *copy = 0.
        unsafe {
            SSL_SESSION_up_ref(p as *mut SSL_SESSION);
            *copy = 0;
        }
    }
    p as *mut SSL_SESSION
}

unsafe extern "C" fn h_gen_cb(_ssl: *mut SSL, id: *mut c_uchar, id_len: *mut c_uint) -> c_int {
    CB_CALLS.set(CB_CALLS.get() + 1);
    let n = GEN_LEN.get();
    // SAFETY: the library passes a 32-byte buffer and a writable length.
    unsafe {
        std::ptr::write_bytes(id, 0x42, (n as usize).min(32));
        *id_len = n;
    }
    1
}

// ---- the M world's model ----

struct Slot {
    ptr: *mut SSL_SESSION,
    ours: usize,
    id: Vec<u8>,
    version: c_int,
    time: c_long,
    timeout: c_long,
    master: Vec<u8>,
    not_resumable: bool,
}

impl Slot {
    fn key(&self) -> (i32, Vec<u8>) {
        (self.version, self.id.clone())
    }
    fn expiry(&self) -> Expiry {
        Expiry::of(self.time, self.timeout)
    }
}

#[derive(Default)]
struct MModel {
    slots: Vec<Option<Slot>>,
    entries: Vec<EntryK>,
    seq: u64,
    size: c_long,
    mode: c_long,
    timeout: c_long,
    cache_full: c_long,
    accept: c_long,
    probe_session: Option<usize>,
    probe_version: c_int,
    external: Vec<usize>,
}

#[derive(Clone, Debug)]
struct EntryK {
    obj: usize,
    key: (i32, Vec<u8>),
    expiry: Expiry,
    seq: u64,
}

impl MModel {
    fn find(&self, key: &(i32, Vec<u8>)) -> Option<usize> {
        self.entries.iter().position(|e| e.key == *key)
    }
    fn sorted_desc(&self) -> Vec<String> {
        let mut v = self.entries.clone();
        v.sort_by_key(|e| (e.expiry, e.seq));
        v.iter().map(|e| format!("{}:{:?}/{}", e.obj, e.expiry.parts(), e.seq)).collect()
    }
    fn cached(&self, obj: usize) -> bool {
        self.entries.iter().any(|e| e.obj == obj)
    }
    fn victim(&self) -> Option<usize> {
        (0..self.entries.len()).min_by_key(|&i| (self.entries[i].expiry, self.entries[i].seq))
    }
    fn refs(&self, obj: usize) -> usize {
        let s = self.slots[obj].as_ref().unwrap();
        s.ours
            + self.entries.iter().filter(|e| e.obj == obj).count()
            + usize::from(self.probe_session == Some(obj))
            + self.external.iter().filter(|&&o| o == obj).count()
    }
    fn obj_of(&self, p: usize) -> usize {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.ptr as usize == p))
            .expect("a session pointer the model does not know")
    }
    /// The callbacks a removal of `obj` produces: (object, number seen) pairs, nested included.
    fn expect_rm(&mut self, obj: usize, reenter: bool, number: c_long, out: &mut Vec<(usize, c_long)>) {
        out.push((obj, number));
        self.drop_external(obj);
        let s = self.slots[obj].as_ref().unwrap();
        if reenter && !s.id.is_empty() {
            out.push((obj, number));
            self.drop_external(obj);
        }
    }
    fn drop_external(&mut self, obj: usize) {
        if let Some(i) = self.external.iter().position(|&o| o == obj) {
            self.external.swap_remove(i);
        }
    }
}

// ---- the H world's model ----

struct HSsl {
    ptr: *mut SSL,
    ctx: usize,
    server: bool,
    completed: u32,
}

#[derive(Default, Clone, Copy, PartialEq, Debug)]
struct HCounters {
    connect: c_long,
    connect_good: c_long,
    connect_reneg: c_long,
    accept: c_long,
    accept_good: c_long,
    accept_reneg: c_long,
}

fn counters(ctx: *mut SSL_CTX) -> HCounters {
    // SAFETY: a live context.
    unsafe {
        HCounters {
            connect: SSL_CTX_sess_connect(ctx),
            connect_good: SSL_CTX_sess_connect_good(ctx),
            connect_reneg: SSL_CTX_sess_connect_renegotiate(ctx),
            accept: SSL_CTX_sess_accept(ctx),
            accept_good: SSL_CTX_sess_accept_good(ctx),
            accept_reneg: SSL_CTX_sess_accept_renegotiate(ctx),
        }
    }
}

fn count_start(c: &mut HCounters, s: &HSsl) {
    match (s.server, s.completed > 0) {
        (true, false) => c.accept += 1,
        (true, true) => c.accept_reneg += 1,
        (false, false) => c.connect += 1,
        (false, true) => c.connect_reneg += 1,
    }
}

fn count_done(c: &mut HCounters, s: &mut HSsl) {
    s.completed += 1;
    if s.server {
        c.accept_good += 1;
    } else {
        c.connect_good += 1;
    }
}

/// The fuzzer's state for one sequence.
pub struct Fuzz<'s, S: Source> {
    src: &'s mut S,
    /// Exported calls made (the callbacks' own calls not included), the model's read-backs of
    /// the counters after each operation included.
    pub calls: u64,
    /// Operations (fuzzed steps, each one or a few exported calls with fuzzed arguments).
    pub ops: u64,
    m: MModel,
    mctx: *mut SSL_CTX,
    probe: *mut SSL,
    hctx: [*mut SSL_CTX; 2],
    hssl: Vec<HSsl>,
    hcount: [HCounters; 2],
    /// References on H sessions we hold (from `SSL_get1_session`).
    hrefs: Vec<*mut SSL_SESSION>,
    buf: Vec<u8>,
    out: Vec<u8>,
}

/// A value of one of the interesting kinds for a `long` argument.
fn long_of(b: u8, r: u8) -> c_long {
    match b % 8 {
        0 => 0,
        1 => -1,
        2 => c_long::MIN,
        3 => c_long::MAX,
        4 => c_long::from(r),
        5 => -c_long::from(r),
        6 => c_long::from(r) << 24,
        _ => c_long::from(r % 8),
    }
}

impl<'s, S: Source> Fuzz<'s, S> {
    fn b(&mut self) -> Option<u8> {
        self.src.byte()
    }

    /// A length of interest for a buffer of `BUF` bytes: 0, small, 32, 33, or up to `BUF`.
    fn len(&mut self) -> Option<usize> {
        let b = self.b()?;
        Some(match b % 8 {
            0 => 0,
            1 => 32,
            2 => 33,
            3 => BUF,
            4 => usize::from(self.b()?) * 4 % (BUF + 1),
            _ => usize::from(b % 3),
        })
    }

    /// Fills the buffer with bytes from a tiny alphabet, so that ids collide.
    fn fill(&mut self) -> Option<()> {
        let b = self.b()?;
        for (i, x) in self.buf.iter_mut().enumerate() {
            *x = if b & 0x80 != 0 { b.wrapping_add(i as u8) } else { b % 3 };
        }
        Some(())
    }

    /// A live pool slot we hold a reference on, or `None` (meaning: pass NULL) for some bytes.
    fn slot(&mut self) -> Option<Option<usize>> {
        let b = self.b()?;
        if b % 9 == 0 {
            return Some(None);
        }
        let usable: Vec<usize> = (0..POOL).filter(|&i| self.m.slots[i].as_ref().is_some_and(|s| s.ours > 0)).collect();
        if usable.is_empty() {
            return Some(None);
        }
        Some(Some(usable[usize::from(b) % usable.len()]))
    }

    fn ptr(&self, slot: Option<usize>) -> *mut SSL_SESSION {
        slot.map_or(std::ptr::null_mut(), |i| self.m.slots[i].as_ref().unwrap().ptr)
    }

    fn maybe_null_ctx(&mut self, b: u8) -> *mut SSL_CTX {
        if b.is_multiple_of(11) {
            std::ptr::null_mut()
        } else {
            self.mctx
        }
    }

    fn take_rm(&mut self) -> (Vec<(usize, c_long)>, Vec<c_int>) {
        let seen = RM_SEEN.with_borrow_mut(std::mem::take);
        let nested = RM_NESTED.with_borrow_mut(std::mem::take);
        (seen.into_iter().map(|(p, n)| (self.m.obj_of(p), n)).collect(), nested)
    }

    fn check_rm(&mut self, want: Vec<(usize, c_long)>, what: &str) {
        let (got, nested) = self.take_rm();
        assert_eq!(got, want, "{what}: remove_cb calls (session, number seen)");
        assert!(nested.iter().all(|&r| r == 0), "{what}: a nested remove of a removed session returns 0");
    }

    /// One add of slot `o` to M, as the model sees it.
    fn model_add(&mut self, o: usize, reenter: bool) -> (c_int, Vec<(usize, c_long)>) {
        let s = self.m.slots[o].as_ref().unwrap();
        let key = s.key();
        let mut evicted = Vec::new();
        let mut is_new = true;
        match self.m.find(&key) {
            Some(i) if self.m.entries[i].obj == o => is_new = false,
            // A different object with the same key is replaced silently (no callback).
            Some(i) => drop(self.m.entries.swap_remove(i)),
            None => {}
        }
        if is_new {
            let cap = usize::try_from(self.m.size).unwrap_or(0);
            while cap > 0 && self.m.entries.len() + 1 >= cap {
                let Some(v) = self.m.victim() else { break };
                let e = self.m.entries.remove(v);
                evicted.push(e.obj);
            }
        }
        if let Some(i) = self.m.find(&key) {
            self.m.entries.remove(i);
        }
        self.m.seq += 1;
        let expiry = self.m.slots[o].as_ref().unwrap().expiry();
        self.m.entries.push(EntryK { obj: o, key, expiry, seq: self.m.seq });
        let number = self.m.entries.len() as c_long;
        let mut want = Vec::new();
        for v in evicted {
            self.m.cache_full += 1;
            self.m.slots[v].as_mut().unwrap().not_resumable = true;
            self.m.expect_rm(v, reenter, number, &mut want);
        }
        (c_int::from(is_new), want)
    }

    fn reposition(&mut self, o: usize) {
        if let Some(i) = self.m.entries.iter().position(|e| e.obj == o) {
            self.m.seq += 1;
            self.m.entries[i].expiry = self.m.slots[o].as_ref().unwrap().expiry();
            self.m.entries[i].seq = self.m.seq;
        }
    }

    /// Drops slots nobody holds any more (the library freed them).
    fn reap(&mut self) {
        for i in 0..POOL {
            if self.m.slots[i].is_some() && self.m.refs(i) == 0 {
                self.m.slots[i] = None;
            }
        }
    }

    /// Checks reference counts and counters after every operation.
    fn check(&mut self) {
        self.reap();
        for i in 0..POOL {
            if let Some(s) = &self.m.slots[i] {
                assert_eq!(strong(s.ptr), self.m.refs(i), "reference count of pool session {i}");
            }
        }
        // SAFETY: live context.
        unsafe {
            assert_eq!(SSL_CTX_sess_number(self.mctx), self.m.entries.len() as c_long, "M: sess_number");
            assert_eq!(SSL_CTX_sess_cache_full(self.mctx), self.m.cache_full, "M: cache_full");
            assert_eq!(SSL_CTX_sess_accept(self.mctx), self.m.accept, "M: accept");
            assert_eq!(SSL_CTX_sess_hits(self.mctx), 0, "M: hits");
            assert_eq!(SSL_CTX_sess_get_cache_size(self.mctx), self.m.size, "M: size");
            assert_eq!(SSL_CTX_get_session_cache_mode(self.mctx), self.m.mode, "M: mode");
        }
        for k in 0..2 {
            assert_eq!(counters(self.hctx[k]), self.hcount[k], "H context {k}: handshake counters");
        }
        self.calls += 18;
    }

    fn m_op(&mut self, op: u8) -> Option<()> {
        let reenter = RM_REENTER.get();
        match op % 16 {
            // SSL_SESSION_new
            0 => {
                self.calls += 1;
                let Some(free) = (0..POOL).find(|&i| self.m.slots[i].is_none()) else { return Some(()) };
                let p = SSL_SESSION_new();
                assert!(!p.is_null());
                // SAFETY: p is live.
                let (time, timeout) = unsafe { (SSL_SESSION_get_time(p), SSL_SESSION_get_timeout(p)) };
                assert_eq!(timeout, 304, "a new session's timeout");
                self.m.slots[free] = Some(Slot {
                    ptr: p,
                    ours: 1,
                    id: Vec::new(),
                    version: 0,
                    time,
                    timeout,
                    master: Vec::new(),
                    not_resumable: false,
                });
            }
            // up_ref / free (of our references)
            1 => {
                let (s, w) = (self.slot()?, self.b()?);
                let p = self.ptr(s);
                self.calls += 1;
                if w % 2 == 0 {
                    // SAFETY: NULL or a session we hold.
                    assert_eq!(unsafe { SSL_SESSION_up_ref(p) }, c_int::from(s.is_some()), "up_ref");
                    if let Some(i) = s {
                        self.m.slots[i].as_mut().unwrap().ours += 1;
                    }
                } else {
                    // SAFETY: NULL or a session we hold, whose reference we give up.
                    unsafe { SSL_SESSION_free(p) };
                    if let Some(i) = s {
                        self.m.slots[i].as_mut().unwrap().ours -= 1;
                    }
                }
            }
            // SSL_SESSION_set1_id / set_protocol_version (only on sessions M does not cache:
            // a cached session keeps its key, and re-adding it would list it twice)
            2 => {
                let (s, w) = (self.slot()?, self.b()?);
                if s.is_some_and(|i| self.m.cached(i)) {
                    return Some(());
                }
                let p = self.ptr(s);
                self.fill()?;
                let len = self.len()?;
                let null = w % 7 == 0;
                let src = if null { std::ptr::null() } else { self.buf.as_ptr() };
                self.calls += 2;
                // SAFETY: NULL or a session we hold; the buffer has BUF >= len bytes.
                let r = unsafe { SSL_SESSION_set1_id(p, src, len as c_uint) };
                let ok = s.is_some() && len <= 32 && (!null || len == 0);
                assert_eq!(r, c_int::from(ok), "set1_id(len {len}, null {null})");
                let v = if w % 2 == 0 { TLS1_2_VERSION } else { TLS1_3_VERSION };
                // SAFETY: NULL or a session we hold.
                let r = unsafe { SSL_SESSION_set_protocol_version(p, v) };
                assert_eq!(r, c_int::from(s.is_some()), "set_protocol_version");
                if let Some(i) = s {
                    let slot = self.m.slots[i].as_mut().unwrap();
                    if ok {
                        slot.id = self.buf[..len].to_vec();
                    }
                    slot.version = v;
                }
            }
            // SSL_SESSION_set_time / set_timeout: a cached session is repositioned
            3 => {
                let (s, w, r) = (self.slot()?, self.b()?, self.b()?);
                let p = self.ptr(s);
                let t = long_of(w >> 1, r);
                self.calls += 1;
                if w % 2 == 0 {
                    // SAFETY: NULL or a session we hold.
                    let got = unsafe { SSL_SESSION_set_time(p, t) };
                    assert_eq!(got, if s.is_some() { t } else { 0 }, "set_time returns its argument");
                    if let Some(i) = s {
                        self.m.slots[i].as_mut().unwrap().time = t;
                    }
                } else {
                    // SAFETY: as above.
                    let got = unsafe { SSL_SESSION_set_timeout(p, t) };
                    let ok = s.is_some() && t >= 0;
                    assert_eq!(got, c_long::from(ok), "set_timeout({t})");
                    if ok {
                        self.m.slots[s.unwrap()].as_mut().unwrap().timeout = t;
                        self.reposition(s.unwrap());
                    }
                    return Some(());
                }
                if let Some(i) = s {
                    self.reposition(i);
                }
            }
            // getters, compared with the model
            4 => {
                let (s, w) = (self.slot()?, self.b()?);
                let p = self.ptr(s);
                let mut n: c_uint = 99;
                let lenp = if w % 2 == 0 { std::ptr::null_mut() } else { &mut n as *mut c_uint };
                self.calls += 5;
                // SAFETY: NULL or a session we hold; `lenp` NULL or writable.
                unsafe {
                    let id = SSL_SESSION_get_id(p, lenp);
                    let ctx = SSL_SESSION_get0_id_context(p, std::ptr::null_mut());
                    match s.map(|i| self.m.slots[i].as_ref().unwrap()) {
                        None => {
                            assert!(id.is_null() && ctx.is_null(), "get_id(NULL)");
                            assert!(lenp.is_null() || n == 0, "get_id(NULL) stores 0");
                            assert_eq!(SSL_SESSION_get_time(p) + SSL_SESSION_get_timeout(p), 0);
                            assert_eq!(SSL_SESSION_is_resumable(p), 0);
                        }
                        Some(slot) => {
                            if !lenp.is_null() {
                                assert_eq!(std::slice::from_raw_parts(id, n as usize), &slot.id[..], "get_id");
                            }
                            assert_eq!(SSL_SESSION_get_time(p), slot.time, "get_time");
                            assert_eq!(SSL_SESSION_get_timeout(p), slot.timeout, "get_timeout");
                            assert_eq!(SSL_SESSION_get_protocol_version(p), slot.version, "version");
                            let resumable = !slot.not_resumable && !slot.id.is_empty();
                            assert_eq!(SSL_SESSION_is_resumable(p), c_int::from(resumable), "is_resumable");
                        }
                    }
                }
            }
            // master key: set with any length, get with any length
            5 => {
                let (s, w) = (self.slot()?, self.b()?);
                let p = self.ptr(s);
                self.fill()?;
                let len = if w % 4 == 0 { 513 } else { self.len()? };
                self.calls += 2;
                // SAFETY: the buffers have BUF >= len bytes (513 < BUF).
                let r = unsafe { SSL_SESSION_set1_master_key(p, self.buf.as_ptr(), len) };
                let ok = s.is_some() && len <= 512;
                assert_eq!(r, c_int::from(ok), "set1_master_key({len})");
                if ok {
                    self.m.slots[s.unwrap()].as_mut().unwrap().master = self.buf[..len].to_vec();
                }
                let outlen = self.len()?;
                let out = if w % 3 == 0 { std::ptr::null_mut() } else { self.out.as_mut_ptr() };
                // SAFETY: as above.
                let got = unsafe { SSL_SESSION_get_master_key(p, out, outlen) };
                let want = match s {
                    None => 0,
                    Some(i) => {
                        let mk = &self.m.slots[i].as_ref().unwrap().master;
                        if outlen == 0 {
                            mk.len()
                        } else if out.is_null() {
                            0
                        } else {
                            outlen.min(mk.len())
                        }
                    }
                };
                assert_eq!(got, want, "get_master_key(outlen {outlen})");
                if let (Some(i), false, true) = (s, out.is_null(), outlen > 0) {
                    assert_eq!(&self.out[..got], &self.m.slots[i].as_ref().unwrap().master[..got]);
                }
            }
            // SSL_CTX_add_session
            6..=8 => {
                let (s, c) = (self.slot()?, self.b()?);
                let ctx = self.maybe_null_ctx(c);
                let p = self.ptr(s);
                self.calls += 1;
                let (want, want_rm) = match s {
                    Some(i) if !ctx.is_null() => {
                        if self.m.mode & SSL_SESS_CACHE_UPDATE_TIME != 0 {
                            // The stamp is the library's clock: read it back after the call.
                            let before = sesscache::core::time::now() as c_long;
                            self.m.slots[i].as_mut().unwrap().time = before;
                        }
                        self.model_add(i, reenter)
                    }
                    _ => (0, Vec::new()),
                };
                // SAFETY: NULL or live arguments.
                let got = unsafe { SSL_CTX_add_session(ctx, p) };
                if let (Some(i), false) = (s, ctx.is_null()) {
                    if self.m.mode & SSL_SESS_CACHE_UPDATE_TIME != 0 {
                        // SAFETY: live.
                        let t = unsafe { SSL_SESSION_get_time(p) };
                        if t != self.m.slots[i].as_ref().unwrap().time {
                            // The clock ticked between our read and the library's: a rare
                            // race of the model's, not of the library's. Re-sync.
                            self.m.slots[i].as_mut().unwrap().time = t;
                            self.reposition(i);
                        }
                    }
                }
                assert_eq!(got, want, "add_session");
                self.check_rm(want_rm, "add_session");
                let cap = self.m.size;
                if want == 1 && cap > 0 {
                    // CVE-2024-2511: size N never holds more than N, whatever the ids.
                    assert!(self.m.entries.len() as c_long <= (cap - 1).max(1));
                }
            }
            // SSL_CTX_remove_session
            9 => {
                let (s, c) = (self.slot()?, self.b()?);
                let ctx = self.maybe_null_ctx(c);
                let p = self.ptr(s);
                self.calls += 1;
                let mut want_rm = Vec::new();
                let mut want = 0;
                if let (Some(i), false) = (s, ctx.is_null()) {
                    let key = self.m.slots[i].as_ref().unwrap().key();
                    if !key.1.is_empty() {
                        if let Some(e) = self.m.find(&key) {
                            self.m.entries.remove(e);
                            want = 1;
                        }
                        self.m.slots[i].as_mut().unwrap().not_resumable = true;
                        let number = self.m.entries.len() as c_long;
                        self.m.expect_rm(i, reenter, number, &mut want_rm);
                    }
                }
                // SAFETY: NULL or live arguments.
                let got = unsafe { SSL_CTX_remove_session(ctx, p) };
                assert_eq!(got, want, "remove_session");
                self.check_rm(want_rm, "remove_session");
            }
            // SSL_CTX_flush_sessions
            10 => {
                let (c, w, r) = (self.b()?, self.b()?, self.b()?);
                let ctx = self.maybe_null_ctx(c);
                let t = long_of(w, r);
                self.calls += 1;
                let mut removed = Vec::new();
                if !ctx.is_null() {
                    while let Some(v) = self.m.victim() {
                        let o = self.m.entries[v].obj;
                        if t != 0 && !self.m.slots[o].as_ref().unwrap().expiry().is_expired_at(t as i64) {
                            break;
                        }
                        self.m.entries.remove(v);
                        removed.push(o);
                    }
                }
                let number = self.m.entries.len() as c_long;
                let mut want_rm = Vec::new();
                for o in removed {
                    self.m.slots[o].as_mut().unwrap().not_resumable = true;
                    self.m.expect_rm(o, reenter, number, &mut want_rm);
                }
                // SAFETY: NULL or a live context.
                unsafe { SSL_CTX_flush_sessions(ctx, t) };
                self.check_rm(want_rm, "flush_sessions");
            }
            // SSL_CTX_ctrl with any command and argument (and the function forms)
            11 => {
                let (c, cmd, w, r) = (self.b()?, self.b()?, self.b()?, self.b()?);
                let ctx = self.maybe_null_ctx(c);
                let cmd = if cmd >= 200 { c_int::from(cmd) * -1000 } else { c_int::from(cmd % 60) };
                let mut larg = long_of(w, r);
                if cmd == SSL_CTRL_SET_SESS_CACHE_SIZE && w % 3 != 0 {
                    larg = c_long::from(r % 6); // mostly small sizes, so that eviction happens
                }
                if cmd == SSL_CTRL_SET_SESS_CACHE_MODE {
                    larg = if w % 2 == 0 { larg } else { c_long::from(r) << 2 & 0x7ff };
                }
                self.calls += 1;
                // SAFETY: NULL or a live context; parg is unused.
                let got = unsafe { SSL_CTX_ctrl(ctx, cmd, larg, std::ptr::null_mut()) };
                let want = if ctx.is_null() {
                    0
                } else {
                    match cmd {
                        SSL_CTRL_SESS_NUMBER => self.m.entries.len() as c_long,
                        SSL_CTRL_SESS_ACCEPT => self.m.accept,
                        SSL_CTRL_SESS_CACHE_FULL => self.m.cache_full,
                        21..=23 | 25..=30 => 0,
                        SSL_CTRL_SET_SESS_CACHE_SIZE if larg < 0 => 0,
                        SSL_CTRL_SET_SESS_CACHE_SIZE => std::mem::replace(&mut self.m.size, larg),
                        SSL_CTRL_GET_SESS_CACHE_SIZE => self.m.size,
                        SSL_CTRL_SET_SESS_CACHE_MODE => std::mem::replace(&mut self.m.mode, c_long::from(larg as u32)),
                        SSL_CTRL_GET_SESS_CACHE_MODE => self.m.mode,
                        _ => 0,
                    }
                };
                assert_eq!(got, want, "SSL_CTX_ctrl({cmd}, {larg})");
            }
            // SSL_CTX_set_timeout / get_timeout
            12 => {
                let (c, w, r) = (self.b()?, self.b()?, self.b()?);
                let ctx = self.maybe_null_ctx(c);
                let t = long_of(w, r);
                self.calls += 2;
                // SAFETY: NULL or a live context.
                let prev = unsafe { SSL_CTX_set_timeout(ctx, t) };
                if ctx.is_null() {
                    assert_eq!(prev, 0);
                } else {
                    assert_eq!(prev, std::mem::replace(&mut self.m.timeout, t), "set_timeout");
                }
                // SAFETY: as above.
                assert_eq!(unsafe { SSL_CTX_get_timeout(self.mctx) }, self.m.timeout);
            }
            // SSL_has_matching_session_id on the probe SSL, with any id and length
            13 => {
                let (w, c) = (self.b()?, self.b()?);
                self.fill()?;
                let len = self.len()?;
                let ssl = if c % 11 == 0 { std::ptr::null_mut() } else { self.probe };
                let null = w % 7 == 0;
                let src = if null { std::ptr::null() } else { self.buf.as_ptr() };
                self.calls += 1;
                // SAFETY: NULL or live; the buffer has BUF >= len bytes.
                let got = unsafe { SSL_has_matching_session_id(ssl, src, len as c_uint) };
                let want = !ssl.is_null()
                    && len <= 32
                    && (!null || len == 0)
                    && self.m.find(&(self.m.probe_version, self.buf[..len].to_vec())).is_some();
                assert_eq!(got, c_int::from(want), "has_matching_session_id(len {len}, null {null})");
            }
            // the probe SSL: handshake start (version 0x0303), set/get its session
            14 => {
                let (s, w) = (self.slot()?, self.b()?);
                self.calls += 1;
                match w % 4 {
                    0 => {
                        // SAFETY: live probe.
                        assert_eq!(unsafe { sesscache_handshake_start(self.probe) }, 1);
                        self.m.accept += 1;
                        self.m.probe_version = TLS1_2_VERSION;
                    }
                    1 => {
                        // SAFETY: live probe; NULL or a session we hold.
                        assert_eq!(unsafe { SSL_set_session(self.probe, self.ptr(s)) }, 1);
                        self.m.probe_session = s;
                    }
                    2 => {
                        // SAFETY: live probe.
                        let p = unsafe { SSL_get1_session(self.probe) };
                        assert_eq!(p, self.ptr(self.m.probe_session), "get1_session");
                        if let Some(i) = self.m.probe_session {
                            self.m.slots[i].as_mut().unwrap().ours += 1;
                        }
                    }
                    _ => {
                        // SAFETY: live probe.
                        let p = unsafe { SSL_get_session(self.probe) };
                        assert_eq!(p, self.ptr(self.m.probe_session), "get_session");
                    }
                }
            }
            // hand a reference to the external store (freed by remove_cb), or toggle re-entry
            _ => {
                let (s, w) = (self.slot()?, self.b()?);
                if w % 4 == 0 {
                    RM_REENTER.set(!RM_REENTER.get());
                } else if let Some(i) = s {
                    self.calls += 1;
                    // SAFETY: a session we hold.
                    unsafe { SSL_SESSION_up_ref(self.ptr(s)) };
                    EXTERNAL.with_borrow_mut(|v| v.push(self.m.slots[i].as_ref().unwrap().ptr as usize));
                    self.m.external.push(i);
                }
            }
        }
        Some(())
    }

    fn pick_hssl(&mut self) -> Option<Option<usize>> {
        let b = self.b()?;
        if b % 10 == 0 || self.hssl.is_empty() {
            return Some(None);
        }
        Some(Some(usize::from(b) % self.hssl.len()))
    }

    fn hptr(&self, i: Option<usize>) -> *mut SSL {
        i.map_or(std::ptr::null_mut(), |i| self.hssl[i].ptr)
    }

    fn h_op(&mut self, op: u8) -> Option<()> {
        match op % 12 {
            // SSL_new / SSL_free
            0 => {
                let w = self.b()?;
                self.calls += 1;
                if w % 3 == 0 && !self.hssl.is_empty() {
                    let i = usize::from(w) % self.hssl.len();
                    let s = self.hssl.swap_remove(i);
                    // SAFETY: our reference.
                    unsafe { SSL_free(s.ptr) };
                } else if self.hssl.len() < 6 {
                    let k = usize::from(w) % 2;
                    // SAFETY: a live context.
                    let p = unsafe { SSL_new(self.hctx[k]) };
                    assert!(!p.is_null());
                    self.hssl.push(HSsl { ptr: p, ctx: k, server: k == 0, completed: 0 });
                } else {
                    // SAFETY: NULL is answered with NULL.
                    assert!(unsafe { SSL_new(std::ptr::null_mut()) }.is_null());
                }
            }
            // a whole handshake between any two (NULL, the same one, other contexts)
            1..=3 => {
                let (a, b) = (self.pick_hssl()?, self.pick_hssl()?);
                self.calls += 1;
                // SAFETY: NULL or live SSLs.
                let r = unsafe { sesscache_handshake(self.hptr(a), self.hptr(b)) };
                match (a, b) {
                    (Some(a), Some(b)) if a != b => {
                        self.hssl[a].server = false;
                        self.hssl[b].server = true;
                        count_start(&mut self.hcount[self.hssl[a].ctx], &self.hssl[a]);
                        count_start(&mut self.hcount[self.hssl[b].ctx], &self.hssl[b]);
                        if r == 1 {
                            let (ca, cb) = (self.hssl[a].ctx, self.hssl[b].ctx);
                            count_done(&mut self.hcount[ca], &mut self.hssl[a]);
                            count_done(&mut self.hcount[cb], &mut self.hssl[b]);
                        }
                    }
                    _ => assert_eq!(r, 0, "handshake with NULL or twice the same SSL"),
                }
            }
            // the step functions, with any id and length
            4..=6 => {
                let (x, w) = (self.pick_hssl()?, self.b()?);
                let p = self.hptr(x);
                self.calls += 1;
                match w % 4 {
                    0 => {
                        // SAFETY: NULL or live.
                        let r = unsafe { sesscache_handshake_start(p) };
                        assert_eq!(r, c_int::from(x.is_some()));
                        if let Some(i) = x {
                            count_start(&mut self.hcount[self.hssl[i].ctx], &self.hssl[i]);
                        }
                    }
                    1 => {
                        self.fill()?;
                        let len = self.len()?;
                        // Offer a kept session's id sometimes.
                        let kept = KEPT.with_borrow(|v| v.first().copied());
                        if let (Some(k), true) = (kept, w & 0x10 != 0) {
                            let mut n: c_uint = 0;
                            // SAFETY: kept sessions are live.
                            let id = unsafe { SSL_SESSION_get_id(k as *mut SSL_SESSION, &mut n) };
                            // SAFETY: `id` has `n` <= 32 bytes.
                            let id = unsafe { std::slice::from_raw_parts(id, n as usize) }.to_vec();
                            self.buf[..id.len()].copy_from_slice(&id);
                        }
                        let null = w & 0x20 != 0;
                        let src = if null { std::ptr::null() } else { self.buf.as_ptr() };
                        // SAFETY: NULL or live; the buffer has BUF >= len bytes.
                        let r = unsafe { sesscache_server_lookup(p, src, len as c_uint) };
                        if x.is_none() || len > 32 || (null && len > 0) {
                            assert_eq!(r, -1, "server_lookup: bad arguments fail the handshake");
                        } else {
                            assert!((-1..=1).contains(&r));
                        }
                    }
                    2 => {
                        // SAFETY: NULL or live.
                        let r = unsafe { sesscache_server_new_session(p) };
                        if x.is_none() {
                            assert_eq!(r, 0);
                        }
                    }
                    _ => {
                        // SAFETY: NULL or live.
                        let r = unsafe { sesscache_handshake_done(p) };
                        assert_eq!(r, c_int::from(x.is_some()));
                        if let Some(i) = x {
                            let c = self.hssl[i].ctx;
                            count_done(&mut self.hcount[c], &mut self.hssl[i]);
                        }
                    }
                }
            }
            // roles, sessions moved between SSLs, references we keep
            7 => {
                let (x, y, w) = (self.pick_hssl()?, self.pick_hssl()?, self.b()?);
                self.calls += 1;
                match w % 5 {
                    0 => {
                        // SAFETY: NULL or live.
                        unsafe { SSL_set_accept_state(self.hptr(x)) };
                        if let Some(i) = x {
                            self.hssl[i].server = true;
                        }
                    }
                    1 => {
                        // SAFETY: NULL or live.
                        unsafe { SSL_set_connect_state(self.hptr(x)) };
                        if let Some(i) = x {
                            self.hssl[i].server = false;
                        }
                    }
                    2 => {
                        // SAFETY: NULL or live.
                        let s = unsafe { SSL_get1_session(self.hptr(x)) };
                        if !s.is_null() {
                            self.hrefs.push(s);
                        }
                    }
                    3 => {
                        let s = self.hrefs.last().copied().unwrap_or(std::ptr::null_mut());
                        // SAFETY: NULL or live; the SSL takes its own reference.
                        let r = unsafe { SSL_set_session(self.hptr(y), s) };
                        assert_eq!(r, c_int::from(y.is_some()));
                    }
                    _ => {
                        if let Some(s) = self.hrefs.pop() {
                            // SAFETY: our reference.
                            unsafe { SSL_SESSION_free(s) };
                        }
                    }
                }
            }
            // context settings: mode, size, timeout (any values), callbacks' behaviour
            8 => {
                let (k, w, r) = (self.b()?, self.b()?, self.b()?);
                let ctx = self.hctx[usize::from(k) % 2];
                self.calls += 1;
                // SAFETY: a live context.
                unsafe {
                    match w % 6 {
                        0 => {
                            let modes = [
                                SSL_SESS_CACHE_SERVER,
                                SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE,
                                SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_LOOKUP,
                                SSL_SESS_CACHE_BOTH | SSL_SESS_CACHE_NO_INTERNAL,
                                SSL_SESS_CACHE_OFF,
                                c_long::from(r) << 2 & 0x7ff | c_long::from(r & 3),
                            ];
                            SSL_CTX_set_session_cache_mode(ctx, modes[usize::from(r >> 2) % modes.len()]);
                        }
                        1 => {
                            SSL_CTX_sess_set_cache_size(
                                ctx,
                                if r % 4 == 0 { long_of(r, w) } else { c_long::from(r % 5) },
                            );
                        }
                        2 => {
                            SSL_CTX_set_timeout(ctx, long_of(r, w));
                        }
                        3 => NEW_RET.set(c_int::from(r % 2 == 0)),
                        4 => GET_COPY0.set(r % 2 == 0),
                        _ => {
                            GEN_LEN.set([0, 1, 32, 33][usize::from(r % 4)]);
                            let cb = if r & 0x10 != 0 { Some(h_gen_cb as _) } else { None };
                            SSL_CTX_set_generate_session_id(ctx, cb);
                        }
                    }
                }
            }
            // flush with any time; has_matching on an H SSL
            9 | 10 => {
                let (k, w, r) = (self.b()?, self.b()?, self.b()?);
                self.calls += 1;
                if w % 2 == 0 {
                    // SAFETY: a live context.
                    unsafe { SSL_CTX_flush_sessions(self.hctx[usize::from(k) % 2], long_of(r, w)) };
                } else {
                    let x = self.pick_hssl()?;
                    self.fill()?;
                    let len = self.len()?;
                    // SAFETY: NULL or live; the buffer has BUF >= len bytes.
                    let got = unsafe { SSL_has_matching_session_id(self.hptr(x), self.buf.as_ptr(), len as c_uint) };
                    if x.is_none() || len > 32 {
                        assert_eq!(got, 0);
                    }
                }
            }
            // remove the session of an SSL from its context (as a fatal alert would)
            _ => {
                let x = self.pick_hssl()?;
                if let Some(i) = x {
                    self.calls += 2;
                    let ctx = self.hctx[self.hssl[i].ctx];
                    // SAFETY: live; the borrowed session is used before any other call.
                    unsafe {
                        let s = SSL_get1_session(self.hssl[i].ptr);
                        SSL_CTX_remove_session(ctx, s);
                        SSL_SESSION_free(s);
                    }
                }
            }
        }
        Some(())
    }
}

/// Runs one sequence from `src`; panics on a mismatch. Returns the number of exported calls.
pub fn run<S: Source>(src: &mut S) -> u64 {
    let live_before = sesscache_live_sessions();
    RM_REENTER.set(false);
    NEW_RET.set(1);
    GET_COPY0.set(false);
    // SAFETY: fresh contexts from static methods; callbacks are valid for the program's life.
    let (mctx, hs, hc) = unsafe {
        (SSL_CTX_new(TLS_server_method()), SSL_CTX_new(TLS_server_method()), SSL_CTX_new(TLS_client_method()))
    };
    // SAFETY: live contexts.
    let probe = unsafe {
        SSL_CTX_sess_set_remove_cb(mctx, Some(m_remove_cb));
        for c in [hs, hc] {
            SSL_CTX_sess_set_remove_cb(c, Some(h_remove_cb));
            SSL_CTX_sess_set_new_cb(c, Some(h_new_cb));
            SSL_CTX_sess_set_get_cb(c, Some(h_get_cb));
        }
        SSL_CTX_set_session_cache_mode(hc, SSL_SESS_CACHE_BOTH);
        SSL_new(mctx)
    };
    let mut f = Fuzz {
        src,
        calls: 12,
        ops: 0,
        m: MModel {
            slots: (0..POOL).map(|_| None).collect(),
            size: SSL_SESSION_CACHE_MAX_SIZE_DEFAULT,
            mode: SSL_SESS_CACHE_SERVER,
            timeout: 7200,
            probe_version: TLS1_3_VERSION,
            ..MModel::default()
        },
        mctx,
        probe,
        hctx: [hs, hc],
        hssl: Vec::new(),
        hcount: [HCounters::default(); 2],
        hrefs: Vec::new(),
        buf: vec![0; BUF],
        out: vec![0; BUF],
    };
    // ABI_TRACE=1 prints M's model after each of its operations (to debug a mismatch).
    let trace = std::env::var_os("ABI_TRACE").is_some();
    while let Some(op) = f.b() {
        f.ops += 1;
        let done = if op & 0x80 == 0 { f.m_op(op) } else { f.h_op(op) };
        if trace && op & 0x80 == 0 {
            let ents: Vec<String> = f.m.sorted_desc();
            eprintln!("op {} mode {:#x} size {} -> {:?}", op % 16, f.m.mode, f.m.size, ents);
        }
        if done.is_none() {
            break;
        }
        f.check();
    }
    STATS.with_borrow_mut(|st| {
        st.evictions += f.m.cache_full as u64;
        st.operations += f.ops;
        st.handshakes += f.hcount.iter().map(|c| (c.accept_good + c.connect_good) as u64).sum::<u64>();
    });
    let calls = f.calls + teardown(f);
    assert_eq!(sesscache_live_sessions(), live_before, "sessions leaked by the sequence");
    calls
}

/// Releases everything: our references, the SSLs, the contexts (whose final flush runs the
/// remove callbacks, which free the stores' references), then what the stores still hold.
fn teardown<S: Source>(mut f: Fuzz<'_, S>) -> u64 {
    let mut calls = 0;
    // SAFETY: every pointer below is one we own a reference on, released once.
    unsafe {
        for s in f.hssl.drain(..) {
            SSL_free(s.ptr);
            calls += 1;
        }
        for s in f.hrefs.drain(..) {
            SSL_SESSION_free(s);
            calls += 1;
        }
        SSL_free(f.probe);
        for slot in f.m.slots.iter().flatten() {
            for _ in 0..slot.ours {
                SSL_SESSION_free(slot.ptr);
                calls += 1;
            }
        }
        for c in [f.mctx, f.hctx[0], f.hctx[1]] {
            SSL_CTX_free(c);
        }
        calls += 4;
        for p in EXTERNAL.with_borrow_mut(std::mem::take).into_iter().chain(KEPT.with_borrow_mut(std::mem::take)) {
            SSL_SESSION_free(p as *mut SSL_SESSION);
            calls += 1;
        }
    }
    RM_SEEN.with_borrow_mut(Vec::clear);
    RM_NESTED.with_borrow_mut(Vec::clear);
    calls
}
