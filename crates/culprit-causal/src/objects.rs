//! The objects a program will or may load, and their line tables: the executable, the
//! libraries it links (`DT_NEEDED`, followed through each library's own needs as ld.so
//! finds them), and the shared objects it could `dlopen` from its own directories (the
//! executable's directory, its RPATH/RUNPATH, the working directory) or from paths the
//! user names or preloads. `LD_LIBRARY_PATH` is searched for linked libraries but not
//! scanned for plugins: test runners and shells fill it with toolchain directories. The runtime cannot parse DWARF, so every table is built
//! here, before the run; system libraries (`/lib*`, `/usr/lib*`) are left out. This module
//! reads files; the parsing it relies on is in [`crate::dynamic`] and [`crate::linetable`].

use std::collections::{HashSet, VecDeque};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::dynamic::{Dependencies, is_system_object};
use crate::linetable::{LineTable, LineTableError, Scope};
use crate::tablefile::TableFile;

/// Most `.so` files picked up by scanning directories, so that a program living next to
/// a large plugin collection does not spend minutes reading debug information.
const MAX_SCANNED: usize = 128;

/// Why the program's tables could not be built. The cause is the error's `source`, so
/// `{:#}` shows both.
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    /// A file could not be read.
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The executable's table could not be built, and no library had lines in scope.
    #[error("{path}")]
    Table {
        /// The executable.
        path: PathBuf,
        /// What went wrong.
        source: LineTableError,
    },
}

/// The tables of a program's objects and what happened on the way.
pub struct ProgramTables {
    /// For the runtime: the executable first, then every shared object looked at.
    pub tables: TableFile,
    /// Shared objects with lines in scope.
    pub libraries: Vec<PathBuf>,
    /// Objects left out, and why (a linked library without debug information, say).
    pub notes: Vec<String>,
}

/// How an object came to be considered; scanned ones are only guesses, so they leave no
/// note when they turn out to have nothing in scope.
#[derive(Clone, Copy, PartialEq)]
enum Origin {
    Linked,
    Named,
    Scanned,
}

struct Walk<'a> {
    scope: &'a Scope,
    ld_library_path: Option<String>,
    seen: HashSet<(u64, u64)>,
    queue: VecDeque<(PathBuf, Origin)>,
    scanned: usize,
    out: ProgramTables,
    exe_error: Option<LineTableError>,
}

/// Builds the tables of `exe` (whose bytes are `exe_data`), its libraries and its
/// candidate plugins; `extra` are files or directories the user named with `--lib`.
pub fn line_tables(
    exe: &Path,
    exe_data: &[u8],
    extra: &[PathBuf],
    scope: &Scope,
) -> Result<ProgramTables, ObjectsError> {
    let mut w = Walk {
        scope,
        ld_library_path: std::env::var("LD_LIBRARY_PATH").ok(),
        seen: HashSet::new(),
        queue: VecDeque::new(),
        scanned: 0,
        out: ProgramTables {
            tables: TableFile::default(),
            libraries: Vec::new(),
            notes: Vec::new(),
        },
        exe_error: None,
    };
    let meta = std::fs::metadata(exe).map_err(|source| ObjectsError::Read {
        path: exe.to_owned(),
        source,
    })?;
    w.seen.insert((meta.dev(), meta.ino()));
    let dirs = w.add(exe, exe_data, &meta, true, Origin::Linked);
    // Where a bare or relative dlopen name would be found.
    let origin = origin_dir(exe);
    let mut scan: Vec<PathBuf> = origin.into_iter().collect();
    scan.extend(dirs);
    scan.extend(std::env::current_dir().ok());
    // Libraries the user preloads run the program's code too.
    let preload = std::env::var("LD_PRELOAD").unwrap_or_default();
    for p in preload.split([':', ' ']).filter(|p| p.contains('/')) {
        w.enqueue(Path::new(p), Origin::Named);
    }
    for p in extra {
        if p.is_dir() {
            scan.push(p.clone());
        } else {
            w.enqueue(p, Origin::Named);
        }
    }
    let mut scanned_dirs = HashSet::new();
    for d in scan {
        let key = d.canonicalize().unwrap_or_else(|_| d.clone());
        if !is_system_object(&key.to_string_lossy()) && scanned_dirs.insert(key) {
            w.scan(&d);
        }
    }
    while let Some((path, origin)) = w.queue.pop_front() {
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                w.out.notes.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        match std::fs::read(&path) {
            Ok(data) => {
                w.add(&path, &data, &meta, false, origin);
            }
            Err(e) if origin != Origin::Scanned => {
                w.out.notes.push(format!("{}: {e}", path.display()));
            }
            Err(_) => {}
        }
    }
    if w.out.tables.lines.is_empty() {
        return Err(ObjectsError::Table {
            path: exe.to_owned(),
            source: w.exe_error.unwrap_or(LineTableError::Empty {
                seen: "none".into(),
            }),
        });
    }
    if w.scanned >= MAX_SCANNED {
        w.out.notes.push(format!(
            "looked at the first {MAX_SCANNED} .so files found; name others with --lib"
        ));
    }
    Ok(w.out)
}

