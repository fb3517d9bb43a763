//! `culprit causal` end to end: reading coz's own profiles, and profiling real programs
//! (C built against coz.h with DWARF 5, C whose bottleneck is in a linked or dlopened
//! shared library, and a Rust program with a std Mutex) whose bottleneck is known, against
//! coz itself on a DWARF 4 build.

use std::path::{Path, PathBuf};
use std::process::Command;

use culprit_testkit::{require_tool, testdata, workspace_root};

/// Causal profiles measure how fast a program runs, so the profiled runs must not share
/// the machine's cores with each other: the heavy tests take this lock.
static CPU: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    CPU.lock().unwrap_or_else(|e| e.into_inner())
}

/// Attempts a statistical check gets. A causal profile measures speed on a shared
/// machine, so one profile can miss when other work steals the cores; a check passes when
/// one of its attempts does, each with a fresh profile. A broken profiler misses them all.
/// Five, not three: beside a busy benchmark (load 3 on 2 cores) culprit ranked workers.c's
/// slow line first in 6 of 10 profiles (the fast line's few experiments give it a wild
/// slope), so three attempts all missed about one run in fifteen; five, one in a hundred.
/// A quiet machine passes at the first attempt.
const ATTEMPTS: usize = 5;

fn in_some_attempt(what: &str, attempt: impl FnMut(usize) -> Result<(), String>) {
    culprit_testkit::in_some_attempt(what, ATTEMPTS, attempt);
}

/// `Ok` when `ranked` starts with a line ending in `want`.
fn first_is(who: &str, ranked: &[String], want: &str) -> Result<(), String> {
    if ranked.first().is_some_and(|l| l.ends_with(want)) {
        Ok(())
    } else {
        Err(format!("{who} ranked {ranked:?}, want {want}"))
    }
}

