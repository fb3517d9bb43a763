//! A profile seen as function-name stacks with one chosen value: the view every findings
//! rule reads (shares of a total, flat/cum per function, the dominant call path).

use std::collections::{HashMap, HashSet};

use culprit_profile::Profile;

/// Stacks of function names, leaf first, each with its value for one sample type.
#[derive(Clone, Debug, Default)]
pub struct Stacks {
    /// Every sample with a nonzero value.
    pub samples: Vec<(Vec<String>, i64)>,
    /// Sum of the values.
    pub total: i64,
    /// Bare function names (no path, as DWARF's line tables name inlined functions) whose
    /// source file is the program's own: the name alone would pass for a C or std helper.
    pub own_bare: HashSet<String>,
}

/// Flat and cumulative value of one function.
#[derive(Clone, Debug, PartialEq)]
pub struct FuncTotal {
    /// Function name.
    pub name: String,
    /// Value in samples where it is the leaf.
    pub flat: i64,
    /// Value in samples where it appears anywhere (once per sample).
    pub cum: i64,
}

/// The frame names of one location, innermost inlined function first.
fn location_names(p: &Profile, loc: u32) -> Vec<String> {
    let Some(l) = p.locations.get(loc as usize) else {
        return vec![format!("?loc{loc}")];
    };
    let names: Vec<String> = l
        .lines
        .iter()
        .filter_map(|line| line.function.and_then(|f| p.functions.get(f as usize)))
        .map(|f| f.name.clone())
        .collect();
    if names.is_empty() {
        vec![format!("{:#x}", l.address)]
    } else {
        names
    }
}

/// Functions of `p` with a bare name and a source file outside toolchains and
/// dependency caches.
fn own_bare_functions(p: &Profile) -> HashSet<String> {
    p.functions
        .iter()
        .filter(|f| {
            let base = f.name.split('<').next().unwrap_or(&f.name);
            !base.contains("::") && !base.contains('.') && is_own_file(&f.filename)
        })
        .map(|f| f.name.clone())
        .collect()
}

/// Whether a source path belongs to the program rather than a toolchain (Rust's
/// `/rustc/<hash>/library`, Go's GOROOT, C headers, glibc's build tree) or a dependency
/// cache (cargo registry and git checkouts, Go's module cache).
pub fn is_own_file(path: &str) -> bool {
    const LIBRARY: &[&str] = &[
        "/rustc/",
        "/.cargo/registry/",
        "/.cargo/git/",
        "/.rustup/",
        "/usr/include/",
        "/usr/lib/go",
        "/usr/local/go/",
        "/go/pkg/mod/",
        "sysdeps/",
        "/nptl/",
    ];
    !path.is_empty()
        && !path.starts_with("./")
        && !path.starts_with("../")
        && !LIBRARY.iter().any(|l| path.contains(l))
}

/// Frames serving culprit's own requests (profiles from pprof, runtime stats from expvar
/// every second): that work is culprit's doing, not the service's, and must never be
/// named as its culprit.
fn is_profiler_frame(name: &str) -> bool {
    name.starts_with("runtime/pprof.")
        || name.starts_with("net/http/pprof.")
        || name.starts_with("expvar.")
}

impl Stacks {
    /// Views `p` through the sample type named `kind` (or pprof's default when `None` or
    /// absent), leaving out samples spent serving profile requests.
    pub fn new(p: &Profile, kind: Option<&str>) -> Self {
        let idx = kind
            .and_then(|k| p.sample_type_index(k))
            .unwrap_or_else(|| p.default_sample_index());
        let mut out = Stacks {
            own_bare: own_bare_functions(p),
            ..Stacks::default()
        };
        for s in &p.samples {
            let v = s.values.get(idx).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let frames: Vec<String> = s
                .locations
                .iter()
                .flat_map(|&l| location_names(p, l))
                .collect();
            if frames.iter().any(|f| is_profiler_frame(f)) {
                continue;
            }
            out.total = out.total.saturating_add(v);
            out.samples.push((frames, v));
        }
        out
    }

    /// Whether `name` is library code: [`is_library_frame`], except for bare names whose
    /// source file is the program's own.
    pub fn is_library(&self, name: &str) -> bool {
        is_library_frame(name) && !self.own_bare.contains(name)
    }

