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

#[cfg(test)]
mod expiry_tests {
    //! OpenSSL 3.0's `ssl_session_calculate_timeout` and `timeoutcmp` (spec §4.6), checked at
    //! the boundaries and against 128-bit arithmetic.

    use super::Expiry;

    #[test]
    fn expiry_is_strictly_after_time_plus_timeout() {
        let t = 1_700_000_000;
        assert!(!Expiry::of(t, 7200).is_expired_at(t + 7200));
        assert!(Expiry::of(t, 7200).is_expired_at(t + 7201));
        assert!(!Expiry::of(0, 0).is_expired_at(0));
        assert!(Expiry::of(0, 0).is_expired_at(1));
        // A negative timeout (a negative SSL_CTX timeout) makes a session born expired.
        assert!(Expiry::of(t, -1).is_expired_at(t));
    }

    #[test]
    fn overflow_boundary() {
        // time + timeout == TMAX exactly: no overflow, and TMAX is not after TMAX.
        let e = Expiry::of(10, i64::MAX - 10);
        assert_eq!(e, Expiry::of(0, i64::MAX));
        assert!(!e.is_expired_at(i64::MAX));
        // One more second overflows: never expires, sorts after every ordinary expiry.
        let o = Expiry::of(10, i64::MAX - 9);
        assert!(!o.is_expired_at(i64::MAX));
        assert!(o > e);
        // Two overflowed expiries compare by how far they overflowed (calc_timeout).
        assert!(Expiry::of(10, i64::MAX) > o);
        assert_eq!(Expiry::of(11, i64::MAX - 9), Expiry::of(10, i64::MAX - 8));
    }

    #[test]
    fn negative_time_always_overflows_as_measured() {
        for timeout in [0, 1, 7200, i64::MAX] {
            let e = Expiry::of(-1, timeout);
            assert!(!e.is_expired_at(i64::MAX), "timeout {timeout}");
            assert!(e > Expiry::of(i64::MAX, 0), "timeout {timeout}");
        }
    }

    #[test]
    fn agrees_with_wide_arithmetic_for_non_negative_times() {
        let samples: [i64; 12] =
            [0, 1, 2, 300, 7200, 1 << 31, 1 << 40, i64::MAX / 2, i64::MAX - 7200, i64::MAX - 1, i64::MAX, -5];
        for &time in samples.iter().filter(|t| **t >= 0) {
            for &timeout in &samples {
                let sum = i128::from(time) + i128::from(timeout);
                let e = Expiry::of(time, timeout);
                let overflowed = sum > i128::from(i64::MAX);
                for &t in &samples {
                    let want = !overflowed && i128::from(t) > sum;
                    assert_eq!(e.is_expired_at(t), want, "time {time} timeout {timeout} at {t}");
                }
                for &time2 in samples.iter().filter(|t| **t >= 0) {
                    for &timeout2 in &samples {
                        let sum2 = i128::from(time2) + i128::from(timeout2);
                        let o2 = sum2 > i128::from(i64::MAX);
                        let want = (overflowed, sum).cmp(&(o2, sum2));
                        assert_eq!(
                            e.cmp(&Expiry::of(time2, timeout2)),
                            want,
                            "({time},{timeout}) vs ({time2},{timeout2})"
                        );
                    }
                }
            }
        }
    }
}
