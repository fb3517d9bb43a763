//! Sample and frame filters with pprof's semantics: focus/ignore/hide/show, show_from,
//! prune_from, the profile's own drop_frames/keep_frames, and tag filters.

use std::sync::LazyLock;

use regex::Regex;

use crate::{Location, Profile, Sample};

impl Profile {
    fn loc_matches(&self, loc: &Location, re: &Regex) -> bool {
        loc.lines
            .iter()
            .any(|ln| self.line_matches(ln.function, re))
            || self
                .location_mapping(loc)
                .is_some_and(|m| re.is_match(&m.file))
    }

    fn line_matches(&self, func: Option<u32>, re: &Regex) -> bool {
        func.and_then(|f| self.functions.get(f as usize))
            .is_some_and(|f| re.is_match(&f.name) || re.is_match(&f.filename))
    }
}

/// Which of the name filters matched anything, for pprof's "matched no samples" warnings.
#[derive(Default, Debug)]
pub struct NameMatches {
    /// `focus` matched a location.
    pub focus: bool,
    /// `ignore` matched a location.
    pub ignore: bool,
    /// `hide` matched a location.
    pub hide: bool,
    /// `show` matched a location.
    pub show: bool,
}

/// pprof's `FilterSamplesByName`: keeps samples with a focused and no ignored location, and
/// removes hidden frames (or all but shown ones) from stacks.
pub fn filter_by_name(
    p: &mut Profile,
    focus: Option<&Regex>,
    ignore: Option<&Regex>,
    hide: Option<&Regex>,
    show: Option<&Regex>,
) -> NameMatches {
    let mut m = NameMatches::default();
    // 0 = neither, 1 = focused, 2 = ignored.
    let mut focus_or_ignore = vec![0u8; p.locations.len()];
    let mut hidden = vec![false; p.locations.len()];
    let mut any_hidden = false;
    for i in 0..p.locations.len() {
        let loc = &p.locations[i];
        if ignore.is_some_and(|re| p.loc_matches(loc, re)) {
            m.ignore = true;
            focus_or_ignore[i] = 2;
        } else if focus.is_none_or(|re| p.loc_matches(loc, re)) {
            m.focus = true;
            focus_or_ignore[i] = 1;
        }
        if let Some(re) = hide
            && p.loc_matches(loc, re)
        {
            m.hide = true;
            let lines = if p
                .location_mapping(loc)
                .is_some_and(|mm| re.is_match(&mm.file))
            {
                Vec::new()
            } else {
                loc.lines
                    .iter()
                    .filter(|ln| !p.line_matches(ln.function, re))
                    .cloned()
                    .collect()
            };
            if lines.is_empty() {
                hidden[i] = true;
                any_hidden = true;
            }
            p.locations[i].lines = lines;
        }
        if let Some(re) = show {
            let loc = &p.locations[i];
            let lines = if p
                .location_mapping(loc)
                .is_some_and(|mm| re.is_match(&mm.file))
            {
                loc.lines.clone()
            } else {
                loc.lines
                    .iter()
                    .filter(|ln| ln.function.is_none() || p.line_matches(ln.function, re))
                    .cloned()
                    .collect()
            };
            if lines.is_empty() {
                hidden[i] = true;
                any_hidden = true;
            } else {
                m.show = true;
            }
            p.locations[i].lines = lines;
        }
    }
    p.samples.retain_mut(|s| {
        let mut focused = false;
        for &l in &s.locations {
            match focus_or_ignore.get(l as usize) {
                Some(1) => focused = true,
                Some(2) => return false,
                _ => {}
            }
        }
        if !focused {
            return false;
        }
        if any_hidden {
            s.locations
                .retain(|&l| !hidden.get(l as usize).copied().unwrap_or(false));
            if s.locations.is_empty() {
                return false;
            }
        }
        true
    });
    m
}

/// pprof's `ShowFrom`: drops frames above (callers of) the outermost frame matching `re`;
/// samples without such a frame are dropped. Returns whether anything matched.
// Indexed loops: each location is rewritten while the rest of the profile is read.
#[allow(clippy::needless_range_loop)]
pub fn show_from(p: &mut Profile, re: &Regex) -> bool {
    let mut matched = false;
    let mut from = vec![false; p.locations.len()];
    for i in 0..p.locations.len() {
        let loc = &p.locations[i];
        if p.location_mapping(loc)
            .is_some_and(|m| re.is_match(&m.file))
        {
            from[i] = true;
            matched = true;
            continue;
        }
        let last = loc
            .lines
            .iter()
            .rposition(|ln| p.line_matches(ln.function, re));
        if let Some(j) = last {
            p.locations[i].lines.truncate(j + 1);
            from[i] = true;
            matched = true;
        }
    }
    p.samples.retain_mut(|s| {
        match s
            .locations
            .iter()
            .rposition(|&l| from.get(l as usize).copied().unwrap_or(false))
        {
            Some(i) => {
                s.locations.truncate(i + 1);
                true
            }
            None => false,
        }
    });
    matched
}

static BRACKET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\(anonymous namespace\)|operator\(\)|\(").unwrap_or_else(|_| unreachable!())
});

