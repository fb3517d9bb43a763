//! pprof's `traces` report: every sample's stack with its labels and value.

use std::io::{self, Write};

use culprit_profile::transform::{Prepared, units};
use culprit_profile::{Sample, Str};
use serde::Serialize;

use crate::top::SampleType;
use crate::{Options, Report, header};

const SEPARATOR: &str = "-----------+-------------------------------------------------------";

/// Groups a sample's labels by key, values in file order (pprof's label map).
fn grouped<'s, V>(items: impl Iterator<Item = (&'s Str, V)>) -> Vec<(&'s str, Vec<V>)> {
    let mut out: Vec<(&str, Vec<V>)> = Vec::new();
    for (k, v) in items {
        match out.iter_mut().find(|(kk, _)| *kk == &**k) {
            Some((_, vs)) => vs.push(v),
            None => out.push((k, vec![v])),
        }
    }
    out
}

fn sample_value(prep: &Prepared, s: &Sample) -> i64 {
    let v = prep.value(s);
    let d = prep.mean_divisor(s);
    if d != 0 { v / d } else { v }
}

/// pprof's `traces` text, byte for byte.
pub fn traces(prep: &Prepared, opts: &Options) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_traces(prep, opts, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`traces`] written to `w` as it is produced: the report has a block per sample, gigabytes
/// for a large profile, so it is never held whole. Buffer `w`.
pub fn write_traces(prep: &Prepared, opts: &Options, w: &mut impl Write) -> io::Result<()> {
    let rpt = Report::new(prep, opts.clone());
    writeln!(w, "{}", header::profile_labels(&rpt).join("\n"))?;
    let mut stack: Vec<(u32, bool)> = Vec::new();
    for s in &prep.profile.samples {
        stack.clear();
        for &loc in &s.locations {
            let nodes = rpt.index.location_nodes(loc);
            for (i, &n) in nodes.iter().enumerate() {
                stack.push((n, i != nodes.len() - 1));
            }
        }
        if stack.is_empty() {
            continue;
        }
        writeln!(w, "{SEPARATOR}")?;
        if !s.labels.is_empty() {
            let mut labels: Vec<String> = grouped(s.labels.iter().map(|(k, v)| (k, &**v)))
                .into_iter()
                .map(|(k, vs)| format!("{k:>10}:  {}\n", vs.join(" ")))
                .collect();
            labels.sort();
            w.write_all(labels.concat().as_bytes())?;
        }
        if !s.num_labels.is_empty() {
            let mut num: Vec<String> = grouped(s.num_labels.iter().map(|n| (&n.key, n.value)))
                .into_iter()
                .map(|(k, vs)| {
                    let unit = prep.num_label_units.get(k).map_or("", String::as_str);
                    let vals: Vec<String> = vs.iter().map(|&v| units::label(v, unit)).collect();
                    format!("{k:>10}:  {}\n", vals.join(" "))
                })
                .collect();
            num.sort();
            w.write_all(num.concat().as_bytes())?;
        }
        let v = rpt.format_value(sample_value(prep, s));
        for (i, &(n, inline)) in stack.iter().enumerate() {
            let vs = if i == 0 { v.as_str() } else { "" };
            writeln!(
                w,
                "{vs:>10}   {}{}",
                rpt.index.name(n),
                if inline { " (inline)" } else { "" }
            )?;
        }
    }
    writeln!(w, "{SEPARATOR}")
}

#[derive(Serialize)]
struct TraceJson {
    value: i64,
    labels: Vec<(String, String)>,
    num_labels: Vec<(String, i64)>,
    stack: Vec<String>,
}

/// `traces` as JSON: each sample's raw value, labels and stack (leaf first).
pub fn traces_json(prep: &Prepared, opts: &Options) -> String {
    let rpt = Report::new(prep, opts.clone());
    let traces: Vec<TraceJson> = prep
        .profile
        .samples
        .iter()
        .filter(|s| !s.locations.is_empty())
        .map(|s| TraceJson {
            value: sample_value(prep, s),
            labels: s
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            num_labels: s
                .num_labels
                .iter()
                .map(|n| (n.key.to_string(), n.value))
                .collect(),
            stack: s
                .locations
                .iter()
                .flat_map(|&l| {
                    rpt.index
                        .location_nodes(l)
                        .iter()
                        .map(|&n| rpt.index.name(n).to_string())
                })
                .collect(),
        })
        .collect();
    #[derive(Serialize)]
    struct Out<'a> {
        sample_type: SampleType<'a>,
        total: i64,
        traces: Vec<TraceJson>,
    }
    serde_json::to_string_pretty(&Out {
        sample_type: SampleType {
            kind: &prep.sample_type.kind,
            unit: &prep.sample_type.unit,
        },
        total: prep.total,
        traces,
    })
    .unwrap_or_default()
}
