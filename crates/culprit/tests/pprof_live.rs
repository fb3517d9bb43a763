//! Real Go profiles: builds `testbed/go/pprofsvc`, drives bounded loopback load at it,
//! captures CPU, heap, allocs, mutex and goroutine profiles from net/http/pprof, and checks
//! that `culprit top` prints exactly what `go tool pprof -top` prints for the same files and
//! flags (header lines included).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal HTTP/1.0 GET over loopback; returns the body.
fn get(port: u16, path: &str) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("GET {path}: {head}")));
    }
    Ok(buf[split + 4..].to_vec())
}

/// Runs `go tool pprof -top` and `culprit top` with the same flags and compares.
fn compare(profile: &Path, go_flags: &[&str], culprit_flags: &[&str]) -> Result<(), String> {
    let go = Command::new("go")
        .args(["tool", "pprof", "-top"])
        .args(go_flags)
        .arg(profile)
        .env("TZ", "UTC")
        .env("PPROF_TMPDIR", std::env::temp_dir())
        .output()
        .map_err(|e| e.to_string())?;
    let ours = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .arg("top")
        .args(culprit_flags)
        .arg(profile)
        .env("TZ", "UTC")
        .output()
        .map_err(|e| e.to_string())?;
    if !go.status.success() {
        return Err(format!(
            "go tool pprof failed: {}",
            String::from_utf8_lossy(&go.stderr)
        ));
    }
    if !ours.status.success() {
        return Err(format!(
            "culprit failed: {}",
            String::from_utf8_lossy(&ours.stderr)
        ));
    }
    if go.stdout != ours.stdout {
        return Err(format!(
            "{} {go_flags:?}: outputs differ\n--- go tool pprof\n{}\n--- culprit\n{}",
            profile.display(),
            String::from_utf8_lossy(&go.stdout),
            String::from_utf8_lossy(&ours.stdout)
        ));
    }
    let text = String::from_utf8_lossy(&ours.stdout);
    for want in ["File: ", "Type: ", "Showing nodes accounting for"] {
        if !text.contains(want) {
            return Err(format!(
                "{}: header {want:?} missing:\n{text}",
                profile.display()
            ));
        }
    }
    Ok(())
}

#[test]
fn culprit_top_matches_go_tool_pprof_on_live_profiles() {
    let Some(_) = culprit_testkit::require_tool("go") else {
        return;
    };
    let Some(bin) = culprit_testkit::build_go("testbed/go/pprofsvc") else {
        return;
    };
    // Port 0 and the address it prints: a port picked here first could be taken by
    // another process before the service bound it.
    let mut child = Command::new(&bin)
        .args(["-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pprofsvc");
    let stdout = child.stdout.take().expect("stdout");
    let _svc = Service(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read pprofsvc's address");
    let port: u16 = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));

    // Bounded load: four clients, at most 400 requests each, stopped after the CPU capture.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = ["/cpu", "/alloc", "/lock", "/cpu?n=5000"]
        .into_iter()
        .map(|path| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for _ in 0..400 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let _ = get(port, path);
                }
            })
        })
        .collect();
    get(port, "/park").expect("park goroutines");
    let dir = tempdir();
    let cpu = get(port, "/debug/pprof/profile?seconds=2").expect("cpu profile");
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("load client");
    }
    let mut files = vec![("cpu", cpu)];
    for kind in ["heap", "allocs", "mutex", "goroutine"] {
        files.push((
            kind,
            get(port, &format!("/debug/pprof/{kind}")).expect(kind),
        ));
    }

    let mut failures = Vec::new();
    let mut checked = 0;
    for (kind, data) in &files {
        let path = dir.join(format!("{kind}.pb.gz"));
        std::fs::write(&path, data).expect("write profile");
        let mut combos: Vec<(Vec<&str>, Vec<&str>)> = vec![
            (vec![], vec![]),
            (vec!["-cum"], vec!["--cum"]),
            (vec!["-focus=main\\."], vec!["--focus", "main\\."]),
            (vec!["-lines"], vec!["--lines"]),
            (vec!["-nodecount=5"], vec!["--nodecount", "5"]),
        ];
        if *kind == "heap" || *kind == "allocs" {
            combos.push((
                vec!["-sample_index=alloc_space"],
                vec!["--sample-index", "alloc_space"],
            ));
        }
        for (go_flags, our_flags) in combos {
            checked += 1;
            if let Err(e) = compare(&path, &go_flags, &our_flags) {
                failures.push(e);
            }
        }
    }
    println!(
        "{} of {checked} comparisons matched",
        checked - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("culprit-pprof-live-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
