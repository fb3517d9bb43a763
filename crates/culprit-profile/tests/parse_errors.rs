//! Bad input gets one clear error naming the problem and where it is, never a panic.

use std::path::PathBuf;

use culprit_profile::{ParseError, parse, proto};
use prost::Message;

fn testdata(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/pprof")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn err(data: &[u8]) -> String {
    match parse(data) {
        Ok(p) => panic!("parsed unexpectedly: {} samples", p.samples.len()),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "{msg:?} should mention {p:?}");
    }
}

#[test]
fn empty_input() {
    assert!(matches!(parse(b""), Err(ParseError::Empty)));
}

#[test]
fn truncated_gzip() {
    let gz = testdata("synthetic/cpu.pb.gz");
    assert_mentions(&err(&gz[..gz.len() / 2]), &["gzip"]);
    assert_mentions(&err(&gz[..3]), &["gzip"]);
}

#[test]
fn plain_text_is_not_a_profile() {
    let msg = err(b"hello, this is text\nand more text\n");
    assert_mentions(&msg, &["not a pprof profile", "not a legacy profile"]);
}

#[test]
fn absurd_length_is_refused_without_allocating() {
    // sample_type (field 1, length-delimited) claiming 4 GiB.
    let msg = err(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    assert_mentions(&msg, &["byte offset 1", "length 4294967295", "exceeds"]);
}

#[test]
fn malformed_varint_names_its_offset() {
    let msg = err(&[0x48, 0x80, 0x80]); // time_nanos, cut inside its varint
    assert_mentions(&msg, &["byte offset 1", "varint"]);
}

fn one_sample_profile() -> proto::Profile {
    proto::Profile {
        sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
        sample: vec![proto::Sample {
            location_id: vec![1],
            value: vec![5],
            label: vec![],
        }],
        location: vec![proto::Location {
            id: 1,
            mapping_id: 0,
            address: 0x10,
            line: vec![proto::Line {
                function_id: 1,
                line: 3,
                column: 0,
            }],
            is_folded: false,
        }],
        function: vec![proto::Function {
            id: 1,
            name: 3,
            ..Default::default()
        }],
        string_table: vec!["".into(), "cpu".into(), "ns".into(), "main".into()],
        ..Default::default()
    }
}

#[test]
fn the_fixture_itself_parses() {
    let p = parse(&one_sample_profile().encode_to_vec()).expect("valid");
    assert_eq!(p.samples[0].values, vec![5]);
}

#[test]
fn ids_that_point_nowhere() {
    let mut m = one_sample_profile();
    m.sample[0].location_id = vec![7];
    assert_mentions(
        &err(&m.encode_to_vec()),
        &["sample #0", "location 7", "does not exist"],
    );

    let mut m = one_sample_profile();
    m.location[0].line[0].function_id = 9;
    assert_mentions(&err(&m.encode_to_vec()), &["location 1", "function 9"]);

    let mut m = one_sample_profile();
    m.location[0].mapping_id = 4;
    assert_mentions(&err(&m.encode_to_vec()), &["mapping 4"]);

    let mut m = one_sample_profile();
    m.function[0].name = 99;
    assert_mentions(
        &err(&m.encode_to_vec()),
        &["function name", "string 99", "4 entries"],
    );

    let mut m = one_sample_profile();
    m.location.push(m.location[0].clone());
    assert_mentions(&err(&m.encode_to_vec()), &["location id 1 appears twice"]);
}

#[test]
fn sample_values_must_match_sample_types() {
    let mut m = one_sample_profile();
    m.sample[0].value = vec![1, 2];
    assert_mentions(
        &err(&m.encode_to_vec()),
        &["sample #0 has 2 values", "1 sample types"],
    );
}

#[test]
fn concatenated_profiles_are_refused() {
    let mut a = one_sample_profile();
    a.time_nanos = 1;
    let mut bytes = a.encode_to_vec();
    bytes.extend(a.encode_to_vec());
    assert_mentions(&err(&bytes), &["concatenated"]);
}

#[test]
fn legacy_cpu_cut_mid_record() {
    let cpu = testdata("profile/testdata/cppbench.cpu");
    // Header (5 words), then the first record's count and depth and half its stack.
    let msg = err(&cpu[..5 * 8 + 2 * 8 + 3 * 8]);
    assert_mentions(&msg, &["byte offset 40", "depth", "words follow"]);
    let msg = err(&cpu[..5 * 8 + 4]);
    assert_mentions(&msg, &["byte offset 40", "cut short"]);
}

#[test]
fn legacy_text_errors_name_the_line() {
    let msg = err(b"heap profile: 1: 2 [3: 4] @ heapz_v2/524288\n1: 2 [3: 4] @ 0x1\n1: 2 [3\n");
    assert_mentions(&msg, &["line 3", "expected"]);
    let msg = err(b"goroutine profile: total 2\n1 @ 0x1 0x2\n1 @ zz\n");
    assert_mentions(&msg, &["line 3"]);
    let msg = err(b"heap profile: 1: 2 [3: 4] @ heapz_v2/524288\n0: 5 [0: 0] @ 0x1\n");
    assert_mentions(&msg, &["line 2", "inuse count was 0 but inuse bytes was 5"]);
}

#[test]
fn pprof_fuzz_regression_is_an_error() {
    let data = testdata("fuzz/testdata/7e3c92482f6f39fc502b822ded792c589849cca8");
    assert_mentions(&err(&data), &["second value must be non-zero"]);
}
