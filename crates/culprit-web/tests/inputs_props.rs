//! Properties of input recognition: any bytes give a value or a one-line error naming
//! the file, never a panic; a damaged line of a real series is reported by its number.

use std::path::Path;

use culprit_web::{InputError, inputs};
use proptest::prelude::*;

fn series_lines() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/watch-go.jsonl");
    std::fs::read_to_string(path)
        .expect("fixture")
        .lines()
        .map(str::to_owned)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_classify_or_fail_naming_the_file(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = inputs::classify("in.bin", &data) {
            let msg = e.to_string();
            prop_assert!(msg.starts_with("in.bin: "), "{}", msg);
            prop_assert!(!msg.contains('\n'), "{}", msg);
        }
    }

    #[test]
    fn text_that_looks_like_json_lines_never_panics(text in "\\{[ -~\n]{0,300}") {
        let _ = inputs::classify("in.jsonl", text.as_bytes());
    }

    #[test]
    fn a_damaged_series_line_is_named(pick in any::<prop::sample::Index>(), cut in 1usize..40) {
        let mut lines = series_lines();
        let i = pick.index(lines.len());
        let keep = lines[i].len().saturating_sub(cut);
        lines[i].truncate(keep);
        match inputs::classify("s.jsonl", lines.join("\n").as_bytes()) {
            Err(InputError::Series { line, .. }) => prop_assert_eq!(line, i + 1),
            Err(e) => prop_assert!(false, "unexpected error {}", e),
            Ok(_) => prop_assert!(false, "a truncated line parsed"),
        }
    }
}
