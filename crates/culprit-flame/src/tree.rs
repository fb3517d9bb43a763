//! The flame graph model. Stacks are gathered first ([`StackSet`]: interned names, frames
//! in one arena), then sorted by name and merged into a tree ([`FlameTree`]) in one pass:
//! sorted stacks put each frame's callees next to each other, so the tree is built without
//! looking up children, and a frame too narrow to draw is dropped with its callees as soon
//! as it is complete.

use culprit_profile::{Profile, Sample};
use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use crate::colour::{Classifier, Kind};

/// Index of a node in [`FlameTree::nodes`]; the root is 0.
pub type NodeIdx = u32;

/// One frame of the merged tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Index into [`FlameTree::names`].
    pub name: u32,
    /// Parent node; the root is its own parent.
    pub parent: NodeIdx,
    /// Distance from the root (the root is 0).
    pub depth: u32,
    /// Offset of the frame's left edge from the root's, in value units: its caller's
    /// offset plus what lies to its left there (the caller's own value, then earlier
    /// callees, drawn or not).
    pub x: i64,
    /// Inclusive value in the profile drawn.
    pub value: i64,
    /// Value of the stacks that end at this frame, in the profile drawn.
    pub self_value: i64,
    /// Inclusive value in the base profile (differential graphs only).
    pub base: i64,
    /// First callee in name order, or 0 for none (see [`FlameTree::children`]).
    first_child: NodeIdx,
    /// Next callee of the same caller in name order, or 0 for none. Links instead of a
    /// list per frame keep a tree of millions of frames to one allocation.
    next_sibling: NodeIdx,
}

/// Stacks merged by common prefix, callees ordered by name (the flame graph convention
/// that makes two graphs of similar profiles line up). Frame names come with the package
/// kind that picks their colour.
#[derive(Clone, Debug)]
pub struct FlameTree {
    /// The nodes in pre-order; `nodes[0]` is the root, named `all`.
    pub nodes: Vec<Node>,
    /// Frame names, in lexical order.
    pub names: Vec<Box<str>>,
    /// Package kind of each name.
    pub kinds: Vec<Kind>,
}

/// Which of a node's two values a stack adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The profile drawn.
    Value,
    /// The base of a differential graph.
    Base,
}

/// One gathered stack: `len` frames from `start` in the arena.
#[derive(Clone, Copy, Debug)]
struct Stack {
    start: usize,
    len: u32,
    side: Side,
    value: i64,
}

/// Stacks gathered for a [`FlameTree`].
#[derive(Clone, Debug)]
pub struct StackSet {
    names: Vec<Box<str>>,
    kinds: Vec<Kind>,
    name_ids: FxHashMap<Box<str>, u32>,
    /// Every stack's frames, root first, back to back.
    frames: Vec<u32>,
    stacks: Vec<Stack>,
}

impl Default for StackSet {
    fn default() -> Self {
        Self::new()
    }
}

const ROOT_NAME: &str = "all";

impl StackSet {
    /// No stacks yet.
    pub fn new() -> Self {
        let mut s = Self {
            names: Vec::new(),
            kinds: Vec::new(),
            name_ids: FxHashMap::default(),
            frames: Vec::new(),
            stacks: Vec::new(),
        };
        s.intern(ROOT_NAME, Kind::Other);
        s
    }

