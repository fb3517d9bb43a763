//! `culprit web` on goroutine dumps, `culprit watch` series, causal profiles and investigate run
//! directories, driven in real headless Chromium: the goroutine groups and charts the page
//! draws, its filters, and the tabs it offers. Leaves `target/test-artifacts/web-goroutines.png`
//! and `web-series.png`.

mod web_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use web_support::{Browser, Server, artifacts};

fn goroutines(name: &str) -> PathBuf {
    culprit_testkit::testdata()
        .join("goroutines/sigquit-all-70s")
        .join(name)
}

fn web_fixture(name: &str) -> PathBuf {
    culprit_testkit::workspace_root()
        .join("crates/culprit-web/tests/fixtures")
        .join(name)
}

/// Group counts drawn on the page, in order.
fn drawn_counts(b: &mut Browser) -> Vec<u64> {
    let v = b.eval("[...document.querySelectorAll('#groups .group')].map(g => +g.dataset.count)");
    v.as_array()
        .expect("array")
        .iter()
        .map(|c| c.as_u64().expect("count"))
        .collect()
}

fn visible_tabs(b: &mut Browser) -> Value {
    b.eval(
        "[...document.querySelectorAll('nav a')].filter(a => !a.hidden).map(a => a.dataset.view)",
    )
}

