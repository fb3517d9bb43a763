//! The in-memory profile: pprof's `profile.proto` with the string table resolved and ids
//! turned into indices, so transforms and reports never chase ids through maps.

use std::sync::Arc;

/// Shared, immutable string used for label keys, values and units, which repeat on most
/// samples of a profile; cloning one is a reference-count increment.
pub type Str = Arc<str>;

/// Index of a [`Location`] in [`Profile::locations`].
pub type LocIdx = u32;
/// Index of a [`Function`] in [`Profile::functions`].
pub type FuncIdx = u32;
/// Index of a [`Mapping`] in [`Profile::mappings`].
pub type MapIdx = u32;

/// A whole profile. Field meanings follow pprof's `profile.proto`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// What each entry of [`Sample::values`] measures.
    pub sample_type: Vec<ValueType>,
    /// Name of the preferred sample type; empty means pprof's default rule.
    pub default_sample_type: String,
    /// The samples, in file order.
    pub samples: Vec<Sample>,
    /// Mapped binaries; `mappings[0]` is the main binary when present.
    pub mappings: Vec<Mapping>,
    /// Program locations referenced by samples.
    pub locations: Vec<Location>,
    /// Functions referenced by location lines.
    pub functions: Vec<Function>,
    /// Regex of frames to drop from stacks, with their callers' side kept (pprof semantics).
    pub drop_frames: String,
    /// Regex of frames kept even if they match `drop_frames`.
    pub keep_frames: String,
    /// Collection start, nanoseconds since the Unix epoch (0 = unknown).
    pub time_nanos: i64,
    /// Collection length in nanoseconds (0 = unknown).
    pub duration_nanos: i64,
    /// Kind of events between samples.
    pub period_type: Option<ValueType>,
    /// Events between samples.
    pub period: i64,
    /// Free-form comments.
    pub comments: Vec<String>,
    /// Documentation link for the profile type.
    pub doc_url: String,
}

/// A sample value's meaning, such as `cpu`/`nanoseconds` or `alloc_space`/`bytes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ValueType {
    /// The measured quantity (pprof's `type`).
    pub kind: String,
    /// Its unit.
    pub unit: String,
}

impl ValueType {
    /// Builds a value type from its kind and unit.
    pub fn new(kind: impl Into<String>, unit: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            unit: unit.into(),
        }
    }
}

/// One stack with its measured values and labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// Stack as location indices, leaf first.
    pub locations: Vec<LocIdx>,
    /// One value per [`Profile::sample_type`].
    pub values: Vec<i64>,
    /// String labels, in file order (a key may repeat).
    pub labels: Vec<(Str, Str)>,
    /// Numeric labels, in file order (a key may repeat).
    pub num_labels: Vec<NumLabel>,
}

/// A numeric sample label such as `bytes=1024`.
#[derive(Clone, Debug, PartialEq)]
pub struct NumLabel {
    /// Label name.
    pub key: Str,
    /// Label value.
    pub value: i64,
    /// Unit of the value; empty when the file gave none.
    pub unit: Str,
}

/// A mapped object: the executable, a shared library, the vDSO.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    /// Unique nonzero id from the file.
    pub id: u64,
    /// Start address of the mapping.
    pub memory_start: u64,
    /// End address (exclusive).
    pub memory_limit: u64,
    /// File offset of `memory_start`.
    pub file_offset: u64,
    /// Object file name or a pseudo name such as `[vdso]`.
    pub file: String,
    /// Build id, hex for GNU build ids.
    pub build_id: String,
    /// Symbolization state flags, as in the proto.
    pub has_functions: bool,
    /// See `has_functions`.
    pub has_filenames: bool,
    /// See `has_functions`.
    pub has_line_numbers: bool,
    /// See `has_functions`.
    pub has_inline_frames: bool,
}

/// A program location: an address and the source lines it stands for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Location {
    /// Unique nonzero id from the file.
    pub id: u64,
    /// Mapping this address belongs to, if known.
    pub mapping: Option<MapIdx>,
    /// Instruction address (0 if unknown).
    pub address: u64,
    /// Inlining chain: `lines[0]` is the innermost inlined callee, the last is the caller.
    pub lines: Vec<Line>,
    /// Several symbols share this address (identical code folding).
    pub is_folded: bool,
}

/// A source line within a location.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Line {
    /// The function, if known.
    pub function: Option<FuncIdx>,
    /// Line number (0 if unknown).
    pub line: i64,
    /// Column number (0 if unknown).
    pub column: i64,
}

/// A function's identity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Function {
    /// Unique nonzero id from the file.
    pub id: u64,
    /// Human-readable (demangled) name.
    pub name: String,
    /// Name as the system knows it, e.g. mangled.
    pub system_name: String,
    /// Source file.
    pub filename: String,
    /// First line of the function.
    pub start_line: i64,
}

impl Profile {
    /// Index of the sample type named `name`, if any.
    pub fn sample_type_index(&self, name: &str) -> Option<usize> {
        self.sample_type.iter().position(|t| t.kind == name)
    }

    /// pprof's default sample index: `default_sample_type` when it names a sample type,
    /// otherwise the last one.
    pub fn default_sample_index(&self) -> usize {
        if !self.default_sample_type.is_empty()
            && let Some(i) = self.sample_type_index(&self.default_sample_type)
        {
            return i;
        }
        self.sample_type.len().saturating_sub(1)
    }

    /// The function of a location line, if it has one.
    pub fn line_function(&self, line: &Line) -> Option<&Function> {
        line.function.map(|f| &self.functions[f as usize])
    }

    /// The mapping of a location, if it has one.
    pub fn location_mapping(&self, loc: &Location) -> Option<&Mapping> {
        loc.mapping.map(|m| &self.mappings[m as usize])
    }
}
