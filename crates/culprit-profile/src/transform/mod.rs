//! The transforms `go tool pprof` applies between reading profiles and drawing a report,
//! in its order: merge the sources (and bases), subtract bases, drop the profile's
//! `drop_frames`, pick the sample value, filter by name and tag, and aggregate to a
//! granularity.
//!
//! Every view (text reports, flame graphs, the web UI, findings) starts from
//! [`prepare`], so they all compute the same numbers:
//!
//! ```no_run
//! # fn demo(profiles: Vec<culprit_profile::Profile>) -> Result<(), culprit_profile::transform::Error> {
//! use culprit_profile::transform::{self, Options};
//! let opts = Options { focus: Some("net/http".into()), ..Options::default() };
//! let prepared = transform::prepare(profiles, Vec::new(), &opts)?;
//! for s in &prepared.profile.samples {
//!     let _v = prepared.value(s);
//! }
//! # Ok(()) }
//! ```

mod aggregate;
pub mod filter;
pub mod merge;
pub mod tagfilter;
pub mod units;

use std::collections::BTreeMap;

use regex::Regex;

use crate::{Profile, Sample, ValueType};

/// Why a transform could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Profiles could not be combined (different sample or period types).
    #[error("{0}")]
    Incompatible(String),
    /// An option was malformed: a bad regex, an unknown sample index, a bad range.
    #[error("{0}")]
    BadOption(String),
    /// The profile has no sample types, so there is nothing to report.
    #[error("profile has no samples")]
    NoSampleTypes,
}

/// How finely frames are told apart, as pprof's `-functions`, `-lines`, ... flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Granularity {
    /// One node per function (pprof's default).
    #[default]
    Functions,
    /// One node per function and source file.
    FileFunctions,
    /// One node per source file.
    Files,
    /// One node per source line.
    Lines,
    /// One node per instruction address.
    Addresses,
}

impl std::str::FromStr for Granularity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "functions" => Self::Functions,
            "filefunctions" => Self::FileFunctions,
            "files" => Self::Files,
            "lines" => Self::Lines,
            "addresses" => Self::Addresses,
            _ => {
                return Err(Error::BadOption(format!(
                    "unknown granularity {s:?}: want functions, filefunctions, files, lines or addresses"
                )));
            }
        })
    }
}

/// How base profiles are combined with the sources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BaseMode {
    /// pprof's `-base`: subtract the bases.
    #[default]
    Subtract,
    /// pprof's `-diff_base`: subtract the bases and mark their samples with the
    /// `pprof::base` label, so percentages are relative to the base.
    Diff,
}

/// Everything that shapes the prepared profile. Regex options use Rust `regex` syntax,
/// which agrees with Go's RE2 on everything pprof users write.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Sample type by name (`alloc_space`; `inuse_` prefix optional) or index; `None` uses
    /// pprof's default (the `default_sample_type`, else the last type).
    pub sample_index: Option<String>,
    /// Report the mean value per event: each value divided by the first sample value.
    pub mean: bool,
    /// Keep only samples with a frame matching this.
    pub focus: Option<String>,
    /// Drop samples with a frame matching this.
    pub ignore: Option<String>,
    /// Remove frames matching this from stacks.
    pub hide: Option<String>,
    /// Keep only frames matching this in stacks.
    pub show: Option<String>,
    /// Drop the callers of the outermost frame matching this.
    pub show_from: Option<String>,
    /// Drop the callees of the first frame matching this.
    pub prune_from: Option<String>,
    /// Keep samples whose labels match (`key=regex`, `regex,regex`, `1mb:2gb`, ...).
    pub tagfocus: Option<String>,
    /// Drop samples whose labels match.
    pub tagignore: Option<String>,
    /// Keep only label keys matching this.
    pub tagshow: Option<String>,
    /// Remove label keys matching this.
    pub taghide: Option<String>,
    /// Node granularity.
    pub granularity: Granularity,
    /// Attribute inlined frames to the function they were inlined into.
    pub noinlines: bool,
    /// Percentages relative to the focused samples instead of the whole profile.
    pub relative_percentages: bool,
    /// How bases are applied.
    pub base_mode: BaseMode,
    /// Scale the sources to the bases' totals before subtracting (pprof's `-normalize`).
    pub normalize: bool,
    /// Leave a single source with no bases unmerged. pprof merges it with itself (identical
    /// samples summed, unused table entries dropped), which reports listing samples show;
    /// reports that only sum values along stacks, like flame graphs, are the same without.
    pub skip_self_merge: bool,
}

