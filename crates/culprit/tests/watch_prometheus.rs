//! `culprit watch --serve`: promtool accepts the exposition, and a real Prometheus server
//! scrapes it and answers a query with our pid label.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills and reaps a child when the test ends, however it ends.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A bounded HTTP/1.0 GET on loopback; `None` while nothing answers.
fn get(port: u16, path: &str, accept: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.lines().next()?;
    status.contains(" 200 ").then(|| body.to_string())
}

/// How long a poll waits: a bound on a hung test, not a speed check (starting a debug
/// build of culprit or a Prometheus server on a loaded 2-core machine can take tens of
/// seconds).
const LIMIT: Duration = Duration::from_secs(90);

/// Polls `check` every 200 ms for at most `limit`.
fn poll<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(v) = check() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// Starts `culprit watch --serve 127.0.0.1:0` on `target`; returns it and the port it
/// says it serves on (asked of the kernel by culprit itself: a port picked here first
/// could be taken by another test before culprit bound it).
fn start_watch(target: u32) -> (Reaper, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args([
            "watch",
            "--interval",
            "500ms",
            // Outlives both polls; the test kills it.
            "--duration",
            "300s",
            "--pid",
        ])
        .arg(target.to_string())
        .args(["--serve", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let watch = Reaper(child);
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("culprit watch ended before saying where it serves")
            .unwrap();
        if let Some(rest) = line.strip_prefix("serving metrics on http://127.0.0.1:") {
            break rest.trim_end_matches("/metrics").parse().unwrap();
        }
    };
    // Keep draining stderr so culprit never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (watch, port)
}

fn promtool_check(promtool: &PathBuf, body: &str) -> (bool, String) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn promtool_accepts_the_metrics() {
    let Some(promtool) = culprit_testkit::require_tool("promtool") else {
        return;
    };
    let target = Reaper(Command::new("sleep").arg("300").spawn().unwrap());
    let (_watch, port) = start_watch(target.0.id());
    let text = poll(LIMIT, || get(port, "/metrics", "text/plain"))
        .expect("culprit serves /metrics within 90 s");
    let series = format!(
        "process_cpu_seconds_total{{pid=\"{}\",command=\"sleep\"}}",
        target.0.id()
    );
    assert!(text.contains(&series), "no {series} in:\n{text}");
    assert!(
        text.contains("container_cpu_usage_seconds_total{id="),
        "{text}"
    );
    let (ok, lint) = promtool_check(&promtool, &text);
    assert!(
        ok && lint.trim().is_empty(),
        "promtool check metrics:\n{lint}\n---\n{text}"
    );

    let om = get(
        port,
        "/metrics",
        "application/openmetrics-text;version=1.0.0",
    )
    .unwrap();
    assert!(om.ends_with("# EOF\n"));
    assert!(om.contains("# UNIT process_cpu_seconds seconds\n"));
}

#[test]
fn prometheus_scrapes_and_answers_a_query() {
    let Some(prometheus) = culprit_testkit::require_tool("prometheus") else {
        return;
    };
    let target = Reaper(Command::new("sleep").arg("300").spawn().unwrap());
    let pid = target.0.id();
    let (_watch, port) = start_watch(pid);
    poll(LIMIT, || get(port, "/metrics", "text/plain")).expect("culprit serves /metrics");

    let dir = std::env::temp_dir().join(format!("culprit-watch-prom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: culprit\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    let prom_port = culprit_testkit::free_port();
    let prom = Reaper(
        Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let wanted = format!("\"pid\":\"{pid}\"");
    let answer = poll(LIMIT, || {
        get(
            prom_port,
            "/api/v1/query?query=process_cpu_seconds_total",
            "application/json",
        )
        .filter(|body| body.contains(&wanted))
    });
    drop(prom);
    let _ = std::fs::remove_dir_all(&dir);
    let answer = answer.expect("Prometheus answered with our pid within 90 s");
    assert!(answer.contains("\"status\":\"success\""), "{answer}");
    assert!(answer.contains("\"pid\":\"tree\""), "{answer}");
}
