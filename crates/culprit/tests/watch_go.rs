//! `culprit watch --go URL` against a real Go service: runtime stats from expvar, and
//! from the heap profile's MemStats trailer when expvar is not served.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn run_against_service(expvar: bool) -> Option<Vec<Value>> {
    let service = culprit_testkit::build_go("testbed/go/watchgo")?;
    let port = culprit_testkit::free_port();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("culprit-watch-go-{expvar}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let series = dir.join("series.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["watch", "--interval", "500ms", "--duration", "4s", "--go"])
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("-o")
        .arg(&series)
        .arg("--")
        .arg(&service)
        .arg(format!("-addr=127.0.0.1:{port}"))
        .arg(format!("-expvar={expvar}"))
        .arg("-lifetime=30s")
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&series).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Some(
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    )
}

fn last_go(samples: &[Value]) -> &Value {
    samples
        .iter()
        .rev()
        .map(|s| &s["go"])
        .find(|g| g.is_object())
        .unwrap_or_else(|| panic!("no sample has Go stats: {samples:?}"))
}

#[test]
fn go_runtime_from_expvar() {
    let Some(samples) = run_against_service(true) else {
        return;
    };
    let go = last_go(&samples);
    assert_eq!(go["source"], "expvar");
    assert!(go["heap_inuse_bytes"].as_u64().unwrap() > 0);
    assert!(go["next_gc_bytes"].as_u64().unwrap() > 0);
    assert!(
        go["num_gc"].as_u64().unwrap() > 0,
        "the service churns 50 MB/s: {go}"
    );
    assert!(go["pause_total_seconds"].as_f64().unwrap() > 0.0);
    assert!(go["goroutines"].as_u64().unwrap() >= 3, "{go}");
}

#[test]
fn go_runtime_from_heap_profile_without_expvar() {
    let Some(samples) = run_against_service(false) else {
        return;
    };
    let go = last_go(&samples);
    assert_eq!(go["source"], "heap");
    assert!(go["heap_inuse_bytes"].as_u64().unwrap() > 0);
    assert!(go["num_gc"].as_u64().unwrap() > 0, "{go}");
    assert!(go["goroutines"].as_u64().unwrap() >= 3, "{go}");
}
