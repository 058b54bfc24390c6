//! `Few`: a list of nearly always zero or one item.

/// A list that is nearly always empty or of one item (an add's victims), kept without a heap
/// allocation in those cases.
#[derive(Debug)]
pub struct Few<T> {
    one: Option<T>,
    more: Vec<T>,
}

impl<T> Default for Few<T> {
    fn default() -> Self {
        Few { one: None, more: Vec::new() }
    }
}

impl<T> Few<T> {
    /// Appends an item.
    pub fn push(&mut self, item: T) {
        if self.one.is_none() && self.more.is_empty() {
            self.one = Some(item);
        } else {
            self.more.push(item);
        }
    }

    /// The items in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.into_iter()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        usize::from(self.one.is_some()) + self.more.len()
    }

    /// True when there is no item.
    pub fn is_empty(&self) -> bool {
        self.one.is_none()
    }

    /// The items, copied into a `Vec`.
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.iter().cloned().collect()
    }

    pub(super) fn map<U>(self, mut f: impl FnMut(T) -> U) -> Few<U> {
        let one = self.one.map(&mut f);
        // Nearly always empty: skip building an iterator for it.
        let more = if self.more.is_empty() { Vec::new() } else { self.more.into_iter().map(f).collect() };
        Few { one, more }
    }
}

impl<'a, T> IntoIterator for &'a Few<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Chain<std::option::Iter<'a, T>, std::slice::Iter<'a, T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.one.iter().chain(self.more.iter())
    }
}