    /// Fraction of the total in samples where some frame satisfies `pred`.
    pub fn share(&self, pred: impl Fn(&str) -> bool) -> f64 {
        self.value_where(pred) as f64 / self.total.max(1) as f64
    }

    /// Value of the samples where some frame satisfies `pred`.
    pub fn value_where(&self, pred: impl Fn(&str) -> bool) -> i64 {
        self.samples
            .iter()
            .filter(|(f, _)| f.iter().any(|n| pred(n)))
            .map(|(_, v)| *v)
            .sum()
    }

    /// Flat and cum per function, by descending flat then cum.
    pub fn functions(&self) -> Vec<FuncTotal> {
        let mut map: HashMap<&str, (i64, i64)> = HashMap::new();
        for (frames, v) in &self.samples {
            if let Some(leaf) = frames.first() {
                map.entry(leaf).or_default().0 += v;
            }
            let mut seen: Vec<&str> = Vec::with_capacity(frames.len());
            for f in frames {
                if !seen.contains(&f.as_str()) {
                    seen.push(f);
                    map.entry(f).or_default().1 += v;
                }
            }
        }
        let mut out: Vec<FuncTotal> = map
            .into_iter()
            .map(|(name, (flat, cum))| FuncTotal {
                name: name.to_string(),
                flat,
                cum,
            })
            .collect();
        out.sort_by(|a, b| {
            b.flat
                .cmp(&a.flat)
                .then(b.cum.cmp(&a.cum))
                .then(a.name.cmp(&b.name))
        });
        out
    }

    /// Functions satisfying `pred`, by descending cum.
    pub fn functions_matching(&self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let mut f: Vec<_> = self
            .functions()
            .into_iter()
            .filter(|t| pred(&t.name))
            .collect();
        f.sort_by(|a, b| b.cum.cmp(&a.cum).then(a.name.cmp(&b.name)));
        f.into_iter().map(|t| t.name).collect()
    }

    /// Cum value of the function named `name`.
    pub fn cum_of(&self, name: &str) -> i64 {
        self.value_where(|f| f == name)
    }

    /// The path from the root that keeps at least `threshold` of the total: at each step it
    /// follows the heaviest callee while that callee holds `threshold` or more. Returns
    /// (function, cum) pairs, root first.
    pub fn dominant_path(&self, threshold: f64) -> Vec<(String, i64)> {
        let need = (self.total as f64 * threshold).ceil() as i64;
        let mut path: Vec<(String, i64)> = Vec::new();
        loop {
            let depth = path.len();
            let mut next: HashMap<&str, i64> = HashMap::new();
            for (frames, v) in &self.samples {
                let n = frames.len();
                if n <= depth {
                    continue;
                }
                let on_path = path
                    .iter()
                    .enumerate()
                    .all(|(i, (name, _))| frames.get(n - 1 - i) == Some(name));
                if on_path && let Some(f) = frames.get(n - 1 - depth) {
                    *next.entry(f).or_default() += v;
                }
            }
            let best = next
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
            match best {
                Some((name, v)) if v >= need && need > 0 => path.push((name.to_string(), v)),
                _ => return path,
            }
        }
    }

