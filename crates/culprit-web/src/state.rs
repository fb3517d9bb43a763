//! The server's state: the merged profile, and a small cache of prepared views keyed by
//! the query that shaped them, so switching tabs does not redo the aggregation.

use std::sync::{Arc, Mutex};

use culprit_flame::tree::{FlameTree, Side};
use culprit_profile::Profile;
use culprit_profile::transform::{self, Options, Prepared};
use serde::Deserialize;

/// Why a view could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filter or sample index was malformed, or the profiles do not combine.
    #[error("{0}")]
    Transform(#[from] transform::Error),
}

/// The query parameters every view takes; they mirror the report flags of `culprit top`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq, Hash)]
pub struct Query {
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

/// Everything the server holds. Cheap to clone (shared).
#[derive(Clone)]
pub struct State {
    inner: Arc<Inner>,
}

struct Inner {
    merged: Profile,
    files: String,
    cache: Mutex<Vec<(Query, Arc<View>)>>,
}

impl State {
    /// Merges `profiles` (applying their `drop_frames`) for serving; `files` names them in
    /// page titles.
    pub fn new(profiles: Vec<Profile>, files: String) -> Result<Self, Error> {
        let mut merged = transform::combine(profiles)?;
        transform::filter::remove_uninteresting(&mut merged).map_err(|e| {
            transform::Error::BadOption(format!("failed to compile drop_frames regexp: {e}"))
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                merged,
                files,
                cache: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The merged profile as loaded.
    pub fn profile(&self) -> &Profile {
        &self.inner.merged
    }

    /// The names of the files served.
    pub fn files(&self) -> &str {
        &self.inner.files
    }

    /// The view for `q`, from the cache or freshly prepared.
    pub fn view(&self, q: &Query) -> Result<Arc<View>, Error> {
        let key = q.key();
        if let Ok(cache) = self.inner.cache.lock()
            && let Some((_, v)) = cache.iter().find(|(k, _)| *k == key)
        {
            return Ok(v.clone());
        }
        let prepared = transform::prepare_merged(self.inner.merged.clone(), &key.options()?)?;
        let mut tree = FlameTree::new();
        tree.add_profile(&prepared.profile, Side::Value, |s| value(&prepared, s));
        tree.sort();
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
