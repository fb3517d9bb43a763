//! `culprit goroutines` against a live Go process (`testbed/go/goroutines`): 30 goroutines
//! on one sync.Mutex, 20 on one channel, 4 in read(2) on a pipe. Read over HTTP in every
//! pprof form, then from the SIGQUIT traceback the process writes as it dies.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const MUTEX: u64 = 30;
const CHAN: u64 = 20;
const READ: u64 = 4;

/// The fixture process; killed on drop if a test fails half way.
struct Fixture {
    child: Child,
    base: String,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Option<Fixture> {
    let bin = culprit_testkit::build_go("testbed/go/goroutines")?;
    let mut child = Command::new(bin)
        .args(["-addr", "127.0.0.1:0", "-lifetime", "90s"])
        .args(["-mutex", &MUTEX.to_string(), "-chan", &CHAN.to_string()])
        .args(["-read", &READ.to_string()])
        .env("GOTRACEBACK", "all")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fixture");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut fixture = Fixture {
        child,
        base: String::new(),
    };
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("fixture never said ready");
    fixture.base = line
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Some(fixture)
}

fn culprit_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run culprit");
    assert!(
        out.status.success(),
        "culprit {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The group whose headline function is `f`.
fn group_in<'a>(v: &'a Value, f: &str) -> &'a Value {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["headline"] == f)
        .unwrap_or_else(|| panic!("no group in {f}: {v}"))
}

/// The three blocked groups, with their states when the form has them.
fn assert_blocked_groups(v: &Value, with_states: bool) {
    let mutex = group_in(v, "main.lockWaiter");
    let chan = group_in(v, "main.jobWaiter");
    let read = group_in(v, "syscall.Syscall");
    assert_eq!(mutex["count"], MUTEX, "{v}");
    assert_eq!(chan["count"], CHAN, "{v}");
    assert_eq!(read["count"], READ, "{v}");
    let top: Vec<&Value> = v["groups"].as_array().unwrap().iter().take(2).collect();
    assert_eq!(
        (top[0]["count"].as_u64(), top[1]["count"].as_u64()),
        (Some(MUTEX), Some(CHAN))
    );
    if with_states {
        assert_eq!(mutex["state"], "semacquire");
        assert_eq!(chan["state"], "chan receive");
        assert_eq!(read["state"], "syscall");
        assert_eq!(mutex["created_by"]["function"], "main.main");
        assert!(
            read["stack"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["function"] == "main.pipeReader")
        );
    }
}

#[test]
fn live_process_over_http_and_sigquit() {
    let Some(mut fx) = start() else { return };
    let url = |q: &str| format!("{}/debug/pprof/goroutine{q}", fx.base);

    let debug2 = culprit_json(&["goroutines", &url("?debug=2")]);
    assert_blocked_groups(&debug2, true);
    assert_eq!(debug2["format"], "goroutine_debug2");
    let debug1 = culprit_json(&["goroutines", &url("?debug=1")]);
    assert_blocked_groups(&debug1, false);
    let proto = culprit_json(&["goroutines", &url(""), "--hide-runtime"]);
    assert_eq!(proto["format"], "goroutine_proto");
    assert_blocked_groups(&proto, false);
    assert_eq!(debug1["total"], debug2["total"]);

    // Now the way one reads a hung process: SIGQUIT, and group its stderr.
    let pid = fx.child.id().to_string();
    let status = Command::new("kill")
        .args(["-QUIT", &pid])
        .status()
        .expect("run kill");
    assert!(status.success());
    let mut stderr = fx.child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    let dump = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("no SIGQUIT dump within 60s");
    let deadline = Instant::now() + Duration::from_secs(30);
    while fx.child.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = std::env::temp_dir().join(format!("culprit-goroutines-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sigquit.txt");
    std::fs::write(&file, &dump).unwrap();
    let sigquit = culprit_json(&["goroutines", file.to_str().unwrap()]);
    assert_eq!(sigquit["format"], "go_traceback");
    assert!(
        sigquit["headlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "SIGQUIT: quit")
    );
    assert_blocked_groups(&sigquit, true);
    // The runtime's own goroutines show up only in the traceback.
    assert!(sigquit["total"].as_u64() > debug2["total"].as_u64());
    // Same goroutines, same groups: the mutex waiters' ids agree between the two captures.
    let ids = |v: &Value| {
        let mut ids: Vec<u64> = group_in(v, "main.lockWaiter")["ids"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(ids(&debug2), ids(&sigquit));
    let _ = std::fs::remove_dir_all(&dir);
}
