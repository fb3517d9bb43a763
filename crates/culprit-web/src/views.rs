//! What the views show, computed from one prepared profile's flame tree: the top table,
//! a frame's callers and callees, and a source listing. Pure functions, no HTTP.

use std::collections::BTreeMap;

use culprit_flame::tree::{FlameTree, NodeIdx};
use culprit_profile::Profile;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// A row of the top table.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TopRow {
    /// Function name.
    pub name: String,
    /// Value with the function as the leaf.
    pub flat: i64,
    /// Value with the function anywhere on the stack (recursion counted once).
    pub cum: i64,
}

/// Flat and cumulative value per function, largest flat first (then cum, then name), as
/// pprof's `top` orders them.
pub fn top(tree: &FlameTree) -> Vec<TopRow> {
    let n = tree.names.len();
    let mut flat = vec![0i64; n];
    let mut cum = vec![0i64; n];
    let mut active = vec![0u32; n];
    // Depth-first walk with explicit enter/leave events so a recursive function's
    // cumulative value counts only its outermost frame.
    let mut stack: Vec<(NodeIdx, bool)> = tree.children(0).map(|c| (c, true)).collect();
    while let Some((idx, enter)) = stack.pop() {
        let node = &tree.nodes[idx as usize];
        let name = node.name as usize;
        if !enter {
            active[name] -= 1;
            continue;
        }
        flat[name] += tree.self_value(idx);
        if active[name] == 0 {
            cum[name] += node.value;
        }
        active[name] += 1;
        stack.push((idx, false));
        stack.extend(tree.children(idx).map(|c| (c, true)));
    }
    let mut rows: Vec<TopRow> = (1..n)
        .filter(|&i| cum[i] != 0 || flat[i] != 0)
        .map(|i| TopRow {
            name: tree.names[i].to_string(),
            flat: flat[i],
            cum: cum[i],
        })
        .collect();
    rows.sort_by(|a, b| {
        b.flat
            .cmp(&a.flat)
            .then(b.cum.cmp(&a.cum))
            .then(a.name.cmp(&b.name))
    });
    rows
}

/// A neighbour in a peek: a caller or callee and the value along that edge.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Edge {
    /// The neighbour's name.
    pub name: String,
    /// Value flowing through the edge.
    pub value: i64,
}

/// A function with its callers and callees.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Peek {
    /// The function.
    pub name: String,
    /// Its flat value.
    pub flat: i64,
    /// Its cumulative value.
    pub cum: i64,
    /// Who calls it, largest first (`all` stands for the root: no caller).
    pub callers: Vec<Edge>,
    /// What it calls, largest first.
    pub callees: Vec<Edge>,
}

/// The peek of the function named exactly `name`, or `None` when no frame has that name.
pub fn peek(tree: &FlameTree, name: &str) -> Option<Peek> {
    let id = tree.names.iter().position(|n| &**n == name)? as u32;
    let mut callers: FxHashMap<u32, i64> = FxHashMap::default();
    let mut callees: FxHashMap<u32, i64> = FxHashMap::default();
    let mut flat = 0i64;
    for (i, node) in tree.nodes.iter().enumerate().skip(1) {
        if node.name != id {
            continue;
        }
        let parent = &tree.nodes[node.parent as usize];
        // Count each edge only where it is not nested in the same edge higher up.
        *callers.entry(parent.name).or_default() += node.value;
        flat += tree.self_value(i as NodeIdx);
        for c in tree.children(i as NodeIdx) {
            let child = &tree.nodes[c as usize];
            *callees.entry(child.name).or_default() += child.value;
        }
    }
    let cum = top_cum(tree, id);
    let edges = |m: FxHashMap<u32, i64>| {
        let mut v: Vec<Edge> = m
            .into_iter()
            .map(|(n, value)| Edge {
                name: tree.names[n as usize].to_string(),
                value,
            })
            .collect();
        v.sort_by(|a, b| b.value.cmp(&a.value).then(a.name.cmp(&b.name)));
        v
    };
    Some(Peek {
        name: name.to_owned(),
        flat,
        cum,
        callers: edges(callers),
        callees: edges(callees),
    })
}

