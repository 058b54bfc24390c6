//! Whole-second time and OpenSSL 3.0's expiry arithmetic.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time in seconds since the epoch, as OpenSSL's `time(NULL)`.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// When a session expires: OpenSSL 3.0's `calc_timeout` with its `timeout_ovf` flag.
///
/// The derived order is OpenSSL's `timeoutcmp`: every overflowed expiry sorts after every
/// ordinary one, and two of the same kind compare by `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry {
    overflowed: bool,
    at: i64,
}

impl Expiry {
    /// `ssl_session_calculate_timeout` as the installed 3.0 computes it: the room left before
    /// the largest `time_t` is `TMAX - time` in wrapping signed arithmetic, and a timeout larger
    /// than that room overflows. A negative `time` therefore leaves a negative room and every
    /// timeout overflows (measured: such sessions never expire by `flush`).
    pub fn of(time: i64, timeout: i64) -> Expiry {
        let room = i64::MAX.wrapping_sub(time);
        if timeout > room {
            Expiry { overflowed: true, at: timeout.wrapping_sub(room) }
        } else {
            Expiry { overflowed: false, at: time.wrapping_add(timeout) }
        }
    }

    /// The raw representation: (overflowed, calc_timeout).
    pub fn parts(self) -> (bool, i64) {
        (self.overflowed, self.at)
    }

    /// Rebuilds an expiry from [`Expiry::parts`].
    pub fn from_parts(overflowed: bool, at: i64) -> Expiry {
        Expiry { overflowed, at }
    }

    /// OpenSSL's `sess_timedout(t, s)`: strictly after the expiry, never for an overflowed one.
    pub fn is_expired_at(self, t: i64) -> bool {
        !self.overflowed && t > self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_measured_3_0_19() {
        assert!(Expiry::of(0, 10).is_expired_at(11));
        assert!(!Expiry::of(0, 10).is_expired_at(10));
        assert!(!Expiry::of(-5, 10).is_expired_at(6));
        assert!(!Expiry::of(i64::MIN, 10).is_expired_at(i64::MIN + 11));
        assert!(!Expiry::of(i64::MAX - 5, 5).is_expired_at(i64::MAX));
        assert!(Expiry::of(i64::MAX - 5, 4).is_expired_at(i64::MAX));
        assert!(!Expiry::of(1, i64::MAX).is_expired_at(i64::MAX));
        assert!(Expiry::of(100, 0).is_expired_at(101));
        assert!(Expiry::of(1000, -5).is_expired_at(996));
    }

    #[test]
    fn overflowed_sorts_last() {
        assert!(Expiry::of(1, i64::MAX) > Expiry::of(0, i64::MAX - 1));
        assert!(Expiry::of(0, 5) < Expiry::of(0, 6));
    }
}
