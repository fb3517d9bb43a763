//! pprof's parser goldens: for every input in `profile/testdata`, the text dump of the
//! parsed profile equals `<input>.string` byte for byte, and stays equal after encoding to
//! gzipped proto and parsing again. Inputs that do not match must be listed, with the
//! reason, in `docs/pprof-compat-parse.md`.

use std::path::PathBuf;

use culprit_profile::{encode_gzip, parse, text};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/pprof/profile/testdata")
}

fn listed_exceptions() -> String {
    let doc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/pprof-compat-parse.md");
    std::fs::read_to_string(doc).unwrap_or_default()
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  want {w:?}\n  got  {g:?}", i + 1);
        }
    }
    format!(
        "lengths differ: want {} lines, got {}",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn parsed_profiles_match_pprof_string_goldens() {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("pprof testdata present")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_none_or(|e| e != "string"))
        .collect();
    inputs.sort();
    let exceptions = listed_exceptions();
    let (mut matched, mut failures) = (0, Vec::new());
    for input in &inputs {
        let name = input
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let golden = input.with_file_name(format!("{name}.string"));
        let Ok(want) = std::fs::read_to_string(&golden) else {
            continue;
        };
        let outcome = (|| -> Result<(), String> {
            let bytes = std::fs::read(input).map_err(|e| e.to_string())?;
            let p = parse(&bytes).map_err(|e| format!("parse: {e}"))?;
            let got = text::to_string(&p);
            if got != want {
                return Err(first_difference(&want, &got));
            }
            let again = parse(&encode_gzip(&p)).map_err(|e| format!("re-parse: {e}"))?;
            let got = text::to_string(&again);
            if got != want {
                return Err(format!(
                    "after re-encoding, {}",
                    first_difference(&want, &got)
                ));
            }
            Ok(())
        })();
        match outcome {
            Ok(()) => matched += 1,
            Err(why) => {
                let listed = exceptions.contains(&format!("`{name}`"));
                eprintln!(
                    "{name}: {}MISMATCH: {why}",
                    if listed { "listed " } else { "" }
                );
                if !listed {
                    failures.push(name);
                }
            }
        }
    }
    let total = inputs
        .iter()
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            p.with_file_name(format!("{n}.string")).exists()
        })
        .count();
    println!("{matched} matched of {total}");
    assert!(total >= 11, "only {total} goldens found");
    assert!(failures.is_empty(), "unlisted mismatches: {failures:?}");
}
