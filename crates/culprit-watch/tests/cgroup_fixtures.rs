//! cgroup v2 and v1 read from fixture directories holding the kernel's file formats
//! (v1: files captured on a 6.x kernel from a throttled cgroup; v2: cpu.stat, memory.stat
//! and friends in the layout of a 6.x kernel with cpu, memory and pids enabled).

use std::path::PathBuf;

use culprit_watch::{CgroupDirs, CgroupReader};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn v2_limited_cgroup() {
    let reader = CgroupReader::new(
        "/pod/app",
        CgroupDirs::V2(fixtures().join("cgroup-v2/limited")),
    );
    let s = reader.read().unwrap();
    assert_eq!(s.version, 2);
    assert_eq!(s.path, "/pod/app");
    assert_eq!(s.cpu_usage_seconds, Some(8.53942));
    assert_eq!(s.cpu_user_seconds, Some(6.37281));
    assert_eq!(s.cpu_system_seconds, Some(2.16661));
    assert_eq!(s.cpu_periods, Some(3016));
    assert_eq!(s.cpu_throttled_periods, Some(1198));
    assert_eq!(s.cpu_throttled_seconds, Some(53.896441));
    assert_eq!(s.cpu_quota_cores, Some(0.5));
    assert_eq!(s.memory_usage_bytes, Some(270532608));
    // cAdvisor: working set = memory.current - inactive_file.
    assert_eq!(s.memory_working_set_bytes, Some(270532608 - 94371840));
    assert_eq!(s.memory_rss_bytes, Some(104857600));
    assert_eq!(s.memory_cache_bytes, Some(157286400));
    assert_eq!(s.memory_limit_bytes, Some(536870912));
    assert_eq!(s.pids_current, Some(23));
    assert_eq!(s.pids_max, Some(512));
    assert_eq!(reader.procs().unwrap(), vec![4121, 4188]);
}

#[test]
fn v2_unlimited_cgroup_without_cpu_controller() {
    let reader = CgroupReader::new("/", CgroupDirs::V2(fixtures().join("cgroup-v2/unlimited")));
    let s = reader.read().unwrap();
    assert_eq!(s.cpu_usage_seconds, Some(635.963039));
    assert_eq!(s.cpu_periods, None, "no cpu controller, no CFS counters");
    assert_eq!(s.cpu_quota_cores, None);
    assert_eq!(s.memory_limit_bytes, None);
    assert_eq!(s.pids_max, None);
    assert_eq!(
        s.memory_working_set_bytes,
        Some(0),
        "inactive_file above usage clamps to 0"
    );
    assert!(reader.procs().unwrap().is_empty());
}

#[test]
fn v2_missing_directory_is_an_error() {
    let reader = CgroupReader::new("/gone", CgroupDirs::V2(fixtures().join("cgroup-v2/gone")));
    let e = reader.read().unwrap_err().to_string();
    assert!(e.contains("gone"), "{e}");
}

#[test]
fn v2_bad_file_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("culprit-watch-badcg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cpu.stat"), "usage_usec 1\nuser_usec lots\n").unwrap();
    let e = CgroupReader::new("/x", CgroupDirs::V2(dir.clone()))
        .read()
        .unwrap_err()
        .to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        e.contains("cpu.stat: line 2: user_usec is not a number"),
        "{e}"
    );
}

#[test]
fn v1_captured_cgroup() {
    let v1 = fixtures().join("cgroup-v1");
    let reader = CgroupReader::new(
        "/test",
        CgroupDirs::V1 {
            cpu: Some(v1.join("cpu")),
            cpuacct: Some(v1.join("cpuacct")),
            memory: Some(v1.join("memory")),
            pids: Some(v1.join("pids")),
        },
    );
    let s = reader.read().unwrap();
    assert_eq!(s.version, 1);
    assert_eq!(s.cpu_usage_seconds, Some(0.208486896));
    assert_eq!(s.cpu_periods, Some(12));
    assert_eq!(s.cpu_throttled_periods, Some(9));
    assert_eq!(s.cpu_throttled_seconds, Some(0.051344154));
    assert_eq!(s.cpu_quota_cores, Some(0.2));
    assert_eq!(s.memory_usage_bytes, Some(4096));
    assert_eq!(
        s.memory_limit_bytes, None,
        "v1's page-rounded i64::MAX means no limit"
    );
    assert_eq!(s.memory_working_set_bytes, Some(4096));
    assert_eq!(s.pids_current, Some(5));
    assert!(s.cpu_user_seconds.is_some());
    assert_eq!(reader.procs().unwrap(), vec![4121]);
}
