//! Byte-for-byte conformance with `go tool pprof` (Go 1.19) on every reference output in
//! `../shared/testdata/pprof` that a culprit report covers: the Go 1.19 outputs of
//! `go119-outputs/`, the replayed driver goldens of `synthetic/go119/`, pprof's own driver
//! goldens (`internal/driver/testdata/pprof.*`, pprof HEAD) and the `.string` parse dumps.
//!
//! Prints `N matched of M` per group and every mismatch; fails on a mismatch that
//! `docs/pprof-compat.md` does not list with its reason.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    group: &'static str,
    /// Name used in docs/pprof-compat.md.
    name: String,
    /// culprit arguments; empty for parse-dump cases.
    args: Vec<String>,
    /// For parse dumps: the profile to parse.
    parse: Option<PathBuf>,
    expected: PathBuf,
}

fn pprof_dir() -> PathBuf {
    culprit_testkit::testdata().join("pprof")
}

/// Translates a `go tool pprof` command line into culprit's, or `None` for reports culprit
/// does not draw (dot, callgrind, list, disasm, comments, topproto's first step).
fn translate(words: &[&str]) -> Option<Vec<String>> {
    let mut report: Option<Vec<String>> = None;
    let mut flags: Vec<String> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        let Some(flag) = w.strip_prefix('-') else {
            files.push(w.to_string());
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        match name {
            "symbolize" | "divide_by" | "flat" | "call_tree" | "trim" => {}
            "top" | "text" => report = Some(vec!["top".into()]),
            "traces" | "tree" | "tags" | "raw" => report = Some(vec![name.into()]),
            "peek" => {
                let re = match value {
                    Some(v) => v,
                    None => {
                        i += 1;
                        words.get(i - 1)?.to_string()
                    }
                };
                report = Some(vec!["peek".into(), re]);
            }
            "dot" | "callgrind" | "list" | "disasm" | "weblist" | "comments" | "topproto"
            | "svg" | "all_frames" | "add_comment" | "trim_path" | "source_path" | "tagshow"
            | "output" => {
                return None;
            }
            "cum"
            | "addresses"
            | "lines"
            | "files"
            | "functions"
            | "filefunctions"
            | "noinlines"
            | "mean"
            | "relative_percentages"
            | "compact_labels" => {
                flags.push(format!("--{}", name.replace('_', "-")));
            }
            "alloc_space" | "alloc_objects" | "inuse_space" | "inuse_objects" | "mean_delay"
            | "total_delay" | "contentions" => flags.push(format!("--{}", name.replace('_', "-"))),
            "sample_index" | "focus" | "ignore" | "hide" | "show" | "show_from" | "tagfocus"
            | "tagignore" | "taghide" | "nodecount" | "nodefraction" | "edgefraction" | "unit"
            | "base" | "diff_base" => {
                // pprof lets a later flag override an earlier one; clap does not.
                let long = format!("--{}", name.replace('_', "-"));
                if let Some(at) = flags.iter().position(|f| *f == long) {
                    flags.drain(at..at + 2);
                }
                flags.push(long);
                flags.push(value?);
            }
            _ => return None,
        }
    }
    let mut args = report?;
    args.extend(flags);
    args.extend(files);
    Some(args)
}

fn go119_cases(dir: &Path) -> Vec<Case> {
    let tsv = std::fs::read_to_string(dir.join("go119-outputs/COMMANDS.tsv")).unwrap_or_default();
    let mut out = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, _, _, cmd] = cols[..] else {
            continue;
        };
        let words: Vec<&str> = cmd.split_whitespace().skip(3).collect();
        let Some(args) = translate(&words) else {
            continue;
        };
        // Inputs held out of the kit (java.*) cannot be replayed.
        if !dir.join(args.last().map_or("", String::as_str)).exists() {
            continue;
        }
        out.push(Case {
            group: "go119-outputs",
            name: format!("go119-outputs/{file}"),
            args,
            parse: None,
            expected: dir.join("go119-outputs").join(file),
        });
    }
    out
}

