//! Every system call of the statistics writer that needs `unsafe`: the wake and acknowledgement
//! pipes, the signal entry point and its chaining to the program's own disposition, the signal
//! mask around the writer thread's creation, `pthread_atfork`, and one shared page for the
//! "already warned" flag of a process tree.
//!
//! The functions marked async-signal-safe below are the only ones the signal entry point uses.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// A pipe with both ends non-blocking and close-on-exec: `(read, write)`.
pub fn pipe() -> Option<(c_int, c_int)> {
    let mut fds = [-1 as c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the two-element array.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
    (r == 0).then_some((fds[0], fds[1]))
}

/// Closes `fd` if it is one (async-signal-safe).
pub fn close(fd: c_int) {
    if fd >= 0 {
        // SAFETY: closing a descriptor this module opened; errors are ignored.
        unsafe { libc::close(fd) };
    }
}

/// Writes one byte to `fd`; a full pipe or a closed descriptor is ignored (async-signal-safe).
pub fn write_byte(fd: c_int) {
    if fd >= 0 {
        // SAFETY: writes one byte from a valid one-byte buffer.
        unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
    }
}

/// Reads everything pending on the non-blocking `fd` (async-signal-safe).
pub fn drain(fd: c_int) {
    let mut buf = [0u8; 64];
    for _ in 0..1024 {
        // SAFETY: reads at most buf.len() bytes into buf.
        if unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } <= 0 {
            return;
        }
    }
}

/// Waits until `fd` is readable or `timeout_ms` passes (-1: no limit); true when readable
/// (async-signal-safe).
pub fn wait_readable(fd: c_int, timeout_ms: c_int) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, timeout_ms) > 0 }
}

/// Milliseconds of `CLOCK_MONOTONIC` (async-signal-safe).
pub fn monotonic_ms() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime fills the timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    i64::from(ts.tv_sec) * 1000 + i64::from(ts.tv_nsec) / 1_000_000
}

/// The calling process's id (async-signal-safe).
pub fn getpid() -> i32 {
    // SAFETY: no arguments, no failure.
    unsafe { libc::getpid() }
}

/// The effective user id, for messages.
pub fn geteuid() -> u32 {
    // SAFETY: no arguments, no failure.
    unsafe { libc::geteuid() }
}

/// Runs `f` with every signal blocked in the calling thread, then restores its mask: a thread
/// created inside starts with every signal blocked, so that it never takes one of the
/// program's signals (a program that waits for signals with `sigwait` or `signalfd` keeps them).
pub fn with_signals_blocked<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: sigset_t is plain data that sigfillset/pthread_sigmask initialise.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid sigset pointers.
    let blocked =
        unsafe { libc::sigfillset(&mut all) == 0 && libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old) == 0 };
    let r = f();
    if blocked {
        // SAFETY: restores the mask saved above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, ptr::null_mut()) };
    }
    r
}

/// Registers the three fork handlers (see `pthread_atfork(3)`); false when that failed.
pub fn atfork(prepare: extern "C" fn(), parent: extern "C" fn(), child: extern "C" fn()) -> bool {
    // SAFETY: plain functions that stay loaded (the preload is never unloaded).
    unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) == 0 }
}

/// A flag in one anonymous shared page: a process and every process it forks afterwards see
/// the same flag. `None` when the page cannot be mapped.
pub fn shared_flag() -> Option<&'static AtomicBool> {
    // SAFETY: an anonymous shared mapping of one page; checked for failure below.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: the page is zeroed (false), aligned, never unmapped, and only used atomically.
    Some(unsafe { &*p.cast::<AtomicBool>() })
}

/// Our entry point as `sigaction` stores it.
fn entry_addr() -> libc::sighandler_t {
    entry as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as libc::sighandler_t
}

/// What a signal did before the writer chained itself in front of it.
struct Chained {
    sig: c_int,
    old: libc::sigaction,
}

/// The signals chained so far (at most [`MAX_CHAINED`]), set once each before our entry
/// point is installed for it, read by the entry point.
const MAX_CHAINED: usize = 4;
static CHAINED: [OnceLock<Chained>; MAX_CHAINED] = [const { OnceLock::new() }; MAX_CHAINED];
/// The writer's part of a signal, called before the program's own disposition: its argument
/// says whether that disposition is the default action (the process is about to end).
static HOOK: AtomicUsize = AtomicUsize::new(0);

