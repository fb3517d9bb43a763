//! Property tests of the decoder: generated profiles survive encode → decode unchanged,
//! the streaming decoder agrees with prost's, and no input makes parsing panic.

use std::path::PathBuf;

use culprit_profile::codec::{decode_proto, decode_proto_prost, encode_raw};
use culprit_profile::*;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,6}",
        "[a-zA-Z0-9_./:é -]{0,12}",
    ]
}

fn nonempty() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,5}"
}

/// Ids for `n` objects: dense 1..=n most of the time, otherwise sparse and shuffled.
fn ids(n: usize) -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        Just((1..=n as u64).collect::<Vec<_>>()),
        Just((0..n as u64).map(|i| i * 7919 + 1_000_003).rev().collect()),
        Just((0..n as u64).map(|i| u64::MAX - i).collect()),
    ]
}

fn profile() -> impl Strategy<Value = Profile> {
    (0usize..4, 0usize..6, 0usize..12, 1usize..4).prop_flat_map(|(nm, nf, nl, nt)| {
        let mappings = (
            proptest::collection::vec(
                (
                    any::<u64>(),
                    any::<u64>(),
                    any::<u64>(),
                    name(),
                    name(),
                    any::<[bool; 4]>(),
                ),
                nm,
            ),
            ids(nm),
        )
            .prop_map(|(ms, ids)| {
                ms.into_iter()
                    .zip(ids)
                    .map(|((s, l, o, file, build_id, f), id)| Mapping {
                        id,
                        memory_start: s,
                        memory_limit: l,
                        file_offset: o,
                        file,
                        build_id,
                        has_functions: f[0],
                        has_filenames: f[1],
                        has_line_numbers: f[2],
                        has_inline_frames: f[3],
                    })
                    .collect::<Vec<_>>()
            });
        let functions = (
            proptest::collection::vec((name(), name(), name(), any::<i64>()), nf),
            ids(nf),
        )
            .prop_map(|(fs, ids)| {
                fs.into_iter()
                    .zip(ids)
                    .map(|((name, system_name, filename, start_line), id)| Function {
                        id,
                        name,
                        system_name,
                        filename,
                        start_line,
                    })
                    .collect::<Vec<_>>()
            });
        let line = (
            proptest::option::of(0..nf.max(1) as u32),
            any::<i64>(),
            any::<i64>(),
        )
            .prop_map(move |(f, line, column)| Line {
                function: if nf == 0 { None } else { f },
                line,
                column,
            });
        let locations = (
            proptest::collection::vec(
                (
                    proptest::option::of(0..nm.max(1) as u32),
                    any::<u64>(),
                    proptest::collection::vec(line, 0..3),
                    any::<bool>(),
                ),
                nl,
            ),
            ids(nl),
        )
            .prop_map(move |(ls, ids)| {
                ls.into_iter()
                    .zip(ids)
                    .map(|((m, address, lines, is_folded), id)| Location {
                        id,
                        mapping: if nm == 0 { None } else { m },
                        address,
                        lines,
                        is_folded,
                    })
                    .collect::<Vec<_>>()
            });
        let sample = (
            proptest::collection::vec(0..nl.max(1) as u32, if nl == 0 { 0..1 } else { 0..8 }),
            proptest::collection::vec(any::<i64>(), nt),
            proptest::collection::vec((nonempty(), nonempty()), 0..3),
            proptest::collection::vec((nonempty(), any::<i64>(), name()), 0..3),
        )
            .prop_map(|(locations, values, labels, nums)| Sample {
                locations,
                values,
                labels: labels
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
                num_labels: nums
                    .into_iter()
                    // pprof drops a numeric label with neither value nor unit.
                    .filter(|(_, v, u)| *v != 0 || !u.is_empty())
                    .map(|(k, value, u)| NumLabel {
                        key: k.into(),
                        value,
                        unit: u.into(),
                    })
                    .collect(),
            });
        (
            mappings,
            functions,
            locations,
            proptest::collection::vec(sample, 0..6),
            proptest::collection::vec((name(), name()), nt),
            (
                name(),
                name(),
                name(),
                name(),
                proptest::collection::vec(name(), 0..3),
            ),
            (
                any::<i64>(),
                any::<i64>(),
                any::<i64>(),
                proptest::option::of((name(), name())),
            ),
        )
            .prop_map(
                |(mappings, functions, locations, samples, types, strs, nums)| {
                    let (default_sample_type, drop_frames, keep_frames, doc_url, comments) = strs;
                    let (time_nanos, duration_nanos, period, pt) = nums;
                    Profile {
                        sample_type: types
                            .into_iter()
                            .map(|(k, u)| ValueType::new(k, u))
                            .collect(),
                        default_sample_type,
                        samples,
                        mappings,
                        locations,
                        functions,
                        drop_frames,
                        keep_frames,
                        time_nanos,
                        duration_nanos,
                        period_type: pt.map(|(k, u)| ValueType::new(k, u)),
                        period,
                        comments,
                        doc_url,
                    }
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_then_decode_is_identity(p in profile()) {
        let again = parse(&encode_gzip(&p)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, &p);
    }

    #[test]
    fn streaming_decoder_agrees_with_prost(p in profile()) {
        let raw = encode_raw(&p);
        let fast = decode_proto(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let reference = decode_proto_prost(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(fast, reference);
    }

    #[test]
    fn mutated_protos_never_panic(p in profile(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut raw = encode_raw(&p);
        if !raw.is_empty() {
            for (i, b) in flips {
                let at = i.index(raw.len());
                raw[at] = b;
            }
        }
        let _ = parse(&raw);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&data);
    }

    #[test]
    fn legacy_looking_text_never_panics(
        head in prop_oneof![
            Just("heap profile: 1: 2 [3: 4] @ heapz_v2/524288\n"),
            Just("heap profile: 1: 2 [3: 4] @ heap/1048576\n"),
            Just("heap profile: 1: 2 [3: 4] @ growthz\n"),
            Just("--- contentionz 1 ---\ncycles/second = 2000000000\nsampling period = 100\n"),
            Just("--- threadz 1 ---\n\n--- Thread 7f (name: main/1) stack: ---\n"),
            Just("goroutine profile: total 3\n"),
            Just("--- heapz 1 ---\nformat = java\nresolution = bytes\n"),
            Just("--- contentionz 1 ---\nformat = java\nsampling period = 10\n"),
        ],
        body in proptest::collection::vec(prop_oneof![
            Just("1: 2 [3: 4] @ 0x1 0x2\n".to_string()),
            Just("10 20 @ 0x10 0x20\n".to_string()),
            Just("--- Memory map: ---\n".to_string()),
            Just("00400000-00500000 r-xp 00000000 00:00 0 /bin/x\n".to_string()),
            Just("  PC: 0x40 0x50\n".to_string()),
            Just("0x1 main (Main.java:3)\n".to_string()),
            "[ -~]{0,30}\n",
        ], 0..8),
    ) {
        let text = format!("{head}{}", body.concat());
        let _ = parse(text.as_bytes());
    }
}

fn pprof_testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pprof")
}

/// Every real profile, cut at many points (compressed and uncompressed), fails cleanly or
/// parses; it never panics.
#[test]
fn truncated_real_files_never_panic() {
    let mut files = Vec::new();
    for dir in ["profile/testdata", "internal/driver/testdata", "synthetic"] {
        for e in std::fs::read_dir(pprof_testdata().join(dir)).expect("testdata present") {
            let path = e.expect("dir entry").path();
            let is_golden = path.extension().is_some_and(|x| x == "string")
                || path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("pprof."));
            if path.is_file() && !is_golden {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 20);
    for path in files {
        let bytes = std::fs::read(&path).expect("read");
        let mut variants = vec![bytes.clone()];
        if codec::is_gzip(&bytes)
            && let Ok(raw) = codec::gunzip(&bytes)
        {
            variants.push(raw);
        }
        for data in variants {
            let step = (data.len() / 97).max(1);
            for cut in (0..data.len()).step_by(step) {
                let _ = parse(&data[..cut]);
            }
        }
    }
}
