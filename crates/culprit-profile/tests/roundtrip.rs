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
