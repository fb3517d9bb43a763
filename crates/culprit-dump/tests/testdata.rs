//! Every capture form in `../shared/testdata/goroutines` (one Go 1.19 program captured as
//! debug=2, debug=1, proto, SIGQUIT, SIGABRT, plus panic, deadlock and race outputs): the
//! counts per state its README lists, and groups that agree across forms.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use culprit_dump::{Filter, Format, GroupOptions, Grouping, Snapshot, group, parse};

fn dir() -> PathBuf {
    culprit_testkit::testdata().join("goroutines")
}

fn load(rel: &str) -> Snapshot {
    let bytes = std::fs::read(dir().join(rel)).unwrap();
    parse(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn grouped(s: &Snapshot) -> Grouping {
    group(s, &Filter::default(), &GroupOptions::default())
}

/// `state[, N minutes][, locked to thread]` → count, as the README writes states.
fn state_counts(s: &Snapshot) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for t in &s.tasks {
        let mut k = t.state.clone().unwrap_or_default();
        if let Some(w) = t.wait_minutes {
            k.push_str(&format!(", {w} minutes"));
        }
        if t.locked {
            k.push_str(", locked to thread");
        }
        *m.entry(k).or_insert(0) += t.count;
    }
    m
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn debug2_states_match_readme() {
    let s = load("sigquit-all-70s/goroutine-debug2.txt");
    assert_eq!(s.format, Format::GoroutineDebug2);
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    assert_eq!(s.total(), 102);
    let want = counts(&[
        ("semacquire, 1 minutes", 48),
        ("semacquire", 10),
        ("chan receive, 1 minutes", 20),
        ("sleep, 1 minutes", 10),
        ("select, 1 minutes", 3),
        ("sync.Cond.Wait, 1 minutes", 2),
        ("select (no cases), 1 minutes", 2),
        ("chan receive, 1 minutes, locked to thread", 2),
        ("syscall, 1 minutes", 1),
        ("select (no cases)", 1),
        ("running", 1),
        ("IO wait", 2),
    ]);
    assert_eq!(state_counts(&s), want);
}

#[test]
fn sigquit_has_runtime_goroutines_crash_frames_and_registers() {
    let s = load("sigquit-all-70s/sigquit-stderr.txt");
    assert_eq!(s.format, Format::GoTraceback);
    assert_eq!(s.total(), 107);
    assert!(s.headlines.iter().any(|h| h == "SIGQUIT: quit"));
    assert!(s.headlines.iter().any(|h| h.starts_with("PC=0x46d3e1")));
    assert_eq!(s.registers.len(), 21);
    assert_eq!(s.registers.first().map(|(k, _)| k.as_str()), Some("rax"));
    let c = state_counts(&s);
    for (state, n) in [
        ("idle", 1),
        ("GC worker (idle)", 2),
        ("force gc (idle), 1 minutes", 1),
        ("finalizer wait, 1 minutes", 1),
        ("GC sweep wait", 1),
        ("GC scavenge wait", 1),
        ("semacquire, 1 minutes", 48),
        ("semacquire", 10),
        ("chan receive, 1 minutes", 20),
        ("chan receive, 1 minutes, locked to thread", 2),
    ] {
        assert_eq!(c.get(state), Some(&n), "{state}: {c:?}");
    }
    // Every frame with an offset carries `pc=`; inlined frames (`Lock(...)`) have neither.
    assert!(
        s.tasks
            .iter()
            .flat_map(|t| &t.frames)
            .all(|f| f.pc.is_some() == f.offset.is_some())
    );
    // The two leading log lines of the program are reported, not fatal.
    assert_eq!(s.skipped.len(), 1, "{:?}", s.skipped);
    assert_eq!((s.skipped[0].first_line, s.skipped[0].last_line), (1, 2));
}

#[test]
fn debug1_records_and_labels() {
    let s = load("sigquit-all-70s/goroutine-debug1.txt");
    assert_eq!(s.format, Format::GoroutineDebug1);
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    assert_eq!(s.announced_total, Some(102));
    assert_eq!(s.total(), 102);
    assert_eq!(s.tasks[0].count, 50);
    assert_eq!(&*s.tasks[0].frames[3].function, "main.(*bigLock).doWork");
    let labelled: Vec<_> = s.tasks.iter().filter(|t| !t.labels.is_empty()).collect();
    assert_eq!(labelled.len(), 2);
    assert_eq!(labelled[0].count + labelled[1].count, 20);
    // Labels split records only on request.
    let by_labels = group(
        &s,
        &Filter::default(),
        &GroupOptions {
            by_labels: true,
            ..GroupOptions::default()
        },
    );
    assert_eq!(by_labels.buckets.len(), s.tasks.len());
    let merged = grouped(&s);
    assert_eq!(merged.buckets.len(), s.tasks.len() - 1);
    assert_eq!(merged.buckets[1].count, 20);
    assert_eq!(merged.buckets[1].labels.len(), 2);
}

#[test]
fn proto_matches_debug1_records() {
    let proto = load("sigquit-all-70s/goroutine.pb.gz");
    assert_eq!(proto.format, Format::GoroutineProto);
    assert_eq!(proto.total(), 102);
    let sizes: Vec<u64> = proto.tasks.iter().map(|t| t.count).collect();
    assert_eq!(
        sizes,
        [50, 10, 10, 10, 5, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    );
}

#[test]
fn sigabrt_and_its_own_captures() {
    let s = load("sigabrt-all/sigabrt-stderr.txt");
    assert_eq!(s.format, Format::GoTraceback);
    assert!(s.headlines.iter().any(|h| h == "SIGABRT: abort"));
    assert_eq!(s.total(), 97);
    assert!(s.tasks.iter().all(|t| t.wait_minutes.is_none()));
    let d2 = load("sigabrt-all/goroutine-debug2.txt");
    assert_eq!(d2.total(), 92);
    assert_eq!(load("sigabrt-all/goroutine-debug1.txt").total(), 92);
    assert_eq!(load("sigabrt-all/goroutine.pb.gz").total(), 92);
}

#[test]
fn panic_deadlock_and_race() {
    let all = load("panic-all/panic-stderr.txt");
    assert_eq!(all.format, Format::GoTraceback);
    assert_eq!(all.total(), 90);
    assert_eq!(
        all.headlines.first().map(String::as_str),
        Some("panic: assignment to entry in nil map")
    );
    assert_eq!(all.tasks[0].state.as_deref(), Some("running"));
    let single = load("panic-single/panic-stderr.txt");
    assert_eq!(single.total(), 1);
    assert_eq!(&*single.tasks[0].frames[0].function, "main.main");

    let dead = load("fatal-deadlock/fatal-stderr.txt");
    assert_eq!(dead.format, Format::GoTraceback);
    assert_eq!(
        dead.headlines,
        ["fatal error: all goroutines are asleep - deadlock!"]
    );
    let g = grouped(&dead);
    // main blocks on the mutex itself; three workers were started from one site.
    assert_eq!(
        g.buckets.iter().map(|b| b.count).collect::<Vec<_>>(),
        [3, 1]
    );
    assert!(dead.skipped.is_empty());

    let race = load("race/race-stderr.txt");
    assert_eq!(race.format, Format::RaceReport);
    assert!(race.tasks.is_empty());
    assert_eq!(race.skipped.len(), 1);
    assert!(race.skipped[0].reason.contains("race"));
}

/// Ids of each bucket, restricted to `keep`: the partition the grouping makes.
fn partition(g: &Grouping, keep: &BTreeSet<u64>) -> BTreeSet<Vec<u64>> {
    g.buckets
        .iter()
        .map(|b| {
            let mut ids: Vec<u64> = b.ids.iter().copied().filter(|i| keep.contains(i)).collect();
            ids.sort_unstable();
            ids
        })
        .filter(|ids| !ids.is_empty())
        .collect()
}

#[test]
fn debug2_and_sigquit_group_the_same_goroutines() {
    let d2 = load("sigquit-all-70s/goroutine-debug2.txt");
    let sq = load("sigquit-all-70s/sigquit-stderr.txt");
    let ids = |s: &Snapshot| -> BTreeSet<u64> { s.tasks.iter().filter_map(|t| t.id).collect() };
    // Goroutines in both captures: all but the pprof handler and its connection reader
    // (debug2) and the runtime's
    // own (SIGQUIT).
    let common: BTreeSet<u64> = ids(&d2).intersection(&ids(&sq)).copied().collect();
    assert_eq!(common.len(), 100);
    let (g2, gq) = (grouped(&d2), grouped(&sq));
    assert_eq!(partition(&g2, &common), partition(&gq, &common));
    // Also with runtime frames hidden the SIGQUIT buckets stay the same.
    let mut hidden = sq.clone();
    hidden.hide_runtime_frames();
    assert_eq!(
        partition(&grouped(&hidden), &common),
        partition(&g2, &common)
    );
}

/// (count, frames) of each bucket, frames as `function file:line`.
fn shapes(g: &Grouping) -> BTreeSet<(u64, Vec<String>)> {
    g.buckets
        .iter()
        .map(|b| {
            let frames = b
                .frames
                .iter()
                .map(|f| format!("{} {}:{}", f.function, f.file, f.line))
                .collect();
            (b.count, frames)
        })
        .collect()
}

#[test]
fn debug2_and_proto_group_the_same_stacks() {
    let mut d2 = load("sigquit-all-70s/goroutine-debug2.txt");
    let mut proto = load("sigquit-all-70s/goroutine.pb.gz");
    proto.hide_runtime_frames();
    // Proto carries no states or creators: compare stacks and sizes only. Each capture was
    // its own HTTP request, so the goroutines serving it differ (the handler writing the
    // profile; the connection's background reader in debug2, a stackless goroutine in
    // proto): leave those out.
    let not_profiler = |s: &mut Snapshot| {
        s.tasks.retain(|t| {
            !t.frames.is_empty()
                && !t.frames.iter().any(|f| {
                    f.function.starts_with("runtime/pprof.write")
                        || f.function.starts_with("net/http.(*connReader)")
                })
        });
        for t in &mut s.tasks {
            t.state = None;
            t.creator = None;
            t.wait_minutes = None;
            t.locked = false;
        }
    };
    not_profiler(&mut d2);
    not_profiler(&mut proto);
    assert_eq!(shapes(&grouped(&d2)), shapes(&grouped(&proto)));
    assert_eq!(grouped(&proto).buckets.len(), 14);
}

/// Our buckets against `bucketize-reference-output.txt`, line for line: count, state,
/// wait range, locked, frame count, first frame outside runtime/sync/internal, creator.
#[test]
fn matches_reference_bucketizer() {
    let reference = std::fs::read_to_string(dir().join("bucketize-reference-output.txt")).unwrap();
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in reference.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            current = name.to_string();
        } else if line.starts_with("  ") {
            sections
                .entry(current.clone())
                .or_default()
                .push(line.trim().to_string());
        }
    }
    assert_eq!(sections.len(), 2);
    for (file, want) in sections {
        let g = grouped(&load(&file));
        let got: Vec<String> = g
            .buckets
            .iter()
            .map(|b| {
                let mut s = format!("{} {}", b.count, b.state.as_deref().unwrap_or("-"));
                if let Some(w) = b.wait {
                    if w.min == w.max {
                        s.push_str(&format!(" [{} min]", w.max));
                    } else {
                        s.push_str(&format!(" [{}~{} min]", w.min, w.max));
                    }
                }
                if b.locked {
                    s.push_str(" [locked]");
                }
                let head = b.headline().map_or("-".into(), |f| f.function.to_string());
                let creator = b
                    .created_by
                    .as_ref()
                    .map_or("-".into(), |c| c.function.to_string());
                format!(
                    "{s} frames={} first-user-frame={head} created-by={creator}",
                    b.frames.len()
                )
            })
            .collect();
        assert_eq!(got, want, "{file}");
    }
}

/// The streamed JSON is byte for byte what serialising the whole document gives, with and
/// without exact arguments (one group per goroutine of junk arguments is what streaming is
/// for).
#[test]
fn streamed_json_equals_the_whole_document() {
    let s = load("sigquit-all-70s/goroutine-debug2.txt");
    for exact_args in [false, true] {
        let opts = GroupOptions {
            exact_args,
            ..GroupOptions::default()
        };
        let g = group(&s, &Filter::default(), &opts);
        let mut extra = serde_json::Map::new();
        extra.insert("format".into(), serde_json::json!("debug=2"));
        let mut whole = culprit_dump::render::json(&g);
        if let Some(obj) = whole.as_object_mut() {
            obj.extend(extra.clone());
        }
        let mut streamed = Vec::new();
        culprit_dump::render::write_json(&g, extra, &mut streamed).expect("write");
        assert_eq!(
            String::from_utf8(streamed).expect("utf8"),
            serde_json::to_string(&whole).expect("json")
        );
    }
}