    /// The id of `name`, adding it with `kind` when new.
    pub fn intern(&mut self, name: &str, kind: Kind) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.kinds.push(kind);
        self.name_ids.insert(name.into(), id);
        id
    }

    /// Adds `value` along a stack of interned names, root first. Non-positive values are
    /// skipped: a flame graph has no negative widths.
    pub fn add_stack(&mut self, stack: &[u32], value: i64, side: Side) {
        if value <= 0 {
            return;
        }
        let start = self.frames.len();
        self.frames.extend_from_slice(stack);
        self.push(start, value, side);
    }

    fn push(&mut self, start: usize, value: i64, side: Side) {
        self.stacks.push(Stack {
            start,
            len: (self.frames.len() - start) as u32,
            side,
            value,
        });
    }

    /// Adds the samples of `profile` using `value` to read each sample's value.
    pub fn add_profile(&mut self, profile: &Profile, side: Side, value: impl Fn(&Sample) -> i64) {
        let classifier = Classifier::new(profile);
        // Each location's frame when it has one (most do), else MANY and its frames, caller
        // first, at `inlined[starts[i]..starts[i + 1]]`.
        const MANY: u32 = u32::MAX;
        let mut single: Vec<u32> = Vec::with_capacity(profile.locations.len());
        let mut inlined: Vec<u32> = Vec::new();
        let mut starts: Vec<usize> = Vec::with_capacity(profile.locations.len() + 1);
        for loc in &profile.locations {
            starts.push(inlined.len());
            let names = culprit_profile::folded::location_frames(profile, loc);
            let lines = loc
                .lines
                .iter()
                .rev()
                .map(Some)
                .chain(std::iter::repeat(None));
            let first = inlined.len();
            for (name, line) in names.iter().zip(lines) {
                let file = line
                    .and_then(|l| profile.line_function(l))
                    .map_or("", |f| f.filename.as_str());
                let kind = classifier.classify(name, file);
                inlined.push(self.intern(name, kind));
            }
            if inlined.len() == first + 1 {
                single.push(inlined[first]);
                inlined.truncate(first);
            } else {
                single.push(MANY);
            }
        }
        starts.push(inlined.len());
        // Samples that differ only in labels share a stack: it is expanded once.
        let mut seen: FxHashMap<&[u32], usize> = FxHashMap::default();
        for s in &profile.samples {
            let v = value(s);
            if v <= 0 {
                continue;
            }
            match seen.entry(&s.locations) {
                Entry::Occupied(e) => {
                    let stack = &mut self.stacks[*e.get()];
                    stack.value = stack.value.saturating_add(v);
                    continue;
                }
                Entry::Vacant(e) => {
                    e.insert(self.stacks.len());
                }
            }
            let start = self.frames.len();
            for &loc in s.locations.iter().rev() {
                let loc = loc as usize;
                match single.get(loc) {
                    Some(&MANY) => {
                        if let (Some(&a), Some(&b)) = (starts.get(loc), starts.get(loc + 1)) {
                            self.frames.extend_from_slice(&inlined[a..b]);
                        }
                    }
                    Some(&f) => self.frames.push(f),
                    None => {}
                }
            }
            self.push(start, v, side);
        }
    }

    /// Sum of the values of the profile drawn: the root's value once built.
    pub fn total(&self) -> i64 {
        self.stacks
            .iter()
            .filter(|s| s.side == Side::Value)
            .fold(0i64, |t, s| t.saturating_add(s.value))
    }

    /// Merges the stacks into a tree. A frame whose value is below `min_value` is left out
    /// with its callees (its value still counts in its caller's); `0` keeps every frame.
    pub fn build(self, min_value: i64) -> FlameTree {
        let StackSet {
            names,
            kinds,
            mut frames,
            mut stacks,
            ..
        } = self;
        // Renumber names in lexical order, so sorting stacks by id sorts them by name.
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_unstable_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
        let mut rank = vec![0u32; names.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        for f in &mut frames {
            *f = rank[*f as usize];
        }
        let mut names_sorted: Vec<Box<str>> = Vec::with_capacity(names.len());
        let mut kinds_sorted = Vec::with_capacity(names.len());
        let mut names = names.into_iter().map(Some).collect::<Vec<_>>();
        for &id in &order {
            names_sorted.push(names[id as usize].take().unwrap_or_default());
            kinds_sorted.push(kinds[id as usize]);
        }
        sort_stacks(&mut stacks, &frames);
        let of = |s: &Stack| &frames[s.start..s.start + s.len as usize];

        let mut b = Builder {
            nodes: vec![Node {
                name: rank[0],
                parent: 0,
                depth: 0,
                x: 0,
                value: 0,
                self_value: 0,
                base: 0,
                first_child: 0,
                next_sibling: 0,
            }],
            path: vec![0],
            min_value,
        };
        let mut prev: &[u32] = &[];
        for s in &stacks {
            let stack = of(s);
            let shared = stack.iter().zip(prev).take_while(|(a, b)| a == b).count();
            while b.path.len() > shared + 1 {
                b.close();
            }
            for &name in &stack[shared..] {
                b.open(name);
            }
            let at = b.path[b.path.len() - 1] as usize;
            let node = &mut b.nodes[at];
            match s.side {
                Side::Value => {
                    node.value = node.value.saturating_add(s.value);
                    node.self_value = node.self_value.saturating_add(s.value);
                }
                Side::Base => node.base = node.base.saturating_add(s.value),
            }
            prev = stack;
        }
        while b.path.len() > 1 {
            b.close();
        }
        // Linked only now: most frames built are dropped again, and pre-order puts each
        // frame's callees in name order.
        let mut nodes = b.nodes;
        for n in (1..nodes.len()).rev() {
            let parent = nodes[n].parent as usize;
            nodes[n].next_sibling = nodes[parent].first_child;
            nodes[parent].first_child = n as NodeIdx;
        }
        FlameTree {
            nodes,
            names: names_sorted,
            kinds: kinds_sorted,
        }
    }
}

