//! What an ELF object asks the dynamic loader for: its `DT_NEEDED` libraries and the
//! directories ld.so searches for them (`DT_RPATH`, `LD_LIBRARY_PATH`, `DT_RUNPATH`), so
//! the causal driver can find the shared objects a program will load before it runs.

use std::path::{Path, PathBuf};

use object::elf;
use object::read::elf::ElfFile64;

use crate::linetable::LineTableError;

/// An object's dynamic-section requests.
#[derive(Debug, Default, PartialEq)]
pub struct Dependencies {
    /// `DT_NEEDED` names, in order.
    pub needed: Vec<String>,
    /// `DT_RPATH` directories (searched before `LD_LIBRARY_PATH`, ignored when a
    /// `DT_RUNPATH` is present).
    pub rpath: Vec<String>,
    /// `DT_RUNPATH` directories (searched after `LD_LIBRARY_PATH`).
    pub runpath: Vec<String>,
}

impl Dependencies {
    /// Reads the dynamic section of a 64-bit ELF file; a file without one (static, or not
    /// 64-bit) needs nothing.
    pub fn parse(data: &[u8]) -> Result<Self, LineTableError> {
        let Ok(file) = ElfFile64::<object::Endianness>::parse(data) else {
            return Ok(Self::default());
        };
        let table = file
            .elf_dynamic_table()
            .map_err(|e| LineTableError::Object(format!("dynamic section: {e}")))?;
        let mut deps = Self::default();
        for d in table.iter() {
            let list = match d.tag {
                elf::DT_NEEDED => &mut deps.needed,
                elf::DT_RPATH => &mut deps.rpath,
                elf::DT_RUNPATH => &mut deps.runpath,
                _ => continue,
            };
            let text = table
                .string(d)
                .map_err(|e| LineTableError::Object(format!("dynamic section: {e}")))?;
            let text = String::from_utf8_lossy(text);
            if d.tag == elf::DT_NEEDED {
                list.push(text.into_owned());
            } else {
                list.extend(text.split(':').filter(|s| !s.is_empty()).map(String::from));
            }
        }
        Ok(deps)
    }

    /// The directories ld.so searches for this object's bare `DT_NEEDED` names (and its
    /// bare `dlopen` names), in ld.so's order, before its cache and the system
    /// directories. `origin` is the directory of the object, for `$ORIGIN`; entries with
    /// other substitutions (`$LIB`, `$PLATFORM`) are skipped.
    pub fn search_dirs(&self, origin: &Path, ld_library_path: Option<&str>) -> Vec<PathBuf> {
        let env = ld_library_path
            .unwrap_or_default()
            .split([':', ';'])
            .filter(|s| !s.is_empty())
            .map(String::from);
        let ordered: Vec<String> = if self.runpath.is_empty() {
            self.rpath.iter().cloned().chain(env).collect()
        } else {
            env.chain(self.runpath.iter().cloned()).collect()
        };
        ordered
            .iter()
            .filter_map(|d| expand_origin(d, origin))
            .collect()
    }
}

/// Substitutes `$ORIGIN` / `${ORIGIN}`; `None` for other dynamic string tokens.
fn expand_origin(dir: &str, origin: &Path) -> Option<PathBuf> {
    let o = origin.to_string_lossy();
    let expanded = dir.replace("${ORIGIN}", &o).replace("$ORIGIN", &o);
    (!expanded.contains('$')).then(|| PathBuf::from(expanded))
}

/// Whether a file lives under a system library directory (`/lib`, `/lib32`, `/lib64`,
/// `/libx32`, and the same under `/usr`, plus `/usr/libexec`) or in a Rust toolchain
/// (`.../rustlib/...`): its code is the distribution's, not the program's, so its lines
/// are out of scope. `/usr/local/lib` is the program's.
pub fn is_system_object(path: &str) -> bool {
    if path.contains("/rustlib/") {
        return true;
    }
    let rest = path.strip_prefix("/usr").unwrap_or(path);
    let Some(rest) = rest.strip_prefix("/lib") else {
        return false;
    };
    let dir = rest.split('/').next().unwrap_or_default();
    rest.contains('/') && matches!(dir, "" | "32" | "64" | "x32" | "exec")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runpath_comes_after_the_environment_and_replaces_rpath() {
        let d = Dependencies {
            needed: vec!["libw.so".into()],
            rpath: vec!["/r".into()],
            runpath: vec![
                "$ORIGIN/../lib".into(),
                "${ORIGIN}".into(),
                "/x/$LIB".into(),
            ],
        };
        assert_eq!(
            d.search_dirs(Path::new("/app/bin"), Some("/env1::/env2")),
            ["/env1", "/env2", "/app/bin/../lib", "/app/bin"].map(PathBuf::from)
        );
        let d = Dependencies {
            runpath: vec![],
            ..d
        };
        assert_eq!(
            d.search_dirs(Path::new("/app/bin"), Some("/env1")),
            ["/r", "/env1"].map(PathBuf::from)
        );
    }

    #[test]
    fn system_objects() {
        assert!(is_system_object("/lib/x86_64-linux-gnu/libc.so.6"));
        assert!(is_system_object("/usr/lib64/libm.so"));
        assert!(is_system_object("/lib64/ld-linux-x86-64.so.2"));
        assert!(!is_system_object("/usr/local/lib/libapp.so"));
        assert!(!is_system_object("/home/me/build/libapp.so"));
        assert!(!is_system_object("/library/libapp.so"));
        assert!(!is_system_object("/usr/libfoo/libapp.so"));
        assert!(is_system_object("/usr/libexec/x/y.so"));
        assert!(is_system_object(
            "/root/.rustup/toolchains/stable/lib/rustlib/x86_64-unknown-linux-gnu/lib/libstd-1.so"
        ));
    }

    proptest::proptest! {
        /// Any bytes, ELF-looking or not, parse to needs or a clear error, never a panic.
        #[test]
        fn any_bytes_parse_or_fail_cleanly(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            let mut data = b"\x7fELF\x02\x01\x01\0".to_vec();
            data.extend(tail);
            let _ = Dependencies::parse(&data);
        }
    }

    #[test]
    fn non_elf_needs_nothing() {
        assert_eq!(
            Dependencies::parse(b"#!/bin/sh\n").ok(),
            Some(Dependencies::default())
        );
    }

    #[test]
    fn reads_a_real_executables_needs() {
        let exe = std::fs::read(std::env::current_exe().expect("exe")).expect("read");
        let deps = Dependencies::parse(&exe).expect("parse");
        assert!(
            deps.needed.iter().any(|n| n.starts_with("libc.so")),
            "{deps:?}"
        );
    }
}
