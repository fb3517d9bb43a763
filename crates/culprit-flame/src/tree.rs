//! The flame graph model: stacks merged into a tree of frames, each with the value of the
//! profile drawn and, for differential graphs, the value of the base profile.

use culprit_profile::{Profile, Sample};
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
    /// Inclusive value in the profile drawn.
    pub value: i64,
    /// Inclusive value in the base profile (differential graphs only).
    pub base: i64,
    /// Callees, in insertion order; [`FlameTree::sort`] orders them by name.
    pub children: Vec<NodeIdx>,
}

/// Stacks merged by common prefix. Frame names are interned, each with the package kind
/// that picks its colour.
#[derive(Clone, Debug)]
pub struct FlameTree {
    /// The nodes; `nodes[0]` is the root, named `all`.
    pub nodes: Vec<Node>,
    /// Interned frame names.
    pub names: Vec<Box<str>>,
    /// Package kind of each name.
    pub kinds: Vec<Kind>,
    name_ids: FxHashMap<Box<str>, u32>,
    /// Children of nodes with at least [`INDEXED_FROM`] of them, by parent and name.
    edges: FxHashMap<(NodeIdx, u32), NodeIdx>,
    /// The previous stack added and its nodes: consecutive stacks (sorted folded input,
    /// pprof's samples) mostly share a prefix, which then needs no edge lookups.
    last_stack: Vec<u32>,
    last_path: Vec<NodeIdx>,
}

impl Default for FlameTree {
    fn default() -> Self {
        Self::new()
    }
}

/// Children counted from which a node's children are found through the edge map.
const INDEXED_FROM: usize = 16;

/// Which of a node's two values a stack adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The profile drawn.
    Value,
    /// The base of a differential graph.
    Base,
}

