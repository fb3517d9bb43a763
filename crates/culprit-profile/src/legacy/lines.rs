//! A line scanner with the behaviour of Go's `bufio.Scanner` with `ScanLines`, which the
//! legacy parsers in pprof are written around: lines end at `\n`, a trailing `\r` is
//! dropped, a last line without newline still counts, and after the end `text()` is empty.

use std::borrow::Cow;

/// Scans `data` line by line, remembering the current line and its 1-based number.
pub(crate) struct Lines<'a> {
    data: &'a [u8],
    pos: usize,
    cur: Cow<'a, str>,
    line_no: usize,
    done: bool,
}

impl<'a> Lines<'a> {
    /// A scanner over `data`; `first_line` is the number the first line gets.
    pub(crate) fn new(data: &'a [u8], first_line: usize) -> Self {
        Self {
            data,
            pos: 0,
            cur: Cow::Borrowed(""),
            line_no: first_line.saturating_sub(1),
            done: false,
        }
    }

    /// Advances to the next line; false (and an empty current line) at the end.
    pub(crate) fn scan(&mut self) -> bool {
        if self.done || self.pos >= self.data.len() {
            self.done = true;
            self.cur = Cow::Borrowed("");
            return false;
        }
        let rest = &self.data[self.pos..];
        let (mut line, advance) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        self.pos += advance;
        self.line_no += 1;
        self.cur = String::from_utf8_lossy(line);
        true
    }

    /// The current line, without its line ending.
    pub(crate) fn text(&self) -> &str {
        &self.cur
    }

    /// The 1-based number of the current line.
    pub(crate) fn line_no(&self) -> usize {
        self.line_no
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &str) -> Vec<String> {
        let mut l = Lines::new(data.as_bytes(), 1);
        let mut out = Vec::new();
        while l.scan() {
            out.push(l.text().to_string());
        }
        assert_eq!(l.text(), "");
        out
    }

    #[test]
    fn splits_like_go_scan_lines() {
        assert_eq!(all(""), Vec::<String>::new());
        assert_eq!(all("\n"), vec![""]);
        assert_eq!(all("a\r\nb"), vec!["a", "b"]);
        assert_eq!(all("a\n\n"), vec!["a", ""]);
    }
}