/// Runs `culprit watch` on a short command and returns the series it wrote.
fn watch_sleep(dir: &Path) -> PathBuf {
    let out = dir.join("sleep.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["watch", "--interval", "200ms", "-o"])
        .arg(&out)
        .args(["--", "sleep", "1"])
        .status()
        .expect("run culprit watch");
    assert!(status.success(), "culprit watch failed");
    out
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("culprit-web-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// Readings of a series file with a value at `pointer` (JSON pointer into each line).
fn readings_with(series: &Path, pointer: &str) -> usize {
    std::fs::read_to_string(series)
        .expect("series")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("json line"))
        .filter(|v| v.pointer(pointer).is_some_and(|x| !x.is_null()))
        .count()
}

#[test]
fn web_groups_a_goroutine_dump_and_charts_watch_series_in_chromium() {
    let Some(chromium) = culprit_testkit::require_tool("chromium") else {
        return;
    };
    let tmp = tempdir("views");
    let sleep = watch_sleep(&tmp);
    let go_series = web_fixture("watch-go.jsonl");
    let debug2 = goroutines("goroutine-debug2.txt");
    let server = Server::start(&[debug2.as_path(), sleep.as_path(), go_series.as_path()]);
    let mut b = Browser::launch(&chromium, 1280, 1000);

    // No profile loaded: no profile tabs, and the page opens on the goroutines.
    b.goto(&server.url);
    b.wait_for("document.body.dataset.ready === '1' && document.querySelector('#groups .group')");
    assert_eq!(visible_tabs(&mut b), json!(["goroutines", "series"]));
    assert_eq!(
        b.eval("document.getElementById('controls').hidden"),
        json!(true)
    );
    // The README of the dumps: 102 goroutines, 16 groups with arguments ignored, the 50
    // mutex waiters one group of 0~1 minutes.
    let counts = drawn_counts(&mut b);
    assert_eq!(counts.len(), 16, "{counts:?}");
    assert_eq!(counts.iter().sum::<u64>(), 102);
    assert_eq!(&counts[..8], [50, 20, 10, 5, 3, 2, 2, 2]);
    let first = b.eval("document.querySelector('#groups .group .ghead').textContent");
    assert_eq!(
        first,
        json!("50 semacquire [0~1 minute] in main.(*bigLock).doWork")
    );
    let created = b.eval("document.querySelector('#groups .group .created').textContent");
    assert!(
        created
            .as_str()
            .is_some_and(|c| c.starts_with("created by main.startMutexWaiters at ")),
        "{created}"
    );
    let ids = b.eval("document.querySelector('#groups .group .ids').textContent");
    assert!(
        ids.as_str()
            .is_some_and(|t| t.starts_with("ids: ") && t.ends_with(" and 38 more")),
        "{ids}"
    );
    let loc = b.eval("document.querySelector('#groups .group table.stack td.loc').textContent");
    assert!(
        loc.as_str().is_some_and(|l| l.contains(".go:")),
        "stack shows file:line: {loc}"
    );
    let headline = b.eval("document.getElementById('headline').textContent");
    assert!(
        headline
            .as_str()
            .is_some_and(|h| h.contains("102 goroutines in 16 groups")),
        "{headline}"
    );

    // The state filter, typed and applied like a person would.
    b.type_into("#gstate", "chan receive");
    b.click("#gapply");
    b.wait_for("document.body.dataset.ready === '1' && document.querySelectorAll('#groups .group').length === 2");
    assert_eq!(drawn_counts(&mut b), [20, 2]);
    assert_eq!(
        b.eval("new URLSearchParams(location.search).get('gstate')"),
        json!("chan receive")
    );
    // The function regex on top of it, then alone.
    b.eval("document.getElementById('gstate').value = ''");
    b.type_into("#gmatch", "forkExec");
    b.click("#gapply");
    b.wait_for("document.body.dataset.ready === '1' && document.querySelectorAll('#groups .group').length === 2 && document.querySelector('#groups .group').dataset.count === '5'");
    assert_eq!(drawn_counts(&mut b), [5, 1]);
    let headline = b.eval("document.getElementById('headline').textContent");
    assert!(
        headline
            .as_str()
            .is_some_and(|h| h.contains("6 goroutines in 2 groups (of 102 in the dump)")),
        "{headline}"
    );
    b.screenshot(&artifacts().join("web-goroutines.png"));
    // A bad regex is reported, not a blank page.
    b.eval("document.getElementById('gmatch').value = ''");
    b.type_into("#gmatch", "(");
    b.click("#gapply");
    b.wait_for("document.body.dataset.ready === '1' && document.getElementById('error').textContent.includes('match')");

    // Clicking a function in a stack keeps the goroutines that have it.
    b.eval("document.getElementById('gmatch').value = ''");
    b.click("#gapply");
    b.wait_for("document.body.dataset.ready === '1' && document.querySelectorAll('#groups .group').length === 16");
    b.eval("[...document.querySelectorAll('#groups a.gfn')].find(a => a.dataset.fn === 'main.consumer').id = 'consumer'");
    b.click("#consumer");
    b.wait_for("document.body.dataset.ready === '1' && document.querySelectorAll('#groups .group').length === 1");
    assert_eq!(drawn_counts(&mut b), [20]);
    assert_eq!(
        b.eval("new URLSearchParams(location.search).get('gmatch')"),
        json!("^main\\.consumer$")
    );

    // The series of the real `culprit watch -- sleep 1`: one point per reading.
    b.click("nav a[data-view=series]");
    b.wait_for(
        "document.body.dataset.ready === '1' && document.querySelector('#charts svg.chart')",
    );
    let readings = readings_with(&sleep, "/tree");
    assert!(readings >= 3, "{readings} readings");
    let points = |b: &mut Browser, id: &str| -> u64 {
        b.eval(&format!(
            "(() => {{ const c = document.querySelector('#charts [data-chart=\"{id}\"] svg.chart'); \
               return c ? c.querySelectorAll('circle').length : -1; }})()"
        ))
        .as_u64()
        .unwrap_or_else(|| panic!("no chart {id}"))
    };
    for id in ["rss", "vsize", "threads", "fds", "processes"] {
        assert_eq!(points(&mut b, id), readings as u64, "{id}");
    }
    assert_eq!(
        points(&mut b, "cpu"),
        readings_with(&sleep, "/tree/cpu_cores") as u64
    );
    let cgroup = readings_with(&sleep, "/cgroup/cpu_cores");
    if cgroup > 0 {
        let n = b.eval(
            "+document.querySelector('#charts [data-chart=\"cgroup-cpu\"] polyline[data-series=\"CPU cores\"]').dataset.n",
        );
        assert_eq!(n, json!(cgroup));
    }
    // Charts are drawn with a size, not just present.
    let drawn = b.eval(
        "[...document.querySelectorAll('#charts svg.chart')].every(s => s.getBoundingClientRect().width > 300)",
    );
    assert_eq!(drawn, json!(true));

    // The Go service's series: heap, next GC, GC pauses and goroutines too.
    b.eval("(() => { const s = document.getElementById('ss'); s.value = '1'; s.dispatchEvent(new Event('change')); })()");
    b.wait_for("document.body.dataset.ready === '1' && document.querySelector('#charts [data-chart=\"go-heap\"]')");
    let n = readings_with(&go_series, "/go") as u64;
    assert!(n >= 3, "{n} Go readings");
    let heap_lines = b.eval(
        "[...document.querySelectorAll('#charts [data-chart=\"go-heap\"] polyline.series')].map(p => [p.dataset.series, +p.dataset.n])",
    );
    assert_eq!(
        heap_lines,
        json!([["heap in use (HeapAlloc)", n], ["next GC target", n]])
    );
    assert_eq!(points(&mut b, "go-goroutines"), n);
    // Pause time per second comes from consecutive readings.
    let gc = b.eval(
        "+document.querySelector('#charts [data-chart=\"go-gc\"] polyline[data-series=\"pause ms per second\"]').dataset.n",
    );
    assert_eq!(gc, json!(n - 1));
    // Hovering a chart shows the nearest reading.
    b.click("#charts [data-chart=\"go-heap\"] svg.chart");
    let tip =
        b.eval("document.querySelector('#charts [data-chart=\"go-heap\"] text.tip').textContent");
    assert!(
        tip.as_str().is_some_and(|t| t.contains(" @ ")),
        "tip: {tip}"
    );
    b.screenshot(&artifacts().join("web-series.png"));
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn web_loads_an_investigate_run_directory() {
    let run = web_fixture("run");
    let server = Server::start(&[run.as_path()]);
    let (status, meta) = server.get("/api/meta");
    assert_eq!(status, 200);
    let meta: Value = serde_json::from_slice(&meta).expect("meta json");
    let names: Vec<&str> = meta["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "run/cpu.pb.gz",
            "run/allocs.pb.gz",
            "run/heap.pb.gz",
            "run/mutex.pb.gz",
            "run/block.pb.gz",
            "run/goroutine.pb.gz"
        ]
    );
    // Each profile set has its own views: the allocation delta's top table.
    let (status, top) = server.get("/api/top?p=1");
    assert_eq!(status, 200);
    let top: Value = serde_json::from_slice(&top).expect("top json");
    assert_eq!(top["head"]["sample_type"], "alloc_space");
    let (status, _) = server.get("/api/top?p=9");
    assert_eq!(status, 400);
    // The goroutines.txt it captured, grouped as the CLI does.
    let cli = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["goroutines", "--format", "json"])
        .arg(run.join("goroutines.txt"))
        .output()
        .expect("culprit goroutines");
    let cli: Value = serde_json::from_slice(&cli.stdout).expect("cli json");
    let (status, web) = server.get("/api/goroutines");
    assert_eq!(status, 200);
    let web: Value = serde_json::from_slice(&web).expect("goroutines json");
    assert_eq!(web["total"], cli["total"]);
    assert_eq!(web["groups"], cli["groups"]);
    // Its load and Go runtime readings as charts on the run clock.
    let (status, series) = server.get("/api/series");
    assert_eq!(status, 200);
    let series: Value = serde_json::from_slice(&series).expect("series json");
    let load: Vec<Value> =
        serde_json::from_slice(&std::fs::read(run.join("load.json")).expect("load.json"))
            .expect("load json");
    let charts = series["charts"].as_array().expect("charts");
    let throughput = charts
        .iter()
        .find(|c| c["id"] == "throughput")
        .expect("throughput chart");
    assert_eq!(
        throughput["lines"][0]["points"].as_array().map(Vec::len),
        Some(load.len())
    );
    assert!(
        throughput["svg"]
            .as_str()
            .is_some_and(|s| s.contains("profile window")),
        "the profile window is shaded"
    );

    let Some(chromium) = culprit_testkit::require_tool("chromium") else {
        return;
    };
    let mut b = Browser::launch(&chromium, 1280, 900);
    b.goto(&server.url);
    b.wait_for("document.body.dataset.ready === '1' && document.querySelectorAll('#top tbody tr').length > 0");
    assert_eq!(
        visible_tabs(&mut b),
        json!(["top", "flame", "peek", "source", "goroutines", "series"])
    );
    assert_eq!(
        b.eval("document.getElementById('p-wrap').hidden"),
        json!(false)
    );
    b.eval("(() => { const s = document.getElementById('p'); s.value = '2'; s.dispatchEvent(new Event('change')); })()");
    b.wait_for("document.body.dataset.ready === '1' && document.getElementById('headline').textContent.startsWith('inuse_space')");
}

/// `culprit web INPUT` fails and its error says `message`.
fn web_refuses(input: &Path, message: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .arg("web")
        .arg(input)
        .output()
        .expect("culprit web");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(message), "{err}");
}

