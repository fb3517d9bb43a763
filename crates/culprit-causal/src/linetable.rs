//! The address-to-line table the causal runtime searches on every sample, computed from an
//! ELF object's DWARF line programs (versions 2 to 5, compressed sections included): an
//! executable or a shared object, at link-time addresses.

use std::borrow::Cow;
use std::collections::HashMap;

use addr2line::gimli;
use object::{Object, ObjectSection};

/// Why a line table could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LineTableError {
    /// Not an object file this reader understands.
    #[error("not an ELF object: {0}")]
    Object(String),
    /// The DWARF data was malformed.
    #[error("reading DWARF line tables: {0}")]
    Dwarf(String),
    /// Nothing in scope: no debug information, or the scope excluded everything.
    #[error(
        "no source lines in scope: build with debug information (-g), or widen --scope (files seen: {seen})"
    )]
    Empty {
        /// A few of the files the executable's debug info names.
        seen: String,
    },
}

/// Which source files' lines may be experimented on.
pub struct Scope {
    patterns: Vec<glob::Pattern>,
}

impl Scope {
    /// `globs` match a whole path, or a file name when they contain no `/`. With no globs,
    /// every file is in scope except toolchain and system sources (`/usr/`, `/rustc/`,
    /// cargo's registry), which the program's authors cannot change.
    pub fn new(globs: &[String]) -> Result<Self, glob::PatternError> {
        let patterns = globs
            .iter()
            .map(|g| glob::Pattern::new(g))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// Whether lines of `path` are in scope.
    pub fn includes(&self, path: &str) -> bool {
        if self.patterns.is_empty() {
            return !(path.starts_with("/usr/")
                || path.starts_with("/rustc/")
                || path.contains("/.cargo/registry/")
                || path.contains("/rustlib/")
                || path.starts_with('<'));
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        self.patterns.iter().any(|p| {
            if p.as_str().contains('/') {
                p.matches(path)
            } else {
                p.matches(name)
            }
        })
    }
}

/// Address ranges of an ELF object mapped to `file:line` names.
#[derive(Debug, Default, PartialEq)]
pub struct LineTable {
    /// (start, end, line id), sorted and non-overlapping.
    pub ranges: Vec<(u64, u64, u32)>,
    /// Line names, `file:line`.
    pub lines: Vec<String>,
}

impl LineTable {
    /// Builds the table of an ELF file's in-scope lines.
    pub fn from_elf(data: &[u8], scope: &Scope) -> Result<Self, LineTableError> {
        let file = object::File::parse(data).map_err(|e| LineTableError::Object(e.to_string()))?;
        let endian = if file.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, gimli::Error> {
            Ok(file
                .section_by_name(id.name())
                .and_then(|s| s.uncompressed_data().ok())
                .unwrap_or(Cow::Borrowed(&[])))
        };
        let sections =
            gimli::DwarfSections::load(load).map_err(|e| LineTableError::Dwarf(e.to_string()))?;
        let dwarf = sections.borrow(|s| gimli::EndianSlice::new(s, endian));
        // Inlined code carries the callee's file in the line table (a Rust closure's body
        // is mostly core's iterator code); the frames give the in-scope call site.
        let frames =
            addr2line::Context::from_dwarf(sections.borrow(|s| gimli::EndianSlice::new(s, endian)))
                .map_err(|e| LineTableError::Dwarf(e.to_string()))?;
        let mut b = Builder::default();
        let mut seen: Vec<String> = Vec::new();
        let mut units = dwarf.units();
        while let Some(header) = units
            .next()
            .map_err(|e| LineTableError::Dwarf(e.to_string()))?
        {
            let unit = dwarf
                .unit(header)
                .map_err(|e| LineTableError::Dwarf(e.to_string()))?;
            let Some(program) = unit.line_program.clone() else {
                continue;
            };
            let mut rows = program.rows();
            let mut files: HashMap<u64, Option<String>> = HashMap::new();
            // (start, end, file, line) of this unit's rows.
            let mut spans: Vec<(u64, u64, Option<String>, u64)> = Vec::new();
            let mut prev: Option<(u64, Option<String>, u64)> = None;
            while let Some((header, row)) = rows
                .next_row()
                .map_err(|e| LineTableError::Dwarf(e.to_string()))?
            {
                let addr = row.address();
                if let Some((start, file, line)) = prev.take()
                    && addr > start
                {
                    spans.push((start, addr, file, line));
                }
                if row.end_sequence() {
                    continue;
                }
                let fidx = row.file_index();
                let path = files
                    .entry(fidx)
                    .or_insert_with(|| file_path(&dwarf, &unit, header, fidx))
                    .clone();
                prev = Some((addr, path, row.line().map_or(0, |l| l.get())));
            }
            let in_scope = |f: &Option<String>, line: u64| {
                f.as_deref().is_some_and(|p| line > 0 && scope.includes(p))
            };
            // Units with no in-scope line at all (a linked-in standard library) are skipped
            // without the costlier frame lookups.
            if !spans.iter().any(|(_, _, f, l)| in_scope(f, *l)) {
                for (_, _, f, _) in &spans {
                    if let Some(p) = f
                        && seen.len() < 8
                        && !seen.contains(p)
                    {
                        seen.push(p.clone());
                    }
                }
                continue;
            }
            for (start, end, file, line) in spans {
                let name = if in_scope(&file, line) {
                    file.map(|f| format!("{f}:{line}"))
                } else {
                    caller_in_scope(&frames, start, scope)
                };
                if let Some(name) = name {
                    let id = b.line_id(name);
                    b.ranges.push((start, end, id));
                }
            }
        }
        if b.lines.is_empty() {
            return Err(LineTableError::Empty {
                seen: if seen.is_empty() {
                    "none".into()
                } else {
                    seen.join(", ")
                },
            });
        }
        Ok(b.finish())
    }

    /// Line id of an address.
    pub fn lookup(&self, addr: u64) -> Option<u32> {
        let i = self.ranges.partition_point(|r| r.0 <= addr);
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (addr < r.1).then_some(r.2)
    }
}

#[derive(Default)]
struct Builder {
    ranges: Vec<(u64, u64, u32)>,
    lines: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Builder {
    fn line_id(&mut self, name: String) -> u32 {
        if let Some(&id) = self.ids.get(&name) {
            return id;
        }
        let id = self.lines.len() as u32;
        self.lines.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn finish(mut self) -> LineTable {
        self.ranges.sort_unstable();
        // Keep ranges disjoint (a later sequence may overlap an earlier one) and merge
        // neighbours of the same line so the table stays small.
        let mut out: Vec<(u64, u64, u32)> = Vec::with_capacity(self.ranges.len());
        for (s, e, l) in self.ranges {
            let s = out.last().map_or(s, |p| s.max(p.1));
            if s >= e {
                continue;
            }
            match out.last_mut() {
                Some(p) if p.1 == s && p.2 == l => p.1 = e,
                _ => out.push((s, e, l)),
            }
        }
        LineTable {
            ranges: out,
            lines: self.lines,
        }
    }
}

type Reader<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;

/// The innermost frame at `addr` whose source is in scope, as `file:line`.
fn caller_in_scope(
    ctx: &addr2line::Context<Reader<'_>>,
    addr: u64,
    scope: &Scope,
) -> Option<String> {
    let mut frames = ctx.find_frames(addr).skip_all_loads().ok()?;
    while let Ok(Some(frame)) = frames.next() {
        if let Some(loc) = frame.location
            && let (Some(file), Some(line)) = (loc.file, loc.line)
            && line > 0
            && scope.includes(file)
        {
            return Some(format!("{file}:{line}"));
        }
    }
    None
}

fn file_path(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &gimli::Unit<Reader<'_>>,
    header: &gimli::LineProgramHeader<Reader<'_>>,
    index: u64,
) -> Option<String> {
    let file = header.file(index)?;
    let text = |v| {
        dwarf
            .attr_string(unit, v)
            .ok()
            .map(|s| s.to_string_lossy().into_owned())
    };
    let name = text(file.path_name())?;
    if name.starts_with('/') {
        return Some(name);
    }
    let mut path = String::new();
    if let Some(dir) = file.directory(header).and_then(text) {
        path = dir;
    }
    if !path.starts_with('/')
        && let Some(comp) = unit.comp_dir.map(|c| c.to_string_lossy().into_owned())
    {
        path = if path.is_empty() {
            comp
        } else {
            format!("{comp}/{path}")
        };
    }
    Some(if path.is_empty() {
        name
    } else {
        format!("{}/{name}", path.trim_end_matches('/'))
    })
}
