//! When a process writes its file: a writer thread that looks for changes once a second while
//! the caches are in use, the exit, the program's SIGTERM and SIGINT, and what a fork does.
//!
//! - Nothing runs before a context started a handshake: the nginx master, `nginx -t`, an
//!   apache parent never start the thread, never open a descriptor and never write.
//!   [`handshake`] (our get and new callbacks, which libssl calls only in a handshake) says so
//!   at once; otherwise [`tick`] looks at the contexts' accept and connect counters, at most
//!   every [`CHECK_MS`].
//! - [`tick`] (every `SSL_new`, every cache event, every callback and Redis operation) marks
//!   the process dirty: two atomic loads on the fast path. The writer thread wakes once a
//!   second, writes the file if its content changed, and after [`LINGER_POLLS`] quiet seconds
//!   sleeps until the next tick. A handshake that ends after its last tick is still seen,
//!   within a second.
//! - At exit (`atexit`) the file is written a last time with `sesscache_process_exited 1`.
//! - SIGTERM and SIGINT: see `process::chain_signal`. The handler hands the write to the writer
//!   thread through a pipe and waits for it, at most [`SIGNAL_WAIT_MS`], then chains to the
//!   program's own disposition (re-raising the default action when it had none).
//! - Fork: the child has no writer thread and its own file. A child forked after its parent
//!   handshook inherits the parent's counters: it writes only once it makes a connection
//!   ([`connection`], `SSL_new`) or a handshake of its own, so a helper that the serving process
//!   forks and that exits without TLS (socat's `SYSTEM:`, a CGI) writes no second copy of the
//!   parent's counts. `pthread_atfork` handlers hold
//!   this module's locks across the fork (so no lock is left taken in the child), close the
//!   child's copies of the pipes and give it a fresh state; its first tick starts its own
//!   thread with its own pipes. The pipes exist only in a process whose writer runs (opened
//!   when it starts), so a program that closes every descriptor after a fork never closes
//!   ours under us.

use std::cell::RefCell;
use std::ffi::c_int;
use std::fs::{OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU64, Ordering::*};
use std::sync::{Mutex, MutexGuard, OnceLock};

use sesscache::core::time;

use super::registry::{self, lock_until, Registry};
use super::render::{self, Process, Redis};
use crate::config::config;
use crate::fleet;
use crate::sys::process;
use crate::sys::{guard, stderr_line};

/// A file is rewritten at most this often, and the writer looks for changes this often.
const PERIOD_MS: i64 = 1000;
/// Quiet periods after which the writer sleeps until the next tick.
const LINGER_POLLS: u32 = 60;
/// The longest a signal handler, or the exit, waits for a write.
const SIGNAL_WAIT_MS: i64 = 1000;
/// The signals after which the file is written before the program's own disposition runs.
const SIGNALS: [c_int; 2] = [libc::SIGTERM, libc::SIGINT];
/// Before the process is known to handshake, ticks look at its counters at most this often.
const CHECK_MS: i64 = 100;

static DIRTY: AtomicBool = AtomicBool::new(false);
/// The writer sleeps until a tick writes to the wake pipe.
static PARKED: AtomicBool = AtomicBool::new(false);
/// A writer thread was started in this process (reset in a fork's child).
static STARTED: AtomicBool = AtomicBool::new(false);
static SPAWN_FAILED: AtomicBool = AtomicBool::new(false);
/// The process whose writer thread runs, for the signal handler.
static WRITER_PID: AtomicI32 = AtomicI32::new(0);
/// A context of this process started a handshake: it writes its file from now on.
static USED: AtomicBool = AtomicBool::new(false);
/// This process was forked from one that had handshaken: its counters start from the
/// parent's, so they do not show whether it handshakes itself; only [`connection`] and
/// [`handshake`] do.
static INHERITED: AtomicBool = AtomicBool::new(false);
/// Set by `fork_prepare` for the child: the forking process had handshaken.
static FORK_INHERITS: AtomicBool = AtomicBool::new(false);
/// When a tick last looked at the counters (`process::monotonic_ms`).
static LAST_CHECK: AtomicI64 = AtomicI64::new(i64::MIN);
/// The pipes: ticks and signal handlers wake the writer; it acknowledges signal writes.
static WAKE: [AtomicI32; 2] = [AtomicI32::new(-1), AtomicI32::new(-1)];
static ACK: [AtomicI32; 2] = [AtomicI32::new(-1), AtomicI32::new(-1)];
/// Signal write requests, and the last one served.
static REQ_SEQ: AtomicU64 = AtomicU64::new(0);
static DONE_SEQ: AtomicU64 = AtomicU64::new(0);
/// A signal with the default action asked for the write: the process is ending.
static REQ_FINAL: AtomicBool = AtomicBool::new(false);
/// Set once a write failure was reported: shared by a process and the processes it forks,
/// so that a server's workers print one line between them.
static WARNED: OnceLock<&'static AtomicBool> = OnceLock::new();
static WARNED_HERE: AtomicBool = AtomicBool::new(false);

