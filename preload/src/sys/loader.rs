//! Which libssl a call comes from, however the program loaded it.
//!
//! Every exported function receives its caller's return address (see `entry`). The first call
//! from a call site finds the libssl that the calling object binds to, as the dynamic linker
//! would bind it, and remembers it for that call site in a lock-free table; later calls cost
//! one atomic load. The search, in the order the dynamic linker uses for an object that was
//! not loaded with `RTLD_DEEPBIND` (such an object binds to its own libssl and never reaches
//! us):
//!
//! 1. the global scope after the preload (`dlsym(RTLD_NEXT, name)`): a libssl linked at start
//!    or opened with `RTLD_GLOBAL`;
//! 2. the caller's own scope (`dladdr1` → the caller's object → `dlopen(path, RTLD_NOLOAD)` →
//!    `dlsym(handle, name)`): a libssl the caller, or the libssl itself, opened with
//!    `RTLD_LOCAL` (CPython's `_ssl`, Perl's Net::SSLeay, LuaSec, tcl-tls);
//! 3. the one loaded object that defines the function, found with `dl_iterate_phdr`: for a
//!    caller that is no object (code generated at run time) or a target without the return
//!    address.
//!
//! A call site is never remembered as having no libssl: the next call looks again.
//!
//! Each libssl found gets one [`LibSsl`]: its functions ([`Real`]), looked up in its own
//! scope, with its own ex_data slots and marker context, pinned by a `dlopen` handle that is
//! never closed. Before it is used, a probe decides whether the preload can manage it: it calls
//! that libssl's `SSL_CTX_new(NULL)`, which calls `SSL_CTX_new_ex` through its PLT. When the
//! call reaches the preload's `SSL_CTX_new_ex`, the libssl's internal calls (add, remove, flush,
//! `SSL_has_matching_session_id`) reach it too. When it does not, the library binds its calls
//! inside itself (`-Bsymbolic`, `-Bsymbolic-functions`, `DT_SYMBOLIC`, `RTLD_DEEPBIND`), and the
//! preload stands aside for it: every call is forwarded and it keeps its own cache.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use super::libssl::Real;
use super::stderr_line;

/// The most libssl copies one process can hold for the preload.
pub const MAX_LIBS: usize = 16;

/// `RTLD_DL_LINKMAP` (`<dlfcn.h>`): `dladdr1` returns the object's `struct link_map *`.
const RTLD_DL_LINKMAP: c_int = 2;

/// The public head of glibc's `struct link_map` (`<link.h>`). In glibc a `dlopen` handle is
/// the object's `link_map`.
#[repr(C)]
struct LinkMap {
    l_addr: usize,
    l_name: *const c_char,
    l_ld: *mut c_void,
    l_next: *mut LinkMap,
    l_prev: *mut LinkMap,
}

/// A loaded object, by the address of its `link_map`.
type Object = NonNull<LinkMap>;

/// Whether the preload manages a libssl.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Its internal calls reach the preload: the preload runs its session cache.
    Managed,
    /// It binds its calls inside itself: every call is forwarded.
    BindsItself,
    /// It lacks functions the preload needs (not OpenSSL 3): every call is forwarded.
    Incomplete,
}

/// The ex_data slots of one libssl (its libcrypto's indices), made on first use.
#[derive(Clone, Copy)]
pub struct Slots {
    /// The `SSL_CTX` slot: the context's state.
    pub ctx: c_int,
    /// The `SSL` slot: the connection's session context.
    pub ssl: c_int,
    /// The type of the state in the `SSL_CTX` slot, which its free callback drops.
    pub state: std::any::TypeId,
}

