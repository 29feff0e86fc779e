//! How many changes a run or a step made, in words: "1 change", "3 changes".

use std::fmt;

/// A number of changes, shown with its noun: `ChangeCount(1)` is "1 change".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeCount(pub usize);

impl fmt::Display for ChangeCount {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => formatter.write_str("1 change"),
            count => write!(formatter, "{count} changes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ChangeCount;

    #[test]
    fn one_change_is_singular_and_every_other_count_plural() {
        assert_eq!(ChangeCount(0).to_string(), "0 changes");
        assert_eq!(ChangeCount(1).to_string(), "1 change");
        assert_eq!(ChangeCount(2).to_string(), "2 changes");
    }
}