/// What the writer remembers; its lock serialises rendering and writing.
struct State {
    /// The program's name, read once per process.
    program: Option<String>,
    /// The body last written, so that an unchanged one is not written again.
    last: Option<String>,
    /// The final write (exit, or a signal that ends the process) is done.
    done: bool,
}

static STATE: Mutex<State> = Mutex::new(State { program: None, last: None, done: false });

/// Once per process image, at its first context: the fork handlers, the shared flag.
pub fn setup() {
    process::atfork(fork_prepare, fork_parent, fork_child);
    let _ = WARNED.set(process::shared_flag().unwrap_or(&WARNED_HERE));
}

/// Opens the pipes (`open`) or closes them (and forgets them).
fn pipes(open: bool) {
    for p in [&WAKE, &ACK] {
        let (r, w) = if open { process::pipe().unwrap_or((-1, -1)) } else { (-1, -1) };
        process::close(p[0].swap(r, SeqCst));
        process::close(p[1].swap(w, SeqCst));
    }
}

/// A context is in a handshake (our get or new callback runs): the process writes its file.
pub fn handshake() {
    USED.store(true, Relaxed);
    tick();
}

/// A connection was made (`SSL_new`): in a forked child whose counters are the parent's, the
/// sign that it handshakes itself.
pub fn connection() {
    if INHERITED.load(Relaxed) {
        USED.store(true, Relaxed);
    }
    tick();
}

/// Something changed: the writer looks within a second. Starts the writer thread at the first
/// tick after a context started a handshake.
pub fn tick() {
    if !DIRTY.load(Relaxed) {
        DIRTY.store(true, SeqCst);
        if PARKED.load(SeqCst) {
            process::write_byte(WAKE[1].load(Relaxed));
        }
    }
    if !STARTED.load(Acquire) && !SPAWN_FAILED.load(Relaxed) {
        start_if_used();
    }
}

fn start_if_used() {
    if !USED.load(Relaxed) {
        if INHERITED.load(Relaxed) {
            return;
        }
        let now = process::monotonic_ms();
        let last = LAST_CHECK.load(Relaxed);
        if now.saturating_sub(last) < CHECK_MS || LAST_CHECK.compare_exchange(last, now, Relaxed, Relaxed).is_err() {
            return;
        }
        if !registry::lock(None).is_some_and(|r| r.handshaken()) {
            return;
        }
        USED.store(true, Relaxed);
    }
    if STARTED.compare_exchange(false, true, AcqRel, Acquire).is_err() {
        return;
    }
    WRITER_PID.store(process::getpid(), SeqCst);
    pipes(true);
    let spawned = process::with_signals_blocked(|| {
        std::thread::Builder::new().name("sesscache-stats".into()).stack_size(256 << 10).spawn(run)
    });
    if spawned.is_err() {
        // Without a thread the file is still written at exit.
        SPAWN_FAILED.store(true, Relaxed);
        STARTED.store(false, SeqCst);
        pipes(false);
    }
}

