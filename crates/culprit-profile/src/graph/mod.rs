//! pprof's call graph: one node per distinct frame at the prepared granularity, with flat
//! and cumulative values, caller→callee edges (marked inline or residual), trimming by node
//! and edge fractions and node count, and pprof's node and edge orders.
//!
//! Build a [`NodeIndex`] once per prepared profile (it names every frame), then
//! [`trimmed`] gives what `top`, `peek` and `tree` show:
//!
//! ```no_run
//! # fn demo(prepared: &culprit_profile::transform::Prepared) {
//! use culprit_profile::graph::{self, NodeIndex, TrimOptions};
//! let index = NodeIndex::new(&prepared.profile);
//! let t = graph::trimmed(&index, prepared, &TrimOptions::default());
//! for n in &t.graph.nodes {
//!     println!("{} {} {}", index.name(n.id), n.flat, n.cum);
//! }
//! # }
//! ```

mod index;
mod order;

pub use index::{NodeIndex, NodeInfo, base_name, clean_path};

use rustc_hash::FxHashMap;

use crate::transform::Prepared;

/// Index of a [`NodeInfo`] in a [`NodeIndex`].
pub type NodeId = u32;

/// A node's values. `*_div` are the mean divisors (0 when not reporting means).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// Which frame this is.
    pub id: NodeId,
    /// Value of samples whose leaf is this frame.
    pub flat: i64,
    /// Mean divisor of `flat`.
    pub flat_div: i64,
    /// Value of samples with this frame anywhere on the stack (counted once per sample).
    pub cum: i64,
    /// Mean divisor of `cum`.
    pub cum_div: i64,
}

fn div(v: i64, d: i64) -> i64 {
    if d == 0 { v } else { v / d }
}

impl Node {
    /// The flat value as reported (mean-divided when means are reported).
    pub fn flat_value(&self) -> i64 {
        div(self.flat, self.flat_div)
    }
    /// The cumulative value as reported.
    pub fn cum_value(&self) -> i64 {
        div(self.cum, self.cum_div)
    }
}

/// A caller→callee edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The caller.
    pub src: NodeId,
    /// The callee.
    pub dest: NodeId,
    /// Value of the samples through this call.
    pub weight: i64,
    /// Mean divisor of `weight`.
    pub weight_div: i64,
    /// Frames between the two were dropped by trimming.
    pub residual: bool,
    /// The callee was inlined into the caller at every sample.
    pub inline: bool,
    removed: bool,
}

impl Edge {
    /// The weight as reported (mean-divided when means are reported).
    pub fn weight_value(&self) -> i64 {
        div(self.weight, self.weight_div)
    }
}

/// A call graph over the frames of a [`NodeIndex`].
#[derive(Clone, Debug)]
pub struct Graph {
    /// Nodes with a nonzero value, in report order once sorted.
    pub nodes: Vec<Node>,
    edges: Vec<Edge>,
    incoming: FxHashMap<NodeId, Vec<u32>>,
    outgoing: FxHashMap<NodeId, Vec<u32>>,
}

impl Graph {
    /// Sum of the nodes' raw flat values (pprof's `Nodes.Sum`).
    pub fn flat_sum(&self) -> i64 {
        self.nodes.iter().fold(0i64, |a, n| a.wrapping_add(n.flat))
    }

    /// Edges into `id` (its callers), in pprof's edge order.
    pub fn in_edges(&self, index: &NodeIndex, id: NodeId) -> Vec<&Edge> {
        self.sorted_edges(index, self.incoming.get(&id))
    }

    /// Edges out of `id` (its callees), in pprof's edge order.
    pub fn out_edges(&self, index: &NodeIndex, id: NodeId) -> Vec<&Edge> {
        self.sorted_edges(index, self.outgoing.get(&id))
    }

    fn sorted_edges(&self, index: &NodeIndex, ids: Option<&Vec<u32>>) -> Vec<&Edge> {
        let mut v: Vec<&Edge> = ids
            .into_iter()
            .flatten()
            .map(|&e| &self.edges[e as usize])
            .filter(|e| !e.removed)
            .collect();
        v.sort_by(|a, b| order::edge_cmp(index, a, b));
        v
    }

    fn rebuild_adjacency(&mut self) {
        self.incoming.clear();
        self.outgoing.clear();
        for (i, e) in self.edges.iter().enumerate() {
            if !e.removed {
                self.incoming.entry(e.dest).or_default().push(i as u32);
                self.outgoing.entry(e.src).or_default().push(i as u32);
            }
        }
    }