/// What [`chain_signal`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Chain {
    /// Our entry point now runs first, then the program's disposition.
    Installed,
    /// The program ignores the signal: left alone.
    Ignored,
    /// Already chained in this process image (for example before a fork).
    Already,
    /// No slot left or `sigaction` failed.
    Failed,
}

/// Puts our entry point in front of `sig`'s current disposition, keeping its mask and flags
/// (`SA_RESTART`, `SA_ONSTACK`, `SA_NODEFER`, `SA_RESETHAND`). `hook` runs first on every
/// delivery; then the program's handler runs with the arguments the kernel passed, or, for the
/// default action, the signal is raised again with the default action. A signal the program
/// ignores is left alone.
pub fn chain_signal(sig: c_int, hook: fn(bool)) -> Chain {
    HOOK.store(hook as *const () as usize, Ordering::Release);
    // SAFETY: sigaction is plain data; a NULL new action only reads the current one.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sigaction(sig, ptr::null(), &mut old) } != 0 {
        return Chain::Failed;
    }
    if old.sa_sigaction == libc::SIG_IGN {
        return Chain::Ignored;
    }
    if old.sa_sigaction == entry_addr() {
        return Chain::Already;
    }
    let Some(slot) = CHAINED.iter().find(|c| c.get().is_none_or(|c| c.sig == sig)) else { return Chain::Failed };
    if slot.set(Chained { sig, old }).is_err() {
        // Chained before, then replaced by the program: it owns the signal now.
        return Chain::Already;
    }
    let mut new = old;
    new.sa_sigaction = entry_addr();
    new.sa_flags = old.sa_flags | libc::SA_SIGINFO;
    if old.sa_sigaction == libc::SIG_DFL {
        // The default action ends the process: restart what the signal interrupts while we
        // write, as nothing of the program runs in between.
        new.sa_flags |= libc::SA_RESTART;
    }
    // SAFETY: a complete sigaction whose handler has the SA_SIGINFO signature.
    if unsafe { libc::sigaction(sig, &new, ptr::null_mut()) } != 0 {
        return Chain::Failed;
    }
    Chain::Installed
}

/// Our signal entry point: the writer's hook, then the program's disposition. Only
/// async-signal-safe calls; errno is preserved for the interrupted code.
extern "C" fn entry(sig: c_int, info: *mut libc::siginfo_t, uc: *mut c_void) {
    // SAFETY: errno is thread-local; reading and restoring it is what a handler must do.
    let saved_errno = unsafe { *libc::__errno_location() };
    let Some(chained) = CHAINED.iter().filter_map(OnceLock::get).find(|c| c.sig == sig) else { return };
    let old = &chained.old;
    let default = old.sa_sigaction == libc::SIG_DFL;
    let hook = HOOK.load(Ordering::Acquire);
    if hook != 0 {
        // SAFETY: HOOK only ever holds a `fn(bool)` (chain_signal).
        let hook: fn(bool) = unsafe { std::mem::transmute::<usize, fn(bool)>(hook) };
        hook(default);
    }
    if default {
        reraise_default(sig);
    } else if old.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the program installed this handler with SA_SIGINFO; it gets the kernel's
        // own arguments, with the mask it asked for already in force.
        let h: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(old.sa_sigaction) };
        h(sig, info, uc);
    } else {
        // SAFETY: a plain handler installed by the program (not SIG_DFL, not SIG_IGN).
        let h: extern "C" fn(c_int) = unsafe { std::mem::transmute(old.sa_sigaction) };
        h(sig);
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// Restores the default action of `sig` and raises it again, unblocked: the process ends as
/// it would have without us (async-signal-safe).
fn reraise_default(sig: c_int) {
    // SAFETY: sigaction and sigset_t are plain data, initialised before use.
    unsafe {
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut dfl.sa_mask);
        libc::sigaction(sig, &dfl, ptr::null_mut());
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::raise(sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, ptr::null_mut());
    }
}