/// The writer thread.
fn run() {
    for sig in SIGNALS {
        process::chain_signal(sig, on_signal);
    }
    let mut next = process::monotonic_ms();
    let mut quiet = 0;
    let mut parked = false;
    loop {
        let wait = if parked { -1 } else { (next - process::monotonic_ms()).clamp(0, PERIOD_MS) as c_int };
        let woke = process::wait_readable(WAKE[0].load(Relaxed), wait);
        if woke {
            process::drain(WAKE[0].load(Relaxed));
        }
        serve_signal();
        let now = process::monotonic_ms();
        if parked {
            if !woke {
                continue;
            }
            parked = false;
            PARKED.store(false, SeqCst);
            quiet = 0;
            next = now;
        }
        if now < next {
            continue;
        }
        next = now + PERIOD_MS;
        quiet = if DIRTY.swap(false, SeqCst) { 0 } else { quiet + 1 };
        if !guard(false, || write("periodic", false, Some(now + SIGNAL_WAIT_MS))) {
            DIRTY.store(true, SeqCst);
        }
        // Without a wake pipe, never sleep for good: nothing could wake us.
        if quiet >= LINGER_POLLS && WAKE[0].load(Relaxed) >= 0 {
            PARKED.store(true, SeqCst);
            // A tick between the swap above and here saw PARKED false and did not wake us.
            if DIRTY.load(SeqCst) {
                PARKED.store(false, SeqCst);
            } else {
                parked = true;
            }
        }
    }
}

/// Serves the signal handlers' requests: one write, then the acknowledgement.
fn serve_signal() {
    let req = REQ_SEQ.load(SeqCst);
    if req <= DONE_SEQ.load(SeqCst) {
        return;
    }
    let ending = REQ_FINAL.load(SeqCst);
    guard(false, || write("signal", ending, Some(process::monotonic_ms() + SIGNAL_WAIT_MS)));
    DONE_SEQ.fetch_max(req, SeqCst);
    process::write_byte(ACK[1].load(Relaxed));
}

/// The signal hook (see `process::chain_signal`): asks the writer thread for a write and waits for
/// it, at most [`SIGNAL_WAIT_MS`]. Async-signal-safe: atomics, `write`, `poll`, `read`.
fn on_signal(ending: bool) {
    if !STARTED.load(SeqCst) || WRITER_PID.load(SeqCst) != process::getpid() {
        return;
    }
    if ending {
        REQ_FINAL.store(true, SeqCst);
    }
    let mine = REQ_SEQ.fetch_add(1, SeqCst) + 1;
    process::write_byte(WAKE[1].load(Relaxed));
    let deadline = process::monotonic_ms() + SIGNAL_WAIT_MS;
    while DONE_SEQ.load(SeqCst) < mine {
        let left = deadline - process::monotonic_ms();
        if left <= 0 {
            break;
        }
        process::wait_readable(ACK[0].load(Relaxed), left.min(50) as c_int);
        process::drain(ACK[0].load(Relaxed));
    }
}

/// The last write, from `atexit`.
pub fn at_exit() {
    write("exit", true, Some(process::monotonic_ms() + SIGNAL_WAIT_MS));
}

/// Writes the file when the process is in use and its content changed (or `ending`); locks
/// are waited for until `deadline_ms` at most. False when a lock was not had in time (the
/// caller tries again).
fn write(reason: &str, ending: bool, deadline_ms: Option<i64>) -> bool {
    let Some(dir) = config().stats.as_deref() else { return true };
    let Some(mut st) = lock_until(&STATE, deadline_ms) else { return false };
    if st.done {
        return true;
    }
    let Some(vals) = registry::lock(deadline_ms).map(|r| r.snapshot()) else { return false };
    if !USED.load(Relaxed) {
        if INHERITED.load(Relaxed) || !registry::used(&vals) {
            return true;
        }
        USED.store(true, Relaxed);
    }
    let program = st.program.get_or_insert_with(read_program).clone();
    let p = Process { program: &program, pid: std::process::id(), exited: ending };
    let redis = fleet::counters().map(|counters| Redis { timeout: config().redis_timeout(), counters });
    let body = render::body(&p, &vals, redis.as_ref());
    st.done = ending;
    if st.last.as_deref() == Some(body.as_str()) {
        return true;
    }
    let text = render::header(&p, time::now(), reason) + &body;
    match write_file(dir, &format!("sesscache-{program}-{}.prom", p.pid), &text) {
        Ok(()) => st.last = Some(body),
        Err(e) => warn_once(dir, &e),
    }
    true
}