/// Stacks gathered from which sorting is split over two threads.
const PARALLEL_SORT_FROM: usize = 1 << 16;

/// Sorts stacks by their frames. Large sets sort as two halves on two threads, then merge:
/// sorting is most of the cost of building a tree.
fn sort_stacks(stacks: &mut Vec<Stack>, frames: &[u32]) {
    let of = |s: &Stack| &frames[s.start..s.start + s.len as usize];
    let cmp = |a: &Stack, b: &Stack| of(a).cmp(of(b));
    if stacks.len() < PARALLEL_SORT_FROM {
        stacks.sort_unstable_by(cmp);
        return;
    }
    let len = stacks.len();
    let (left, right) = stacks.split_at_mut(len / 2);
    let split = std::thread::scope(|scope| {
        let other = std::thread::Builder::new().spawn_scoped(scope, || left.sort_unstable_by(cmp));
        right.sort_unstable_by(cmp);
        other.map(|h| h.join().is_ok()).unwrap_or(false)
    });
    if !split {
        // No second thread: sort the left half here.
        left.sort_unstable_by(cmp);
    }
    let mut merged = Vec::with_capacity(len);
    let (mut l, mut r) = (left.iter().peekable(), right.iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        if cmp(a, b) == std::cmp::Ordering::Greater {
            merged.push(**b);
            r.next();
        } else {
            merged.push(**a);
            l.next();
        }
    }
    merged.extend(l.copied());
    merged.extend(r.copied());
    *stacks = merged;
}

/// Iterator over a frame's callees ([`FlameTree::children`]).
pub struct Children<'t> {
    nodes: &'t [Node],
    next: NodeIdx,
}

impl Iterator for Children<'_> {
    type Item = NodeIdx;

    fn next(&mut self) -> Option<NodeIdx> {
        let n = self.next;
        let node = self.nodes.get(n as usize).filter(|_| n != 0)?;
        self.next = node.next_sibling;
        Some(n)
    }
}

/// The tree being built: `path` holds the open frames, root first; a frame's values are
/// complete when it is closed, and only then passed to its caller.
struct Builder {
    nodes: Vec<Node>,
    path: Vec<NodeIdx>,
    min_value: i64,
}

