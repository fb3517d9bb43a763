//! pprof's `tree` report and `peek REGEX` (a tree restricted to matching nodes, untrimmed).

use culprit_profile::graph;
use culprit_profile::transform::{Prepared, units};
use regex::Regex;
use serde::Serialize;

use crate::top::SampleType;
use crate::{Error, Options, Report, header};

const SEPARATOR: &str = "----------------------------------------------------------+-------------";
const LEGEND: &str = "      flat  flat%   sum%        cum   cum%   calls calls% + context \t \t ";

#[derive(Serialize)]
struct EdgeJson {
    name: String,
    value: i64,
    inline: bool,
}

#[derive(Serialize)]
struct NodeJson {
    name: String,
    flat: i64,
    cum: i64,
    callers: Vec<EdgeJson>,
    callees: Vec<EdgeJson>,
}

struct TreeData<'a> {
    rpt: Report<'a>,
    labels: Vec<String>,
    graph: graph::Graph,
}

fn compute<'a>(prep: &'a Prepared, opts: &Options, peek: Option<&Regex>) -> TreeData<'a> {
    // peek is never trimmed; tree keeps 80 nodes unless told otherwise.
    let opts = if peek.is_some() {
        Options {
            node_fraction: 0.0,
            edge_fraction: 0.0,
            node_count: Some(0),
            ..opts.clone()
        }
    } else {
        Options {
            node_count: Some(opts.node_count.unwrap_or(80)),
            ..opts.clone()
        }
    };
    let mut rpt = Report::new(prep, opts);
    let mut trim = rpt.opts.trim_options();
    if let Some(rx) = peek {
        // peek shows the edges of the matching nodes only, and trims nothing.
        trim.edges_of = Some(
            (0..rpt.index.len())
                .map(|i| rx.is_match(rpt.index.name(i as u32)))
                .collect(),
        );
    }
    let t = graph::trimmed(&rpt.index, prep, &trim);
    rpt.select_output_unit(&t.graph);
    let labels = header::report_labels(&rpt, &t.graph, t.orig_count, t.dropped_nodes);
    TreeData {
        rpt,
        labels,
        graph: t.graph,
    }
}

fn compile(symbol: Option<&str>) -> Result<Option<Regex>, Error> {
    symbol
        .map(|s| Regex::new(s).map_err(|e| Error::BadRegex(s.to_string(), e.to_string())))
        .transpose()
}

/// pprof's `tree` text, or `peek` when `symbol` is given: each node with its callers above
/// and callees below.
pub fn tree(prep: &Prepared, opts: &Options, symbol: Option<&str>) -> Result<String, Error> {
    let rx = compile(symbol)?;
    let d = compute(prep, opts, rx.as_ref());
    let rpt = &d.rpt;
    let total = prep.total;
    let mut out = d.labels.join("\n");
    out.push('\n');
    out.push_str(SEPARATOR);
    out.push('\n');
    out.push_str(LEGEND);
    out.push('\n');
    let mut flat_sum = 0i64;
    let mut matched = 0;
    for n in &d.graph.nodes {
        let name = rpt.index.name(n.id);
        if rx.as_ref().is_some_and(|rx| !rx.is_match(name)) {
            continue;
        }
        matched += 1;
        let (flat, cum) = (n.flat_value(), n.cum_value());
        out.push_str(SEPARATOR);
        out.push('\n');
        // A caller or callee row: its weight, share of this node's cum, and name.
        let edge_row = |weight: i64, other, inline: bool| {
            format!(
                "{:>50} {} |   {}{}\n",
                rpt.format_value(weight),
                units::percentage(weight, cum),
                rpt.index.name(other),
                if inline { " (inline)" } else { "" }
            )
        };
        for e in d.graph.in_edges(&rpt.index, n.id) {
            out.push_str(&edge_row(e.weight, e.src, e.inline));
        }
        flat_sum = flat_sum.wrapping_add(flat);
        out.push_str(&format!(
            "{:>10} {} {} {:>10} {}                | {}\n",
            rpt.format_value(flat),
            units::percentage(flat, total),
            units::percentage(flat_sum, total),
            rpt.format_value(cum),
            units::percentage(cum, total),
            name
        ));
        for e in d.graph.out_edges(&rpt.index, n.id) {
            out.push_str(&edge_row(e.weight, e.dest, e.inline));
        }
    }
    if !d.graph.nodes.is_empty() {
        out.push_str(SEPARATOR);
        out.push('\n');
    }
    if let (Some(rx), 0) = (&rx, matched) {
        return Err(Error::NoMatches(rx.to_string()));
    }
    Ok(out)
}

/// `tree`/`peek` as JSON: the sample type, total, and each shown node with raw flat and cum
/// values and its callers and callees.
pub fn tree_json(prep: &Prepared, opts: &Options, symbol: Option<&str>) -> Result<String, Error> {
    let rx = compile(symbol)?;
    let d = compute(prep, opts, rx.as_ref());
    let idx = &d.rpt.index;
    let edge = |e: &graph::Edge, other: u32| EdgeJson {
        name: idx.name(other).to_string(),
        value: e.weight_value(),
        inline: e.inline,
    };
    let nodes: Vec<NodeJson> = d
        .graph
        .nodes
        .iter()
        .filter(|n| rx.as_ref().is_none_or(|rx| rx.is_match(idx.name(n.id))))
        .map(|n| NodeJson {
            name: idx.name(n.id).to_string(),
            flat: n.flat_value(),
            cum: n.cum_value(),
            callers: d
                .graph
                .in_edges(idx, n.id)
                .into_iter()
                .map(|e| edge(e, e.src))
                .collect(),
            callees: d
                .graph
                .out_edges(idx, n.id)
                .into_iter()
                .map(|e| edge(e, e.dest))
                .collect(),
        })
        .collect();
    if let (Some(rx), true) = (&rx, nodes.is_empty()) {
        return Err(Error::NoMatches(rx.to_string()));
    }
    #[derive(Serialize)]
    struct Out<'a> {
        sample_type: SampleType<'a>,
        total: i64,
        nodes: Vec<NodeJson>,
    }
    let out = Out {
        sample_type: SampleType {
            kind: &prep.sample_type.kind,
            unit: &prep.sample_type.unit,
        },
        total: prep.total,
        nodes,
    };
    Ok(serde_json::to_string_pretty(&out).unwrap_or_default())
}
