//! Every gzipped proto in the shared test data decodes, and encoding then decoding it
//! gives back the same model.

use std::path::PathBuf;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pprof")
}

#[test]
fn proto_files_round_trip() {
    let mut n = 0;
    for dir in ["synthetic", "internal/driver/testdata"] {
        for entry in std::fs::read_dir(testdata().join(dir)).expect("testdata present") {
            let path = entry.expect("dir entry").path();
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if !culprit_profile::codec::is_gzip(&bytes) {
                continue;
            }
            let p = culprit_profile::parse(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let again = culprit_profile::parse(&culprit_profile::encode_gzip(&p))
                .unwrap_or_else(|e| panic!("{} re-read: {e}", path.display()));
            assert_eq!(p, again, "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} proto files found");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(matches!(
        culprit_profile::parse(b""),
        Err(culprit_profile::ParseError::Empty)
    ));
    let good = std::fs::read(testdata().join("synthetic/cpu.pb.gz")).expect("cpu.pb.gz");
    let err = culprit_profile::parse(&good[..good.len() / 2]).expect_err("truncated gzip");
    assert!(err.to_string().contains("gzip"), "{err}");
    assert!(culprit_profile::parse(b"hello, this is text\n").is_err());
}

/// A profile with enough samples that they are decoded on two threads, each with labels,
/// so both halves share strings from one table.
fn many_samples(n: usize) -> culprit_profile::Profile {
    let bytes = std::fs::read(testdata().join("synthetic/cpu.pb.gz")).expect("cpu.pb.gz");
    let mut p = culprit_profile::parse(&bytes).expect("cpu.pb.gz parses");
    let template = p.samples.clone();
    assert!(!template.is_empty());
    p.samples = (0..n)
        .map(|i| {
            let mut s = template[i % template.len()].clone();
            s.values.iter_mut().for_each(|v| *v += i as i64);
            s.labels
                .push(("worker".into(), format!("w{}", i % 7).into()));
            s.num_labels.push(culprit_profile::NumLabel {
                key: "bytes".into(),
                value: i as i64,
                unit: "bytes".into(),
            });
            s
        })
        .collect();
    p
}

#[test]
fn many_samples_decode_in_order() {
    let p = many_samples(150_000);
    let again = culprit_profile::parse(&culprit_profile::encode_gzip(&p)).expect("re-read");
    assert_eq!(p, again);
}

#[test]
fn a_bad_sample_late_in_a_large_profile_is_named() {
    let mut p = many_samples(150_000);
    p.samples[120_000].values.push(1);
    let err = culprit_profile::parse(&culprit_profile::encode_gzip(&p)).expect_err("bad sample");
    assert!(err.to_string().contains("sample #120000 has"), "{err}");
}
