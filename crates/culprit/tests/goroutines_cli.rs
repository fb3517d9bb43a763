//! `culprit goroutines` end to end on files: the shared Go captures, damaged dumps, the
//! JSON shape, filters, and a URL that never answers.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn culprit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(args)
        .output()
        .expect("run culprit")
}

fn fixture(rel: &str) -> String {
    let p: PathBuf = culprit_testkit::testdata().join("goroutines").join(rel);
    p.to_string_lossy().into_owned()
}

fn json_of(args: &[&str]) -> Value {
    let out = culprit(args);
    assert!(
        out.status.success(),
        "culprit {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn counts(v: &Value) -> Vec<u64> {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .collect()
}

#[test]
fn json_shape_biggest_first() {
    let v = json_of(&[
        "goroutines",
        &fixture("sigquit-all-70s/goroutine-debug2.txt"),
        "--format",
        "json",
    ]);
    assert_eq!(v["total"], 102);
    let c = counts(&v);
    assert_eq!(c.len(), 16);
    assert!(c.windows(2).all(|w| w[0] >= w[1]));
    let top = &v["groups"][0];
    assert_eq!(top["count"], 50);
    assert_eq!(top["state"], "semacquire");
    assert_eq!(top["wait"]["min_minutes"], 0);
    assert_eq!(top["wait"]["max_minutes"], 1);
    assert_eq!(top["created_by"]["function"], "main.startMutexWaiters");
    assert_eq!(top["created_by"]["line"], 83);
    let stack = top["stack"].as_array().unwrap();
    assert_eq!(stack[0]["function"], "sync.runtime_SemacquireMutex");
    assert_eq!(stack[0]["file"], "/usr/lib/go-1.19/src/runtime/sema.go");
    assert_eq!(stack[0]["line"], 77);
}

#[test]
fn every_capture_form_reads() {
    for (rel, total) in [
        ("sigquit-all-70s/goroutine-debug2.txt", 102),
        ("sigquit-all-70s/goroutine-debug1.txt", 102),
        ("sigquit-all-70s/goroutine.pb.gz", 102),
        ("sigquit-all-70s/sigquit-stderr.txt", 107),
        ("sigabrt-all/sigabrt-stderr.txt", 97),
        ("panic-all/panic-stderr.txt", 90),
        ("panic-single/panic-stderr.txt", 1),
        ("fatal-deadlock/fatal-stderr.txt", 4),
    ] {
        let v = json_of(&["goroutines", &fixture(rel), "--format", "json"]);
        assert_eq!(v["total"], total, "{rel}");
    }
}

#[test]
fn text_view_names_the_wait() {
    let out = culprit(&["goroutines", &fixture("sigquit-all-70s/sigquit-stderr.txt")]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("SIGQUIT: quit\n"), "{text}");
    assert!(text.contains("107 goroutines in 20 groups"), "{text}");
    assert!(
        text.contains("50: semacquire [0~1 minute] in main.(*bigLock).doWork"),
        "{text}"
    );
    assert!(
        text.contains("created by main.startMutexWaiters at "),
        "{text}"
    );
    // The program's own log lines before the dump are reported on stderr.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped lines 1-2"), "{err}");
}

#[test]
fn filters_by_state_and_function() {
    let file = fixture("sigquit-all-70s/goroutine-debug2.txt");
    let v = json_of(&[
        "goroutines",
        &file,
        "--state",
        "chan receive",
        "--format",
        "json",
    ]);
    assert_eq!(counts(&v), [20, 2]);
    assert_eq!(v["unfiltered_total"], 102);
    let v = json_of(&[
        "goroutines",
        &file,
        "--match",
        r"^syscall\.forkExec$",
        "--format",
        "json",
    ]);
    assert_eq!(counts(&v), [5, 1]);
    let bad = culprit(&["goroutines", &file, "--match", "("]);
    assert!(!bad.status.success());
}

#[test]
fn exact_args_splits_on_register_junk() {
    let file = fixture("sigquit-all-70s/goroutine-debug2.txt");
    let loose = json_of(&["goroutines", &file, "--format", "json"]);
    let exact = json_of(&["goroutines", &file, "--exact-args", "--format", "json"]);
    assert!(counts(&exact).len() > counts(&loose).len());
    assert!(counts(&exact)[0] < 50);
}

#[test]
fn race_report_is_recognised_not_grouped() {
    let out = culprit(&["goroutines", &fixture("race/race-stderr.txt")]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("race detector report"), "{err}");
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("culprit-goroutines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

#[test]
fn truncated_and_interleaved_dumps_parse_what_they_can() {
    let text = std::fs::read_to_string(fixture("sigquit-all-70s/sigquit-stderr.txt")).unwrap();
    // Cut in the middle of goroutine 40's trace (a frame line without its location).
    let cut = text.find("goroutine 41 [").unwrap() - 60;
    let truncated = temp_file("truncated.txt", &text.as_bytes()[..cut]);
    let out = culprit(&[
        "goroutines",
        truncated.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 28);
    let skipped = v["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["reason"].as_str().unwrap().contains("truncated")),
        "{skipped:?}"
    );

    let mut noisy = String::new();
    for (i, line) in text.lines().enumerate() {
        noisy.push_str(line);
        noisy.push('\n');
        if i % 7 == 3 {
            noisy.push_str("2026/11/22 22:23:28 http: request served in 3ms\n");
        }
    }
    let noisy = temp_file("noisy.txt", noisy.as_bytes());
    let clean = json_of(&[
        "goroutines",
        &fixture("sigquit-all-70s/sigquit-stderr.txt"),
        "--format",
        "json",
    ]);
    let dirty = json_of(&["goroutines", noisy.to_str().unwrap(), "--format", "json"]);
    assert_eq!(clean["groups"], dirty["groups"]);
    assert!(dirty["skipped"].as_array().unwrap().len() > 100);
    let out = culprit(&["goroutines", noisy.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("more skipped part(s)"), "{err}");
}

#[test]
fn garbage_is_an_error_naming_the_file() {
    let junk = temp_file("junk.txt", b"hello\nworld\n");
    let out = culprit(&["goroutines", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("junk.txt") && err.contains("no goroutines found"),
        "{err}"
    );
    let missing = culprit(&["goroutines", "/nonexistent/dump.txt"]);
    assert!(!missing.status.success());
}

#[test]
fn hung_endpoint_is_reported_as_hung() {
    // Accepts connections and never answers, like a wedged Go process.
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/debug/pprof/goroutine?debug=2",
        ln.local_addr().unwrap()
    );
    let out = culprit(&["goroutines", &url, "--timeout", "1"]);
    drop(ln);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not answer within 1s"), "{err}");
    assert!(err.contains("kill -QUIT"), "{err}");
}