    /// Caller frames directly above any frame satisfying `pred`, with their values: who
    /// calls into the matched code.
    pub fn callers_of(&self, pred: impl Fn(&str) -> bool) -> Vec<(String, i64)> {
        let mut map: HashMap<&str, i64> = HashMap::new();
        for (frames, v) in &self.samples {
            // The outermost matching frame's caller is the entry into the matched code.
            if let Some(pos) = frames.iter().rposition(|f| pred(f))
                && let Some(caller) = frames.get(pos + 1)
            {
                *map.entry(caller).or_default() += v;
            }
        }
        let mut out: Vec<(String, i64)> = map.into_iter().map(|(k, v)| (k.into(), v)).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

/// Whether a frame belongs to a language runtime or standard library rather than the
/// program's own code: Go packages whose path has no domain (other than `main`), Rust's
/// std/core/alloc (also as `<T as core::…>` and as the bare names of inlined helpers such
/// as `next<…>`), libc and thread start-up frames.
pub fn is_library_frame(name: &str) -> bool {
    const STD: [&str; 3] = ["std::", "core::", "alloc::"];
    const NATIVE: &[&str] = &[
        "__libc",
        "__GI_",
        "__memcpy",
        "__memset",
        "__memmove",
        "_int_",
        "start_thread",
        "clone",
        "_start",
        "[",
    ];
    if name.starts_with("0x") {
        return false;
    }
    if name == "main" || NATIVE.iter().any(|p| name.starts_with(p)) {
        return true;
    }
    if let Some(rest) = name.strip_prefix('<') {
        // `<Type as Trait>::method` is library code when the type or the trait is.
        return STD
            .iter()
            .any(|p| rest.starts_with(p) || rest.contains(&format!(" as {p}")));
    }
    let base = name.split('<').next().unwrap_or(name);
    if base.contains("::") {
        return STD.iter().any(|p| base.starts_with(p));
    }
    if !base.contains('.') {
        // A bare name: a C library function or an inlined std helper.
        return true;
    }
    // Go: the package path is everything before the first '.' after the last '/'.
    let slash = base.rfind('/').map_or(0, |i| i + 1);
    let pkg_end = base[slash..].find('.').map_or(base.len(), |i| slash + i);
    let pkg = &base[..pkg_end];
    if pkg == "main" {
        return false;
    }
    let first = pkg.split('/').next().unwrap_or(pkg);
    !first.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stacks(list: &[(&[&str], i64)]) -> Stacks {
        let mut s = Stacks::default();
        for (frames, v) in list {
            s.samples
                .push((frames.iter().map(|f| f.to_string()).collect(), *v));
            s.total += v;
        }
        s
    }

    #[test]
    fn dominant_path_follows_heavy_callees() {
        let s = stacks(&[
            (&["leaf1", "ctor", "handler", "root"], 40),
            (&["leaf2", "ctor", "handler", "root"], 35),
            (&["other", "handler", "root"], 15),
            (&["idle", "root"], 10),
        ]);
        let path: Vec<String> = s.dominant_path(0.5).into_iter().map(|p| p.0).collect();
        assert_eq!(path, ["root", "handler", "ctor"]);
    }

    #[test]
    fn functions_count_recursion_once() {
        let s = stacks(&[(&["f", "f", "g"], 3), (&["g"], 2)]);
        let f = s.functions();
        assert_eq!(f[0].name, "f");
        assert_eq!((f[0].flat, f[0].cum), (3, 3));
        assert_eq!(f[1].cum, 5);
    }

    #[test]
    fn library_frames() {
        assert!(is_library_frame("runtime.mallocgc"));
        assert!(is_library_frame("compress/flate.NewWriter"));
        assert!(is_library_frame("net/http.(*conn).serve"));
        assert!(!is_library_frame("main.(*server).handle"));
        assert!(!is_library_frame(
            "github.com/go-chi/chi/middleware.Compress"
        ));
        assert!(is_library_frame("std::thread::spawn"));
        assert!(!is_library_frame(
            "culprit_investigate::demo::Config::parse"
        ));
        assert!(is_library_frame(
            "find<core::str::iter::Split<core::str::IsWhitespace>>"
        ));
        assert!(is_library_frame(
            "<F as core::str::pattern::MultiCharEq>::matches"
        ));
        assert!(is_library_frame("next"));
    }

    #[test]
    fn bare_names_from_the_programs_own_files_are_not_library() {
        use culprit_profile::{Function, Line, Location, Sample};
        let mut p = Profile::default();
        for (name, file) in [
            ("parse_route", "/src/svc/src/routes.rs"),
            (
                "next_match",
                "/rustc/17067e9/library/core/src/str/pattern.rs",
            ),
            ("memcpy", ""),
        ] {
            let id = p.functions.len() as u32;
            p.functions.push(Function {
                name: name.into(),
                filename: file.into(),
                ..Function::default()
            });
            p.locations.push(Location {
                lines: vec![Line {
                    function: Some(id),
                    line: 1,
                    ..Line::default()
                }],
                ..Location::default()
            });
        }
        p.samples.push(Sample {
            locations: vec![1, 0, 2],
            values: vec![1],
            ..Sample::default()
        });
        let s = Stacks::new(&p, None);
        assert!(!s.is_library("parse_route"));
        assert!(s.is_library("next_match"));
        assert!(s.is_library("memcpy"));
        assert!(is_own_file("crates/svc/src/main.rs"));
        assert!(!is_own_file(
            "/root/.cargo/registry/src/index/serde-1.0/src/de.rs"
        ));
        assert!(!is_own_file("/usr/lib/go-1.19/src/net/http/server.go"));
    }
}