/// One libssl loaded in the process.
pub struct LibSsl {
    index: usize,
    real: Real,
    object: usize,
    handle: usize,
    path: String,
    verdict: Verdict,
    missing: Vec<&'static str>,
    /// The slots, once a context was taken over (see `objects`).
    pub slots: OnceLock<Option<Slots>>,
    /// The `SSL` slot of a connection's own session-id context (fleet mode).
    pub sid_slot: OnceLock<Option<c_int>>,
    /// The marker context, as an address (see `objects::marker_ctx`).
    pub marker: OnceLock<usize>,
}

impl LibSsl {
    /// Its functions.
    pub fn real(&self) -> &Real {
        &self.real
    }

    /// Its place in the registry, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether the preload runs its session cache.
    pub fn managed(&self) -> bool {
        self.verdict == Verdict::Managed
    }

    /// Its path, as the dynamic linker loaded it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Opens a pinning handle on `object`, looks its functions up and probes it.
    fn open(object: Object) -> Option<LibSsl> {
        let name = object_name(object)?;
        // SAFETY: a NUL-terminated path of a loaded object; RTLD_NOLOAD opens nothing new.
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
        if handle.is_null() {
            return None;
        }
        if handle != object.as_ptr().cast() {
            // The path names another object (another namespace): not the one that called.
            // SAFETY: the handle we just opened.
            unsafe { libc::dlclose(handle) };
            return None;
        }
        // SAFETY: an open handle of an object that defines libssl's functions.
        let (real, missing) = unsafe { Real::resolve(handle) };
        let verdict = if !missing.is_empty() {
            Verdict::Incomplete
        } else if probe(&real) {
            Verdict::Managed
        } else {
            Verdict::BindsItself
        };
        Some(LibSsl {
            index: 0,
            real,
            object: object.as_ptr() as usize,
            handle: handle as usize,
            path: name.to_string_lossy().into_owned(),
            verdict,
            missing,
            slots: OnceLock::new(),
            sid_slot: OnceLock::new(),
            marker: OnceLock::new(),
        })
    }

    /// Gives back the handle of a `LibSsl` that another thread registered first.
    fn close(self) {
        // SAFETY: the handle `open` opened, closed once.
        unsafe { libc::dlclose(self.handle as *mut c_void) };
    }

    /// The one stderr line of a libssl the preload does not manage.
    fn announce(&self) {
        let why = match self.verdict {
            Verdict::Managed => return,
            Verdict::BindsItself => "binds its own calls inside itself (linked with -Bsymbolic or \
                                     -Bsymbolic-functions, DT_SYMBOLIC, or loaded with RTLD_DEEPBIND)"
                .to_owned(),
            Verdict::Incomplete => format!("lacks {} (not OpenSSL 3)", self.missing.join(", ")),
        };
        stderr_line(&format!(
            "sesscache preload: {} {why}: the preload stands aside and it keeps its own session cache",
            self.path
        ));
    }
}

static LIBS: [OnceLock<LibSsl>; MAX_LIBS] = [const { OnceLock::new() }; MAX_LIBS];
/// Taken only to publish a new `LibSsl`, never around a call into the dynamic linker (a
/// library constructor calling libssl from inside `dlopen` must not wait for us).
static REGISTER: Mutex<()> = Mutex::new(());

/// The libssl at `index` of the registry.
#[inline]
pub fn lib_at(index: usize) -> Option<&'static LibSsl> {
    LIBS.get(index)?.get()
}

/// The `LibSsl` of `object`, registered on first sight.
fn lib_of(object: Object) -> Option<&'static LibSsl> {
    let key = object.as_ptr() as usize;
    if let Some(lib) = LIBS.iter().map_while(OnceLock::get).find(|l| l.object == key) {
        return Some(lib);
    }
    let mut built = LibSsl::open(object)?;
    let guard = REGISTER.lock().unwrap_or_else(|e| e.into_inner());
    for (i, cell) in LIBS.iter().enumerate() {
        match cell.get() {
            Some(lib) if lib.object == key => {
                drop(guard);
                built.close();
                return Some(lib);
            }
            Some(_) => {}
            None => {
                built.index = i;
                let lib = cell.get_or_init(|| built);
                drop(guard);
                lib.announce();
                return Some(lib);
            }
        }
    }
    drop(guard);
    // divergence: calls bound to a 17th libssl copy fail (the tables are fixed-size).
    say_once(
        &FULL,
        &format!("sesscache preload: more than {MAX_LIBS} libssl copies are loaded; calls from {} fail", built.path),
    );
    built.close();
    None
}

