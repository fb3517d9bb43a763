//! pprof's `tags` report (Go 1.19 layout): per label key, the value total and each label
//! value's share of it.

use std::collections::BTreeMap;

use culprit_profile::transform::{Prepared, units};
use serde::Serialize;

use crate::top::SampleType;
use crate::{Options, tabwriter};

/// Sums the reported value per label key and value (numeric values formatted in `unit`).
fn tag_map(prep: &Prepared, unit: &str) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut m: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for s in &prep.profile.samples {
        let v = prep.value(s);
        for (k, val) in &s.labels {
            let e = m
                .entry(k.to_string())
                .or_default()
                .entry(val.to_string())
                .or_default();
            *e = e.wrapping_add(v);
        }
        for n in &s.num_labels {
            let u = prep.num_label_units.get(&*n.key).map_or("", String::as_str);
            let val = units::scaled_label(n.value, u, unit);
            let e = m
                .entry(n.key.to_string())
                .or_default()
                .entry(val)
                .or_default();
            *e = e.wrapping_add(v);
        }
    }
    m
}

/// Values of one key in pprof's tag order: |value| descending, then name.
fn sorted(values: &BTreeMap<String, i64>) -> Vec<(&str, i64)> {
    let mut v: Vec<(&str, i64)> = values.iter().map(|(k, &c)| (k.as_str(), c)).collect();
    v.sort_by(|a, b| {
        b.1.wrapping_abs()
            .cmp(&a.1.wrapping_abs())
            .then_with(|| a.0.cmp(b.0))
    });
    v
}

/// pprof's `tags` text (Go 1.19 layout), byte for byte.
pub fn tags(prep: &Prepared, opts: &Options) -> String {
    let unit = &opts.unit;
    let su = &prep.sample_type.unit;
    let mut text = String::new();
    for (key, values) in &tag_map(prep, unit) {
        let total = values.values().fold(0i64, |a, &b| a.wrapping_add(b));
        let (f, u) = units::scale(total, su, unit);
        text.push_str(&format!("{key}:\t Total {f:.1}{u}\n"));
        for (name, c) in sorted(values) {
            let (f, u) = units::scale(c, su, unit);
            if total > 0 {
                text.push_str(&format!(
                    " \t{f:.1}{u} ({}):\t {name}\n",
                    units::percentage(c, total)
                ));
            } else {
                text.push_str(&format!(" \t{f:.1}{u}:\t {name}\n"));
            }
        }
        text.push('\n');
    }
    tabwriter::align_right(&text, 1)
}

#[derive(Serialize)]
struct TagValue<'a> {
    value: &'a str,
    total: i64,
}

#[derive(Serialize)]
struct TagKey<'a> {
    key: &'a str,
    total: i64,
    values: Vec<TagValue<'a>>,
}

/// `tags` as JSON: per key, its raw total and each value's raw total.
pub fn tags_json(prep: &Prepared, opts: &Options) -> String {
    let m = tag_map(prep, &opts.unit);
    let keys: Vec<TagKey> = m
        .iter()
        .map(|(k, values)| TagKey {
            key: k,
            total: values.values().fold(0i64, |a, &b| a.wrapping_add(b)),
            values: sorted(values)
                .into_iter()
                .map(|(value, total)| TagValue { value, total })
                .collect(),
        })
        .collect();
    #[derive(Serialize)]
    struct Out<'a> {
        sample_type: SampleType<'a>,
        tags: Vec<TagKey<'a>>,
    }
    serde_json::to_string_pretty(&Out {
        sample_type: SampleType {
            kind: &prep.sample_type.kind,
            unit: &prep.sample_type.unit,
        },
        tags: keys,
    })
    .unwrap_or_default()
}
