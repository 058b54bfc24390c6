//! The exported entry points' shape: `intercept!` turns one declaration per function into an
//! exported symbol with libssl's name whose only work is to pass the caller's return address
//! on. On x86_64 and aarch64 it is a two-instruction naked stub: it copies the return address
//! (`[rsp]` on entry; `x30`) into the argument register after the function's own arguments and
//! jumps to the implementation, which returns straight to the caller. Elsewhere it is a plain
//! function that passes NULL, and the loader falls back to the one libssl loaded.
//!
//! Every intercepted function takes at most five integer or pointer arguments, so the return
//! address always travels in a register.

/// The instruction that copies the return address into the argument register that follows
/// the listed arguments.
macro_rules! ra_to_next_arg {
    (x86_64;) => {
        "mov rdi, qword ptr [rsp]"
    };
    (x86_64; $a:ident) => {
        "mov rsi, qword ptr [rsp]"
    };
    (x86_64; $a:ident $b:ident) => {
        "mov rdx, qword ptr [rsp]"
    };
    (x86_64; $a:ident $b:ident $c:ident) => {
        "mov rcx, qword ptr [rsp]"
    };
    (x86_64; $a:ident $b:ident $c:ident $d:ident) => {
        "mov r8, qword ptr [rsp]"
    };
    (x86_64; $a:ident $b:ident $c:ident $d:ident $e:ident) => {
        "mov r9, qword ptr [rsp]"
    };
    (aarch64;) => {
        "mov x0, x30"
    };
    (aarch64; $a:ident) => {
        "mov x1, x30"
    };
    (aarch64; $a:ident $b:ident) => {
        "mov x2, x30"
    };
    (aarch64; $a:ident $b:ident $c:ident) => {
        "mov x3, x30"
    };
    (aarch64; $a:ident $b:ident $c:ident $d:ident) => {
        "mov x4, x30"
    };
    (aarch64; $a:ident $b:ident $c:ident $d:ident $e:ident) => {
        "mov x5, x30"
    };
}
pub(crate) use ra_to_next_arg;

/// Declares exported functions: `fn NAME(args) -> ret => implementation;`, where the
/// implementation is an `unsafe extern "C" fn` taking the same arguments and then the
/// caller's return address (`*const c_void`).
macro_rules! intercept {
    ($( $(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $imp:path; )*) => {$(
        $(#[$meta])*
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the stub keeps the stack and every argument register as the caller left
        // them, writes only the register of the extra argument, and tail-jumps to an
        // implementation with the same arguments plus that one (all integer-class).
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) $(-> $ret)? {
            core::arch::naked_asm!(
                "endbr64",
                $crate::sys::entry::ra_to_next_arg!(x86_64; $($arg)*),
                "jmp {imp}",
                imp = sym $imp,
            )
        }

        $(#[$meta])*
        #[cfg(target_arch = "aarch64")]
        // SAFETY: as for x86_64; the return address is in x30.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) $(-> $ret)? {
            core::arch::naked_asm!(
                // `bti c`, spelt as its hint so that no assembler feature is needed.
                "hint #34",
                $crate::sys::entry::ra_to_next_arg!(aarch64; $($arg)*),
                "b {imp}",
                imp = sym $imp,
            )
        }

        $(#[$meta])*
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) $(-> $ret)? {
            // SAFETY: the host's arguments, as they came; no return address on this target.
            unsafe { $imp($($arg,)* core::ptr::null()) }
        }
    )*};
}
pub(crate) use intercept;
