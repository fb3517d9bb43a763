//! Frame colours: plain graphs colour by package kind, so the program's own code stands out
//! from the runtime, the standard library and dependencies; differential graphs colour by
//! the change of a frame's share of the total.

use culprit_profile::Profile;

/// Where a frame's code comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The language runtime: Go's `runtime`, the kernel, libc start-up.
    Runtime,
    /// The standard library (Go std packages, Rust `std`/`core`/`alloc`, C++ `std::`).
    Std,
    /// Dependencies (Go module paths with a domain, Rust crates from a registry).
    ThirdParty,
    /// The program's own code.
    Own,
    /// Unknown: bare C symbols, addresses, the root.
    Other,
}

impl Kind {
    /// Every kind, in legend order.
    pub const ALL: [Kind; 5] = [
        Kind::Own,
        Kind::ThirdParty,
        Kind::Std,
        Kind::Runtime,
        Kind::Other,
    ];

    /// The legend label.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Runtime => "runtime",
            Kind::Std => "standard library",
            Kind::ThirdParty => "third party",
            Kind::Own => "own code",
            Kind::Other => "other",
        }
    }
}

/// Decides the [`Kind`] of frames of one profile. Go names carry their import path
/// (`github.com/x/y.F`, `net/http.(*conn).serve`, `main.handler`); the program's own
/// packages outside `main` are recognised by sharing the source directory of `main.main`.
#[derive(Clone, Debug, Default)]
pub struct Classifier {
    own_dir: Option<String>,
}

impl Classifier {
    /// Learns the program's source directory from `profile`, when it has `main.main`.
    pub fn new(profile: &Profile) -> Self {
        let own_dir = profile
            .functions
            .iter()
            .find(|f| f.name == "main.main" && f.filename.contains('/'))
            .and_then(|f| f.filename.rsplit_once('/'))
            .map(|(dir, _)| format!("{dir}/"));
        Self { own_dir }
    }

    /// The kind of frame `name` whose source file is `file` (empty when unknown).
    pub fn classify(&self, name: &str, file: &str) -> Kind {
        if let Some(dir) = &self.own_dir
            && file.starts_with(dir.as_str())
        {
            return Kind::Own;
        }
        if file.contains("/.cargo/registry/")
            || file.contains("/pkg/mod/")
            || file.contains("/vendor/")
        {
            return Kind::ThirdParty;
        }
        classify_name(name)
    }
}

/// Classifies by the name alone (folded stacks carry nothing else).
pub fn classify_name(name: &str) -> Kind {
    let name = name.trim_start_matches(['<', '&', '*', '(']);
    if name.ends_with("_[k]") || name.starts_with("[kernel") || name.starts_with("__libc_start") {
        return Kind::Runtime;
    }
    if name.contains("::") {
        let head = name.split("::").next().unwrap_or("");
        return match head {
            "std" | "core" | "alloc" | "__gnu_cxx" | "__cxxabiv1" => Kind::Std,
            "tokio" | "hyper" | "futures" | "futures_util" | "rayon" | "serde" | "serde_json"
            | "regex" | "boost" | "absl" | "folly" => Kind::ThirdParty,
            _ => Kind::Own,
        };
    }
    // Go: the package path ends at the first `.` after the last `/`.
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let Some(dot) = name[slash..].find('.').map(|d| d + slash) else {
        return Kind::Other;
    };
    let pkg = &name[..dot];
    if pkg.contains([' ', '(', '<', '[']) || pkg.is_empty() {
        return Kind::Other;
    }
    let first = pkg.split('/').next().unwrap_or("");
    if pkg == "runtime"
        || pkg.starts_with("runtime/internal")
        || pkg.starts_with("internal/runtime")
    {
        Kind::Runtime
    } else if pkg == "main" {
        Kind::Own
    } else if first.contains('.') {
        Kind::ThirdParty
    } else if pkg.contains('/')
        || first
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        // Java-style names (`java/lang/Thread.run`, `com.foo.Bar.baz`) would land here too;
        // lowercase one-word packages are Go's standard library.
        if first == "java" || first == "javax" || first == "jdk" || first == "sun" {
            Kind::Std
        } else if pkg.contains('/') && !GO_STD_ROOTS.contains(&first) {
            Kind::ThirdParty
        } else {
            Kind::Std
        }
    } else {
        Kind::Other
    }
}

