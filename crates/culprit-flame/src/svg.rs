//! The SVG writer: one `<g class="f">` per frame wide enough to see, with the script and
//! style that make the file interactive on its own (zoom, search, hover details).

use std::io::{self, Write};

use crate::colour::{self, Kind, Rgb};
use crate::tree::{FlameTree, NodeIdx};
use crate::units::{percent, value_label};

const SCRIPT: &str = include_str!("../assets/flame.js");
const STYLE: &str = include_str!("../assets/flame.css");

/// How a graph is drawn.
#[derive(Clone, Debug)]
pub struct Options {
    /// Headline, usually the sample type and total.
    pub title: String,
    /// Second line: files, filters, notes.
    pub subtitle: String,
    /// Unit of the values (`nanoseconds`, `bytes`, `count`, ...).
    pub unit: String,
    /// Denominator of percentages (pprof's report total); 0 uses the root's value.
    pub total: i64,
    /// Base denominator for differential graphs; 0 uses the root's base value.
    pub base_total: i64,
    /// Root at the top, callees below (an icicle graph).
    pub inverted: bool,
    /// Colour by change against the base values instead of by package kind.
    pub differential: bool,
    /// Image width in pixels.
    pub width: u32,
    /// Frames narrower than this many pixels are left out, with their callees.
    pub min_width_px: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            title: "Flame Graph".into(),
            subtitle: String::new(),
            unit: String::new(),
            total: 0,
            base_total: 0,
            inverted: false,
            differential: false,
            width: 1200,
            min_width_px: 0.1,
        }
    }
}

const FRAME_H: u32 = 16;
const FONT_SIZE: f64 = 12.0;
const FONT_WIDTH: f64 = 0.59;
const PAD_X: f64 = 10.0;
const PAD_TOP: u32 = 64;
const PAD_BOTTOM: u32 = 34;

/// A frame's change of share: after/after_total - before/before_total, in percentage
/// points. Exactly zero when the shares are equal (compared as integers first, so a
/// profile against itself is neutral whatever the float rounding).
pub fn share_change(after: i64, after_total: i64, before: i64, before_total: i64) -> f64 {
    if i128::from(after) * i128::from(before_total) == i128::from(before) * i128::from(after_total)
    {
        return 0.0;
    }
    let share = |v: i64, t: i64| {
        if t == 0 {
            0.0
        } else {
            v as f64 / t as f64 * 100.0
        }
    };
    share(after, after_total) - share(before, before_total)
}

/// The smallest value a frame needs to be drawn when the root holds `root_value`: frames
/// narrower than `opts.min_width_px` are left out. Pass it to [`crate::tree::StackSet::build`]
/// so they are never built.
pub fn min_visible_value(opts: &Options, root_value: i64) -> i64 {
    let inner = f64::from(opts.width.max(200)) - 2.0 * PAD_X;
    if root_value > 0 {
        ((opts.min_width_px * root_value as f64 / inner).ceil() as i64).max(1)
    } else {
        i64::MAX
    }
}