fn culprit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_culprit"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = workspace_root()
        .join("target/test-artifacts/causal")
        .join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn analysis(file: &Path) -> serde_json::Value {
    let out = culprit()
        .args(["causal", "report", "--format", "json"])
        .arg(file)
        .output()
        .expect("run culprit causal report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn ranked_lines(a: &serde_json::Value) -> Vec<String> {
    a["curves"]
        .as_array()
        .expect("curves")
        .iter()
        .filter(|c| !c["baseline"].is_null())
        .map(|c| c["line"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn line_of(src: &Path, marker: &str) -> String {
    let text = std::fs::read_to_string(src).expect("source");
    let n = text
        .lines()
        .position(|l| l.contains(marker))
        .expect("marker in source")
        + 1;
    format!(
        "{}:{n}",
        src.file_name().and_then(|f| f.to_str()).unwrap_or_default()
    )
}

fn gcc(src: &Path, out: &Path, extra: &[&str]) -> bool {
    let Some(gcc) = require_tool("gcc") else {
        return false;
    };
    let st = Command::new(gcc)
        .args(["-O1", "-g", "-pthread"])
        .arg(src)
        // After the source, so libraries among them are linked (ld drops an as-needed
        // library named before the objects that use it).
        .args(extra)
        .arg("-o")
        .arg(out)
        .status()
        .expect("gcc");
    assert!(st.success(), "gcc failed for {}", src.display());
    true
}

#[test]
fn report_reads_coz_profiles_and_ranks_the_bottleneck_first() {
    let file = testdata().join("coz/profile.coz");
    let a = analysis(&file);
    assert_eq!(a["experiments"], 87);
    assert!(
        ranked_lines(&a)[0].ends_with("prog.c:26"),
        "{:?}",
        ranked_lines(&a)
    );
    let text = culprit()
        .args(["causal", "report"])
        .arg(&file)
        .output()
        .expect("text report");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("prog.c:26 |   0.670 |  0.32"), "{text}");
    let html = scratch("report").join("causal.html");
    let st = culprit()
        .args(["causal", "report", "--format", "html", "-o"])
        .arg(&html)
        .arg(&file)
        .status()
        .expect("html report");
    assert!(st.success());
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.contains("<svg") && page.contains("prog.c:26"));
}

#[test]
fn bad_profile_names_the_line() {
    let dir = scratch("bad");
    let f = dir.join("bad.coz");
    std::fs::write(
        &f,
        "startup\ttime=1\nexperiment\tselected=a.c:1\tspeedup=2\tduration=1\n",
    )
    .expect("write");
    let out = culprit()
        .args(["causal", "report"])
        .arg(&f)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.coz") && err.contains("line 2"), "{err}");
}

/// The slow worker's line ranks first under culprit (DWARF 5 build) and under coz (DWARF 4
/// build, which is all Debian's coz 0.2.2 reads).
#[test]
fn workers_bottleneck_ranks_first_like_coz() {
    ranks_first_like_coz("workers.c", &["5000", "1500000"]);
}

/// A producer-consumer pipeline over bounded queues: the slow middle stage ranks first,
/// though the other stages run as often; their time is spent waiting on the queues.
#[test]
fn pipeline_slow_stage_ranks_first_like_coz() {
    ranks_first_like_coz("pipeline.c", &["6000", "400000"]);
}

/// Profiles `testbed/causal/SOURCE ARGS` with culprit and with coz; both must rank the
/// line marked `/* SLOW_LINE */` first.
fn ranks_first_like_coz(source: &str, args: &[&str]) {
    let _cpu = exclusive();
    let src = workspace_root().join("testbed/causal").join(source);
    let name = source.trim_end_matches(".c");
    let dir = scratch(name);
    let exe5 = dir.join(format!("{name}5"));
    if !gcc(&src, &exe5, &["-gdwarf-5"]) {
        return;
    }
    let slow = line_of(&src, "/* SLOW_LINE */");
    in_some_attempt(&format!("culprit on {source}"), |i| {
        // Profiles append, as coz's do: every attempt writes its own.
        let prof = dir.join(format!("culprit{i}.coz"));
        first_is(
            "culprit",
            &profile_ranking(&exe5, args, &[], &prof).0,
            &slow,
        )
    });

    let Some(coz) = require_tool("coz") else {
        return;
    };
    let exe4 = dir.join(format!("{name}4"));
    gcc(&src, &exe4, &["-gdwarf-4", "-gno-variable-location-views"]);
    in_some_attempt(&format!("coz on {source}"), |i| {
        let prof = dir.join(format!("coz{i}.coz"));
        first_is("coz", &coz_ranking(&coz, &[], &exe4, args, &prof), &slow)
    });
}

/// The virtual speed-up a fixed-line profile predicts for `line` made 25% faster.
fn predicted_at_25(exe: &Path, line: &str, out: &Path) -> f64 {
    let st = culprit()
        .args([
            "causal",
            "--experiment-ms",
            "200",
            "--fixed-speedup",
            "25",
            "--fixed-line",
            line,
            "-o",
        ])
        .arg(out)
        .arg("--")
        .arg(exe)
        .args(["300", "15000000"])
        .status()
        .expect("culprit causal");
    assert!(st.success());
    let a = analysis(out);
    let curve = a["curves"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["line"].as_str().is_some_and(|l| l.ends_with(line)))
        })
        .unwrap_or_else(|| panic!("no curve of {line}: {a}"));
    curve["points"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["line_speedup_pct"] == 25))
        .and_then(|p| p["program_speedup"].as_f64())
        .unwrap_or_else(|| panic!("no 25% point for {line}: {curve}"))
}

/// Fixed-line experiments predict a clear program speed-up for the slow worker's line made
/// 25% faster, and less for the fast worker's line. How close the prediction comes to a
/// real 25% faster build is measured by `bench/causal-predict.sh`: wall-clock times on a
/// shared machine are no test assertion. Each iteration lasts about ten sample periods:
/// at one period per iteration a worker thread ends with zero or one sample, and the
/// prediction is noise (a CI run once saw 1.2% for the slow line).
#[test]
fn fixed_line_predictions_separate_the_bottleneck() {
    let _cpu = exclusive();
    let src = workspace_root().join("testbed/causal/workers.c");
    let dir = scratch("predict");
    let exe = dir.join("workers");
    if !gcc(&src, &exe, &[]) {
        return;
    }
    let slow = line_of(&src, "/* SLOW_LINE */");
    let fast = line_of(&src, "/* FAST_LINE */");
    in_some_attempt("fixed-line predictions", |i| {
        let p_slow = predicted_at_25(&exe, &slow, &dir.join(format!("slow{i}.coz")));
        let p_fast = predicted_at_25(&exe, &fast, &dir.join(format!("fast{i}.coz")));
        eprintln!(
            "predicted at 25%: slow line {:.1}%, fast line {:.1}%",
            p_slow * 100.0,
            p_fast * 100.0
        );
        if p_slow < 0.05 {
            Err(format!("slow line predicts only {p_slow}"))
        } else if p_fast >= p_slow {
            Err(format!("fast line {p_fast} >= slow line {p_slow}"))
        } else {
            Ok(())
        }
    });
}

