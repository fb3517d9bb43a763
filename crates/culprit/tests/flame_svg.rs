//! `culprit flame` and `culprit diff` end to end: SVGs are well-formed XML, their totals
//! equal `culprit top`'s for the same flags, a profile against itself is neutral, folded
//! stacks are read as input, and the SVG runs in real Chromium
//! (`target/test-artifacts/flame.png`).

mod web_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn culprit(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(args)
        .output()
        .expect("run culprit");
    assert!(
        out.status.success(),
        "culprit {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8 output")
}

fn pprof(rel: &str) -> String {
    culprit_testkit::testdata()
        .join("pprof")
        .join(rel)
        .display()
        .to_string()
}

fn gotrace(rel: &str) -> String {
    culprit_testkit::testdata()
        .join("gotrace")
        .join(rel)
        .display()
        .to_string()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("culprit-flame-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

/// The SVG's total (pprof's report total) and the root frame's width (the value drawn).
fn svg_totals(svg: &str) -> (i64, i64) {
    let doc = roxmltree::Document::parse(svg).expect("SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let total = root
        .attribute("data-total")
        .and_then(|t| t.parse().ok())
        .expect("data-total");
    let first = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("f"))
        .expect("a frame");
    assert_eq!(
        first.attribute("data-d"),
        Some("0"),
        "first frame is the root"
    );
    (
        total,
        first
            .attribute("data-w")
            .and_then(|w| w.parse().ok())
            .expect("data-w"),
    )
}

#[test]
fn flame_totals_equal_top_totals_for_the_same_flags() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        (gotrace("cpu.pb.gz"), vec![]),
        (gotrace("heap.pb.gz"), vec!["--sample-index", "alloc_space"]),
        (
            gotrace("heap.pb.gz"),
            vec!["--sample-index", "inuse_objects", "--focus", "runtime"],
        ),
        (
            pprof("synthetic/cpu.pb.gz"),
            vec!["--hide", "line1000", "--ignore", "line3002"],
        ),
        (
            pprof("synthetic/heap.pb.gz"),
            vec!["--show", "line2", "--lines"],
        ),
        (
            pprof("synthetic/contention.pb.gz"),
            vec!["--sample-index", "delay"],
        ),
    ];
    for (file, flags) in cases {
        let mut top_args = vec![
            "top",
            "--format",
            "json",
            "--nodecount",
            "1000000",
            "--nodefraction",
            "0",
        ];
        top_args.extend(&flags);
        top_args.push(&file);
        let top: Value = serde_json::from_str(&culprit(&top_args)).expect("top JSON");
        let top_total = top["total"].as_i64().expect("total");
        let flat_sum: i64 = top["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["flat"].as_i64().expect("flat"))
            .sum();
        let mut flame_args = vec!["flame"];
        flame_args.extend(&flags);
        flame_args.push(&file);
        let svg = culprit(&flame_args);
        let (total, drawn) = svg_totals(&svg);
        assert_eq!(total, top_total, "total for {file} {flags:?}");
        assert_eq!(drawn, flat_sum, "value drawn for {file} {flags:?}");
        assert!(svg.contains("total "), "title names the total");
    }
}

#[test]
fn every_svg_is_xml_including_inverted_and_odd_names() {
    for entry in
        std::fs::read_dir(culprit_testkit::testdata().join("pprof/synthetic")).expect("synthetic")
    {
        let path = entry.expect("entry").path();
        if !path.to_string_lossy().ends_with(".pb.gz") {
            continue;
        }
        let p = path.display().to_string();
        svg_totals(&culprit(&["flame", &p]));
        svg_totals(&culprit(&["flame", "--inverted", &p]));
    }
    let folded = tmp("odd.folded");
    std::fs::write(
        &folded,
        "main;std::vector<int>::push_back(int&&) 3\nmain;a&b \"quoted\" <tag> 2\n",
    )
    .expect("write folded");
    let svg = culprit(&["flame", &folded.display().to_string()]);
    assert_eq!(svg_totals(&svg), (5, 5));
    assert!(svg.contains("std::vector&lt;int&gt;::push_back(int&amp;&amp;)"));
}

#[test]
fn folded_stacks_are_read_and_written_both_ways() {
    let folded = culprit(&["convert", "--to", "folded", &gotrace("cpu.pb.gz")]);
    let path = tmp("cpu.folded");
    std::fs::write(&path, &folded).expect("write folded");
    let from_folded = culprit(&["flame", &path.display().to_string()]);
    let from_proto = culprit(&["flame", &gotrace("cpu.pb.gz")]);
    // Same stacks, so the same drawn value (folded counts are the cpu nanoseconds).
    assert_eq!(svg_totals(&from_folded).1, svg_totals(&from_proto).1);
    let again = culprit(&["convert", "--to", "folded", &path.display().to_string()]);
    assert_eq!(again, folded, "folded -> profile -> folded is the identity");
}

fn frame_fills(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("XML");
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("f"))
        .filter_map(|g| g.children().find(|c| c.has_tag_name("rect")))
        .filter_map(|r| r.attribute("fill").map(str::to_owned))
        .collect()
}

