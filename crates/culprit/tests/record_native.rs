//! `culprit record` on real processes: C, threaded C, Rust without frame pointers, Go.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use culprit_profile::Profile;
use culprit_testkit::{build_go, require_tool, workspace_root};

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("culprit-record-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Compiles `testbed/native/<src>` with gcc or rustc (by extension) into the scratch dir,
/// once per process for each source and flags.
fn compile(src: &str, extra: &[&str]) -> Option<PathBuf> {
    // Held while compiling: parallel tests asking for the same build (ratio.c) would
    // otherwise have the linker rewrite a program another test is starting.
    static BUILDS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let path = workspace_root().join("testbed/native").join(src);
    // Builds of one source with different flags run in parallel tests: name each apart.
    let flags: String = extra
        .iter()
        .map(|a| a.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
        .collect();
    let stem = Path::new(src).file_stem().expect("stem").to_string_lossy();
    let out = scratch().join(format!("{stem}{flags}"));
    let tool = if src.ends_with(".rs") { "rustc" } else { "gcc" };
    let tool = require_tool(tool)?;
    if out.is_file() {
        // Built by an earlier test of this process (the scratch dir is per process).
        return Some(out);
    }
    let mut c = Command::new(tool);
    if src.ends_with(".rs") {
        c.args(["-C", "opt-level=3", "-C", "force-frame-pointers=no"]);
    } else {
        c.args(["-O2", "-g", "-pthread"]);
    }
    let status = c
        .args(extra)
        .arg("-o")
        .arg(&out)
        .arg(&path)
        .status()
        .expect("run compiler");
    assert!(status.success(), "compiling {}", path.display());
    Some(out)
}

fn record(args: &[&str], out: &Path) -> Profile {
    let status = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .arg("record")
        .arg("-o")
        .arg(out)
        .args(args)
        .status()
        .expect("run culprit record");
    assert!(status.success(), "culprit record {args:?}");
    culprit_profile::parse(&std::fs::read(out).expect("read profile")).expect("parse profile")
}

fn functions_of(p: &Profile, s: &culprit_profile::Sample) -> Vec<String> {
    s.locations
        .iter()
        .flat_map(|&l| p.locations[l as usize].lines.iter())
        .filter_map(|l| p.line_function(l))
        .map(|f| f.name.clone())
        .collect()
}

fn thread_of(s: &culprit_profile::Sample) -> String {
    s.labels
        .iter()
        .find(|(k, _)| &**k == "thread")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// Samples per function, counting a function once per stack (pprof's `cum`).
fn cum(p: &Profile) -> HashMap<String, i64> {
    let mut m = HashMap::new();
    for s in &p.samples {
        let mut names = functions_of(p, s);
        names.sort();
        names.dedup();
        for n in names {
            *m.entry(n).or_insert(0) += s.values[0];
        }
    }
    m
}

/// Samples per leaf function (pprof's `flat`).
fn flat(p: &Profile) -> HashMap<String, i64> {
    let mut m = HashMap::new();
    for s in &p.samples {
        if let Some(n) = functions_of(p, s).first() {
            *m.entry(n.clone()).or_insert(0) += s.values[0];
        }
    }
    m
}

#[test]
fn record_two_to_one_work_ratio() {
    let Some(bin) = compile("ratio.c", &[]) else {
        return;
    };
    // Each attempt records afresh, about 1200 samples. Rounds of 10M steps (40 ms) span
    // many sample periods: 1M-step rounds (4 ms) aliased with the 1 ms period and gave
    // 1.84-2.12 (a CI run saw 1.84). Long rounds gave 1.986-2.007 quiet and 1.986-2.043
    // beside two busy loops, so the 5% holds with room. A profiler that
    // misattributes gives 1 or 0.5 in every attempt.
    culprit_testkit::in_some_attempt("2:1 work ratio", 3, |i| {
        let out = scratch().join(format!("ratio{i}.pb.gz"));
        let p = record(
            &[
                "-F",
                "1000",
                "--",
                bin.to_str().expect("utf8"),
                "30",
                "10000000",
            ],
            &out,
        );
        let c = cum(&p);
        let twice = c.get("work_twice").copied().unwrap_or(0) as f64;
        let once = c.get("work_once").copied().unwrap_or(0) as f64;
        assert!(once > 100.0, "too few samples: {c:?}");
        // Whole stacks: every work sample reaches main.
        assert!(c.get("main").copied().unwrap_or(0) as f64 >= (twice + once) * 0.98);
        assert_eq!(p.sample_type[1].kind, "cpu");
        assert_eq!(p.period, 1_000_000);
        assert!(
            !p.mappings[0].build_id.is_empty(),
            "main mapping has a build id"
        );
        assert!(p.mappings[0].file.ends_with("ratio"));
        let ratio = twice / once;
        if (ratio - 2.0).abs() / 2.0 < 0.05 {
            Ok(())
        } else {
            Err(format!("ratio {ratio:.3}, counts {c:?}"))
        }
    });
}

/// Samples in the vDSO (clock reads) are named like any other frame, with the `[vdso]`
/// mapping, though the program is gone by the time its profile is symbolized.
#[test]
fn record_names_functions_in_the_vdso() {
    let Some(bin) = compile("clock.c", &[]) else {
        return;
    };
    let out = scratch().join("clock.pb.gz");
    let p = record(
        &["-F", "1000", "--", bin.to_str().expect("utf8"), "30000000"],
        &out,
    );
    let vdso = p
        .mappings
        .iter()
        .position(|m| m.file == "[vdso]")
        .unwrap_or_else(|| panic!("no [vdso] mapping in {:?}", p.mappings));
    let in_vdso: Vec<&culprit_profile::Location> = p
        .locations
        .iter()
        .filter(|l| l.mapping == Some(vdso as u32))
        .collect();
    assert!(!in_vdso.is_empty(), "no sample in the vDSO");
    for l in in_vdso {
        let names: Vec<&str> = l
            .lines
            .iter()
            .filter_map(|line| line.function)
            .filter_map(|f| p.functions.get(f as usize))
            .map(|f| f.name.as_str())
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n.contains("clock_gettime") || n.contains("vdso")),
            "vDSO location {:#x} named {names:?}",
            l.address
        );
    }
}

#[test]
fn record_attributes_samples_to_threads() {
    let Some(bin) = compile("spinners.c", &[]) else {
        return;
    };
    let out = scratch().join("spinners.pb.gz");
    let p = record(
        &["-F", "1000", "--", bin.to_str().expect("utf8"), "150000000"],
        &out,
    );
    let mut by_thread: HashMap<(String, String), i64> = HashMap::new();
    for s in &p.samples {
        let name = thread_of(s);
        let Some(leaf) = functions_of(&p, s).first().cloned() else {
            continue;
        };
        *by_thread
            .entry((name.split(' ').next().unwrap_or("").to_string(), leaf))
            .or_insert(0) += s.values[0];
    }
    let get = |t: &str, f: &str| by_thread.get(&(t.into(), f.into())).copied().unwrap_or(0);
    assert!(get("alpha-worker", "spin_alpha") > 50, "{by_thread:?}");
    assert!(get("beta-worker", "spin_beta") > 50, "{by_thread:?}");
    assert_eq!(get("alpha-worker", "spin_beta"), 0, "{by_thread:?}");
    assert_eq!(get("beta-worker", "spin_alpha"), 0, "{by_thread:?}");
}

#[test]
fn record_unwinds_rust_release_build_without_frame_pointers() {
    deep_stacks_are_whole(&[], "deep.pb.gz");
}

/// Line-tables-only DWARF names functions bare (`hot_leaf`); the symbol table still has
/// their paths, and those are what a profile must show.
#[test]
fn record_names_functions_by_path_with_line_tables_only_debug_info() {
    deep_stacks_are_whole(&["-C", "debuginfo=line-tables-only"], "deep-lto.pb.gz");
}

fn deep_stacks_are_whole(rustc_args: &[&str], out_name: &str) {
    let Some(bin) = compile("deep.rs", rustc_args) else {
        return;
    };
    let out = scratch().join(out_name);
    let p = record(
        &["-F", "1000", "--", bin.to_str().expect("utf8"), "900000000"],
        &out,
    );
    let want = [
        "deep::hot_leaf",
        "deep::level_three",
        "deep::level_two",
        "deep::level_one",
        "deep::main",
    ];
    let (mut hot, mut whole) = (0, 0);
    for s in &p.samples {
        let names = functions_of(&p, s);
        // Std helpers inlined into the hot loop (`Range::next`) may sit above it.
        let Some(start) = names.iter().take(3).position(|n| n == want[0]) else {
            continue;
        };
        hot += s.values[0];
        if names[start..].starts_with(&want.map(String::from)) {
            whole += s.values[0];
        }
    }
    assert!(hot > 50, "too few samples in hot_leaf");
    assert!(
        whole * 100 >= hot * 95,
        "{whole} of {hot} hot samples have whole stacks"
    );
}

#[test]
fn record_go_binary_agrees_with_its_own_cpu_profile() {
    let Some(bin) = build_go("testbed/go/recordgo") else {
        return;
    };
    let dir = scratch();
    let go_prof = dir.join("go-own.prof");
    let out = dir.join("go-native.pb.gz");
    let p = record(
        &[
            "-F",
            "250",
            "--",
            bin.to_str().expect("utf8"),
            go_prof.to_str().expect("utf8"),
            "3",
        ],
        &out,
    );
    let own = culprit_profile::parse(&std::fs::read(&go_prof).expect("go profile")).expect("parse");
    let top = |m: HashMap<String, i64>| {
        let mut v: Vec<(String, i64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter().take(3).map(|(n, _)| n).collect::<Vec<_>>()
    };
    let ours = top(flat(&p));
    let theirs = top(flat(&own));
    assert_eq!(
        ours[0], theirs[0],
        "top function: ours {ours:?}, Go's {theirs:?}"
    );
    let shared = ours.iter().filter(|n| theirs.contains(n)).count();
    assert!(shared >= 2, "top 3: ours {ours:?}, Go's {theirs:?}");
    // Both work functions appear on the stacks (cum), as in Go's profile.
    let c = cum(&p);
    assert!(
        c.contains_key("main.hashWork") && c.contains_key("main.sortWork"),
        "{c:?}"
    );
}

#[test]
fn record_output_reads_in_go_tool_pprof() {
    let Some(go) = require_tool("go") else {
        return;
    };
    let Some(bin) = compile("ratio.c", &[]) else {
        return;
    };
    let out = scratch().join("ratio-pprof.pb.gz");
    let p = record(
        &["-F", "1000", "--", bin.to_str().expect("utf8"), "150"],
        &out,
    );
    let top = Command::new(go)
        // In ms whatever the counts: by default pprof picks its unit from the values
        // shown, and the parse below reads ms.
        .args(["tool", "pprof", "-top", "-nodecount=5", "-unit=ms"])
        .arg(&out)
        .output()
        .expect("run go tool pprof");
    assert!(
        top.status.success(),
        "{}",
        String::from_utf8_lossy(&top.stderr)
    );
    let text = String::from_utf8_lossy(&top.stdout);
    // pprof's flat column (ms at 1 kHz = samples) must equal our own aggregation.
    let ours = flat(&p);
    let mut checked = 0;
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() == 6 && (cols[5] == "work_twice" || cols[5] == "work_once") {
            let ms: f64 = cols[0].trim_end_matches("ms").parse().expect("flat ms");
            assert_eq!(ms as i64, ours[cols[5]], "{text}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("work_")).collect();
    assert!(lines[0].ends_with("work_twice"), "{text}");
}
