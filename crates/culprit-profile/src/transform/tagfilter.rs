//! `tagfocus`/`tagignore` expressions: `[key=]regex,regex` on string labels, or
//! `[key=]value`, `lo:`, `:hi`, `lo:hi` ranges with units (`1mb:2gb`) on numeric labels.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::Error;
use super::units::scale;
use crate::Sample;

/// A compiled tag filter: does a sample pass?
pub type TagPredicate = Box<dyn Fn(&Sample) -> bool + Send + Sync>;

static RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([+-]?[[:digit:]]+)([[:alpha:]]+)?").unwrap_or_else(|_| unreachable!())
});

type NumPredicate = Box<dyn Fn(i64, &str) -> bool + Send + Sync>;

/// Parses a numeric range expression, or `None` when `filter` is not one (then it is
/// treated as a regex, as pprof does).
fn parse_range(filter: &str) -> Result<Option<NumPredicate>, Error> {
    let caps: Vec<regex::Captures> = RANGE.captures_iter(filter).take(2).collect();
    let Some(first) = caps.first() else {
        return Ok(None);
    };
    let parse = |c: &regex::Captures| -> Result<(i64, String, String), Error> {
        let num = c.get(1).map_or("", |m| m.as_str());
        let v: i64 = num.parse().map_err(|_| {
            Error::BadOption(format!("number out of range in tag filter {filter:?}"))
        })?;
        let unit = c.get(2).map_or("", |m| m.as_str()).to_string();
        Ok((v, unit, c.get(0).map_or("", |m| m.as_str()).to_string()))
    };
    let (v, u, whole) = parse(first)?;
    let (lo, unit) = scale(v, &u, &u);
    if caps.len() == 1 {
        let pred: NumPredicate = if filter == whole {
            Box::new(move |v, u| {
                let (sv, su) = scale(v, u, &unit);
                su == unit && sv == lo
            })
        } else if filter == format!("{whole}:") {
            Box::new(move |v, u| {
                let (sv, su) = scale(v, u, &unit);
                su == unit && sv >= lo
            })
        } else if filter == format!(":{whole}") {
            Box::new(move |v, u| {
                let (sv, su) = scale(v, u, &unit);
                su == unit && sv <= lo
            })
        } else {
            return Ok(None);
        };
        return Ok(Some(pred));
    }
    let (v2, u2, whole2) = parse(&caps[1])?;
    if filter != format!("{whole}:{whole2}") {
        return Ok(None);
    }
    let (hi, unit2) = scale(v2, &u2, &unit);
    if unit != unit2 {
        return Ok(None);
    }
    Ok(Some(Box::new(move |v, u| {
        let (sv, su) = scale(v, u, &unit);
        su == unit && sv >= lo && sv <= hi
    })))
}

/// Compiles a tagfocus/tagignore expression. `units` maps numeric label keys to their unit
/// (see [`super::num_label_units`]). Returns the predicate and, for ranges, pprof's notice
/// that the value was read as a range.
pub fn compile(
    option: &str,
    value: &str,
    units: &BTreeMap<String, String>,
) -> Result<(TagPredicate, Option<String>), Error> {
    let (want_key, value) = match value.split_once('=') {
        Some((k, v)) => (Some(k.to_string()), v),
        None => (None, value),
    };
    if let Some(num) = parse_range(value)? {
        let notice = Some(format!(
            "{option}:Interpreted '{value}' as range, not regexp"
        ));
        let units = units.clone();
        let pred: TagPredicate = match want_key {
            None => Box::new(move |s: &Sample| {
                s.num_labels
                    .iter()
                    .any(|n| num(n.value, units.get(&*n.key).map_or("", String::as_str)))
            }),
            Some(k) => Box::new(move |s: &Sample| {
                let unit = units.get(&k).map_or("", String::as_str);
                s.num_labels
                    .iter()
                    .any(|n| *n.key == *k && num(n.value, unit))
            }),
        };
        return Ok((pred, notice));
    }
    let rxs = value
        .split(',')
        .map(|r| {
            Regex::new(r).map_err(|e| Error::BadOption(format!("parsing {option} regexp: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pred: TagPredicate = match want_key {
        None => Box::new(move |s: &Sample| {
            rxs.iter().all(|rx| {
                s.labels
                    .iter()
                    .any(|(k, v)| rx.is_match(&format!("{k}:{v}")))
            })
        }),
        Some(key) => Box::new(move |s: &Sample| {
            let has_key = s.labels.iter().any(|(k, _)| **k == *key);
            has_key
                && rxs
                    .iter()
                    .any(|rx| s.labels.iter().any(|(k, v)| **k == *key && rx.is_match(v)))
        }),
    };
    Ok((pred, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NumLabel;

    fn sample(bytes: i64) -> Sample {
        Sample {
            num_labels: vec![NumLabel {
                key: "bytes".into(),
                value: bytes,
                unit: "".into(),
            }],
            ..Sample::default()
        }
    }

    #[test]
    fn ranges_with_units() {
        let units = BTreeMap::from([("bytes".to_string(), "bytes".to_string())]);
        let (f, notice) = compile("tagfocus", "1mb:", &units).unwrap();
        assert!(notice.is_some());
        assert!(f(&sample(2 << 20)));
        assert!(!f(&sample(1000)));
        let (f, _) = compile("tagfocus", "bytes=4kb:64kb", &units).unwrap();
        assert!(f(&sample(8192)));
        assert!(!f(&sample(1 << 20)));
    }
}