/// First elements of Go standard library import paths that hold a `/`.
const GO_STD_ROOTS: &[&str] = &[
    "archive",
    "compress",
    "container",
    "crypto",
    "database",
    "debug",
    "embed",
    "encoding",
    "go",
    "hash",
    "html",
    "image",
    "index",
    "internal",
    "io",
    "log",
    "math",
    "mime",
    "net",
    "os",
    "path",
    "reflect",
    "regexp",
    "runtime",
    "sort",
    "strconv",
    "strings",
    "sync",
    "syscall",
    "testing",
    "text",
    "time",
    "unicode",
    "vendor",
];

/// An RGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl std::fmt::Display for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rgb({},{},{})", self.0, self.1, self.2)
    }
}

/// The colour of a frame named `name` of `kind`: a hue per kind, varied by a hash of the
/// name so neighbours differ yet a function keeps its colour across graphs.
pub fn kind_colour(kind: Kind, name: &str) -> Rgb {
    let v = name_hash(name);
    let s = |base: f64, span: f64| (base + span * v) as u8;
    match kind {
        Kind::Own => Rgb(s(60.0, 60.0), s(180.0, 60.0), s(60.0, 50.0)),
        Kind::ThirdParty => Rgb(s(70.0, 50.0), s(160.0, 60.0), s(200.0, 55.0)),
        Kind::Std => Rgb(s(215.0, 40.0), s(185.0, 50.0), s(50.0, 50.0)),
        Kind::Runtime => Rgb(s(210.0, 45.0), s(90.0, 60.0), s(50.0, 40.0)),
        Kind::Other => Rgb(s(170.0, 40.0), s(160.0, 40.0), s(190.0, 40.0)),
    }
}

/// A stable value in [0, 1) from a name (FNV-1a), weighted to the leading characters.
fn name_hash(name: &str) -> f64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes().take(24) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    f64::from(h % 1000) / 1000.0
}

/// The neutral colour of a differential frame whose share did not change.
pub const NEUTRAL: Rgb = Rgb(224, 224, 224);

/// The colour of a differential frame whose share of the total changed by `change`, scaled
/// against the largest change `max` in the graph: red for growth, blue for shrinkage,
/// exactly [`NEUTRAL`] for no change.
pub fn diff_colour(change: f64, max: f64) -> Rgb {
    if change == 0.0 || max <= 0.0 || !change.is_finite() {
        return NEUTRAL;
    }
    let i = (change.abs() / max).clamp(0.0, 1.0);
    let fade = (200.0 * (1.0 - i)) as u8;
    if change > 0.0 {
        Rgb(255, fade, fade)
    } else {
        Rgb(fade, fade, 255)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_by_package() {
        assert_eq!(classify_name("runtime.mallocgc"), Kind::Runtime);
        assert_eq!(classify_name("net/http.(*conn).serve"), Kind::Std);
        assert_eq!(classify_name("sync.(*Mutex).Lock"), Kind::Std);
        assert_eq!(classify_name("github.com/foo/bar.Baz"), Kind::ThirdParty);
        assert_eq!(
            classify_name("golang.org/x/net/http2.(*Framer).ReadFrame"),
            Kind::ThirdParty
        );
        assert_eq!(classify_name("main.handler.func1"), Kind::Own);
        assert_eq!(classify_name("std::io::Write::write_all"), Kind::Std);
        assert_eq!(
            classify_name("<alloc::vec::Vec<T> as Drop>::drop"),
            Kind::Std
        );
        assert_eq!(classify_name("tokio::runtime::park"), Kind::ThirdParty);
        assert_eq!(classify_name("memcpy"), Kind::Other);
        assert_eq!(classify_name("do_syscall_64_[k]"), Kind::Runtime);
    }

    #[test]
    fn diff_colours() {
        assert_eq!(diff_colour(0.0, 1.0), NEUTRAL);
        assert_eq!(diff_colour(1.0, 1.0), Rgb(255, 0, 0));
        assert_eq!(diff_colour(-1.0, 1.0), Rgb(0, 0, 255));
    }
}