impl FlameTree {
    /// An empty tree holding only the root.
    pub fn new() -> Self {
        let mut t = Self {
            nodes: Vec::new(),
            names: Vec::new(),
            kinds: Vec::new(),
            name_ids: FxHashMap::default(),
            edges: FxHashMap::default(),
            last_stack: Vec::new(),
            last_path: Vec::new(),
        };
        let root = t.intern("all", Kind::Other);
        t.nodes.push(Node {
            name: root,
            parent: 0,
            depth: 0,
            value: 0,
            base: 0,
            children: Vec::new(),
        });
        t
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

    /// The name of a node.
    pub fn name(&self, n: NodeIdx) -> &str {
        self.nodes
            .get(n as usize)
            .and_then(|node| self.names.get(node.name as usize))
            .map_or("", |s| s)
    }

    /// Adds `value` along a stack of interned names, root first. Non-positive values are
    /// skipped: a flame graph has no negative widths.
    pub fn add_stack(&mut self, stack: &[u32], value: i64, side: Side) {
        if value <= 0 {
            return;
        }
        let shared = stack
            .iter()
            .zip(&self.last_stack)
            .take_while(|(a, b)| a == b)
            .count()
            .min(self.last_path.len());
        self.last_stack.clear();
        self.last_stack.extend_from_slice(stack);
        self.last_path.truncate(shared);
        self.bump(0, value, side);
        for i in 0..shared {
            let n = self.last_path[i];
            self.bump(n, value, side);
        }
        let mut at: NodeIdx = self.last_path.last().copied().unwrap_or(0);
        for &name in &stack[shared..] {
            let next = match self.child(at, name) {
                Some(n) => n,
                None => {
                    let n = self.nodes.len() as NodeIdx;
                    let depth = self.nodes[at as usize].depth + 1;
                    self.nodes.push(Node {
                        name,
                        parent: at,
                        depth,
                        value: 0,
                        base: 0,
                        children: Vec::new(),
                    });
                    let siblings = &mut self.nodes[at as usize].children;
                    siblings.push(n);
                    let count = siblings.len();
                    if count > INDEXED_FROM {
                        self.edges.insert((at, name), n);
                    } else if count == INDEXED_FROM {
                        // Enough siblings that a scan costs more than a hash lookup.
                        let indexed: Vec<NodeIdx> = siblings.clone();
                        for c in indexed {
                            let c_name = self.nodes[c as usize].name;
                            self.edges.insert((at, c_name), c);
                        }
                    }
                    n
                }
            };
            self.bump(next, value, side);
            self.last_path.push(next);
            at = next;
        }
    }

    /// The child of `at` named `name`: a scan of few children (the last added first, the
    /// likely one for sorted input), a hash lookup among many.
    fn child(&self, at: NodeIdx, name: u32) -> Option<NodeIdx> {
        let children = &self.nodes[at as usize].children;
        if children.len() >= INDEXED_FROM {
            return self.edges.get(&(at, name)).copied();
        }
        children
            .iter()
            .rev()
            .copied()
            .find(|&c| self.nodes[c as usize].name == name)
    }

    fn bump(&mut self, n: NodeIdx, value: i64, side: Side) {
        let node = &mut self.nodes[n as usize];
        match side {
            Side::Value => node.value = node.value.saturating_add(value),
            Side::Base => node.base = node.base.saturating_add(value),
        }
    }

    /// Orders every node's children by name, the flame graph convention that makes two
    /// graphs of similar profiles line up.
    pub fn sort(&mut self) {
        let names = &self.names;
        let mut keys: Vec<u32> = self.nodes.iter().map(|n| n.name).collect();
        // Sort by name string once; ranks make the per-node sorts integer compares.
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_unstable_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
        let mut rank = vec![0u32; names.len()];
        for (r, id) in order.into_iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        for k in &mut keys {
            *k = rank[*k as usize];
        }
        for node in &mut self.nodes {
            node.children.sort_unstable_by_key(|c| keys[*c as usize]);
        }
    }

    /// Adds the samples of `profile` using `value` to read each sample's value.
    pub fn add_profile(&mut self, profile: &Profile, side: Side, value: impl Fn(&Sample) -> i64) {
        let classifier = Classifier::new(profile);
        let frames: Vec<Vec<u32>> = profile
            .locations
            .iter()
            .map(|loc| {
                let names = culprit_profile::folded::location_frames(profile, loc);
                names
                    .iter()
                    .zip(
                        loc.lines
                            .iter()
                            .rev()
                            .map(Some)
                            .chain(std::iter::repeat(None)),
                    )
                    .map(|(name, line)| {
                        let file = line
                            .and_then(|l| profile.line_function(l))
                            .map_or("", |f| f.filename.as_str());
                        let kind = classifier.classify(name, file);
                        self.intern(name, kind)
                    })
                    .collect()
            })
            .collect();
        let mut stack: Vec<u32> = Vec::new();
        for s in &profile.samples {
            stack.clear();
            for &loc in s.locations.iter().rev() {
                if let Some(f) = frames.get(loc as usize) {
                    stack.extend_from_slice(f);
                }
            }
            self.add_stack(&stack, value(s), side);
        }
    }

    /// The root's value: the sum drawn.
    pub fn total(&self) -> i64 {
        self.nodes.first().map_or(0, |n| n.value)
    }

    /// The root's base value.
    pub fn base_total(&self) -> i64 {
        self.nodes.first().map_or(0, |n| n.base)
    }

    /// The value a node holds itself, not passed on to callees.
    pub fn self_value(&self, n: NodeIdx) -> i64 {
        let node = &self.nodes[n as usize];
        node.value
            - node
                .children
                .iter()
                .map(|c| self.nodes[*c as usize].value)
                .sum::<i64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_common_prefixes_and_sorts_children() {
        let mut t = FlameTree::new();
        let a = t.intern("a", Kind::Own);
        let c = t.intern("c", Kind::Own);
        let b = t.intern("b", Kind::Own);
        t.add_stack(&[a, c], 2, Side::Value);
        t.add_stack(&[a, b], 3, Side::Value);
        t.add_stack(&[a], 1, Side::Base);
        t.add_stack(&[a], -5, Side::Value);
        t.sort();
        assert_eq!(t.total(), 5);
        assert_eq!(t.base_total(), 1);
        let an = t.nodes[0].children[0];
        assert_eq!(t.name(an), "a");
        let kids: Vec<&str> = t.nodes[an as usize]
            .children
            .iter()
            .map(|c| t.name(*c))
            .collect();
        assert_eq!(kids, ["b", "c"]);
        assert_eq!(t.self_value(an), 0);
    }
}
