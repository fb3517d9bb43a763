//! `culprit demo --fixed`: the built-in service, profiled natively, names the per-request
//! routing-table parse first, and the comparison shows it gone.

use std::process::Command;

use serde_json::Value;

#[test]
fn demo_names_the_per_request_parse_and_the_fix_removes_it() {
    let dir = culprit_testkit::workspace_root().join("target/test-artifacts/demo");
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["demo", "--fixed", "--duration", "6s", "--rate", "40", "-o"])
        .arg(&dir)
        .output()
        .expect("run culprit demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Value = serde_json::from_slice(
        &std::fs::read(dir.join("before/findings.json")).expect("findings.json"),
    )
    .expect("json");
    let first = &findings[0];
    assert_eq!(first["kind"], "hot-path", "{findings:#}");
    let names = first["functions"].to_string();
    assert!(names.contains("Config::parse"), "{names}");
    assert!(stdout.contains("report: "), "{stdout}");
    assert!(
        stdout.contains("[hot-path]") && stdout.contains("GONE in B"),
        "{stdout}"
    );
    assert!(dir.join("after/compare.html").is_file());
}

/// `investigate URL -- CMD` on a service without pprof endpoints: culprit starts it, drives
/// load at it, samples it natively and names the culprit; the process tree's CPU and
/// threads are in the run.
#[test]
fn investigate_starts_a_command_and_profiles_it_natively() {
    let dir = culprit_testkit::workspace_root().join("target/test-artifacts/investigate-cmd");
    let _ = std::fs::remove_dir_all(&dir);
    let port = culprit_testkit::free_port().to_string();
    let url = format!("http://127.0.0.1:{port}/route/api/v1/items/7");
    let out = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args([
            "investigate",
            &url,
            "--rate",
            "40",
            "--duration",
            "6s",
            "-o",
        ])
        .arg(&dir)
        .args([
            "--",
            env!("CARGO_BIN_EXE_culprit"),
            "demo-service",
            "--port",
        ])
        .arg(&port)
        .output()
        .expect("run culprit investigate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "investigate failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).expect(name)).expect("json")
    };
    let findings = read("findings.json");
    assert_eq!(findings[0]["kind"], "hot-path", "{findings:#}");
    assert!(
        findings[0]["functions"]
            .to_string()
            .contains("Config::parse"),
        "{findings:#}"
    );
    let manifest = read("manifest.json");
    assert_eq!(
        manifest["target"]["command"][1], "demo-service",
        "{manifest:#}"
    );
    let cpu = manifest["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .find(|a| a["kind"] == "cpu")
        .expect("a cpu artifact");
    assert!(
        cpu["source"].as_str().is_some_and(|s| s.contains("native")),
        "{cpu}"
    );
    let process = read("process.json");
    let points = process.as_array().expect("process readings");
    assert!(points.len() >= 4, "{process}");
    assert!(
        points.iter().any(|p| p["threads"].as_u64() > Some(2)),
        "connection threads never seen: {process}"
    );
    // The service is stopped when the run ends.
    let pid = manifest["target"]["pid"].as_u64().expect("pid");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}