/// pprof's `simplifyFunc`: a function name without its parameter list, for drop/prune regexes.
fn simplify_func(name: &str) -> &str {
    let name = name.strip_prefix('.').unwrap_or(name);
    for m in BRACKET.find_iter(name) {
        if m.as_str() == "(" {
            return &name[..m.start()];
        }
    }
    name
}

/// pprof's `Prune` (drop_frames/keep_frames): removes matching frames and everything they
/// call from each stack, keeping the callers.
pub fn prune(p: &mut Profile, drop: &Regex, keep: Option<&Regex>) {
    let n = p.locations.len();
    let mut prune = vec![false; n];
    let mut prune_beneath = vec![false; n];
    for i in 0..n {
        let loc = &p.locations[i];
        let hit = loc.lines.iter().rposition(|ln| {
            ln.function
                .and_then(|f| p.functions.get(f as usize))
                .filter(|f| !f.name.is_empty())
                .is_some_and(|f| {
                    let name = simplify_func(&f.name);
                    drop.is_match(name) && keep.is_none_or(|k| !k.is_match(name))
                })
        });
        if let Some(j) = hit {
            prune_beneath[i] = true;
            if j == loc.lines.len() - 1 {
                prune[i] = true;
            } else {
                p.locations[i].lines.drain(..=j);
            }
        }
    }
    for s in &mut p.samples {
        let mut found_user = false;
        for i in (0..s.locations.len()).rev() {
            let id = s.locations[i] as usize;
            let (pr, pb) = (
                prune.get(id).copied().unwrap_or(false),
                prune_beneath.get(id).copied().unwrap_or(false),
            );
            if !pr && !pb {
                found_user = true;
                continue;
            }
            if !found_user {
                continue;
            }
            if pr {
                s.locations.drain(..=i);
                break;
            }
            if pb {
                s.locations.drain(..i);
                break;
            }
        }
    }
}

/// Applies the profile's own `drop_frames`/`keep_frames` as pprof's `RemoveUninteresting`.
pub fn remove_uninteresting(p: &mut Profile) -> Result<(), regex::Error> {
    if p.drop_frames.is_empty() {
        return Ok(());
    }
    let drop = Regex::new(&format!("^({})$", p.drop_frames))?;
    let keep = if p.keep_frames.is_empty() {
        None
    } else {
        Some(Regex::new(&format!("^({})$", p.keep_frames))?)
    };
    prune(p, &drop, keep.as_ref());
    Ok(())
}

/// pprof's `PruneFrom`: drops the frames that the first frame matching `re` calls.
#[allow(clippy::needless_range_loop)]
pub fn prune_from(p: &mut Profile, re: &Regex) {
    let mut beneath = vec![false; p.locations.len()];
    for i in 0..p.locations.len() {
        let hit = p.locations[i].lines.iter().position(|ln| {
            ln.function
                .and_then(|f| p.functions.get(f as usize))
                .is_some_and(|f| !f.name.is_empty() && re.is_match(simplify_func(&f.name)))
        });
        if let Some(j) = hit {
            beneath[i] = true;
            p.locations[i].lines.drain(..j);
        }
    }
    for s in &mut p.samples {
        if let Some(i) = s
            .locations
            .iter()
            .position(|&l| beneath.get(l as usize).copied().unwrap_or(false))
        {
            s.locations.drain(..i);
        }
    }
}

/// pprof's `FilterTagsByName` (tagshow/taghide): removes label keys from samples. Returns
/// whether show and hide matched anything.
pub fn filter_tags_by_name(
    p: &mut Profile,
    show: Option<&Regex>,
    hide: Option<&Regex>,
) -> (bool, bool) {
    let (mut sm, mut hm) = (false, false);
    let mut remove = |name: &str| {
        let ms = show.is_none_or(|re| re.is_match(name));
        let mh = hide.is_some_and(|re| re.is_match(name));
        sm |= ms;
        hm |= mh;
        !ms || mh
    };
    for s in &mut p.samples {
        s.labels.retain(|(k, _)| !remove(k));
        s.num_labels.retain(|n| !remove(&n.key));
    }
    (sm, hm)
}

/// pprof's `FilterSamplesByTag`: keeps samples `focus` accepts and `ignore` rejects.
/// Returns whether each predicate accepted any sample.
pub fn filter_by_tag(
    p: &mut Profile,
    focus: Option<&dyn Fn(&Sample) -> bool>,
    ignore: Option<&dyn Fn(&Sample) -> bool>,
) -> (bool, bool) {
    let (mut fm, mut im) = (false, false);
    p.samples.retain(|s| {
        let focused = focus.is_none_or(|f| f(s));
        let ignored = ignore.is_some_and(|f| f(s));
        fm |= focused;
        im |= ignored;
        focused && !ignored
    });
    (fm, im)
}

#[cfg(test)]
mod tests {
    use super::simplify_func;

    #[test]
    fn simplifies_like_pprof() {
        assert_eq!(simplify_func("foo(int)"), "foo");
        assert_eq!(simplify_func(".bar"), "bar");
        assert_eq!(
            simplify_func("(anonymous namespace)::f(int)"),
            "(anonymous namespace)::f"
        );
        assert_eq!(simplify_func("A::operator()(x)"), "A::operator()");
    }
}