/// Writes `tree` as a self-contained interactive SVG.
pub fn write_svg(tree: &FlameTree, opts: &Options, out: &mut impl Write) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(1 << 16, out);
    let root_value = tree.total();
    let total = if opts.total > 0 {
        opts.total
    } else {
        root_value
    };
    let base_total = if opts.base_total > 0 {
        opts.base_total
    } else {
        tree.base_total()
    };
    let width = f64::from(opts.width.max(200));
    let inner = width - 2.0 * PAD_X;
    let scale = if root_value > 0 {
        inner / root_value as f64
    } else {
        0.0
    };
    let min_value = min_visible_value(opts, root_value);

    // Visible frames, each with its x offset in value units, in pre-order.
    let mut visible: Vec<(NodeIdx, i64)> = Vec::new();
    let mut max_depth = 0u32;
    let mut stack: Vec<NodeIdx> = vec![0];
    while let Some(n) = stack.pop() {
        let node = &tree.nodes[n as usize];
        // The root stays even when empty, so every graph has a frame holding the total.
        if n != 0 && node.value < min_value {
            continue;
        }
        visible.push((n, node.x));
        max_depth = max_depth.max(node.depth);
        let first = stack.len();
        stack.extend(tree.children(n));
        stack[first..].reverse();
    }
    let max_change = if opts.differential {
        visible
            .iter()
            .map(|&(n, _)| {
                let node = &tree.nodes[n as usize];
                share_change(node.value, total, node.base, base_total).abs()
            })
            .fold(0.0, f64::max)
    } else {
        0.0
    };

    let height = PAD_TOP + (max_depth + 1) * FRAME_H + PAD_BOTTOM;
    let frames_top = f64::from(PAD_TOP);
    let frames_bottom = f64::from(PAD_TOP + (max_depth + 1) * FRAME_H);
    write!(
        w,
        r#"<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" class="flamegraph" data-inverted="{inv}" data-total="{total}" data-root="{root_value}" data-unit="{unit}" data-pad="{PAD_X}">
<style>{STYLE}</style>
<rect class="bg" x="0" y="0" width="100%" height="100%"/>
<text class="title" x="{mid}" y="22">"#,
        inv = u8::from(opts.inverted),
        unit = Esc(&opts.unit),
        mid = width / 2.0,
    )?;
    writeln!(w, "{}</text>", Esc(&opts.title))?;
    writeln!(
        w,
        "<text class=\"subtitle\" x=\"{}\" y=\"38\">{}</text>",
        width / 2.0,
        Esc(&opts.subtitle)
    )?;
    write!(
        w,
        "<text class=\"unzoom hide\" x=\"{PAD_X}\" y=\"22\">Reset Zoom</text>\n\
         <text class=\"search\" x=\"{}\" y=\"22\">Search</text>\n\
         <text class=\"details\" x=\"{PAD_X}\" y=\"{}\"> </text>\n\
         <text class=\"matched\" x=\"{}\" y=\"{}\"> </text>\n",
        width - PAD_X,
        height - 10,
        width - PAD_X,
        height - 10
    )?;
    write_legend(&mut w, opts, width)?;
    w.write_all(b"<g class=\"frames\">\n")?;
    let mut label = String::new();
    for &(n, x) in &visible {
        let node = &tree.nodes[n as usize];
        let name = tree.name(n);
        let px = PAD_X + x as f64 * scale;
        let pw = node.value as f64 * scale;
        let y = if opts.inverted {
            frames_top + f64::from(node.depth * FRAME_H)
        } else {
            frames_bottom - f64::from((node.depth + 1) * FRAME_H)
        };
        let fill = if opts.differential {
            colour::diff_colour(
                share_change(node.value, total, node.base, base_total),
                max_change,
            )
        } else if n == 0 {
            Rgb(200, 200, 200)
        } else {
            let kind = tree
                .kinds
                .get(node.name as usize)
                .copied()
                .unwrap_or(Kind::Other);
            colour::kind_colour(kind, name)
        };
        label.clear();
        if opts.differential {
            label.push_str(&format!(
                "before {} ({}), after {} ({}), share {:+.2} pp",
                value_label(node.base, &opts.unit),
                percent(node.base, base_total),
                value_label(node.value, &opts.unit),
                percent(node.value, total),
                share_change(node.value, total, node.base, base_total),
            ));
        } else {
            label.push_str(&format!(
                "{} ({}), self {}",
                value_label(node.value, &opts.unit),
                percent(node.value, total),
                value_label(tree.self_value(n), &opts.unit),
            ));
        }
        write!(
            w,
            "<g class=\"f\" data-x=\"{x}\" data-w=\"{}\" data-d=\"{}\"><title>{}\n{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" rx=\"2\"/><text x=\"{}\" y=\"{}\">{}</text></g>\n",
            node.value,
            node.depth,
            Esc(name),
            Esc(&label),
            Fixed(px),
            Fixed(y),
            Fixed(pw),
            FRAME_H - 1,
            Fixed(px + 3.0),
            Fixed(y + 11.5),
            Esc(&fit(name, pw)),
        )?;
    }
    w.write_all(b"</g>\n<script><![CDATA[\n")?;
    w.write_all(SCRIPT.replace("]]>", "]] >").as_bytes())?;
    w.write_all(b"\nif (document.documentElement.tagName === 'svg') flameInit(document.documentElement);\n]]></script>\n</svg>\n")?;
    w.flush()
}

fn write_legend(w: &mut impl Write, opts: &Options, width: f64) -> io::Result<()> {
    let y = 44.0;
    let mut x = PAD_X;
    let items: Vec<(Rgb, &str)> = if opts.differential {
        vec![
            (colour::diff_colour(1.0, 1.0), "grew (share of total)"),
            (colour::NEUTRAL, "unchanged"),
            (colour::diff_colour(-1.0, 1.0), "shrank"),
        ]
    } else {
        Kind::ALL
            .iter()
            .map(|k| (colour::kind_colour(*k, ""), k.label()))
            .collect()
    };
    w.write_all(b"<g class=\"legend\">")?;
    for (rgb, label) in items {
        if x + 140.0 > width {
            break;
        }
        write!(
            w,
            "<rect x=\"{}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"{rgb}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            Fixed(x),
            Fixed(x + 14.0),
            y + 9.0,
            Esc(label)
        )?;
        x += 24.0 + label.len() as f64 * 6.5;
    }
    w.write_all(b"</g>\n")
}