/// Set while this thread probes a libssl; `probe_hit` records that the probe arrived.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Probe {
    Idle,
    Probing,
    Reached,
}

thread_local! {
    static PROBE: Cell<Probe> = const { Cell::new(Probe::Idle) };
}

/// Whether the libssl of `real` calls `SSL_CTX_new_ex` through its PLT: its `SSL_CTX_new(NULL)`
/// either reaches the preload's `SSL_CTX_new_ex` (which returns NULL at once) or fails inside
/// libssl, whose error is then dropped. Nothing is allocated either way.
fn probe(real: &Real) -> bool {
    PROBE.with(|p| p.set(Probe::Probing));
    // SAFETY: ERR_set_mark and ERR_pop_to_mark take no arguments; SSL_CTX_new accepts NULL
    // (it returns NULL with an error, which the mark drops).
    let ctx = unsafe {
        real.ERR_set_mark();
        let ctx = real.SSL_CTX_new(ptr::null());
        real.ERR_pop_to_mark();
        ctx
    };
    let reached = PROBE.with(|p| p.replace(Probe::Idle)) == Probe::Reached;
    reached && ctx.is_null()
}

/// Called first by the preload's `SSL_CTX_new_ex`: true when this thread is probing, and
/// records that the probe arrived (the caller then returns NULL).
#[inline]
pub fn probe_hit() -> bool {
    PROBE.with(|p| {
        let probing = p.get() == Probe::Probing;
        if probing {
            p.set(Probe::Reached);
        }
        probing
    })
}

/// The loaded object containing `addr`.
fn object_of(addr: *const c_void) -> Option<Object> {
    let mut info = MaybeUninit::<libc::Dl_info>::zeroed();
    let mut map: *mut c_void = ptr::null_mut();
    // SAFETY: dladdr1 only reads the loader's tables; both outputs are valid for writing.
    let found = unsafe { libc::dladdr1(addr, info.as_mut_ptr(), &mut map, RTLD_DL_LINKMAP) };
    if found == 0 {
        return None;
    }
    NonNull::new(map.cast())
}

/// The path of a loaded object; `None` for the main program (its name is empty).
fn object_name(object: Object) -> Option<CString> {
    // SAFETY: a link_map of a loaded object; l_name is a NUL-terminated string it owns.
    let name = unsafe { CStr::from_ptr(object.as_ref().l_name) };
    (!name.is_empty()).then(|| name.to_owned())
}

/// The preload's own object.
fn ours() -> Option<Object> {
    static OURS: OnceLock<usize> = OnceLock::new();
    let a = *OURS
        .get_or_init(|| object_of(ours as fn() -> Option<Object> as *const c_void).map_or(0, |o| o.as_ptr() as usize));
    NonNull::new(a as *mut LinkMap)
}

/// `name` as `object`'s own scope resolves it (the object, then its dependencies).
fn scope_lookup(object: Object, name: &CStr) -> Option<*mut c_void> {
    let path = object_name(object)?;
    // SAFETY: a NUL-terminated path; RTLD_NOLOAD only opens what is loaded.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
    if handle.is_null() {
        return None;
    }
    let p = if handle == object.as_ptr().cast() {
        // SAFETY: an open handle and a NUL-terminated name.
        unsafe { libc::dlsym(handle, name.as_ptr()) }
    } else {
        ptr::null_mut()
    };
    // SAFETY: the handle opened above; the object stays loaded (it was before).
    unsafe { libc::dlclose(handle) };
    (!p.is_null()).then_some(p)
}

