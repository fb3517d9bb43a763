//! cgroup v1 read live: a burner is moved into fresh cgroups under this process's own
//! cpu, cpuacct and memory cgroups (we are root), read, and the cgroups removed. Where
//! the hierarchy is not writable (or the host is v2-only), the test's own cgroup is read.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use culprit_watch::cgroup_files::{parse_mountinfo, parse_proc_cgroup};
use culprit_watch::{CgroupDirs, CgroupReader, Sampler, Target};

/// Kills the burner and removes the cgroups, in that order, however the test ends.
struct Cleanup {
    burner: Child,
    dirs: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.burner.kill();
        let _ = self.burner.wait();
        for dir in &self.dirs {
            // The kernel frees the cgroup once its last task is reaped; retry a while
            // (a loaded machine can be slow to let go; the test asserts removal after).
            for _ in 0..250 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn own_v1_dirs() -> Option<CgroupDirs> {
    let mounts = parse_mountinfo(&std::fs::read("/proc/self/mountinfo").ok()?).ok()?;
    let members = parse_proc_cgroup(&std::fs::read("/proc/self/cgroup").ok()?).ok()?;
    let (_, dirs) = culprit_watch::cgroup::locate(&mounts, &members)?;
    matches!(dirs, CgroupDirs::V1 { .. }).then_some(dirs)
}

#[test]
fn v1_cgroup_of_a_burner() {
    let Some(CgroupDirs::V1 {
        cpu: Some(cpu),
        cpuacct: Some(cpuacct),
        memory: Some(memory),
        ..
    }) = own_v1_dirs()
    else {
        eprintln!("no cpu/cpuacct/memory v1 hierarchy: reading this process's cgroup instead");
        let s = CgroupReader::for_pid(std::process::id())
            .unwrap()
            .read()
            .unwrap();
        assert!(s.cpu_usage_seconds.unwrap_or(0.0) > 0.0);
        return;
    };
    let name = format!("culprit-watch-test-{}", std::process::id());
    let mut made = Vec::new();
    for parent in [&cpu, &cpuacct, &memory] {
        let dir = parent.join(&name);
        if made.contains(&dir) {
            continue; // co-mounted controllers share a directory
        }
        if let Err(e) = std::fs::create_dir(&dir) {
            eprintln!(
                "cannot create {}: {e}; reading the root cgroup instead",
                dir.display()
            );
            let s = CgroupReader::for_pid(1).unwrap().read().unwrap();
            assert!(s.cpu_usage_seconds.unwrap_or(0.0) > 0.0);
            for d in made {
                let _ = std::fs::remove_dir(d);
            }
            return;
        }
        made.push(dir);
    }
    std::fs::write(cpu.join(&name).join("cpu.cfs_period_us"), "100000").unwrap();
    std::fs::write(cpu.join(&name).join("cpu.cfs_quota_us"), "50000").unwrap();
    // The shell joins the cgroups itself and then execs the burner, so the new image's
    // pages are charged to the memory cgroup (v1 does not move existing charges).
    let burner = Command::new("sh")
        .args(["-c", "for d in \"$@\"; do echo $$ > \"$d/cgroup.procs\"; done; exec sh -c 'while :; do :; done'", "sh"])
        .args(&made)
        .spawn()
        .unwrap();
    let pid = burner.id();
    let guard = Cleanup {
        burner,
        dirs: made.clone(),
    };

    let expected_memory = memory.join(&name);
    let start = Instant::now();
    let reader = loop {
        let reader = CgroupReader::for_pid(pid).unwrap();
        match &reader.dirs {
            CgroupDirs::V1 {
                memory: Some(m), ..
            } if m == &expected_memory => break reader,
            CgroupDirs::V1 { .. } if start.elapsed() < Duration::from_secs(60) => {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("burner not in {}: {other:?}", expected_memory.display()),
        }
    };
    // Bounded wait for the burner to use some CPU on a busy machine.
    let start = Instant::now();
    let mut s = reader.read().unwrap();
    while s.cpu_usage_seconds.unwrap_or(0.0) < 0.2 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
        s = reader.read().unwrap();
    }
    assert_eq!(s.version, 1);
    assert!(s.cpu_usage_seconds.unwrap() >= 0.2, "{s:?}");
    assert!(s.cpu_user_seconds.is_some());
    assert_eq!(s.cpu_quota_cores, Some(0.5));
    assert!(
        s.cpu_periods.unwrap() > 0,
        "a quota'd busy cgroup counts CFS periods: {s:?}"
    );
    let usage = s.memory_usage_bytes.unwrap();
    assert!(usage > 0);
    assert!(s.memory_working_set_bytes.unwrap() <= usage);

    // Watching the cgroup itself finds the burner as its process.
    let mut sampler = Sampler::new(Target::Cgroup(cpu.join(&name))).unwrap();
    let sample = sampler.sample().unwrap();
    assert_eq!(
        sample.processes.iter().map(|p| p.pid).collect::<Vec<_>>(),
        vec![pid]
    );
    assert!(sample.cgroup.unwrap().cpu_usage_seconds.unwrap() >= 0.2);
    // The same through the memory hierarchy, whose path need not exist under cpu.
    let mut sampler = Sampler::new(Target::Cgroup(memory.join(&name))).unwrap();
    let sample = sampler.sample().unwrap();
    assert_eq!(
        sample.processes.iter().map(|p| p.pid).collect::<Vec<_>>(),
        vec![pid]
    );
    assert!(sample.cgroup.unwrap().memory_usage_bytes.unwrap() > 0);
    drop(guard);
    for dir in &made {
        assert!(!dir.exists(), "{} was not removed", dir.display());
    }
}