fn synthetic_cases(dir: &Path) -> Vec<Case> {
    let tsv = std::fs::read_to_string(dir.join("synthetic/go119/SUMMARY.tsv")).unwrap_or_default();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [golden, result, cmd] = cols[..] else {
            continue;
        };
        if result.starts_with("ERROR") || !seen.insert((golden.to_string(), cmd.to_string())) {
            continue;
        }
        // topproto cases: replay the second step on the kept first-step output.
        let step = cmd.rsplit(" && ").next().unwrap_or(cmd);
        let mut words: Vec<String> = step.split_whitespace().skip(3).map(String::from).collect();
        if let Some(last) = words.last_mut()
            && let Some(i) = last.find("/synthetic/go119/")
        {
            *last = last[i + 1..].to_string();
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let Some(args) = translate(&words) else {
            continue;
        };
        let expected = dir.join("synthetic/go119").join(golden);
        let head = dir.join("internal/driver/testdata").join(golden);
        if expected.exists() {
            out.push(Case {
                group: "synthetic/go119",
                name: format!("synthetic/go119/{golden}"),
                args: args.clone(),
                parse: None,
                expected,
            });
        }
        if head.exists() {
            out.push(Case {
                group: "driver-goldens (pprof HEAD)",
                name: format!("internal/driver/testdata/{golden}"),
                args,
                parse: None,
                expected: head,
            });
        }
    }
    out
}

fn parse_dump_cases(dir: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir.join("profile/testdata")) else {
        return out;
    };
    let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for p in names {
        if p.extension().is_some_and(|e| e == "string") {
            let input = p.with_extension("");
            if input.exists() {
                out.push(Case {
                    group: ".string parse dumps",
                    name: format!(
                        "profile/testdata/{}",
                        p.file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ),
                    args: Vec::new(),
                    parse: Some(input),
                    expected: p,
                });
            }
        }
    }
    out
}

/// File names listed in docs/pprof-compat.md's tables (first column, in backticks).
fn listed_mismatches() -> BTreeSet<String> {
    let doc = culprit_testkit::workspace_root().join("docs/pprof-compat.md");
    let text = std::fs::read_to_string(doc).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(String::from)
        .collect()
}

fn run_case(dir: &Path, c: &Case) -> Result<Vec<u8>, String> {
    if let Some(input) = &c.parse {
        let data = std::fs::read(input).map_err(|e| e.to_string())?;
        let p = culprit_profile::parse(&data).map_err(|e| e.to_string())?;
        return Ok(culprit_profile::text::to_string(&p).into_bytes());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(&c.args)
        .current_dir(dir)
        .env("TZ", "UTC")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(out.stdout)
}

#[test]
fn pprof_reference_outputs() {
    let dir = pprof_dir();
    assert!(dir.exists(), "test data missing at {}", dir.display());
    let mut cases = go119_cases(&dir);
    cases.extend(synthetic_cases(&dir));
    cases.extend(parse_dump_cases(&dir));
    let listed = listed_mismatches();
    let mut unexplained = Vec::new();
    let mut groups: Vec<(&str, usize, usize)> = Vec::new();
    for c in &cases {
        let expected = std::fs::read(&c.expected).unwrap_or_default();
        let got = run_case(&dir, c);
        let ok = matches!(&got, Ok(g) if *g == expected);
        match groups.iter_mut().find(|g| g.0 == c.group) {
            Some(g) => {
                g.1 += usize::from(ok);
                g.2 += 1;
            }
            None => groups.push((c.group, usize::from(ok), 1)),
        }
        if !ok {
            let why = match &got {
                Err(e) => format!("error: {}", e.lines().last().unwrap_or("")),
                Ok(g) => first_difference(&expected, g),
            };
            let known = listed.contains(&c.name);
            println!(
                "MISMATCH{} {}  (culprit {})\n    {why}",
                if known { " (listed)" } else { "" },
                c.name,
                c.args.join(" ")
            );
            if !known {
                unexplained.push(c.name.clone());
            }
        }
    }
    for (g, m, n) in &groups {
        println!("{g}: {m} matched of {n}");
    }
    assert!(
        unexplained.is_empty(),
        "mismatches not listed in docs/pprof-compat.md: {unexplained:#?}"
    );
}

fn first_difference(expected: &[u8], got: &[u8]) -> String {
    let e = String::from_utf8_lossy(expected);
    let g = String::from_utf8_lossy(got);
    for (i, (a, b)) in e.lines().zip(g.lines()).enumerate() {
        if a != b {
            return format!("line {}: want {a:?}\n    got  {b:?}", i + 1);
        }
    }
    format!(
        "lengths differ: want {} lines, got {} lines",
        e.lines().count(),
        g.lines().count()
    )
}

#[test]
fn translates_pprof_flags() {
    let args = translate(&[
        "-symbolize=none",
        "-top",
        "-cum",
        "-sample_index=alloc_space",
        "x.pb",
    ]);
    assert_eq!(
        args,
        Some(
            vec!["top", "--cum", "--sample-index", "alloc_space", "x.pb"]
                .into_iter()
                .map(String::from)
                .collect()
        )
    );
    assert_eq!(translate(&["-dot", "x"]), None);
}