/// Why no libssl was found for a call.
enum Miss {
    /// No loaded object defines the function.
    None,
    /// Several do, and nothing tells which one the caller binds to.
    Ambiguous,
}

/// The object defining the function `name` that a call from `ra` binds to.
fn defining_object(ra: *const c_void, name: &CStr) -> Result<Object, Miss> {
    let ours = ours();
    let not_ours = |p: *mut c_void| object_of(p).filter(|o| Some(*o) != ours);
    // 1. The global scope after the preload.
    // SAFETY: RTLD_NEXT from a shared object, and a NUL-terminated name.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    if let Some(o) = (!p.is_null()).then(|| not_ours(p)).flatten() {
        return Ok(o);
    }
    // 2. The caller's own scope. `ra` is just past the call: `ra - 1` is inside the caller.
    if !ra.is_null() {
        if let Some(caller) = object_of(ra.wrapping_byte_sub(1)).filter(|c| Some(*c) != ours) {
            if let Some(o) = scope_lookup(caller, name).and_then(not_ours) {
                return Ok(o);
            }
        }
    }
    // 3. The one loaded object that defines `name` itself.
    let mut found = None;
    for path in loaded_objects() {
        // SAFETY: a NUL-terminated path; RTLD_NOLOAD only opens what is loaded.
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
        let Some(object) = NonNull::new(handle.cast::<LinkMap>()) else { continue };
        if Some(object) != ours && scope_lookup(object, name).and_then(|p| object_of(p)) == Some(object) {
            if found.is_some_and(|f| f != object) {
                // SAFETY: the handle opened above.
                unsafe { libc::dlclose(handle) };
                return Err(Miss::Ambiguous);
            }
            found = Some(object);
        }
        // SAFETY: the handle opened above; the object stays loaded.
        unsafe { libc::dlclose(handle) };
    }
    found.ok_or(Miss::None)
}

/// The paths of every loaded object but the main program.
fn loaded_objects() -> Vec<CString> {
    unsafe extern "C" fn each(info: *mut libc::dl_phdr_info, _size: usize, out: *mut c_void) -> c_int {
        // SAFETY: dl_iterate_phdr passes a valid info and our Vec<CString>.
        let (info, out) = unsafe { (&*info, &mut *out.cast::<Vec<CString>>()) };
        if !info.dlpi_name.is_null() {
            // SAFETY: a NUL-terminated name owned by the loader for the call.
            let name = unsafe { CStr::from_ptr(info.dlpi_name) };
            if !name.is_empty() {
                out.push(name.to_owned());
            }
        }
        0
    }
    let mut out: Vec<CString> = Vec::new();
    // SAFETY: the callback matches dl_iterate_phdr's and only touches `out`, which outlives
    // the call. The loader's lock is held during the call: the callback opens nothing.
    unsafe { libc::dl_iterate_phdr(Some(each), (&mut out as *mut Vec<CString>).cast()) };
    out
}

static NO_LIBSSL: AtomicBool = AtomicBool::new(false);
static AMBIGUOUS: AtomicBool = AtomicBool::new(false);
static FULL: AtomicBool = AtomicBool::new(false);

/// Writes `msg` on stderr the first time `flag` is seen clear.
fn say_once(flag: &AtomicBool, msg: &str) {
    if !flag.swap(true, Ordering::Relaxed) {
        stderr_line(msg);
    }
}

/// The libssl that a call of `name` from the return address `ra` binds to; `None` (the call
/// returns its failure value) when no libssl is loaded or which one cannot be told.
#[inline]
pub fn lib_for(ra: *const c_void, name: &CStr) -> Option<&'static LibSsl> {
    let key = sites::key(ra);
    match sites::get(key) {
        Some(index) => lib_at(index),
        None => find(ra, key, name),
    }
}

