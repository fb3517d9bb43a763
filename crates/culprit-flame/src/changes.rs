//! Per-function changes between two profiles, for `culprit diff`: which functions grew and
//! which shrank, after scaling the second profile to the first one's total so captures of
//! different lengths compare fairly.

use culprit_profile::{Profile, Sample};
use rustc_hash::{FxHashMap, FxHashSet};

/// One function's values in both profiles.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Function (frame) name.
    pub name: String,
    /// Value with the function as the leaf, before.
    pub before_flat: i64,
    /// Value with the function as the leaf, after.
    pub after_flat: i64,
    /// Value with the function anywhere on the stack, before.
    pub before_cum: i64,
    /// Value with the function anywhere on the stack, after.
    pub after_cum: i64,
    /// Change of the flat share of the total, in percentage points.
    pub flat_pp: f64,
    /// Change of the cumulative share of the total, in percentage points.
    pub cum_pp: f64,
}

/// The comparison of two profiles.
#[derive(Clone, Debug, PartialEq)]
pub struct Changes {
    /// Total of the first profile.
    pub before_total: i64,
    /// Total of the second profile.
    pub after_total: i64,
    /// Every function seen in either, largest growth of cumulative share first.
    pub functions: Vec<Change>,
}

#[derive(Default)]
struct Sums {
    flat: i64,
    cum: i64,
}

fn sum_functions(p: &Profile, value: &dyn Fn(&Sample) -> i64) -> (i64, FxHashMap<String, Sums>) {
    let frames: Vec<Vec<String>> = p
        .locations
        .iter()
        .map(|l| culprit_profile::folded::location_frames(p, l))
        .collect();
    let mut out: FxHashMap<String, Sums> = FxHashMap::default();
    let mut total = 0i64;
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    for s in &p.samples {
        let v = value(s);
        if v == 0 {
            continue;
        }
        total = total.saturating_add(v);
        seen.clear();
        let leaf = s
            .locations
            .first()
            .and_then(|l| frames.get(*l as usize))
            .and_then(|f| f.last());
        if let Some(leaf) = leaf {
            out.entry(leaf.clone()).or_default().flat += v;
        }
        for name in s
            .locations
            .iter()
            .filter_map(|l| frames.get(*l as usize))
            .flatten()
        {
            if seen.insert(name.as_str()) {
                out.entry(name.clone()).or_default().cum += v;
            }
        }
    }
    (total, out)
}

/// Compares `before` and `after`, reading each sample's value with the given functions.
pub fn function_changes(
    before: &Profile,
    before_value: &dyn Fn(&Sample) -> i64,
    after: &Profile,
    after_value: &dyn Fn(&Sample) -> i64,
) -> Changes {
    let (before_total, b) = sum_functions(before, before_value);
    let (after_total, mut a) = sum_functions(after, after_value);
    let share = crate::svg::share_change;
    let mut pairs: Vec<(String, Sums, Sums)> = b
        .into_iter()
        .map(|(name, bs)| {
            let as_ = a.remove(&name).unwrap_or_default();
            (name, bs, as_)
        })
        .collect();
    pairs.extend(
        a.into_iter()
            .map(|(name, as_)| (name, Sums::default(), as_)),
    );
    let mut functions: Vec<Change> = pairs
        .into_iter()
        .map(|(name, bs, as_)| Change {
            flat_pp: share(as_.flat, after_total, bs.flat, before_total),
            cum_pp: share(as_.cum, after_total, bs.cum, before_total),
            name,
            before_flat: bs.flat,
            after_flat: as_.flat,
            before_cum: bs.cum,
            after_cum: as_.cum,
        })
        .collect();
    functions.sort_by(|x, y| {
        y.cum_pp
            .total_cmp(&x.cum_pp)
            .then_with(|| y.flat_pp.total_cmp(&x.flat_pp))
            .then_with(|| x.name.cmp(&y.name))
    });
    Changes {
        before_total,
        after_total,
        functions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_and_shrink_by_share() {
        let before = culprit_profile::folded::parse(b"main;a 50\nmain;b 50\n").expect("before");
        let after = culprit_profile::folded::parse(b"main;a 300\nmain;b 100\n").expect("after");
        let v = |s: &Sample| s.values[0];
        let c = function_changes(&before, &v, &after, &v);
        assert_eq!((c.before_total, c.after_total), (100, 400));
        assert_eq!(c.functions[0].name, "a");
        assert!((c.functions[0].flat_pp - 25.0).abs() < 1e-9);
        let last = c.functions.last().expect("rows");
        assert_eq!(last.name, "b");
        assert!((last.cum_pp + 25.0).abs() < 1e-9);
        let same = function_changes(&before, &v, &before, &v);
        assert!(
            same.functions
                .iter()
                .all(|f| f.flat_pp == 0.0 && f.cum_pp == 0.0)
        );
    }
}