    /// Removes edges into graph nodes lighter than `cutoff`; returns how many.
    fn trim_low_frequency_edges(&mut self, cutoff: i64, in_graph: &[bool]) -> usize {
        let mut dropped = 0;
        for e in &mut self.edges {
            if !e.removed && in_graph[e.dest as usize] && e.weight.wrapping_abs() < cutoff {
                e.removed = true;
                dropped += 1;
            }
        }
        self.rebuild_adjacency();
        dropped
    }

    /// Sorts nodes by flat (or cum) value, then name, as pprof's text reports do.
    pub fn sort(&mut self, index: &NodeIndex, cum: bool) {
        if cum {
            self.nodes.sort_by(|a, b| order::cum_name(index, a, b));
        } else {
            self.nodes.sort_by(|a, b| order::flat_name(index, a, b));
        }
    }
}

/// Builds pprof's graph of `prep`'s samples. With `kept`, frames outside the set are left
/// out and the edges that skip over them are marked residual.
pub fn build(
    index: &NodeIndex,
    prep: &Prepared,
    kept: Option<&[bool]>,
    drop_negative: bool,
) -> Graph {
    build_with(index, prep, kept, drop_negative, Edges::All)
}

/// Which edges a graph counts. The untrimmed graph of a large profile has millions of
/// distinct edges; counting the ones a report never looks at only costs cache misses.
#[derive(Clone, Copy)]
enum Edges<'a> {
    /// None: only node values are wanted.
    None,
    /// Every edge.
    All,
    /// Edges with an end among these nodes (by id).
    Touching(&'a [bool]),
}

impl Edges<'_> {
    fn wanted(self, src: NodeId, dest: NodeId) -> bool {
        match self {
            Edges::None => false,
            Edges::All => true,
            Edges::Touching(m) => {
                m.get(src as usize).copied().unwrap_or(false)
                    || m.get(dest as usize).copied().unwrap_or(false)
            }
        }
    }
}

/// [`build`] counting only the `edges` wanted.
fn build_with(
    index: &NodeIndex,
    prep: &Prepared,
    kept: Option<&[bool]>,
    drop_negative: bool,
    edges_wanted: Edges,
) -> Graph {
    let n = index.len();
    let mut flat = vec![0i64; n];
    let mut flat_div = vec![0i64; n];
    let mut cum = vec![0i64; n];
    let mut cum_div = vec![0i64; n];
    let mut stamp = vec![0u32; n];
    let mut edges: Vec<Edge> = Vec::new();
    let mut edge_stamp: Vec<u32> = Vec::new();
    let mut edge_map: FxHashMap<u64, u32> = FxHashMap::default();
    let mut cur = 0u32;
    for s in &prep.profile.samples {
        let w = prep.value(s);
        let dw = prep.mean_divisor(s);
        if w == 0 && dw == 0 {
            continue;
        }
        cur = cur.wrapping_add(1);
        if cur == 0 {
            stamp.iter_mut().for_each(|x| *x = 0);
            edge_stamp.iter_mut().for_each(|x| *x = 0);
            cur = 1;
        }
        let mut parent: Option<NodeId> = None;
        let mut residual = false;
        for &loc in s.locations.iter().rev() {
            let nodes = index.location_nodes(loc);
            for (ni, &node) in nodes.iter().enumerate().rev() {
                if kept.is_some_and(|k| !k[node as usize]) {
                    residual = true;
                    continue;
                }
                let ix = node as usize;
                let seen = stamp[ix] == cur;
                if !seen {
                    stamp[ix] = cur;
                    cum[ix] = cum[ix].wrapping_add(w);
                    cum_div[ix] = cum_div[ix].wrapping_add(dw);
                }
                if let Some(p) = parent
                    && p != node
                    && edges_wanted.wanted(p, node)
                {
                    let key = (u64::from(p) << 32) | u64::from(node);
                    let inline = ni != nodes.len() - 1;
                    let e = *edge_map.entry(key).or_insert_with(|| {
                        edges.push(Edge {
                            src: p,
                            dest: node,
                            weight: 0,
                            weight_div: 0,
                            residual: false,
                            inline,
                            removed: false,
                        });
                        edge_stamp.push(0);
                        (edges.len() - 1) as u32
                    }) as usize;
                    if edge_stamp[e] != cur {
                        edge_stamp[e] = cur;
                        let ed = &mut edges[e];
                        ed.weight = ed.weight.wrapping_add(w);
                        ed.weight_div = ed.weight_div.wrapping_add(dw);
                        ed.residual |= residual;
                        ed.inline &= inline;
                    }
                }
                parent = Some(node);
                residual = false;
            }
        }
        if let Some(p) = parent
            && !residual
        {
            flat[p as usize] = flat[p as usize].wrapping_add(w);
            flat_div[p as usize] = flat_div[p as usize].wrapping_add(dw);
        }
    }
    let nodes = (0..n)
        .filter(|&i| cum[i] != 0 || flat[i] != 0)
        .filter(|&i| !(drop_negative && (flat[i] < 0 || (flat[i] == 0 && cum[i] < 0))))
        .map(|i| Node {
            id: i as NodeId,
            flat: flat[i],
            flat_div: flat_div[i],
            cum: cum[i],
            cum_div: cum_div[i],
        })
        .collect();
    let mut g = Graph {
        nodes,
        edges,
        incoming: FxHashMap::default(),
        outgoing: FxHashMap::default(),
    };
    g.rebuild_adjacency();
    g
}

