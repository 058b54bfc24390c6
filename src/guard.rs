//! The panic boundary: no unwinding ever crosses into C. Compiled in every build (the preload
//! library uses it too).

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, answering `fail` when it returns `None` (a NULL argument, through `?`, or any
/// other failure) or panics. An export writes its failure value once, as `fail`.
pub fn guard<R>(fail: R, f: impl FnOnce() -> Option<R>) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Some(r)) => r,
        _ => fail,
    }
}

/// Runs `f`, answering `fail` if it panics.
pub fn catch<R>(fail: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_answers_the_failure_value_for_none_and_for_a_panic() {
        assert_eq!(guard(-1, || Some(5)), 5);
        assert_eq!(guard(-1, || None), -1);
        assert_eq!(guard(-1, || -> Option<i32> { panic!("boom") }), -1);
        assert_eq!(catch(-1, || 5), 5);
        assert_eq!(catch(-1, || -> i32 { panic!("boom") }), -1);
    }
}
