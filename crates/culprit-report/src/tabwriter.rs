//! The part of Go's `text/tabwriter` pprof's `tags` report uses: tab-terminated cells
//! aligned in column blocks, right-aligned, padded with spaces.

/// Lays out `text` as Go's `tabwriter.NewWriter(w, 0, 0, padding, ' ', AlignRight)` would.
pub(crate) fn align_right(text: &str, padding: usize) -> String {
    let mut lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    // A trailing newline leaves one empty last line, which Go's writer never prints.
    let ends_with_newline = text.ends_with('\n');
    if ends_with_newline {
        lines.pop();
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut widths: Vec<usize> = Vec::new();
    format(&lines, 0, lines.len(), &mut widths, padding, &mut out);
    if !ends_with_newline && out.ends_with('\n') {
        out.pop();
    }
    out
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn format(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    padding: usize,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut w = 0;
        while this < line1 && column + 1 < lines[this].len() {
            w = w.max(width(lines[this][column]) + padding);
            this += 1;
        }
        widths.push(w);
        format(lines, line0, this, widths, padding, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

fn write_lines(
    lines: &[Vec<&str>],
    line0: usize,
    line1: usize,
    widths: &[usize],
    out: &mut String,
) {
    for line in &lines[line0..line1] {
        for (j, cell) in line.iter().enumerate() {
            if j < widths.len() && j + 1 < line.len() {
                let pad = widths[j].saturating_sub(width(cell));
                out.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(cell);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn right_aligns_blocks() {
        let t = "a:\t Total 1\n \t10 (1%):\t x\n \t2 (99%):\t yy\n\n";
        assert_eq!(
            super::align_right(t, 1),
            " a: Total 1\n    10 (1%): x\n    2 (99%): yy\n\n"
        );
    }
}