#[cold]
#[inline(never)]
fn find(ra: *const c_void, key: usize, name: &CStr) -> Option<&'static LibSsl> {
    let fname = name.to_string_lossy();
    match defining_object(ra, name) {
        Ok(object) => {
            let lib = lib_of(object)?;
            sites::put(key, lib.index);
            Some(lib)
        }
        Err(Miss::None) => {
            say_once(
                &NO_LIBSSL,
                &format!("sesscache preload: {fname} was called but no libssl is loaded; the call fails and the preload does nothing"),
            );
            None
        }
        Err(Miss::Ambiguous) => {
            // divergence: the call fails where libssl would succeed: sending an object of one
            // libssl copy to another would corrupt memory.
            say_once(
                &AMBIGUOUS,
                &format!("sesscache preload: cannot tell which of the loaded libssl copies a call of {fname} comes from; the call fails"),
            );
            None
        }
    }
}

/// The call-site table: open addressing over `SITES` words, each `return address | (libssl
/// index + 1) << 56`, 0 when free. Written once per call site with a compare-and-swap, read
/// with one load; a full neighbourhood just leaves the site unremembered.
mod sites {
    use std::ffi::c_void;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SITES: usize = 1024;
    const PROBES: usize = 8;
    const SHIFT: u32 = 56;
    const ADDRESS: usize = (1 << SHIFT) - 1;

    static TABLE: [AtomicUsize; SITES] = [const { AtomicUsize::new(0) }; SITES];

    /// The table's key for a return address: the address itself (user addresses fit in 56
    /// bits), 1 when there is none (one entry for every call without one).
    #[inline]
    pub fn key(ra: *const c_void) -> usize {
        match ra as usize {
            0 => 1,
            a => a,
        }
    }

    #[inline]
    fn start(key: usize) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> (usize::BITS - SITES.trailing_zeros())) & (SITES - 1)
    }

    /// The libssl index remembered for `key`.
    #[inline]
    pub fn get(key: usize) -> Option<usize> {
        let s = start(key);
        for k in 0..PROBES {
            let v = TABLE[(s + k) & (SITES - 1)].load(Ordering::Acquire);
            if v == 0 {
                return None;
            }
            if v & ADDRESS == key {
                return Some((v >> SHIFT) - 1);
            }
        }
        None
    }

    /// Remembers `index` for `key`.
    pub fn put(key: usize, index: usize) {
        if key > ADDRESS || index >= 255 {
            return;
        }
        let word = key | ((index + 1) << SHIFT);
        let s = start(key);
        for k in 0..PROBES {
            match TABLE[(s + k) & (SITES - 1)].compare_exchange(0, word, Ordering::Release, Ordering::Acquire) {
                Ok(_) => return,
                Err(v) if v & ADDRESS == key => return,
                Err(_) => {}
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn remembers_and_misses() {
            let a = 0x7f00_1234_5678usize;
            assert_eq!(get(a), None);
            put(a, 3);
            assert_eq!(get(a), Some(3));
            put(a, 4); // the first answer stays
            assert_eq!(get(a), Some(3));
            assert_eq!(get(a + 1), None);
            assert_eq!(key(std::ptr::null()), 1);
            put(1 << 60, 0); // not a user address: not remembered
            assert_eq!(get(1 << 60), None);
        }

        #[test]
        fn a_full_neighbourhood_leaves_sites_unremembered() {
            // Keys with the same start fill its PROBES slots; one more is not remembered
            // and is not confused with the others.
            let base = 0x5555_0000_0000usize;
            let s = start(base);
            let same: Vec<usize> =
                (1..200_000usize).map(|i| base + i * 16).filter(|k| start(*k) == s).take(PROBES + 1).collect();
            assert_eq!(same.len(), PROBES + 1);
            put(base, 1);
            for k in &same {
                put(*k, 2);
            }
            assert_eq!(get(base), Some(1));
            let remembered = same.iter().filter(|k| get(**k) == Some(2)).count();
            assert!(remembered < same.len());
        }
    }
}
