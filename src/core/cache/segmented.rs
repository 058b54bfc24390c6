//! `Segmented`: storage that grows by doubling without ever moving an element, so that readers
//! may hold references into it without a lock while the writer appends.

use once_cell::sync::OnceCell;

/// Segment 0 holds element 0; segment `s >= 1` holds elements `2^(s-1) .. 2^s`. So the first
/// `2^k` elements are exactly segments `0..=k`, and doubling from `2^k` elements adds one
/// segment of `2^k`. 33 segments reach 2^32 elements.
const SEGMENTS: usize = 33;

/// The segments of an array that grows by doubling: `S` holds the elements of one segment (the
/// caller's type, so that parallel arrays share one lookup). A segment is made the first time
/// one of its elements is needed and freed with the array; elements never move, and a reader's
/// reference stays valid for as long as the array lives.
pub(super) struct Segmented<S> {
    segments: [OnceCell<S>; SEGMENTS],
}

/// (segment, offset) of element `i`.
#[inline]
fn place(i: usize) -> (usize, usize) {
    let s = (usize::BITS - i.leading_zeros()) as usize;
    (s, if s == 0 { 0 } else { i - (1 << (s - 1)) })
}

/// The number of elements of segment `s`.
fn len_of(s: usize) -> usize {
    1 << s.saturating_sub(1)
}

impl<S> Segmented<S> {
    pub(super) fn new() -> Segmented<S> {
        Segmented { segments: std::array::from_fn(|_| OnceCell::new()) }
    }

    /// The segment holding element `i` and `i`'s offset in it, if the segment exists.
    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<(&S, usize)> {
        let (s, o) = place(i);
        Some((self.segments.get(s)?.get()?, o))
    }

    /// Makes the segments of elements `0..len` exist, `make(n)` building one of `n` elements.
    /// False past the last segment.
    pub(super) fn grow_to(&self, len: usize, make: impl Fn(usize) -> S) -> bool {
        if len == 0 {
            return true;
        }
        let (last, _) = place(len - 1);
        for s in 0..=last {
            let Some(cell) = self.segments.get(s) else { return false };
            cell.get_or_init(|| make(len_of(s)));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_adds_one_segment_and_never_moves_an_element() {
        assert_eq!(place(0), (0, 0));
        assert_eq!(place(1), (1, 0));
        assert_eq!(place(2), (2, 0));
        assert_eq!(place(3), (2, 1));
        assert_eq!(place(4), (3, 0));
        assert_eq!(place(7), (3, 3));
        let a: Segmented<Box<[usize]>> = Segmented::new();
        let make = |n: usize| (0..n).collect::<Box<[usize]>>();
        assert!(a.get(0).is_none());
        assert!(a.grow_to(64, make));
        assert!(a.get(64).is_none(), "no element beyond the length asked for");
        let first: *const Box<[usize]> = a.get(0).map(|(s, _)| s).unwrap_or_else(|| unreachable!());
        assert!(a.grow_to(128, make));
        assert!(std::ptr::eq(first, a.get(0).map(|(s, _)| s).unwrap_or_else(|| unreachable!())));
        // Element i is at its offset in its segment, segments being filled 0..n.
        assert!((0..128).all(|i| a.get(i).is_some_and(|(s, o)| s[o] == o && o < s.len())));
    }
}
