//! Arbitrary file content never panics a parser, and well-formed content round-trips.

use culprit_watch::cgroup_files::{
    parse_cpu_max, parse_flat_keyed, parse_mountinfo, parse_proc_cgroup, parse_procs, parse_signed,
    parse_single,
};
use culprit_watch::go_stats::{go_sample, parse_expvar, parse_goroutine_total, parse_heap_trailer};
use culprit_watch::proc_files::{parse_stat, parse_status, parse_system_stat};
use proptest::prelude::*;

fn all_parsers(bytes: &[u8]) {
    let _ = parse_stat(bytes);
    let _ = parse_status(bytes);
    let _ = parse_system_stat(bytes);
    let _ = parse_mountinfo(bytes);
    let _ = parse_proc_cgroup(bytes);
    let _ = parse_flat_keyed("f", bytes);
    let _ = parse_single("f", bytes);
    let _ = parse_signed("f", bytes);
    let _ = parse_cpu_max(bytes);
    let _ = parse_procs("f", bytes);
    let _ = parse_goroutine_total(bytes);
    if let Ok(m) = parse_heap_trailer(bytes) {
        let _ = go_sample("heap", &m, Some(u64::MAX), None);
    }
    if let Ok((m, g)) = parse_expvar(bytes) {
        let _ = go_sample("expvar", &m, Some(0), g);
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&bytes);
    }

    #[test]
    fn file_like_text_never_panics(text in "[ -~\t\n()#=:\\[\\]-]{0,400}") {
        all_parsers(text.as_bytes());
    }

    #[test]
    fn stat_lines_round_trip(
        pid in 1u32..4_000_000,
        comm in "[ -~]{0,15}",
        ppid in 0u32..4_000_000,
        utime in any::<u32>(),
        stime in any::<u32>(),
        cutime in any::<i32>(),
        threads in 1u32..10_000,
        vsize in any::<u64>(),
        rss in 0i64..1 << 40,
    ) {
        let line = format!(
            "{pid} ({comm}) S {ppid} 1 1 0 -1 4194560 10 20 1 2 {utime} {stime} {cutime} 0 20 0 {threads} 0 999 {vsize} {rss} 18446744073709551615\n"
        );
        let s = parse_stat(line.as_bytes()).unwrap();
        prop_assert_eq!(s.pid, pid);
        prop_assert_eq!(s.comm, comm);
        prop_assert_eq!(s.ppid, ppid);
        prop_assert_eq!(s.utime, u64::from(utime));
        prop_assert_eq!(s.stime, u64::from(stime));
        prop_assert_eq!(s.cutime, u64::try_from(cutime.max(0)).unwrap());
        prop_assert_eq!(s.num_threads, u64::from(threads));
        prop_assert_eq!(s.vsize, vsize);
        prop_assert_eq!(s.rss, u64::try_from(rss).unwrap());
    }

    #[test]
    fn flat_keyed_round_trips(pairs in proptest::collection::vec(("[a-z_]{1,20}", any::<u64>()), 0..20)) {
        let text: String = pairs.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
        let parsed = parse_flat_keyed("memory.stat", text.as_bytes()).unwrap();
        prop_assert_eq!(parsed, pairs);
    }
}