/// A profile ready for reporting, with the value the report measures.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The merged, filtered, aggregated profile.
    pub profile: Profile,
    /// Index into each sample's values of the reported value.
    pub value_index: usize,
    /// Whether values are means (divided by values\[0\]).
    pub mean: bool,
    /// What the reported value measures; the type is `mean_`-prefixed for means.
    pub sample_type: ValueType,
    /// pprof's report total: sum of absolute values over the samples that count for
    /// percentages (only `pprof::base` samples with `--diff-base`), mean-divided.
    pub total: i64,
    /// Unit of each numeric label key.
    pub num_label_units: BTreeMap<String, String>,
    /// Active filters as pprof lists them (`focus=...`), for report legends.
    pub active_filters: Vec<String>,
    /// What pprof would print on stderr: filters that matched nothing, range notices.
    pub warnings: Vec<String>,
}

impl Prepared {
    /// The reported value of a sample (before mean division).
    pub fn value(&self, s: &Sample) -> i64 {
        s.values.get(self.value_index).copied().unwrap_or(0)
    }

    /// The divisor of a sample for means (values\[0\]), or 0 when not reporting means.
    pub fn mean_divisor(&self, s: &Sample) -> i64 {
        if self.mean {
            s.values.first().copied().unwrap_or(0)
        } else {
            0
        }
    }
}

/// pprof's sample index rule: empty means the default sample type or the last one; a number
/// is an index; a name matches a type, with an optional `inuse_` prefix.
pub fn sample_index(p: &Profile, index: Option<&str>) -> Result<usize, Error> {
    let types: Vec<&str> = p.sample_type.iter().map(|t| t.kind.as_str()).collect();
    let Some(index) = index.filter(|s| !s.is_empty()) else {
        return Ok(p.default_sample_index());
    };
    if let Ok(i) = index.parse::<i64>() {
        if i < 0 || i as usize >= types.len() {
            return Err(Error::BadOption(format!(
                "sample_index {index} is outside the range [0..{}]",
                types.len() as i64 - 1
            )));
        }
        return Ok(i as usize);
    }
    let no_inuse = index.strip_prefix("inuse_").unwrap_or(index);
    types
        .iter()
        .position(|t| *t == index || *t == no_inuse)
        .ok_or_else(|| {
            Error::BadOption(format!(
                "sample_index {index:?} must be one of: [{}]",
                types.join(" ")
            ))
        })
}

/// pprof's legacy value flags (`-alloc_space`, `-mean_delay`, ...) folded into a sample
/// index: the first one given wins, as in pprof. Returns the index and whether `mean` is
/// implied (`-mean_delay`).
pub fn legacy_sample_index(flags: &[&str]) -> (Option<String>, bool) {
    let mut si: Option<String> = None;
    let mut mean = false;
    for order in [
        "total_delay",
        "mean_delay",
        "contentions",
        "inuse_space",
        "inuse_objects",
        "alloc_space",
        "alloc_objects",
    ] {
        if flags.contains(&order) {
            if si.is_none() {
                si = Some(
                    match order {
                        "total_delay" | "mean_delay" => "delay",
                        o => o,
                    }
                    .to_string(),
                );
            }
            mean |= order == "mean_delay";
        }
    }
    (si, mean)
}

