//! Which objects `culprit causal` builds line tables for, on real gcc builds: a library
//! linked through a `$ORIGIN` RUNPATH, `.so` files beside the executable, `--lib` files,
//! and not system libraries or the `.so` files in `LD_LIBRARY_PATH` (cargo test fills it
//! with its own and the toolchain's directories, so exactly the three libraries here must
//! be found).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use culprit_causal::linetable::{LineTableError, Scope};
use culprit_causal::objects::{ObjectsError, line_tables};
use culprit_testkit::{require_tool, workspace_root};

fn scratch(name: &str) -> PathBuf {
    let dir = workspace_root()
        .join("target/test-artifacts/causal-objects")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn gcc(gcc: &Path, args: &[&str], src: &str, out: &Path) {
    let st = Command::new(gcc)
        .args(["-O1", "-pthread"])
        .arg(workspace_root().join("testbed/causal").join(src))
        .args(args)
        .arg("-o")
        .arg(out)
        .status()
        .expect("gcc");
    assert!(st.success(), "gcc {src}");
}

/// bin/prog linking lib/libcausalwork.so through `$ORIGIN/../lib`, with
/// bin/libbeside.so next to it and other/libnamed.so elsewhere. `exe_debug` are the
/// executable's debug flags.
fn layout(gcc_path: &Path, dir: &Path, exe_debug: &str) -> PathBuf {
    for d in ["bin", "lib", "other"] {
        std::fs::create_dir_all(dir.join(d)).expect("dir");
    }
    let so = ["-g", "-shared", "-fPIC"];
    gcc(
        gcc_path,
        &so,
        "shared_work.c",
        &dir.join("lib/libcausalwork.so"),
    );
    gcc(
        gcc_path,
        &so,
        "shared_work.c",
        &dir.join("bin/libbeside.so"),
    );
    gcc(
        gcc_path,
        &so,
        "shared_work.c",
        &dir.join("other/libnamed.so"),
    );
    let exe = dir.join("bin/prog");
    let lib_dir = format!("-L{}", dir.join("lib").display());
    gcc(
        gcc_path,
        &[
            exe_debug,
            "-Wl,-rpath,$ORIGIN/../lib",
            &lib_dir,
            "-lcausalwork",
        ],
        "shared_main.c",
        &exe,
    );
    exe
}

/// `/NAME:N` for the line of `testbed/causal/NAME` holding `marker`.
fn line_of(name: &str, marker: &str) -> String {
    let text = std::fs::read_to_string(workspace_root().join("testbed/causal").join(name))
        .expect("source");
    let n = text
        .lines()
        .position(|l| l.contains(marker))
        .expect("marker")
        + 1;
    format!("/{name}:{n}")
}

fn file_id(p: &Path) -> (u64, u64) {
    let m = std::fs::metadata(p).expect("metadata");
    (m.dev(), m.ino())
}

#[test]
fn finds_linked_neighbouring_and_named_objects_only() {
    let Some(gcc_path) = require_tool("gcc") else {
        return;
    };
    let dir = scratch("layout");
    let exe = layout(&gcc_path, &dir, "-g");
    let data = std::fs::read(&exe).expect("exe");
    let scope = Scope::new(&[]).expect("scope");
    let t = line_tables(&exe, &data, &[dir.join("other/libnamed.so")], &scope).expect("tables");
    let ids: Vec<(u64, u64)> = t.tables.objects.iter().map(|o| (o.dev, o.ino)).collect();
    assert_eq!(ids[0], file_id(&exe), "the executable comes first");
    for lib in [
        "lib/libcausalwork.so",
        "bin/libbeside.so",
        "other/libnamed.so",
    ] {
        assert!(ids.contains(&file_id(&dir.join(lib))), "{lib} missing");
    }
    assert_eq!(t.libraries.len(), 3, "{:?}", t.libraries);
    assert!(
        t.tables
            .objects
            .iter()
            .all(|o| !o.path.starts_with("/lib") && !o.path.starts_with("/usr/lib")),
        "system objects in scope"
    );
    let has = |suffix: String| t.tables.lines.iter().any(|l| l.ends_with(&suffix));
    assert!(
        has(line_of("shared_work.c", "/* SLOW_LINE */"))
            && has(line_of("shared_main.c", "/* FAST_LINE */")),
        "{:?}",
        t.tables.lines
    );
    assert!(t.notes.is_empty(), "{:?}", t.notes);
}

/// An executable without debug information still profiles the lines of its libraries;
/// with no lines anywhere, the error names the executable.
#[test]
fn lines_may_come_from_libraries_alone() {
    let Some(gcc_path) = require_tool("gcc") else {
        return;
    };
    let dir = scratch("nodebug");
    let exe = layout(&gcc_path, &dir, "-g0");
    let data = std::fs::read(&exe).expect("exe");
    let t = line_tables(&exe, &data, &[], &Scope::new(&[]).expect("scope")).expect("tables");
    assert!(t.tables.objects[0].ranges.is_empty());
    assert!(t.tables.lines.iter().all(|l| l.contains("shared_work.c")));

    let only = Scope::new(&["nothing-matches.c".into()]).expect("scope");
    match line_tables(&exe, &data, &[], &only) {
        Err(ObjectsError::Table {
            path,
            source: LineTableError::Empty { .. },
        }) => assert_eq!(path, exe),
        Err(e) => panic!("unexpected error {e}"),
        Ok(t) => panic!("lines in scope: {:?}", t.tables.lines),
    }
}
