//! The server's state: the profile sets (each merged, with a small cache of prepared views
//! keyed by the query that shaped them, so switching tabs does not redo the aggregation),
//! the goroutine dumps and the series.

use std::sync::{Arc, Mutex};

use culprit_dump::Snapshot;
use culprit_flame::tree::{FlameTree, Side, StackSet};
use culprit_profile::Profile;
use culprit_profile::transform::{self, Options, Prepared};
use serde::Deserialize;

use crate::inputs::{Input, Kind};
use crate::series::Series;

/// Why a view could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filter or sample index was malformed, or the profiles do not combine.
    #[error("{0}")]
    Transform(#[from] transform::Error),
    /// Profiles of one set could not be merged.
    #[error("{files}: {source}")]
    Merge {
        /// The files of the set.
        files: String,
        /// Why.
        source: transform::Error,
    },
    /// The query named a profile set that is not loaded.
    #[error("no profile number {0} (profiles loaded: {1})")]
    NoProfile(usize, usize),
}

/// The query parameters every view takes; they mirror the report flags of `culprit top`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq, Hash)]
pub struct Query {
    /// Index of the profile set (default 0).
    #[serde(default)]
    pub p: Option<usize>,
    /// Sample type name or index.
    #[serde(default)]
    pub si: Option<String>,
    /// Keep samples with a frame matching this.
    #[serde(default)]
    pub focus: Option<String>,
    /// Drop samples with a frame matching this.
    #[serde(default)]
    pub ignore: Option<String>,
    /// Remove frames matching this.
    #[serde(default)]
    pub hide: Option<String>,
    /// Keep only frames matching this.
    #[serde(default)]
    pub show: Option<String>,
    /// Granularity: functions, filefunctions, files, lines, addresses.
    #[serde(default)]
    pub g: Option<String>,
    /// The selected function (peek, source).
    #[serde(default, rename = "fn")]
    pub func: Option<String>,
}

impl Query {
    fn options(&self) -> Result<Options, Error> {
        let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
        Ok(Options {
            sample_index: nonempty(&self.si),
            focus: nonempty(&self.focus),
            ignore: nonempty(&self.ignore),
            hide: nonempty(&self.hide),
            show: nonempty(&self.show),
            granularity: match nonempty(&self.g) {
                Some(g) => g.parse()?,
                None => Default::default(),
            },
            ..Options::default()
        })
    }

    /// The part of the query that shapes the prepared profile.
    fn key(&self) -> Query {
        Query {
            func: None,
            ..self.clone()
        }
    }
}

/// A prepared profile with its flame tree.
pub struct View {
    /// The filtered, aggregated profile and its total.
    pub prepared: Prepared,
    /// Its stacks merged into a sorted tree.
    pub tree: FlameTree,
}

impl View {
    /// A sample's reported value, mean-divided when asked.
    pub fn value(&self, s: &culprit_profile::Sample) -> i64 {
        value(&self.prepared, s)
    }
}

fn value(p: &Prepared, s: &culprit_profile::Sample) -> i64 {
    let v = p.value(s);
    match p.mean_divisor(s) {
        0 => v,
        d => v / d,
    }
}

const CACHE: usize = 4;

/// Profiles served as one: merged, as `go tool pprof` merges several sources.
pub struct ProfileSet {
    /// The files merged, comma-separated.
    pub name: String,
    /// The merged profile as loaded.
    pub merged: Profile,
}

/// A goroutine dump.
pub struct Dump {
    /// Its file.
    pub name: String,
    /// Its goroutines.
    pub snapshot: Snapshot,
}

/// A series of readings.
pub struct NamedSeries {
    /// Its file.
    pub name: String,
    /// Its charts.
    pub series: Series,
}

/// A causal profile.
pub struct NamedCausal {
    /// Its file.
    pub name: String,
    /// Its curves.
    pub analysis: culprit_causal::Analysis,
}

/// Everything the server holds. Cheap to clone (shared).
#[derive(Clone)]
pub struct State {
    inner: Arc<Inner>,
}

struct Inner {
    profiles: Vec<ProfileSet>,
    dumps: Vec<Dump>,
    series: Vec<NamedSeries>,
    causal: Vec<NamedCausal>,
    files: String,
    cache: Mutex<Vec<(Query, Arc<View>)>>,
}

