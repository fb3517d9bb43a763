//! pprof's node and edge orders. They are total orders, so any sort gives pprof's result.

use std::cmp::Ordering;

use super::{Edge, Node, NodeIndex};

fn tie(index: &NodeIndex, a: &Node, b: &Node) -> Ordering {
    index.info(a.id).sprint().cmp(&index.info(b.id).sprint())
}

/// pprof's `FlatNameOrder`: |flat| descending, name, |cum| descending.
pub(super) fn flat_name(index: &NodeIndex, a: &Node, b: &Node) -> Ordering {
    b.flat
        .wrapping_abs()
        .cmp(&a.flat.wrapping_abs())
        .then_with(|| index.name(a.id).cmp(index.name(b.id)))
        .then_with(|| b.cum.wrapping_abs().cmp(&a.cum.wrapping_abs()))
        .then_with(|| tie(index, a, b))
}

/// pprof's `CumNameOrder`: |cum| descending, name, |flat| descending.
pub(super) fn cum_name(index: &NodeIndex, a: &Node, b: &Node) -> Ordering {
    b.cum
        .wrapping_abs()
        .cmp(&a.cum.wrapping_abs())
        .then_with(|| index.name(a.id).cmp(index.name(b.id)))
        .then_with(|| b.flat.wrapping_abs().cmp(&a.flat.wrapping_abs()))
        .then_with(|| tie(index, a, b))
}

/// pprof's edge order: |weight| descending, then caller name, then callee name.
pub(super) fn edge_cmp(index: &NodeIndex, a: &Edge, b: &Edge) -> Ordering {
    if a.weight != b.weight {
        let o = b.weight.wrapping_abs().cmp(&a.weight.wrapping_abs());
        if o != Ordering::Equal {
            return o;
        }
    }
    index
        .name(a.src)
        .cmp(index.name(b.src))
        .then_with(|| index.name(a.dest).cmp(index.name(b.dest)))
}
