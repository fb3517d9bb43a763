//! Shared pieces of the line-oriented parsers: name interning and the skipped-range log.

use std::collections::HashSet;

use crate::model::{Name, Skipped};

/// Hands out one `Arc<str>` per distinct name, so 100k copies of a stack share storage.
#[derive(Default)]
pub(crate) struct Interner {
    names: HashSet<Name>,
}

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> Name {
        if let Some(n) = self.names.get(s) {
            return n.clone();
        }
        let n: Name = s.into();
        self.names.insert(n.clone());
        n
    }
}

/// Collects skipped lines, merging consecutive lines skipped for the same reason.
#[derive(Default)]
pub(crate) struct SkipLog {
    pub(crate) ranges: Vec<Skipped>,
}

impl SkipLog {
    pub(crate) fn skip(&mut self, line: usize, reason: &str) {
        if let Some(last) = self.ranges.last_mut()
            && last.reason == reason
            && last.last_line + 1 >= line
        {
            last.last_line = line;
            return;
        }
        self.ranges.push(Skipped {
            first_line: line,
            last_line: line,
            reason: reason.to_string(),
        });
    }
}

/// Splits text into numbered lines (1-based) without their `\n` or `\r\n`.
pub(crate) fn numbered(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

/// Parses `0x1f` as hex.
pub(crate) fn hex(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x")?;
    u64::from_str_radix(digits, 16).ok()
}