/// The part of `name` that fits `width` pixels: all of it, a prefix with `..`, or nothing.
pub fn fit(name: &str, width: f64) -> String {
    let chars = ((width - 6.0) / (FONT_SIZE * FONT_WIDTH)).floor();
    if chars < 3.0 {
        return String::new();
    }
    let chars = chars as usize;
    if name.chars().count() <= chars {
        return name.to_owned();
    }
    let mut s: String = name.chars().take(chars - 2).collect();
    s.push_str("..");
    s
}

/// XML-escapes text and attribute values, dropping characters XML 1.0 forbids.
struct Esc<'a>(&'a str);

impl std::fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let rep = match c {
                '<' => "&lt;",
                '>' => "&gt;",
                '&' => "&amp;",
                '"' => "&quot;",
                '\t' | '\n' | '\r' => continue,
                c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => "",
                _ => continue,
            };
            f.write_str(&s[start..i])?;
            f.write_str(rep)?;
            start = i + c.len_utf8();
        }
        f.write_str(&s[start..])
    }
}

/// A coordinate with two decimals and no trailing zeros, written without float formatting
/// machinery on the hot path.
struct Fixed(f64);

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hundredths = (self.0 * 100.0).round() as i64;
        let (sign, h) = if hundredths < 0 {
            ("-", -hundredths)
        } else {
            ("", hundredths)
        };
        let (int, frac) = (h / 100, h % 100);
        match frac {
            0 => write!(f, "{sign}{int}"),
            f10 if f10 % 10 == 0 => write!(f, "{sign}{int}.{}", f10 / 10),
            _ => write!(f, "{sign}{int}.{frac:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_escape() {
        assert_eq!(Fixed(1.0).to_string(), "1");
        assert_eq!(Fixed(1.5).to_string(), "1.5");
        assert_eq!(Fixed(1.234).to_string(), "1.23");
        assert_eq!(Fixed(-0.05).to_string(), "-0.05");
        assert_eq!(Esc("a<b>&\"c\u{1}").to_string(), "a&lt;b&gt;&amp;&quot;c");
    }

    #[test]
    fn fit_truncates() {
        assert_eq!(fit("main.handler", 200.0), "main.handler");
        assert_eq!(fit("main.handler", 60.0), "main...");
        assert_eq!(fit("main.handler", 10.0), "");
    }

    #[test]
    fn equal_shares_are_exactly_zero() {
        assert_eq!(share_change(1, 3, 2, 6), 0.0);
        assert!(share_change(2, 3, 2, 6) > 0.0);
    }

    mod props {
        use proptest::prelude::*;

        use super::super::*;
        use crate::tree::{Side, StackSet};

        /// Stacks over a few short names, so prefixes are shared and some frames are narrow.
        fn stacks() -> impl Strategy<Value = Vec<(Vec<u8>, i64, bool)>> {
            prop::collection::vec(
                (
                    prop::collection::vec(0u8..6, 0..6),
                    -5i64..3000,
                    any::<bool>(),
                ),
                0..60,
            )
        }

        fn gathered(stacks: &[(Vec<u8>, i64, bool)]) -> StackSet {
            let names = ["a", "a.b", "b", "main", "main.f", "zz"];
            let mut set = StackSet::new();
            let ids: Vec<u32> = names
                .iter()
                .map(|n| set.intern(n, crate::colour::Kind::Own))
                .collect();
            for (frames, value, base) in stacks {
                let stack: Vec<u32> = frames.iter().map(|&f| ids[f as usize]).collect();
                let side = if *base { Side::Base } else { Side::Value };
                set.add_stack(&stack, *value, side);
            }
            set
        }

        proptest! {
            /// Leaving narrow frames out while building draws the same picture as building
            /// them all and leaving them out while drawing.
            #[test]
            fn pruned_build_draws_the_same_svg(
                stacks in stacks(),
                min_width_px in 0.0f64..40.0,
                differential in any::<bool>(),
            ) {
                let opts = Options { min_width_px, differential, ..Options::default() };
                let full = gathered(&stacks).build(0);
                let set = gathered(&stacks);
                let min_value = min_visible_value(&opts, set.total());
                let pruned = set.build(min_value);
                prop_assert_eq!(full.total(), pruned.total());
                let (mut a, mut b) = (Vec::new(), Vec::new());
                write_svg(&full, &opts, &mut a).expect("svg");
                write_svg(&pruned, &opts, &mut b).expect("svg");
                prop_assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
            }
        }
    }
}