/// The unit of each numeric label key (pprof's `NumLabelUnits`): the first unit seen, or
/// `bytes` for `alignment`/`request`, or the key itself. Also returns, per key, other units
/// that were ignored.
pub fn num_label_units(p: &Profile) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let mut units: BTreeMap<String, String> = BTreeMap::new();
    let mut ignored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut keys: Vec<String> = Vec::new();
    for s in &p.samples {
        for n in &s.num_labels {
            if !keys.iter().any(|k| **k == *n.key) {
                keys.push(n.key.to_string());
            }
            if n.unit.is_empty() {
                continue;
            }
            match units.get(&*n.key) {
                None => {
                    units.insert(n.key.to_string(), n.unit.to_string());
                }
                Some(u) if **u != *n.unit => {
                    let e = ignored.entry(n.key.to_string()).or_default();
                    if !e.iter().any(|x| **x == *n.unit) {
                        e.push(n.unit.to_string());
                        e.sort();
                    }
                }
                Some(_) => {}
            }
        }
    }
    for k in keys {
        if units.get(&k).is_none_or(|u| u.is_empty()) {
            let u = match k.as_str() {
                "alignment" | "request" => "bytes".to_string(),
                _ => k.clone(),
            };
            units.insert(k, u);
        }
    }
    (units, ignored)
}

fn compile(option: &str, value: &Option<String>) -> Result<Option<Regex>, Error> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some(v) => Regex::new(v)
            .map(Some)
            .map_err(|e| Error::BadOption(format!("parsing {option} regexp: {e}"))),
    }
}

/// Merges `profiles` (and `bases`) and applies every option, as `go tool pprof` does before
/// drawing a report.
pub fn prepare(
    profiles: Vec<Profile>,
    bases: Vec<Profile>,
    opts: &Options,
) -> Result<Prepared, Error> {
    let mut p = match <[Profile; 1]>::try_from(profiles) {
        Ok([mut single]) if opts.skip_self_merge && bases.is_empty() => {
            add_fake_mapping(&mut single);
            single
        }
        Ok([single]) => combine(vec![single])?,
        Err(profiles) => combine(profiles)?,
    };
    if !bases.is_empty() {
        let mut base = combine(bases)?;
        if opts.base_mode == BaseMode::Diff {
            merge::set_label(&mut base, "pprof::base", "true");
        }
        if opts.normalize {
            merge::normalize(&mut p, &base)?;
        }
        merge::scale(&mut base, -1.0);
        p = combine(vec![p, base])?;
    }
    filter::remove_uninteresting(&mut p)
        .map_err(|e| Error::BadOption(format!("failed to compile drop_frames regexp: {e}")))?;
    prepare_merged(p, opts)
}

/// Like [`prepare`] for a profile that is already merged (and has had its drop_frames
/// applied), for callers that keep one merged profile and report on it many times.
pub fn prepare_merged(mut p: Profile, opts: &Options) -> Result<Prepared, Error> {
    let (num_label_units, ignored) = num_label_units(&p);
    let mut warnings: Vec<String> = ignored
        .iter()
        .map(|(k, us)| {
            format!(
                "For tag {k} used unit {}, also encountered unit(s) {}",
                num_label_units.get(k).map_or("", String::as_str),
                us.join(", ")
            )
        })
        .collect();
    if p.sample_type.is_empty() {
        return Err(Error::NoSampleTypes);
    }
    let value_index = sample_index(&p, opts.sample_index.as_deref())?;
    let mut sample_type = p.sample_type[value_index].clone();
    if opts.mean {
        sample_type.kind = format!("mean_{}", sample_type.kind);
    }
    let mut prepared = Prepared {
        profile: Profile::default(),
        value_index,
        mean: opts.mean,
        sample_type,
        total: 0,
        num_label_units,
        active_filters: active_filters(opts),
        warnings: Vec::new(),
    };
    if opts.relative_percentages {
        apply_focus(&mut p, &prepared.num_label_units, opts, &mut warnings)?;
        prepared.total = compute_total(&p, &prepared);
    } else {
        prepared.total = compute_total(&p, &prepared);
        apply_focus(&mut p, &prepared.num_label_units, opts, &mut warnings)?;
    }
    aggregate::aggregate(&mut p, opts.granularity, !opts.noinlines);
    prepared.profile = p;
    prepared.warnings = warnings;
    Ok(prepared)
}

/// Scales and merges sources as pprof's `combineProfiles`, after reducing them to their
/// common sample types.
pub fn combine(mut profiles: Vec<Profile>) -> Result<Profile, Error> {
    for p in &mut profiles {
        add_fake_mapping(p);
    }
    merge::compatibilize_sample_types(&mut profiles)?;
    merge::scale_profiles(&mut profiles)?;
    merge::merge(profiles)
}