#[test]
fn web_rejects_bad_inputs_with_the_file_and_line() {
    let tmp = tempdir("bad");
    let series = tmp.join("series.jsonl");
    let good = std::fs::read_to_string(web_fixture("watch-go.jsonl")).expect("fixture");
    let mut lines: Vec<&str> = good.lines().take(3).collect();
    lines.insert(1, "{\"time\": 1}");
    std::fs::write(&series, lines.join("\n")).expect("write");
    web_refuses(
        &series,
        &format!("{}: line 2: not a culprit watch sample", series.display()),
    );
    let junk = tmp.join("junk.pb.gz");
    std::fs::write(&junk, [0x1f, 0x8b, 8, 0, 0]).expect("write");
    web_refuses(
        &junk,
        &format!(
            "{}: not a pprof profile, goroutine dump or culprit watch series",
            junk.display()
        ),
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// coz's own profile of a program with a known bottleneck, next to a culprit-written one:
/// the causal tab ranks `prog.c:26` first and draws its speed-up curve.
#[test]
fn web_ranks_causal_profiles_and_draws_their_curves_in_chromium() {
    let Some(chromium) = culprit_testkit::require_tool("chromium") else {
        return;
    };
    let coz = culprit_testkit::testdata().join("coz/profile.coz");
    let server = Server::start(&[coz.as_path()]);
    let (status, body) = server.get("/api/causal");
    assert_eq!(status, 200);
    let api: Value = serde_json::from_slice(&body).expect("causal json");
    assert_eq!(api["experiments"], 87);
    let mut b = Browser::launch(&chromium, 1280, 1000);
    b.goto(&server.url);
    b.wait_for("document.body.dataset.ready === '1' && document.querySelector('#curves figure')");
    assert_eq!(visible_tabs(&mut b), json!(["causal"]));
    let first = b.eval("document.querySelector('#ranking tbody tr td').textContent");
    assert!(
        first.as_str().is_some_and(|l| l.ends_with("prog.c:26")),
        "{first}"
    );
    let plotted = b.eval(
        "[...document.querySelectorAll('#curves figure')].map(f => [f.dataset.line, +f.dataset.points, !!f.querySelector('svg')])",
    );
    let plotted = plotted.as_array().expect("figures");
    assert!(!plotted.is_empty());
    assert!(
        plotted[0][0]
            .as_str()
            .is_some_and(|l| l.ends_with("prog.c:26"))
            && plotted[0][1].as_u64() > Some(1)
            && plotted[0][2] == json!(true),
        "{plotted:?}"
    );
    b.screenshot(&artifacts().join("web-causal.png"));
}
