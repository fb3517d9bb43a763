//! Turning addresses into function names, files and lines (with inlining), per mapping.

use blazesym::Pid;
use blazesym::symbolize::source::{Elf, Kernel, Process, Source};
use blazesym::symbolize::{Input, Symbolized, Symbolizer};

use crate::unwind::SeenMapping;

/// Pseudo path of the kernel mapping.
pub const KERNEL_PATH: &str = "[kernel.kallsyms]";
/// Name of the vDSO's mapping in `/proc/PID/maps`.
pub const VDSO_PATH: &str = "[vdso]";

/// One source line of a location.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SymLine {
    /// Demangled function name.
    pub function: String,
    /// Source file, empty when unknown.
    pub file: String,
    /// Line number, 0 when unknown.
    pub line: u32,
}

/// Resolves addresses of one mapping; each result lists the inlining chain innermost first
/// and is empty when the address could not be resolved.
pub trait Symbolize {
    /// Symbolizes `addrs` (process addresses) that lie in `mapping`.
    fn symbolize(&mut self, mapping: &SeenMapping, addrs: &[u64]) -> Vec<Vec<SymLine>>;
}

/// blazesym-backed symbolization of ELF files (PIE or not, with debug links and DWARF
/// inlining, Go and Rust and C++ names demangled) and of the kernel.
pub struct BlazeSymbolizer {
    inner: Symbolizer,
}

impl Default for BlazeSymbolizer {
    fn default() -> Self {
        Self::new()
    }
}

impl BlazeSymbolizer {
    /// A symbolizer with code info, inlined functions and demangling on.
    pub fn new() -> Self {
        BlazeSymbolizer {
            inner: Symbolizer::builder()
                .enable_code_info(true)
                .enable_inlined_fns(true)
                .enable_demangling(true)
                .build(),
        }
    }
}

fn lines_of(sym: Symbolized<'_>) -> Vec<SymLine> {
    let Symbolized::Sym(sym) = sym else {
        return Vec::new();
    };
    let info = |ci: Option<&blazesym::symbolize::CodeInfo<'_>>| {
        ci.map(|c| (c.to_path().display().to_string(), c.line.unwrap_or(0)))
            .unwrap_or_default()
    };
    let mut out: Vec<SymLine> = sym
        .inlined
        .iter()
        .rev()
        .map(|f| {
            let (file, line) = info(f.code_info.as_ref());
            SymLine {
                function: f.name.to_string(),
                file,
                line,
            }
        })
        .collect();
    let (file, line) = info(sym.code_info.as_deref());
    out.push(SymLine {
        function: sym.name.to_string(),
        file,
        line,
    });
    out
}

impl Symbolize for BlazeSymbolizer {
    fn symbolize(&mut self, mapping: &SeenMapping, addrs: &[u64]) -> Vec<Vec<SymLine>> {
        let entry = &mapping.entry;
        let unresolved = || vec![Vec::new(); addrs.len()];
        if entry.path == KERNEL_PATH {
            let src = Source::Kernel(Kernel::default());
            return match self.inner.symbolize(&src, Input::AbsAddr(addrs)) {
                Ok(syms) => syms.into_iter().map(lines_of).collect(),
                Err(_) => unresolved(),
            };
        }
        if entry.path == VDSO_PATH {
            return self.symbolize_vdso(entry.start, addrs);
        }
        if !entry.is_file() {
            return unresolved();
        }
        let offsets: Vec<u64> = addrs
            .iter()
            .map(|a| a.wrapping_sub(entry.start).wrapping_add(entry.offset))
            .collect();
        let src = Source::Elf(Elf::new(&entry.path));
        let mut lines: Vec<Vec<SymLine>> =
            match self.inner.symbolize(&src, Input::FileOffset(&offsets)) {
                Ok(syms) => syms.into_iter().map(lines_of).collect(),
                // No symbols at all (file gone, unreadable): keep bare addresses.
                Err(_) => return unresolved(),
            };
        self.qualify_outer_names(&entry.path, &offsets, &mut lines);
        lines
    }
}

impl BlazeSymbolizer {
    /// Symbolizes addresses in a target's vDSO, mapped at `start`, through this process's
    /// own: the kernel gives every process the same image, and the target may be gone.
    fn symbolize_vdso(&self, start: u64, addrs: &[u64]) -> Vec<Vec<SymLine>> {
        // SAFETY: getauxval has no preconditions; 0 means the entry is absent.
        let own = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
        if own == 0 {
            return vec![Vec::new(); addrs.len()];
        }
        let here: Vec<u64> = addrs
            .iter()
            .map(|a| a.wrapping_sub(start).wrapping_add(own))
            .collect();
        let src = Source::Process(Process::new(Pid::Slf));
        match self.inner.symbolize(&src, Input::AbsAddr(&here)) {
            Ok(syms) => syms.into_iter().map(lines_of).collect(),
            Err(_) => vec![Vec::new(); addrs.len()],
        }
    }

    /// Replaces bare DWARF names of the outermost (real, not inlined) function with the
    /// ELF symbol's qualified name. Binaries built with `debug = "line-tables-only"` carry
    /// only `DW_AT_name` (`parse`), while the symbol table still says `demo::Config::parse`.
    fn qualify_outer_names(&self, path: &str, offsets: &[u64], lines: &mut [Vec<SymLine>]) {
        let bare: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.last().is_some_and(|f| is_bare(&f.function)))
            .map(|(i, _)| i)
            .collect();
        if bare.is_empty() {
            return;
        }
        let wanted: Vec<u64> = bare
            .iter()
            .filter_map(|&i| offsets.get(i).copied())
            .collect();
        let mut src = Elf::new(path);
        src.debug_syms = false;
        let Ok(syms) = self
            .inner
            .symbolize(&Source::Elf(src), Input::FileOffset(&wanted))
        else {
            return;
        };
        for (&i, sym) in bare.iter().zip(syms) {
            let Symbolized::Sym(sym) = sym else {
                continue;
            };
            if let Some(outer) = lines.get_mut(i).and_then(|l| l.last_mut())
                && sym.name.contains("::")
            {
                outer.function = sym.name.to_string();
            }
        }
    }
}

/// A name without a Rust or C++ path, ignoring generic arguments.
fn is_bare(name: &str) -> bool {
    !name.split('<').next().unwrap_or(name).contains("::")
}