/// How a graph is cut down for a report (pprof's `nodecount`, `nodefraction`,
/// `edgefraction`, `cum`).
#[derive(Clone, Debug)]
pub struct TrimOptions {
    /// Drop nodes whose |cum| is below this fraction of the total.
    pub node_fraction: f64,
    /// Drop edges whose |weight| is below this fraction of the total.
    pub edge_fraction: f64,
    /// Keep at most this many nodes (0 = all).
    pub node_count: usize,
    /// Sort by cumulative value instead of flat.
    pub cum_sort: bool,
    /// Drop nodes with negative values.
    pub drop_negative: bool,
    /// Count only the edges with an end among these nodes (a mask by node id), for reports
    /// that show the edges of a few nodes (`peek`); `None` counts every edge. Only exact
    /// when no trimming by edge weight takes place (zero fractions, no node count).
    pub edges_of: Option<Vec<bool>>,
}

impl Default for TrimOptions {
    /// pprof's defaults for `top`: nodefraction 0.005, edgefraction 0.001, all nodes.
    fn default() -> Self {
        Self {
            node_fraction: 0.005,
            edge_fraction: 0.001,
            node_count: 0,
            cum_sort: false,
            drop_negative: false,
            edges_of: None,
        }
    }
}

/// A trimmed graph and what trimming removed, for pprof's legend lines.
#[derive(Clone, Debug)]
pub struct Trimmed {
    /// The sorted, trimmed graph.
    pub graph: Graph,
    /// Nodes before the node-count cut ("out of M").
    pub orig_count: usize,
    /// Nodes dropped by the node fraction ("Dropped N nodes").
    pub dropped_nodes: usize,
    /// Edges dropped by the edge fraction.
    pub dropped_edges: usize,
}

/// pprof's `newTrimmedGraph` for the text reports.
pub fn trimmed(index: &NodeIndex, prep: &Prepared, o: &TrimOptions) -> Trimmed {
    // Node values decide which nodes stay; edges are counted only for the graph that is
    // kept.
    let mut g = build_with(index, prep, None, o.drop_negative, Edges::None);
    let total = g.flat_sum();
    let node_cutoff = ((total as f64 * o.node_fraction) as i64).wrapping_abs();
    let edge_cutoff = ((total as f64 * o.edge_fraction) as i64).wrapping_abs();
    let mut dropped_nodes = 0;
    let kept_nodes: Vec<NodeId> = g
        .nodes
        .iter()
        .filter(|n| node_cutoff == 0 || n.cum.wrapping_abs() >= node_cutoff)
        .map(|n| n.id)
        .collect();
    if kept_nodes.len() != g.nodes.len() {
        dropped_nodes = g.nodes.len() - kept_nodes.len();
        g = build(
            index,
            prep,
            Some(&mask(index.len(), &kept_nodes)),
            o.drop_negative,
        );
    } else {
        let edges = o.edges_of.as_deref().map_or(Edges::All, Edges::Touching);
        g = build_with(index, prep, None, o.drop_negative, edges);
    }
    let orig_count = g.nodes.len();
    g.sort(index, o.cum_sort);
    if o.node_count > 0 {
        let in_graph = mask(
            index.len(),
            &g.nodes.iter().map(|n| n.id).collect::<Vec<_>>(),
        );
        g.trim_low_frequency_edges(edge_cutoff, &in_graph);
        if g.nodes.len() > o.node_count {
            let kept_nodes: Vec<NodeId> = g.nodes[..o.node_count].iter().map(|n| n.id).collect();
            g = build(
                index,
                prep,
                Some(&mask(index.len(), &kept_nodes)),
                o.drop_negative,
            );
            g.sort(index, o.cum_sort);
        }
    }
    let in_graph = mask(
        index.len(),
        &g.nodes.iter().map(|n| n.id).collect::<Vec<_>>(),
    );
    let dropped_edges = g.trim_low_frequency_edges(edge_cutoff, &in_graph);
    Trimmed {
        graph: g,
        orig_count,
        dropped_nodes,
        dropped_edges,
    }
}

fn mask(n: usize, ids: &[NodeId]) -> Vec<bool> {
    let mut m = vec![false; n];
    for &i in ids {
        m[i as usize] = true;
    }
    m
}