impl Builder {
    fn open(&mut self, name: u32) {
        let parent = self.path[self.path.len() - 1];
        let n = self.nodes.len() as NodeIdx;
        // Sorted stacks give a frame its own value before its callees, and each callee its
        // value before the next opens: the caller's value so far is this callee's offset.
        let p = &self.nodes[parent as usize];
        let x = p.x.saturating_add(p.value);
        self.nodes.push(Node {
            name,
            parent,
            depth: self.path.len() as u32,
            x,
            value: 0,
            self_value: 0,
            base: 0,
            first_child: 0,
            next_sibling: 0,
        });
        self.path.push(n);
    }

    fn close(&mut self) {
        let Some(n) = self.path.pop() else { return };
        let node = &self.nodes[n as usize];
        let (value, base, parent) = (node.value, node.base, node.parent as usize);
        if value < self.min_value {
            // Pre-order: the frame's callees are the nodes after it.
            self.nodes.truncate(n as usize);
        }
        let p = &mut self.nodes[parent];
        p.value = p.value.saturating_add(value);
        p.base = p.base.saturating_add(base);
    }
}

impl FlameTree {
    /// The name of a node.
    pub fn name(&self, n: NodeIdx) -> &str {
        self.nodes
            .get(n as usize)
            .and_then(|node| self.names.get(node.name as usize))
            .map_or("", |s| s)
    }

    /// The root's value: the sum drawn.
    pub fn total(&self) -> i64 {
        self.nodes.first().map_or(0, |n| n.value)
    }

    /// The root's base value.
    pub fn base_total(&self) -> i64 {
        self.nodes.first().map_or(0, |n| n.base)
    }

    /// The callees of `n`, in name order.
    pub fn children(&self, n: NodeIdx) -> Children<'_> {
        Children {
            nodes: &self.nodes,
            next: self
                .nodes
                .get(n as usize)
                .map_or(0, |node| node.first_child),
        }
    }

    /// The value a node holds itself, not passed on to callees.
    pub fn self_value(&self, n: NodeIdx) -> i64 {
        self.nodes.get(n as usize).map_or(0, |node| node.self_value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_common_prefixes_and_sorts_children() {
        let mut set = StackSet::new();
        let a = set.intern("a", Kind::Own);
        let c = set.intern("c", Kind::Own);
        let b = set.intern("b", Kind::Own);
        set.add_stack(&[a, c], 2, Side::Value);
        set.add_stack(&[a, b], 3, Side::Value);
        set.add_stack(&[a], 1, Side::Base);
        set.add_stack(&[a], -5, Side::Value);
        assert_eq!(set.total(), 5);
        let t = set.build(0);
        assert_eq!(t.total(), 5);
        assert_eq!(t.base_total(), 1);
        let an = t.children(0).next().expect("a");
        assert_eq!(t.name(an), "a");
        let kids: Vec<&str> = t.children(an).map(|c| t.name(c)).collect();
        assert_eq!(kids, ["b", "c"]);
        assert_eq!(t.self_value(an), 0);
    }

    #[test]
    fn narrow_frames_are_dropped_with_their_callees_but_still_counted() {
        let mut set = StackSet::new();
        let [m, big, small, leaf] =
            ["main", "work", "helper", "leaf"].map(|n| set.intern(n, Kind::Own));
        set.add_stack(&[m, big], 90, Side::Value);
        set.add_stack(&[m, small, leaf], 5, Side::Value);
        set.add_stack(&[m], 5, Side::Value);
        let t = set.build(10);
        assert_eq!(t.total(), 100);
        let main = t.children(0).next().expect("main");
        assert_eq!(t.nodes[main as usize].value, 100);
        assert_eq!(t.self_value(main), 5);
        let kids: Vec<&str> = t.children(main).map(|c| t.name(c)).collect();
        assert_eq!(kids, ["work"]);
        assert_eq!(t.nodes.len(), 3);
        // `helper` (5) is not drawn but still lies left of `work`, after main's own 5.
        let big = t.children(main).next().expect("work");
        assert_eq!(t.nodes[big as usize].x, 10);
    }
}
