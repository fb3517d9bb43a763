//! Inputs recognised by content: every goroutine dump form of the shared test data, real
//! pprof profiles, a real `culprit watch` series and a real investigate run directory; and
//! the one-line errors for what is none of those.

use std::path::{Path, PathBuf};

use culprit_web::inputs::{self, Kind};
use culprit_web::{InputError, State};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn kinds(list: &[culprit_web::Input]) -> Vec<&'static str> {
    list.iter()
        .map(|i| match i.kind {
            Kind::Profile(_) => "profile",
            Kind::Goroutines(_) => "goroutines",
            Kind::Series(_) => "series",
            Kind::Causal(_) => "causal",
        })
        .collect()
}

#[test]
fn every_goroutine_dump_form_is_a_dump_and_groups_like_the_cli() {
    let dir = culprit_testkit::testdata().join("goroutines/sigquit-all-70s");
    for (file, total, want) in [
        ("goroutine-debug2.txt", 102, &["goroutines"][..]),
        ("goroutine-debug1.txt", 102, &["goroutines"]),
        ("sigquit-stderr.txt", 107, &["goroutines"]),
        // The proto form is a pprof profile too: it gets a flame graph and groups.
        ("goroutine.pb.gz", 102, &["profile", "goroutines"]),
    ] {
        let got = inputs::load_path(&dir.join(file)).expect(file);
        assert_eq!(kinds(&got), want, "{file}");
        let snap = got
            .iter()
            .find_map(|i| match &i.kind {
                Kind::Goroutines(s) => Some(s),
                _ => None,
            })
            .expect("a dump");
        assert_eq!(snap.total(), total, "{file}");
    }
    for crash in [
        "panic-all/panic-stderr.txt",
        "panic-single/panic-stderr.txt",
        "sigabrt-all/sigabrt-stderr.txt",
        "fatal-deadlock/fatal-stderr.txt",
    ] {
        let path = culprit_testkit::testdata().join("goroutines").join(crash);
        let got = inputs::load_path(&path).expect(crash);
        assert_eq!(kinds(&got), ["goroutines"], "{crash}");
    }
}

#[test]
fn grouped_json_is_the_cli_shape_with_its_filters() {
    let path = culprit_testkit::testdata().join("goroutines/sigquit-all-70s/goroutine-debug2.txt");
    let got = inputs::load_path(&path).expect("debug2");
    let Some(Kind::Goroutines(snap)) = got.first().map(|i| &i.kind) else {
        panic!("not a dump")
    };
    let counts = |q: &culprit_web::GoroutineQuery| -> Vec<u64> {
        let v = culprit_web::goroutines::grouped(snap, q).expect("grouped");
        v["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| g["count"].as_u64().expect("count"))
            .collect()
    };
    let all = counts(&Default::default());
    assert_eq!(all.len(), 16);
    assert_eq!(&all[..8], [50, 20, 10, 5, 3, 2, 2, 2]);
    let chan = culprit_web::GoroutineQuery {
        state: Some("chan receive".into()),
        ..Default::default()
    };
    assert_eq!(counts(&chan), [20, 2]);
    let fork = culprit_web::GoroutineQuery {
        matches: Some("forkExec".into()),
        ..Default::default()
    };
    assert_eq!(counts(&fork), [5, 1]);
    let v = culprit_web::goroutines::grouped(snap, &Default::default()).expect("grouped");
    let g = &v["groups"][0];
    assert_eq!(v["total"], 102);
    for key in ["count", "state", "wait", "created_by", "stack"] {
        assert!(g.get(key).is_some(), "group lacks {key}: {g}");
    }
    assert!(g["stack"][0]["function"].is_string() && g["stack"][0]["line"].is_u64());
    let bad = culprit_web::GoroutineQuery {
        matches: Some("(".into()),
        ..Default::default()
    };
    let e = culprit_web::goroutines::grouped(snap, &bad).expect_err("bad regex");
    assert!(e.to_string().starts_with("match \"(\""), "{e}");
}

#[test]
fn real_watch_series_charts_one_point_per_reading() {
    let path = fixture("watch-go.jsonl");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .expect("fixture")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let n = lines.len();
    let with_cores = lines
        .iter()
        .filter(|l| l["tree"]["cpu_cores"].is_number())
        .count();
    let got = inputs::load_path(&path).expect("series");
    let Some(Kind::Series(s)) = got.first().map(|i| &i.kind) else {
        panic!("not a series")
    };
    assert_eq!(s.samples, n);
    let points = |id: &str| {
        s.charts
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no chart {id}"))
            .points()
    };
    assert_eq!(points("cpu"), with_cores);
    for id in [
        "rss",
        "vsize",
        "threads",
        "fds",
        "processes",
        "go-goroutines",
    ] {
        assert_eq!(points(id), n, "{id}");
    }
    // Heap in use and the next GC target, one point each per reading.
    assert_eq!(points("go-heap"), 2 * n);
    assert!(points("cgroup-memory") >= n);
    let svg = s.charts[0].svg();
    assert!(svg.contains(&format!("data-points=\"{with_cores}\"")));
}

#[test]
fn run_directory_loads_each_profile_alone_its_goroutines_and_its_series() {
    let got = inputs::load_path(&fixture("run")).expect("run dir");
    let names: Vec<&str> = got.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "run/cpu.pb.gz",
            "run/allocs.pb.gz",
            "run/heap.pb.gz",
            "run/mutex.pb.gz",
            "run/block.pb.gz",
            "run/goroutine.pb.gz",
            "run/goroutines.txt",
            "run/series",
        ]
    );
    assert!(got.iter().all(|i| !i.merge));
    let state = State::new(got, "run".into()).expect("state");
    // Mutex and block share sample types but stay apart.
    assert_eq!(state.profiles().len(), 6);
    assert_eq!(state.dumps().len(), 1);
    let ids: Vec<&str> = state.series()[0]
        .series
        .charts
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["latency", "throughput", "go-heap", "go-gc"]);
}

