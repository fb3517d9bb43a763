//! `culprit threads` on live C and Rust processes with threads blocked on a mutex and in
//! `read`; the process must carry on normally after it was looked at.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use culprit_testkit::{require_tool, workspace_root};
use serde_json::Value;

fn compile(src: &str) -> Option<PathBuf> {
    let path = workspace_root().join("testbed/native").join(src);
    let dir = std::env::temp_dir().join(format!("culprit-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    // blocked.c and blocked.rs build in parallel tests: one output name each, or one
    // test runs the other's program (or one being written).
    let out = dir.join(src.replace('.', "-"));
    let rust = src.ends_with(".rs");
    let mut c = Command::new(require_tool(if rust { "rustc" } else { "gcc" })?);
    if rust {
        c.args(["-C", "opt-level=3"]);
    } else {
        c.args(["-O2", "-g", "-pthread"]);
    }
    let status = c.arg("-o").arg(&out).arg(&path).status().expect("compile");
    assert!(status.success(), "compiling {}", path.display());
    Some(out)
}

/// Waits until `n` threads of `pid` sit in futex or read (bounded: a loaded machine may
/// take long to schedule them there, a broken fixture never gets there).
fn wait_blocked(pid: u32, n: usize) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        let blocked = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| {
                        let sc =
                            std::fs::read_to_string(e.path().join("syscall")).unwrap_or_default();
                        sc.starts_with("202 ") || sc.starts_with("0 ")
                    })
                    .count()
            })
            .unwrap_or(0);
        if blocked >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("fewer than {n} threads of {pid} blocked in futex or read after 120 s");
}

fn stack_functions(group: &Value) -> Vec<String> {
    group["stack"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|f| f["function"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the blocked program, groups its threads, releases it and checks it finishes.
fn check(bin: &Path, lock_fn: &str) {
    let mut child = Command::new(bin)
        .args(["3", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start program");
    let pid = child.id();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read ready");
    assert_eq!(line.trim(), "ready");
    // 3 lockers in futex, 2 readers and main in read.
    wait_blocked(pid, 6);
    let res = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["threads", &pid.to_string(), "--format", "json"])
        .output()
        .expect("run culprit threads");
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let v: Value = serde_json::from_slice(&res.stdout).expect("json");
    assert_eq!(v["total"], 6, "{v:#}");
    let groups = v["groups"].as_array().expect("groups");
    let lockers = groups
        .iter()
        .find(|g| {
            stack_functions(g)
                .iter()
                .any(|f| f == "take_big_lock" || f.ends_with("::take_big_lock"))
        })
        .expect("a group of lockers");
    assert_eq!(lockers["count"], 3, "{v:#}");
    let fns = stack_functions(lockers);
    assert!(fns.iter().any(|f| f.contains(lock_fn)), "{fns:?}");
    assert!(
        lockers["state"].as_str().unwrap_or("").contains("futex"),
        "{lockers}"
    );
    let readers = groups
        .iter()
        .find(|g| {
            stack_functions(g)
                .iter()
                .any(|f| f == "wait_for_input" || f.ends_with("::wait_for_input"))
        })
        .expect("a group of readers");
    assert_eq!(readers["count"], 2, "{v:#}");
    assert!(
        readers["state"].as_str().unwrap_or("").contains("read"),
        "{readers}"
    );
    assert!(v["stopped_us"].as_u64().is_some());
    // The process carries on as if nothing happened.
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"go\n")
        .expect("release");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).expect("read rest");
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit {status}, output {rest:?}");
    assert!(rest.contains("done"), "{rest:?}");
}

#[test]
fn threads_groups_c_program_blocked_on_mutex_and_read() {
    let Some(bin) = compile("blocked.c") else {
        return;
    };
    check(&bin, "pthread_mutex_lock");
}

#[test]
fn threads_groups_rust_program_blocked_on_mutex_and_read() {
    let Some(bin) = compile("blocked.rs") else {
        return;
    };
    check(&bin, "lock_contended");
}

#[test]
fn threads_of_missing_process_says_so() {
    let res = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["threads", "999999999"])
        .output()
        .expect("run culprit threads");
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("not found"), "{err}");
}
