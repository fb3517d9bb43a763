//! Helpers shared by culprit's test suites. Test-only: panics are the failure mode.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The workspace root (the directory holding the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `../shared/testdata` beside the checkout; panics with a clear message when absent.
pub fn testdata() -> PathBuf {
    let dir = workspace_root().join("../shared/testdata");
    assert!(
        dir.is_dir(),
        "test data not found at {}: clone culprit next to shared/",
        dir.display()
    );
    dir
}

/// True when running under CI (the `CI` environment variable is set and not "false").
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Finds `tool` on PATH (or in /usr/sbin, /sbin). Returns `None` locally when missing so a
/// test may skip; under CI a missing tool fails the test, because a test that cannot fail
/// is a defect.
pub fn require_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.push("/usr/sbin".into());
    dirs.push("/sbin".into());
    if let Some(found) = dirs.into_iter().map(|d| d.join(tool)).find(|p| p.is_file()) {
        return Some(found);
    }
    if in_ci() {
        panic!(
            "{tool} is required under CI but is not installed (scripts/install-deps.sh installs it)"
        );
    }
    eprintln!("skipping: {tool} not installed");
    None
}

/// Builds the Go program in `dir` (a directory with a `main` package, relative to the
/// workspace root or absolute) with the system Go into a cached binary and returns its
/// path. Returns `None` when Go is missing outside CI.
///
/// Each program is built once per test process: parallel tests of one binary asking for
/// the same fixture share it. Two concurrent `go build -o` of one path race when Go copies
/// rather than renames (its work directory on another file system): one test would run
/// a half-written binary or get "text file busy".
pub fn build_go(dir: impl AsRef<Path>) -> Option<PathBuf> {
    static BUILT: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());
    let go = require_tool("go")?;
    let src = workspace_root().join(dir.as_ref());
    // Held across the build so a second caller waits for the first one's binary.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, out)) = built.iter().find(|(s, _)| *s == src) {
        return Some(out.clone());
    }
    let name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "prog".into());
    let out_dir = workspace_root().join("target/go-fixtures");
    std::fs::create_dir_all(&out_dir).expect("create target/go-fixtures");
    let out = out_dir.join(format!("{name}-{}", std::process::id()));
    let status = Command::new(go)
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(&src)
        .env("GO111MODULE", "off")
        .env("CGO_ENABLED", "0")
        .status()
        .expect("run go build");
    assert!(status.success(), "go build failed in {}", src.display());
    built.push((src, out.clone()));
    Some(out)
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// The built `culprit` binary, for end-to-end tests in crates other than `culprit`
/// (tests inside `crates/culprit` should use `env!("CARGO_BIN_EXE_culprit")`).
pub fn culprit_bin() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug/culprit")
}

/// Runs `attempt(i)` for i = 0, 1, ... up to `attempts` times until one returns `Ok`;
/// panics with every miss when none does.
///
/// For statistical checks on a shared, noisy machine: each attempt must take fresh
/// measurements, so that one unlucky run cannot fail the test while a broken product,
/// which misses every attempt, still does.
pub fn in_some_attempt(
    what: &str,
    attempts: usize,
    mut attempt: impl FnMut(usize) -> Result<(), String>,
) {
    let mut misses = Vec::new();
    for i in 0..attempts {
        match attempt(i) {
            Ok(()) => return,
            Err(e) => {
                eprintln!("{what}: attempt {} of {attempts} missed: {e}", i + 1);
                misses.push(e);
            }
        }
    }
    panic!("{what}: all {attempts} attempts missed: {misses:#?}");
}