fn top_cum(tree: &FlameTree, id: u32) -> i64 {
    tree.nodes
        .iter()
        .skip(1)
        .filter(|n| n.name == id)
        .filter(|n| {
            let mut p = n.parent;
            while p != 0 {
                if tree.nodes[p as usize].name == id {
                    return false;
                }
                p = tree.nodes[p as usize].parent;
            }
            true
        })
        .map(|n| n.value)
        .sum()
}

/// A line of a source listing.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SourceLine {
    /// 1-based line number.
    pub line: i64,
    /// The text of the line.
    pub text: String,
    /// Value spent on this line itself.
    pub flat: i64,
    /// Value spent on this line and what it called.
    pub cum: i64,
}

/// A function's source with per-line values.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Source {
    /// The function.
    pub name: String,
    /// Its source file.
    pub file: String,
    /// Lines from a little before the first sampled line to a little after the last.
    pub lines: Vec<SourceLine>,
}

/// Flat and cumulative value per source line number.
pub type LineValues = BTreeMap<i64, (i64, i64)>;

/// Per-line values of the function named `name` in `profile`, with its source file.
pub fn line_values(
    profile: &Profile,
    value: impl Fn(&culprit_profile::Sample) -> i64,
    name: &str,
) -> Option<(String, LineValues)> {
    let mut file: Option<String> = None;
    let mut lines = LineValues::new();
    let mut seen: Vec<i64> = Vec::new();
    for s in &profile.samples {
        let v = value(s);
        if v == 0 {
            continue;
        }
        seen.clear();
        for (depth, loc) in s.locations.iter().enumerate() {
            let Some(loc) = profile.locations.get(*loc as usize) else {
                continue;
            };
            for (k, line) in loc.lines.iter().enumerate() {
                let Some(f) = profile.line_function(line) else {
                    continue;
                };
                if f.name != name {
                    continue;
                }
                file.get_or_insert_with(|| f.filename.clone());
                let e = lines.entry(line.line).or_default();
                if depth == 0 && k == 0 {
                    e.0 += v;
                }
                if !seen.contains(&line.line) {
                    seen.push(line.line);
                    e.1 += v;
                }
            }
        }
    }
    file.map(|f| (f, lines))
}

/// Joins per-line values with the text of `source`, keeping `context` lines around the
/// sampled ones.
pub fn listing(name: &str, file: &str, source: &str, values: &LineValues, context: i64) -> Source {
    let first = values.keys().next().copied().unwrap_or(1);
    let last = values.keys().next_back().copied().unwrap_or(1);
    let lines = source
        .lines()
        .enumerate()
        .map(|(i, text)| (i as i64 + 1, text))
        .filter(|(n, _)| *n >= first - context && *n <= last + context)
        .map(|(n, text)| {
            let (flat, cum) = values.get(&n).copied().unwrap_or((0, 0));
            SourceLine {
                line: n,
                text: text.to_owned(),
                flat,
                cum,
            }
        })
        .collect();
    Source {
        name: name.to_owned(),
        file: file.to_owned(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use culprit_flame::tree::Side;

    fn tree(folded: &str) -> FlameTree {
        let p = culprit_profile::folded::parse(folded.as_bytes()).expect("folded");
        let mut set = culprit_flame::tree::StackSet::new();
        set.add_profile(&p, Side::Value, |s| s.values[0]);
        set.build(0)
    }

    #[test]
    fn top_counts_recursion_once() {
        let t = tree("main;f;f;g 3\nmain;f 1\nmain;h 2\n");
        let rows = top(&t);
        let f = rows.iter().find(|r| r.name == "f").expect("f");
        assert_eq!((f.flat, f.cum), (1, 4));
        assert_eq!(rows[0].name, "g");
        let main = rows.iter().find(|r| r.name == "main").expect("main");
        assert_eq!(main.cum, 6);
    }

    #[test]
    fn peek_lists_callers_and_callees() {
        let t = tree("main;a;c 3\nmain;b;c 1\nmain;a;d 2\n");
        let p = peek(&t, "a").expect("a");
        assert_eq!(p.cum, 5);
        assert_eq!(
            p.callers,
            vec![Edge {
                name: "main".into(),
                value: 5
            }]
        );
        assert_eq!(
            p.callees[0],
            Edge {
                name: "c".into(),
                value: 3
            }
        );
        let c = peek(&t, "c").expect("c");
        assert_eq!(c.callers.len(), 2);
        assert!(peek(&t, "zzz").is_none());
    }
}