/// The program's name, from `/proc/self/comm`.
fn read_program() -> String {
    render::program_name(&std::fs::read_to_string("/proc/self/comm").unwrap_or_default())
}

/// Writes `text` to `dir/name` atomically: a hidden temporary file (which the textfile
/// collector ignores), mode 0644 whatever the umask, renamed over the file.
fn write_file(dir: &Path, name: &str, text: &str) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let res = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        f.set_permissions(Permissions::from_mode(0o644))?;
        f.write_all(text.as_bytes())?;
        drop(f);
        std::fs::rename(&tmp, dir.join(name))
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

/// One stderr line for the first failure of a process tree, saying what to do.
fn warn_once(dir: &Path, e: &std::io::Error) {
    if WARNED.get().copied().unwrap_or(&WARNED_HERE).swap(true, SeqCst) {
        return;
    }
    let d = dir.display();
    let msg = match (e.kind(), e.raw_os_error()) {
        (ErrorKind::NotFound, _) | (_, Some(libc::ENOTDIR)) => format!(
            "sesscache preload: no statistics written: SESSCACHE_STATS={d} is not a directory ({e}); \
             create it writable by every process of the server, e.g. `install -d -m 1777 {d}`"
        ),
        (ErrorKind::PermissionDenied, _) | (_, Some(libc::EPERM | libc::EROFS)) => format!(
            "sesscache preload: no statistics written by uid {}: cannot write in SESSCACHE_STATS={d} ({e}); \
             make it writable by the server's workers, e.g. `chmod 1777 {d}`",
            process::geteuid()
        ),
        _ => format!("sesscache preload: no statistics written in SESSCACHE_STATS={d}: {e}"),
    };
    stderr_line(&format!("{msg} (reported once; see docs/preload.md)"));
}

type ForkGuards = (MutexGuard<'static, State>, MutexGuard<'static, Registry>);

thread_local! {
    /// The locks held across a fork, by the forking thread.
    static FORK_GUARDS: RefCell<Option<ForkGuards>> = const { RefCell::new(None) };
}

/// Before a fork: take the locks (state, then registry, the order every path takes them), so
/// that no other thread holds one when the child is made.
extern "C" fn fork_prepare() {
    guard((), || {
        let st = lock_until(&STATE, None);
        let reg = registry::lock(None);
        if let (Some(st), Some(reg)) = (st, reg) {
            let inherits = USED.load(Relaxed) || INHERITED.load(Relaxed) || reg.handshaken();
            FORK_INHERITS.store(inherits, SeqCst);
            FORK_GUARDS.with(|g| *g.borrow_mut() = Some((st, reg)));
        }
    });
}

/// After a fork, in the parent: release the locks.
extern "C" fn fork_parent() {
    guard((), || FORK_GUARDS.with(|g| drop(g.borrow_mut().take())));
}

/// After a fork, in the child: a process of its own, with no writer thread yet, fresh pipes,
/// nothing written, and not in use until it connects or handshakes itself when its counters
/// are the parent's.
extern "C" fn fork_child() {
    guard((), || {
        if let Some((mut st, reg)) = FORK_GUARDS.with(|g| g.borrow_mut().take()) {
            *st = State { program: None, last: None, done: false };
            drop(reg);
        }
        INHERITED.store(FORK_INHERITS.load(SeqCst), SeqCst);
        USED.store(false, SeqCst);
        STARTED.store(false, SeqCst);
        PARKED.store(false, SeqCst);
        WRITER_PID.store(0, SeqCst);
        REQ_SEQ.store(0, SeqCst);
        DONE_SEQ.store(0, SeqCst);
        REQ_FINAL.store(false, SeqCst);
        LAST_CHECK.store(i64::MIN, SeqCst);
        pipes(false);
    });
}
