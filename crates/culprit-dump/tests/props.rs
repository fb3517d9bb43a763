//! Property tests: no input makes the parsers panic, damage loses only what it touches,
//! and log lines interleaved anywhere change nothing but the skipped list.

use culprit_dump::{Filter, GroupOptions, Snapshot, group, parse, render};
use proptest::prelude::*;

fn fixture(rel: &str) -> String {
    let path = culprit_testkit::testdata().join("goroutines").join(rel);
    std::fs::read_to_string(&path).unwrap()
}

/// Fixture-based cases parse a whole capture (unoptimised in tests): fewer of them keeps
/// the suite fast; the generated-text cases above run many more.
fn fixture_cases() -> ProptestConfig {
    ProptestConfig::with_cases(48)
}

/// Parse, group and render: the whole path a command takes.
fn exercise(bytes: &[u8]) -> Option<Snapshot> {
    let snap = parse(bytes).ok()?;
    for exact_args in [false, true] {
        let g = group(
            &snap,
            &Filter::default(),
            &GroupOptions {
                exact_args,
                by_labels: false,
            },
        );
        let _ = render::text(&g, render::Noun::GOROUTINES);
        let _ = render::json(&g);
    }
    let _ = render::skipped_text(&snap);
    Some(snap)
}

fn dump_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "goroutine [0-9]{1,4} \\[[a-z ,0-9]{0,30}\\]:",
        "goroutine [0-9]{0,3}[ \\[]{0,2}",
        "[a-z./()*]{1,30}\\([0-9a-fx?, .{}]{0,20}\\)",
        "\t/[a-z/]{1,20}\\.go:[0-9]{1,4}( \\+0x[0-9a-f]{1,4})?( fp=0x1 sp=0x2 pc=0x3)?",
        "created by [a-z.]{1,20}( in goroutine [0-9]{1,3})?",
        "\\.\\.\\.additional frames elided\\.\\.\\.",
        "[a-z]{2,4} +0x[0-9a-f]{1,8}",
        "(panic|fatal error|SIGQUIT): [a-z ]{0,20}",
        "goroutine profile: total [0-9]{1,3}",
        "[0-9]{1,3} @( 0x[0-9a-f]{1,6}){0,4}",
        "#\t0x[0-9a-f]{1,6}\t[a-z.]{1,10}\\+0x[0-9a-f]{1,3}\t/[a-z]{1,5}\\.go:[0-9]{1,3}",
        "# labels: \\{\"[a-z]{1,3}\":\"[a-z]{0,3}\"\\}",
        "==================",
        "",
        ".{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&bytes);
    }

    #[test]
    fn dump_shaped_text_never_panics(lines in proptest::collection::vec(dump_line(), 0..80)) {
        exercise(lines.join("\n").as_bytes());
    }
}

proptest! {
    #![proptest_config(fixture_cases())]

    #[test]
    fn removing_lines_only_loses_goroutines(
        which in prop_oneof![
            Just("sigquit-all-70s/goroutine-debug2.txt"),
            Just("sigquit-all-70s/sigquit-stderr.txt"),
            Just("sigquit-all-70s/goroutine-debug1.txt"),
            Just("panic-all/panic-stderr.txt"),
        ],
        drop in proptest::collection::vec(any::<prop::sample::Index>(), 1..40),
    ) {
        let text = fixture(which);
        let full = exercise(text.as_bytes()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        for i in drop {
            if !lines.is_empty() {
                lines.remove(i.index(lines.len()));
            }
        }
        if let Some(damaged) = exercise(lines.join("\n").as_bytes()) {
            // A lost header line can merge nothing new: at most as many goroutines, plus
            // the lost lines show up as skipped or the goroutine disappears.
            prop_assert!(damaged.total() <= full.total());
        }
    }

    #[test]
    fn truncation_anywhere_parses_a_prefix(
        which in prop_oneof![
            Just("sigquit-all-70s/goroutine-debug2.txt"),
            Just("sigabrt-all/sigabrt-stderr.txt"),
        ],
        cut in any::<prop::sample::Index>(),
    ) {
        let text = fixture(which);
        let full = exercise(text.as_bytes()).unwrap();
        let at = cut.index(text.len());
        let cut_text = text.get(..at).unwrap_or("");
        if let Some(prefix) = exercise(cut_text.as_bytes()) {
            prop_assert!(prefix.total() <= full.total());
            // Every goroutine whose header made it in is there.
            let headers = cut_text.lines().filter(|l| l.starts_with("goroutine ") && l.ends_with("]:")).count();
            prop_assert_eq!(prefix.tasks.len(), headers);
        }
    }

    #[test]
    fn interleaved_log_lines_change_only_skipped(
        positions in proptest::collection::vec(any::<prop::sample::Index>(), 1..30),
        msg in "[0-9]{2}:[0-9]{2}:[0-9]{2} [A-Za-z]{1,8} [a-z ]{0,20}",
    ) {
        let text = fixture("sigquit-all-70s/goroutine-debug2.txt");
        let clean = parse(text.as_bytes()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let n = positions.len();
        for p in positions {
            // Never between a blank separator and nothing: anywhere is fine.
            lines.insert(p.index(lines.len() + 1), &msg);
        }
        let noisy = parse(lines.join("\n").as_bytes()).unwrap();
        let opts = GroupOptions::default();
        prop_assert_eq!(
            group(&clean, &Filter::default(), &opts),
            group(&noisy, &Filter::default(), &opts)
        );
        let skipped: usize = noisy.skipped.iter().map(|s| s.last_line + 1 - s.first_line).sum();
        prop_assert_eq!(skipped, n);
    }
}