#[test]
fn bad_inputs_name_the_file_and_the_problem() {
    let dir = std::env::temp_dir().join(format!("culprit-web-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let good = std::fs::read_to_string(fixture("watch-go.jsonl")).expect("fixture");
    let mut broken: Vec<&str> = good.lines().take(2).collect();
    broken.push("{\"time\": \"x\"}");
    let jsonl = dir.join("broken.jsonl");
    std::fs::write(&jsonl, broken.join("\n")).expect("write");
    let e = inputs::load_path(&jsonl).err().expect("broken series");
    assert!(matches!(e, InputError::Series { line: 3, .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: line 3: ", jsonl.display())),
        "{msg}"
    );
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, [0x1fu8, 0x8b, 0, 1, 2, 3]).expect("write");
    let msg = inputs::load_path(&junk).err().expect("junk").to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: not a pprof profile, goroutine dump or culprit watch series",
            junk.display()
        )),
        "{msg}"
    );
    let race = culprit_testkit::testdata().join("goroutines/race/race-stderr.txt");
    let msg = inputs::load_path(&race).err().expect("race").to_string();
    assert!(
        msg.ends_with("a race detector report, not a goroutine dump: nothing to show"),
        "{msg}"
    );
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "\n").expect("write");
    let msg = inputs::load_path(&empty).err().expect("empty").to_string();
    assert_eq!(msg, format!("{}: empty file", empty.display()));
    let msg = inputs::load_path(&dir)
        .err()
        .expect("plain dir")
        .to_string();
    assert!(msg.contains("not a culprit run directory"), "{msg}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn coz_profiles_are_causal_and_a_bad_record_names_its_line() {
    let coz = culprit_testkit::testdata().join("coz/profile.coz");
    let list = culprit_web::inputs::load_path(&coz).expect("coz profile");
    assert_eq!(kinds(&list), ["causal"]);
    let err = culprit_web::inputs::classify(
        "bad.coz",
        b"startup\ttime=1\nexperiment\tselected=a.c:1\tspeedup=2\tduration=1\n",
    )
    .err()
    .expect("a bad record is an error");
    let msg = err.to_string();
    assert!(msg.starts_with("bad.coz: line 2:"), "{msg}");
}
