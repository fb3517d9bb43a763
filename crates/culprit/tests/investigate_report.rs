//! The run report in headless Chromium, and Ctrl-C in the middle of a run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Service {
    child: Child,
    url: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn compressor() -> Option<Service> {
    let bin = culprit_testkit::build_go("testbed/go/compressor")?;
    let mut child = Command::new(bin)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start compressor");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listen line");
    let url = line.trim().trim_start_matches("listening on ").to_string();
    Some(Service { child, url })
}

fn artifacts(name: &str) -> PathBuf {
    let d = culprit_testkit::workspace_root().join("target/test-artifacts");
    std::fs::create_dir_all(&d).expect("mkdir");
    let d = d.join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn chromium(args: &[&str], page: &Path) -> Option<String> {
    let bin = culprit_testkit::require_tool("chromium")?;
    let profile = tempdir();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("culprit-chromium-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

#[test]
fn report_renders_in_chromium_with_data_and_the_findings() {
    if culprit_testkit::require_tool("chromium").is_none() {
        return;
    }
    let Some(svc) = compressor() else { return };
    let dir = artifacts("report-run");
    let out = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args([
            "investigate",
            &svc.url,
            "--rate",
            "100",
            "--duration",
            "6s",
            "-o",
        ])
        .arg(&dir)
        .output()
        .expect("run investigate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = dir.join("report.html");
    let findings: Value =
        serde_json::from_slice(&std::fs::read(dir.join("findings.json")).expect("findings"))
            .expect("json");
    let want: Vec<String> = findings
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!want.is_empty(), "no findings to show");
    let Some(dom) = chromium(&["--dump-dom"], &report) else {
        return;
    };
    // The findings the browser shows, in order, are findings.json's.
    let shown: Vec<String> = dom
        .split("<li class=\"finding\" data-kind=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(String::from))
        .collect();
    assert_eq!(shown, want);
    let first_title = findings[0]["title"].as_str().unwrap_or_default();
    let escaped = first_title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(dom.contains(&escaped), "first finding title not rendered");
    // Charts laid out with a size and a drawn series: latency, throughput, heap, GC.
    let drawn: usize = dom
        .split("data-charts-drawn=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("the page script ran");
    assert!(drawn >= 4, "only {drawn} charts drawn");
    for id in [
        "chart-latency",
        "chart-throughput",
        "chart-heap",
        "top-cpu",
        "top-alloc-space",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(!dom.contains("id=\"incomplete\""));
    let png = culprit_testkit::workspace_root().join("target/test-artifacts/report.png");
    let _ = std::fs::remove_file(&png);
    chromium(
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2200",
        ],
        &report,
    );
    assert!(
        std::fs::metadata(&png)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false)
    );
}

#[test]
fn ctrl_c_keeps_captures_and_writes_an_incomplete_report() {
    let Some(svc) = compressor() else { return };
    let dir = artifacts("interrupted-run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args([
            "investigate",
            &svc.url,
            "--rate",
            "50",
            // Far longer than the test waits: only the interrupt can end it in time.
            "--duration",
            "600s",
            "-o",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run investigate");
    // Wait until the window has opened and start snapshots are on disk.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !dir.join("allocs-start.pb.gz").exists() {
        assert!(Instant::now() < deadline, "no start snapshot after 120 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Some of the window, not none of it (nothing below depends on how much).
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        // A bound, not a speed check: stopping analyses what was captured (a debug
        // build on a loaded machine takes a while); a run that ignored the interrupt
        // would go on for 600 s, and `complete` below tells the two apart.
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "culprit did not stop within 300 s of SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("interrupted"), "{stdout}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["complete"], false);
    assert!(
        manifest["incomplete_reason"]
            .as_str()
            .unwrap_or("")
            .contains("Interrupted")
    );
    // What was captured before the interrupt is kept: start snapshots, the delta, load.
    assert!(dir.join("allocs-start.pb.gz").is_file());
    assert!(
        dir.join("allocs.pb.gz").is_file(),
        "allocation delta of the partial window"
    );
    let load: Value =
        serde_json::from_slice(&std::fs::read(dir.join("load.json")).expect("load")).expect("json");
    assert!(!load.as_array().expect("array").is_empty());
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report");
    assert!(html.contains("id=\"incomplete\""));
    assert!(dir.join("findings.json").is_file());
}
