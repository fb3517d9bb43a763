//! The library API investigate uses: `Sampler::new(target)` then `sample()`, on this test
//! process itself.

use culprit_watch::{Error, Sampler, Target};

#[test]
fn samples_this_process_and_its_cgroup() {
    let me = std::process::id();
    let mut sampler = Sampler::new(Target::Pid(me)).unwrap();
    let first = sampler.sample().unwrap();
    assert_eq!(first.interval_seconds, None);
    assert_eq!(first.tree.root_pid, Some(me));
    let p = &first.processes[0];
    assert_eq!(p.pid, me);
    assert!(p.threads >= 1 && p.fds >= 3 && p.rss_bytes > 0 && p.vsize_bytes >= p.rss_bytes);
    assert!(
        p.start_time_seconds > 1.0e9,
        "start time is since the epoch: {}",
        p.start_time_seconds
    );
    assert!(first.unix_seconds > 1.0e9 && first.time.ends_with('Z'));
    let cgroup = first
        .cgroup
        .as_ref()
        .expect("this process's cgroup is found");
    assert!(
        cgroup.cpu_usage_seconds.is_some() || cgroup.memory_usage_bytes.is_some(),
        "{cgroup:?}"
    );

    let second = sampler.sample().unwrap();
    assert!(second.interval_seconds.unwrap() > 0.0);
    assert!(second.tree.cpu_cores.is_some());
    assert!(second.tree.cpu_seconds >= first.tree.cpu_seconds);
    // The JSON line reads back into the serde types (floats to within parsing precision).
    let line = serde_json::to_string(&second).unwrap();
    let back: culprit_watch::Sample = serde_json::from_str(&line).unwrap();
    assert_eq!(back.time, second.time);
    assert_eq!(back.processes.len(), second.processes.len());
    assert_eq!(back.tree.rss_bytes, second.tree.rss_bytes);
    assert_eq!(back.cgroup.map(|c| c.path), second.cgroup.map(|c| c.path));
    assert!((back.tree.cpu_seconds - second.tree.cpu_seconds).abs() < 1e-9);
}

#[test]
fn a_missing_process_is_a_clear_error() {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    match Sampler::new(Target::Pid(pid)) {
        Err(Error::NoProcess(p)) => assert_eq!(p, pid),
        other => panic!("expected NoProcess, got {other:?}"),
    }
}