impl State {
    /// Prepares `inputs` for serving; `files` names them in page titles. Profiles with
    /// the same sample types are merged into one set (applying their `drop_frames`), as
    /// pprof merges the sources it is given; others get a set each.
    pub fn new(inputs: Vec<Input>, files: String) -> Result<Self, Error> {
        let mut groups: Vec<(bool, Vec<String>, Vec<Profile>)> = Vec::new();
        let mut dumps = Vec::new();
        let mut series = Vec::new();
        let mut causal = Vec::new();
        for Input { name, kind, merge } in inputs {
            match kind {
                Kind::Profile(p) => {
                    let sig = signature(&p);
                    let same = groups.iter_mut().find(|(m, _, ps)| {
                        merge && *m && ps.first().is_some_and(|f| signature(f) == sig)
                    });
                    match same {
                        Some((_, names, ps)) => {
                            names.push(name);
                            ps.push(p);
                        }
                        None => groups.push((merge, vec![name], vec![p])),
                    }
                }
                Kind::Goroutines(snapshot) => dumps.push(Dump { name, snapshot }),
                Kind::Series(s) => series.push(NamedSeries { name, series: s }),
                Kind::Causal(analysis) => causal.push(NamedCausal { name, analysis }),
            }
        }
        let profiles = groups
            .into_iter()
            .map(|(_, names, ps)| {
                let name = names.join(", ");
                let merge = || -> Result<Profile, transform::Error> {
                    let mut merged = transform::combine(ps)?;
                    transform::filter::remove_uninteresting(&mut merged).map_err(|e| {
                        transform::Error::BadOption(format!(
                            "failed to compile drop_frames regexp: {e}"
                        ))
                    })?;
                    Ok(merged)
                };
                match merge() {
                    Ok(merged) => Ok(ProfileSet { name, merged }),
                    Err(source) => Err(Error::Merge {
                        files: name,
                        source,
                    }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                profiles,
                dumps,
                series,
                causal,
                files,
                cache: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The profile sets.
    pub fn profiles(&self) -> &[ProfileSet] {
        &self.inner.profiles
    }

    /// The goroutine dumps.
    pub fn dumps(&self) -> &[Dump] {
        &self.inner.dumps
    }

    /// The series.
    pub fn series(&self) -> &[NamedSeries] {
        &self.inner.series
    }

    /// The causal profiles.
    pub fn causal(&self) -> &[NamedCausal] {
        &self.inner.causal
    }

    /// The names of the files served.
    pub fn files(&self) -> &str {
        &self.inner.files
    }

    /// Prepares the view every page opens on (the first profile set, default options), so
    /// the first top table and flame graph come from the cache. Errors are left for the
    /// request that meets them.
    pub fn warm(&self) {
        if !self.inner.profiles.is_empty() {
            let _ = self.view(&Query::default());
        }
    }

    /// The view for `q`, from the cache or freshly prepared.
    pub fn view(&self, q: &Query) -> Result<Arc<View>, Error> {
        let key = q.key();
        if let Ok(cache) = self.inner.cache.lock()
            && let Some((_, v)) = cache.iter().find(|(k, _)| *k == key)
        {
            return Ok(v.clone());
        }
        let idx = key.p.unwrap_or(0);
        let set = self
            .inner
            .profiles
            .get(idx)
            .ok_or(Error::NoProfile(idx, self.inner.profiles.len()))?;
        let prepared = transform::prepare_merged(set.merged.clone(), &key.options()?)?;
        let mut stacks = StackSet::new();
        stacks.add_profile(&prepared.profile, Side::Value, |s| value(&prepared, s));
        let tree = stacks.build(0);
        let view = Arc::new(View { prepared, tree });
        if let Ok(mut cache) = self.inner.cache.lock() {
            if cache.len() >= CACHE {
                cache.remove(0);
            }
            cache.push((key, view.clone()));
        }
        Ok(view)
    }
}

/// Profiles with equal sample types merge.
fn signature(p: &Profile) -> Vec<(&str, &str)> {
    p.sample_type
        .iter()
        .map(|t| (t.kind.as_str(), t.unit.as_str()))
        .collect()
}