/// pprof gives a profile without mappings one empty mapping that every location points at
/// (`locateBinaries`), which `-raw` shows.
fn add_fake_mapping(p: &mut Profile) {
    if p.mappings.is_empty() {
        p.mappings.push(crate::Mapping {
            id: 1,
            ..crate::Mapping::default()
        });
        for l in &mut p.locations {
            l.mapping = Some(0);
        }
    }
}

fn active_filters(o: &Options) -> Vec<String> {
    [
        ("focus", &o.focus),
        ("ignore", &o.ignore),
        ("hide", &o.hide),
        ("show", &o.show),
        ("show_from", &o.show_from),
        ("tagfocus", &o.tagfocus),
        ("tagignore", &o.tagignore),
        ("tagshow", &o.tagshow),
        ("taghide", &o.taghide),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{k}={v}"))
    })
    .collect()
}

fn compute_total(p: &Profile, prep: &Prepared) -> i64 {
    let (mut total, mut div, mut diff_total, mut diff_div) = (0i64, 0i64, 0i64, 0i64);
    for s in &p.samples {
        let v = prep.value(s).wrapping_abs();
        let d = prep.mean_divisor(s);
        total = total.wrapping_add(v);
        div = div.wrapping_add(d);
        if s.labels
            .iter()
            .any(|(k, v)| &**k == "pprof::base" && &**v == "true")
        {
            diff_total = diff_total.wrapping_add(v);
            diff_div = diff_div.wrapping_add(d);
        }
    }
    if diff_total > 0 {
        total = diff_total;
        div = diff_div;
    }
    if div != 0 { total / div } else { total }
}

fn apply_focus(
    p: &mut Profile,
    units: &BTreeMap<String, String>,
    o: &Options,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    let focus = compile("focus", &o.focus)?;
    let ignore = compile("ignore", &o.ignore)?;
    let hide = compile("hide", &o.hide)?;
    let show = compile("show", &o.show)?;
    let show_from = compile("show_from", &o.show_from)?;
    let mut tag =
        |name: &str, v: &Option<String>| -> Result<Option<tagfilter::TagPredicate>, Error> {
            match v.as_deref() {
                None | Some("") => Ok(None),
                Some(v) => {
                    let (f, notice) = tagfilter::compile(name, v, units)?;
                    warnings.extend(notice);
                    Ok(Some(f))
                }
            }
        };
    let tagfocus = tag("tagfocus", &o.tagfocus)?;
    let tagignore = tag("tagignore", &o.tagignore)?;
    let prune_from = compile("prune_from", &o.prune_from)?;
    let tagshow = compile("tagshow", &o.tagshow)?;
    let taghide = compile("taghide", &o.taghide)?;

    let mut warn = |ok: bool, what: &str| {
        if !ok {
            warnings.push(format!("{what} expression matched no samples"));
        }
    };
    let m = filter::filter_by_name(
        p,
        focus.as_ref(),
        ignore.as_ref(),
        hide.as_ref(),
        show.as_ref(),
    );
    warn(focus.is_none() || m.focus, "Focus");
    warn(ignore.is_none() || m.ignore, "Ignore");
    warn(hide.is_none() || m.hide, "Hide");
    warn(show.is_none() || m.show, "Show");
    if let Some(re) = &show_from {
        let ok = filter::show_from(p, re);
        warn(ok, "ShowFrom");
    }
    let tf = tagfocus.as_ref().map(|f| f as &dyn Fn(&Sample) -> bool);
    let ti = tagignore.as_ref().map(|f| f as &dyn Fn(&Sample) -> bool);
    let (fm, im) = filter::filter_by_tag(p, tf, ti);
    warn(tagfocus.is_none() || fm, "TagFocus");
    warn(tagignore.is_none() || im, "TagIgnore");
    if tagshow.is_some() || taghide.is_some() {
        let (sm, hm) = filter::filter_tags_by_name(p, tagshow.as_ref(), taghide.as_ref());
        warn(tagshow.is_none() || sm, "TagShow");
        warn(taghide.is_none() || hm, "TagHide");
    }
    if let Some(re) = &prune_from {
        filter::prune_from(p, re);
    }
    Ok(())
}
