//! Go runtime stats parsed from captures of a real Go 1.19 service (`../shared/testdata`).

use culprit_watch::go_stats::{go_sample, parse_expvar, parse_goroutine_total, parse_heap_trailer};

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(culprit_testkit::testdata().join(rel)).unwrap()
}

#[test]
fn expvar_memstats_under_load() {
    let (m, goroutines) = parse_expvar(&read("gotrace/debug-vars-load.json")).unwrap();
    assert_eq!(goroutines, Some(36));
    assert_eq!(m.heap_inuse, 11665408);
    assert_eq!(m.next_gc, 16191816);
    assert_eq!(m.num_gc, 531);
    assert_eq!(m.pause_total_ns, Some(126392961));
    assert_eq!(m.pause_ns.len(), 256);
    let s = go_sample("expvar", &m, Some(529), goroutines);
    assert_eq!(s.recent_pauses_seconds.len(), 2);
    assert!((s.pause_total_seconds.unwrap() - 0.126392961).abs() < 1e-12);
    let q = s.pause_quantiles_seconds;
    assert!(q.windows(2).all(|w| w[0] <= w[1]), "{q:?}");
    assert_eq!(q[4], *m.pause_ns.iter().max().unwrap() as f64 / 1e9);
}

#[test]
fn expvar_of_the_goroutine_capture_has_no_goroutine_var() {
    let (m, goroutines) =
        parse_expvar(&read("goroutines/sigquit-all-70s/debug-vars.json")).unwrap();
    assert_eq!(goroutines, None);
    assert_eq!(m.num_gc, 3);
    let total =
        parse_goroutine_total(&read("goroutines/sigquit-all-70s/goroutine-debug1.txt")).unwrap();
    assert_eq!(total, 102);
}

#[test]
fn heap_profile_trailer() {
    let m = parse_heap_trailer(&read("gotrace/heap-debug1.txt")).unwrap();
    assert_eq!(m.heap_inuse, 17571840);
    assert_eq!(m.heap_alloc, 16466136);
    assert_eq!(m.next_gc, 18416064);
    assert_eq!(m.num_gc, 534);
    assert_eq!(m.last_gc, 1795386173760669550);
    assert_eq!(m.pause_ns.len(), 256);
    assert!((m.gc_cpu_fraction - 0.14133311823674885).abs() < 1e-15);
    // 534 GCs overflowed the 256-entry ring, and the trailer has no PauseTotalNs.
    assert_eq!(m.pause_total_ns, None);
    let s = go_sample("heap", &m, None, None);
    // The most recent pause (GC 534) sits at PauseNs[533 % 256].
    assert_eq!(s.num_gc, 534);
    assert_eq!(s.last_gc_unix_seconds, 1795386173.7606695);
}

#[test]
fn not_memstats_is_a_clear_error() {
    let e = parse_expvar(b"{\"cmdline\":[]}").unwrap_err();
    assert!(e.to_string().contains("no memstats"), "{e}");
    let e = parse_heap_trailer(b"heap profile: 0: 0 [0: 0] @ heap/1048576\n").unwrap_err();
    assert!(e.to_string().contains("runtime.MemStats"), "{e}");
}