#[test]
fn a_profile_against_itself_is_neutral() {
    let cpu = gotrace("cpu.pb.gz");
    let out = tmp("self-diff.svg");
    culprit(&[
        "flame",
        "--base",
        &cpu,
        &cpu,
        "-o",
        &out.display().to_string(),
    ]);
    let svg = std::fs::read_to_string(&out).expect("svg written");
    let fills = frame_fills(&svg);
    assert!(fills.len() > 20, "{} frames", fills.len());
    assert!(
        fills.iter().all(|f| f == "rgb(224,224,224)"),
        "non-neutral frame in a self-diff"
    );

    // Twice the samples in the same shape is still neutral: shares are compared.
    let doubled = frame_fills(&culprit(&["flame", "--base", &cpu, &cpu, &cpu]));
    assert!(
        doubled.iter().all(|f| f == "rgb(224,224,224)"),
        "doubling the profile coloured a frame"
    );

    let diff: Value = serde_json::from_str(&culprit(&["diff", "--format", "json", &cpu, &cpu]))
        .expect("diff JSON");
    assert_eq!(diff["before_total"], diff["after_total"]);
    assert_eq!(diff["grew"].as_array().map(Vec::len), Some(0));
    assert_eq!(diff["shrank"].as_array().map(Vec::len), Some(0));
}

#[test]
fn diff_names_growth_and_shrinkage_with_totals() {
    let before = tmp("before.folded");
    let after = tmp("after.folded");
    std::fs::write(
        &before,
        "main;main.serve;main.parse 50\nmain;main.serve;main.render 50\n",
    )
    .expect("before");
    std::fs::write(
        &after,
        "main;main.serve;main.parse 300\nmain;main.serve;main.render 100\n",
    )
    .expect("after");
    let (b, a) = (before.display().to_string(), after.display().to_string());
    let text = culprit(&["diff", &b, &a]);
    assert!(
        text.starts_with("samples: before 100 total, after 400 total (+300.0%)"),
        "{text}"
    );
    let grew = text.split("Shrank:").next().unwrap_or("");
    assert!(
        grew.contains("main.parse") && !grew.contains("main.render"),
        "{text}"
    );
    assert!(
        text.split("Shrank:")
            .nth(1)
            .is_some_and(|s| s.contains("main.render")),
        "{text}"
    );
    let svg = culprit(&["flame", "--base", &b, &a]);
    let doc = roxmltree::Document::parse(&svg).expect("XML");
    let fill_of = |name: &str| {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some("f"))
            .find(|g| {
                g.children().any(|c| {
                    c.has_tag_name("title")
                        && c.text()
                            .is_some_and(|t| t.starts_with(&format!("{name}\n")))
                })
            })
            .and_then(|g| g.children().find(|c| c.has_tag_name("rect")))
            .and_then(|r| r.attribute("fill"))
            .map(str::to_owned)
    };
    assert_eq!(fill_of("main.parse").as_deref(), Some("rgb(255,0,0)"));
    assert_eq!(fill_of("main.render").as_deref(), Some("rgb(0,0,255)"));
    assert_eq!(fill_of("main.serve").as_deref(), Some("rgb(224,224,224)"));
}

#[test]
fn flame_svg_runs_in_chromium() {
    let Some(chromium) = culprit_testkit::require_tool("chromium") else {
        return;
    };
    let out = web_support::artifacts().join("flame.svg");
    culprit(&[
        "flame",
        &gotrace("cpu.pb.gz"),
        "-o",
        &out.display().to_string(),
    ]);
    let mut b = web_support::Browser::launch(&chromium, 1200, 700);
    b.goto(&format!("file://{}", out.display()));
    b.wait_for("document.documentElement.flame");
    let frames = b
        .eval("document.querySelectorAll('g.f').length")
        .as_u64()
        .unwrap_or(0);
    assert!(frames > 20, "{frames} frames");
    let share = b
        .eval("document.documentElement.flame.search('runtime\\\\.')")
        .as_f64()
        .unwrap_or(-1.0);
    assert!(share > 0.0 && share <= 100.0, "matched share {share}");
    let matched = b.eval("document.querySelector('.matched').textContent");
    assert!(
        matched.as_str().is_some_and(|m| m.starts_with("Matched: ")),
        "{matched}"
    );
    b.screenshot(&web_support::artifacts().join("flame.png"));
    assert!(Path::new(&web_support::artifacts().join("flame.png")).is_file());
}
