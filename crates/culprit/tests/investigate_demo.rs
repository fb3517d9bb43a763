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
