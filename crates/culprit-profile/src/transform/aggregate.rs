//! Granularity: pprof's `Profile.Aggregate`, which blanks the parts of functions and
//! locations a granularity ignores so equal frames become one node.

use super::Granularity;
use crate::Profile;

/// Aggregates `p` to `g`; `inlines == false` keeps only the outermost line of each location.
pub(crate) fn aggregate(p: &mut Profile, g: Granularity, inlines: bool) {
    let (function, filename, linenumber, address) = match g {
        Granularity::Addresses if inlines => return,
        Granularity::Addresses => (true, true, true, true),
        Granularity::Lines => (true, true, true, false),
        Granularity::Files => (false, true, false, false),
        Granularity::Functions => (true, false, false, false),
        Granularity::FileFunctions => (true, true, false, false),
    };
    for m in &mut p.mappings {
        m.has_inline_frames &= inlines;
        m.has_functions &= function;
        m.has_filenames &= filename;
        m.has_line_numbers &= linenumber;
    }
    if !function || !filename {
        for f in &mut p.functions {
            if !function {
                f.name.clear();
                f.system_name.clear();
            }
            if !filename {
                f.filename.clear();
            }
        }
    }
    if !inlines || !address || !linenumber {
        for l in &mut p.locations {
            if !inlines && l.lines.len() > 1 {
                l.lines.drain(..l.lines.len() - 1);
            }
            if !linenumber {
                for ln in &mut l.lines {
                    ln.line = 0;
                }
            }
            if !address {
                l.address = 0;
            }
        }
    }
}