#[test]
fn rust_mutex_bottleneck_ranks_first() {
    let _cpu = exclusive();
    let Some(rustc) = require_tool("rustc") else {
        return;
    };
    let src = workspace_root().join("testbed/causal/mutex.rs");
    let dir = scratch("mutex");
    let exe = dir.join("mutex");
    let st = Command::new(rustc)
        .args(["--edition", "2024", "-O", "-g", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("rustc");
    assert!(st.success());
    let crit = line_of(&src, "// CRIT_LINE");
    let out = line_of(&src, "// OUT_LINE");
    in_some_attempt("culprit on mutex.rs", |i| {
        let prof = dir.join(format!("mutex{i}.coz"));
        let st = culprit()
            .args([
                "causal",
                "--experiment-ms",
                "150",
                "--scope",
                "mutex.rs",
                "-o",
            ])
            .arg(&prof)
            .arg("--")
            .arg(&exe)
            .args(["1500", "300000"])
            .status()
            .expect("culprit causal");
        assert!(st.success());
        let ranked = ranked_lines(&analysis(&prof));
        let pos = |l: &str| ranked.iter().position(|r| r.ends_with(l));
        match (pos(&crit), pos(&out)) {
            (None, _) => Err(format!("no curve for {crit}: {ranked:?}")),
            (Some(c), Some(o)) if o < c => Err(format!("ranked {ranked:?}")),
            _ => Ok(()),
        }
    });
}

/// Builds `testbed/causal/shared_work.c` as `DIR/libcausalwork.so` and `shared_main.c`
/// against it as `DIR/NAME` (linked, or dlopening it with `-DUSE_DLOPEN`), with an
/// `$ORIGIN` rpath. Returns the executable, or `None` without gcc.
fn build_shared(dir: &Path, name: &str, dlopen: bool, debug: &[&str]) -> Option<PathBuf> {
    let src = workspace_root().join("testbed/causal");
    let lib = dir.join("libcausalwork.so");
    let mut lib_flags = vec!["-shared", "-fPIC"];
    lib_flags.extend(debug);
    if !gcc(&src.join("shared_work.c"), &lib, &lib_flags) {
        return None;
    }
    let exe = dir.join(name);
    let mut flags = vec!["-Wl,-rpath,$ORIGIN"];
    flags.extend(debug);
    let lib_dir = format!("-L{}", dir.display());
    if dlopen {
        flags.push("-DUSE_DLOPEN");
    } else {
        flags.extend([lib_dir.as_str(), "-lcausalwork"]);
    }
    gcc(&src.join("shared_main.c"), &exe, &flags);
    Some(exe)
}

/// `culprit causal` on `exe ARGS` with `extra` options; returns the profile's ranking and
/// culprit's standard error.
fn profile_ranking(
    exe: &Path,
    args: &[&str],
    extra: &[&str],
    prof: &Path,
) -> (Vec<String>, String) {
    let out = culprit()
        .args(["causal", "--experiment-ms", "150"])
        .args(extra)
        .arg("-o")
        .arg(prof)
        .arg("--")
        .arg(exe)
        .args(args)
        .output()
        .expect("culprit causal");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    (ranked_lines(&analysis(prof)), err)
}

/// coz's options that bring the test library's lines into scope beside the executable's.
const COZ_LIBRARY: &[&str] = &["-b", "MAIN", "-b", "%libcausalwork%"];

/// `coz run OPTS -o PROF --- EXE ARGS`; returns the profile's ranking.
fn coz_ranking(coz: &Path, opts: &[&str], exe: &Path, args: &[&str], prof: &Path) -> Vec<String> {
    let st = Command::new(coz)
        .arg("run")
        .args(opts)
        .arg("-o")
        .arg(prof)
        .arg("---")
        .arg(exe)
        .args(args)
        .status()
        .expect("coz run");
    assert!(st.success());
    ranked_lines(&analysis(prof))
}

/// The bottleneck is a loop in a shared library the program links (DT_NEEDED, found
/// through its RUNPATH): culprit ranks that library line first (DWARF 5 build), and so
/// does coz on a DWARF 4 build when told to include the library (`-b`).
#[test]
fn linked_library_bottleneck_ranks_first_like_coz() {
    let _cpu = exclusive();
    let dir = scratch("linked");
    let Some(exe) = build_shared(&dir, "linked", false, &["-gdwarf-5"]) else {
        return;
    };
    let slow = line_of(
        &workspace_root().join("testbed/causal/shared_work.c"),
        "/* SLOW_LINE */",
    );
    let args = ["5000", "1500000"];
    in_some_attempt("culprit on a linked library", |i| {
        let prof = dir.join(format!("culprit{i}.coz"));
        let (ours, err) = profile_ranking(&exe, &args, &[], &prof);
        assert!(err.contains("libcausalwork.so"), "{err}");
        first_is("culprit", &ours, &slow)
    });

    let Some(coz) = require_tool("coz") else {
        return;
    };
    let dir4 = scratch("linked4");
    let exe4 = build_shared(
        &dir4,
        "linked",
        false,
        &["-gdwarf-4", "-gno-variable-location-views"],
    )
    .expect("gcc");
    in_some_attempt("coz on a linked library", |i| {
        let prof = dir4.join(format!("coz{i}.coz"));
        first_is(
            "coz",
            &coz_ranking(&coz, COZ_LIBRARY, &exe4, &args, &prof),
            &slow,
        )
    });
}

/// The bottleneck is in a library the program dlopens after it starts (a plugin found
/// through its `$ORIGIN` rpath): culprit finds the library before the run and ranks its
/// line first. coz 0.2.2 only reads the objects loaded at start-up
/// (plasma-umass/coz#160); what it ranks instead is printed, not asserted.
#[test]
fn dlopened_library_bottleneck_ranks_first() {
    let _cpu = exclusive();
    let dir = scratch("plugin");
    let Some(exe) = build_shared(&dir, "plugin", true, &["-gdwarf-5"]) else {
        return;
    };
    let slow = line_of(
        &workspace_root().join("testbed/causal/shared_work.c"),
        "/* SLOW_LINE */",
    );
    let args = ["5000", "1500000"];
    in_some_attempt("culprit on a dlopened library", |i| {
        let (ours, _) = profile_ranking(&exe, &args, &[], &dir.join(format!("culprit{i}.coz")));
        first_is("culprit", &ours, &slow)
    });

    let Some(coz) = require_tool("coz") else {
        return;
    };
    let dir4 = scratch("plugin4");
    let exe4 = build_shared(
        &dir4,
        "plugin",
        true,
        &["-gdwarf-4", "-gno-variable-location-views"],
    )
    .expect("gcc");
    let theirs = coz_ranking(&coz, COZ_LIBRARY, &exe4, &args, &dir4.join("coz.coz"));
    eprintln!("coz ranked {theirs:?} for the dlopened library's bottleneck {slow}");
}

/// A plugin dlopened from a directory culprit does not look in is named at run time
/// (its lines cannot be sampled); `--lib DIR` brings its lines into scope; one loaded by
/// a relative path is still recognised after the program changes directory.
#[test]
fn plugin_outside_the_programs_directories_needs_lib() {
    let _cpu = exclusive();
    let dir = scratch("elsewhere");
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    let Some(exe) = build_shared(&plugins, "plugin", true, &[]) else {
        return;
    };
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let moved = bin.join("plugin");
    std::fs::rename(&exe, &moved).expect("move the executable");
    let lib = plugins.join("libcausalwork.so");
    let lib_arg = lib.to_str().expect("utf-8 path");
    let args = ["300", "1500000", lib_arg];

    let (_, err) = profile_ranking(&moved, &args, &[], &dir.join("without.coz"));
    assert!(
        err.contains("libcausalwork.so was loaded but was not found before the run"),
        "{err}"
    );
    let samples = |f: &Path| {
        std::fs::read_to_string(f)
            .expect("profile")
            .lines()
            .any(|l| l.starts_with("samples\t") && l.contains("shared_work.c:"))
    };
    assert!(!samples(&dir.join("without.coz")));

    let plugins_arg = plugins.to_str().expect("utf-8 path");
    let (_, err) = profile_ranking(
        &moved,
        &args,
        &["--lib", plugins_arg],
        &dir.join("with.coz"),
    );
    assert!(!err.contains("was not found before the run"), "{err}");
    assert!(samples(&dir.join("with.coz")), "{err}");

    // Loaded by a relative path from the working directory (which culprit scans), which
    // the program then leaves: the runtime still recognises the library by its mapping.
    let out = culprit()
        .args(["causal", "-o"])
        .arg(dir.join("relative.coz"))
        .arg("--")
        .arg(&moved)
        .args(["300", "1500000", "./libcausalwork.so", "/"])
        .current_dir(&plugins)
        .output()
        .expect("culprit causal");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("was not found before the run"), "{err}");
    assert!(samples(&dir.join("relative.coz")), "{err}");
}
