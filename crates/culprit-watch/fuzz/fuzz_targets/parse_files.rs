//! Every /proc, cgroup and Go runtime parser on the same arbitrary bytes: none may panic.
#![no_main]

use culprit_watch::cgroup_files::{
    parse_cpu_max, parse_flat_keyed, parse_mountinfo, parse_proc_cgroup, parse_procs, parse_signed,
    parse_single,
};
use culprit_watch::go_stats::{go_sample, parse_expvar, parse_goroutine_total, parse_heap_trailer};
use culprit_watch::proc_files::{parse_stat, parse_status, parse_system_stat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_stat(data);
    let _ = parse_status(data);
    let _ = parse_system_stat(data);
    let _ = parse_mountinfo(data);
    let _ = parse_proc_cgroup(data);
    let _ = parse_flat_keyed("fuzz", data);
    let _ = parse_single("fuzz", data);
    let _ = parse_signed("fuzz", data);
    let _ = parse_cpu_max(data);
    let _ = parse_procs("fuzz", data);
    let _ = parse_goroutine_total(data);
    if let Ok(m) = parse_heap_trailer(data) {
        let _ = go_sample("heap", &m, Some(0), None);
    }
    if let Ok((m, g)) = parse_expvar(data) {
        let _ = go_sample("expvar", &m, None, g);
    }
});