fn origin_dir(path: &Path) -> Option<PathBuf> {
    let full = path.canonicalize().ok()?;
    full.parent().map(Path::to_owned)
}

impl Walk<'_> {
    /// Builds one object's table and queues what it links; returns its RPATH/RUNPATH
    /// directories.
    fn add(
        &mut self,
        path: &Path,
        data: &[u8],
        meta: &std::fs::Metadata,
        main: bool,
        origin: Origin,
    ) -> Vec<PathBuf> {
        let shown = path
            .canonicalize()
            .unwrap_or_else(|_| path.to_owned())
            .display()
            .to_string();
        let table = match LineTable::from_elf(data, self.scope) {
            Ok(t) => Some(t),
            Err(e) => {
                let quiet = origin == Origin::Scanned
                    && matches!(e, LineTableError::Empty { .. } | LineTableError::Object(_));
                if main {
                    self.exe_error = Some(e);
                } else if !quiet {
                    self.out.notes.push(format!("{shown}: {e}"));
                }
                None
            }
        };
        if !main && table.is_some() {
            self.out.libraries.push(path.to_owned());
        }
        self.out
            .tables
            .add(shown, meta.dev(), meta.ino(), table.as_ref());
        let deps = Dependencies::parse(data).unwrap_or_default();
        let Some(origin_dir) = origin_dir(path) else {
            return Vec::new();
        };
        let dirs = deps.search_dirs(&origin_dir, self.ld_library_path.as_deref());
        let run_paths = deps.search_dirs(&origin_dir, None);
        for name in &deps.needed {
            let found = if name.contains('/') {
                Some(PathBuf::from(name))
            } else {
                dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
            };
            // Not in the program's own directories: ld.so takes it from its cache or the
            // system directories.
            if let Some(p) = found {
                self.enqueue(&p, Origin::Linked);
            }
        }
        run_paths
    }

    fn enqueue(&mut self, path: &Path, origin: Origin) {
        let full = path.canonicalize().unwrap_or_else(|_| path.to_owned());
        if is_system_object(&full.to_string_lossy()) {
            return;
        }
        if let Ok(m) = std::fs::metadata(&full)
            && self.seen.insert((m.dev(), m.ino()))
        {
            self.queue.push_back((full, origin));
        }
    }

    /// Queues the shared objects directly in `dir`.
    fn scan(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".so") || n.contains(".so."))
                    && p.is_file()
            })
            .collect();
        names.sort();
        for p in names {
            if self.scanned >= MAX_SCANNED {
                return;
            }
            self.scanned += 1;
            self.enqueue(&p, Origin::Scanned);
        }
    }
}

/// `exe` and the libraries with lines in scope, for the start-up message.
pub fn describe(exe: &Path, t: &ProgramTables) -> String {
    const SHOWN: usize = 4;
    let mut s = exe.display().to_string();
    let names: Vec<String> = t
        .libraries
        .iter()
        .take(SHOWN)
        .map(|l| {
            l.file_name()
                .map_or_else(|| l.display().to_string(), |n| n.to_string_lossy().into())
        })
        .collect();
    if !names.is_empty() {
        s.push_str(" and ");
        s.push_str(&names.join(", "));
    }
    if t.libraries.len() > SHOWN {
        s.push_str(&format!(
            " and {} more shared objects",
            t.libraries.len() - SHOWN
        ));
    }
    s
}
