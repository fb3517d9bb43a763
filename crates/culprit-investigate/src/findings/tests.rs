use culprit_profile::{Function, Line, Location, Profile, Sample, ValueType};

use super::*;

/// A profile from (stack leaf-first, values) rows.
fn profile(types: &[(&str, &str)], rows: &[(&[&str], &[i64])]) -> Profile {
    let mut p = Profile {
        sample_type: types.iter().map(|(k, u)| ValueType::new(*k, *u)).collect(),
        ..Profile::default()
    };
    let mut ids = std::collections::HashMap::new();
    for (stack, values) in rows {
        let mut locs = Vec::new();
        for name in *stack {
            let next = p.functions.len() as u32;
            let fi = *ids.entry(name.to_string()).or_insert_with(|| {
                p.functions.push(Function {
                    id: u64::from(next) + 1,
                    name: name.to_string(),
                    ..Function::default()
                });
                p.locations.push(Location {
                    id: u64::from(next) + 1,
                    lines: vec![Line {
                        function: Some(next),
                        line: 1,
                        column: 0,
                    }],
                    ..Location::default()
                });
                next
            });
            locs.push(fi);
        }
        p.samples.push(Sample {
            locations: locs,
            values: values.to_vec(),
            ..Sample::default()
        });
    }
    p
}

const CPU: &[(&str, &str)] = &[("samples", "count"), ("cpu", "nanoseconds")];
const ALLOCS: &[(&str, &str)] = &[
    ("alloc_objects", "count"),
    ("alloc_space", "bytes"),
    ("inuse_objects", "count"),
    ("inuse_space", "bytes"),
];

#[test]
fn tls_churn_ranks_first_with_connections_per_request() {
    let cpu = profile(
        CPU,
        &[
            (
                &[
                    "crypto/x509.parseCertificate",
                    "crypto/x509.ParseCertificate",
                    "crypto/x509.(*CertPool).AppendCertsFromPEM",
                    "main.newUpstreamClient",
                    "main.handler",
                    "net/http.(*conn).serve",
                    "runtime.goexit",
                ],
                &[40, 400],
            ),
            (
                &[
                    "crypto/internal/nistec.p256Mul",
                    "crypto/tls.(*Conn).clientHandshake",
                    "crypto/tls.(*Conn).handshakeContext",
                    "net/http.(*persistConn).addTLS.func2",
                    "runtime.goexit",
                ],
                &[30, 300],
            ),
            (
                &["main.render", "main.handler", "runtime.goexit"],
                &[30, 300],
            ),
        ],
    );
    let allocs = profile(
        ALLOCS,
        &[
            (
                &[
                    "bufio.NewReaderSize",
                    "net/http.(*Transport).dialConn",
                    "runtime.goexit",
                ],
                &[200, 800_000, 0, 0],
            ),
            (
                &[
                    "bufio.NewWriterSize",
                    "net/http.(*Transport).dialConn",
                    "runtime.goexit",
                ],
                &[200, 800_000, 0, 0],
            ),
        ],
    );
    let load = LoadSummary {
        requests: 200,
        errors: 0,
        mean_latency: 0.01,
    };
    let f = analyze(&Inputs {
        cpu: Some(&cpu),
        allocs: Some(&allocs),
        window_secs: 2.0,
        load: Some(&load),
        ..Inputs::default()
    });
    assert_eq!(f[0].kind, "tls-handshake-churn", "{f:#?}");
    assert!((f[0].score - 0.7).abs() < 1e-9);
    assert!(
        f[0].functions
            .contains(&"main.newUpstreamClient".to_string())
    );
    assert!(
        f[0].title.contains("1.0 new connections per request"),
        "{}",
        f[0].title
    );
}

#[test]
fn allocation_churn_names_the_constructor_and_its_caller() {
    let allocs = profile(
        ALLOCS,
        &[
            (
                &[
                    "compress/flate.(*compressor).init",
                    "compress/flate.NewWriter",
                    "compress/gzip.(*Writer).Write",
                    "main.(*server).handle",
                    "net/http.(*conn).serve",
                    "runtime.goexit",
                ],
                &[1000, 900_000_000, 0, 0],
            ),
            (
                &["main.render", "main.(*server).handle", "runtime.goexit"],
                &[1000, 50_000_000, 0, 0],
            ),
        ],
    );
    let cpu = profile(
        CPU,
        &[
            (
                &[
                    "runtime.scanobject",
                    "runtime.gcBgMarkWorker",
                    "runtime.goexit",
                ],
                &[30, 30],
            ),
            (
                &[
                    "runtime.memclrNoHeapPointers",
                    "runtime.mallocgc",
                    "compress/flate.(*compressor).init",
                    "compress/flate.NewWriter",
                    "runtime.goexit",
                ],
                &[30, 30],
            ),
            (&["main.render", "runtime.goexit"], &[40, 40]),
        ],
    );
    let f = analyze(&Inputs {
        cpu: Some(&cpu),
        allocs: Some(&allocs),
        window_secs: 10.0,
        ..Inputs::default()
    });
    assert_eq!(f[0].kind, "allocation-churn", "{f:#?}");
    assert_eq!(f[0].functions[0], "compress/flate.NewWriter");
    assert!(
        f[0].functions
            .contains(&"main.(*server).handle".to_string())
    );
    // The same shares at under 1 MB/s (a near-idle fixed service) are no churn.
    let slow = analyze(&Inputs {
        cpu: Some(&cpu),
        allocs: Some(&allocs),
        window_secs: 1000.0,
        ..Inputs::default()
    });
    assert!(
        slow.iter().all(|f| f.kind != "allocation-churn"),
        "{slow:#?}"
    );
}

#[test]
fn lock_queue_from_goroutines_and_mutex_profile() {
    let g = profile(
        &[("goroutine", "count")],
        &[
            (
                &[
                    "runtime.gopark",
                    "sync.runtime_SemacquireMutex",
                    "sync.(*Mutex).lockSlow",
                    "sync.(*Mutex).Lock",
                    "main.(*queue).do",
                    "net/http.(*conn).serve",
                    "runtime.goexit",
                ],
                &[40],
            ),
            (&["time.Sleep", "main.(*queue).do", "runtime.goexit"], &[1]),
            (
                &[
                    "internal/poll.runtime_pollWait",
                    "net/http.(*conn).serve",
                    "runtime.goexit",
                ],
                &[100],
            ),
        ],
    );
    let m = profile(
        &[("contentions", "count"), ("delay", "nanoseconds")],
        &[(
            &["sync.(*Mutex).Unlock", "main.(*queue).do", "runtime.goexit"],
            &[500, 8_000_000_000],
        )],
    );
    let load = LoadSummary {
        requests: 500,
        errors: 0,
        mean_latency: 0.02,
    };
    let f = analyze(&Inputs {
        goroutines: Some(&g),
        mutex: Some(&m),
        window_secs: 5.0,
        load: Some(&load),
        ..Inputs::default()
    });
    assert_eq!(f[0].kind, "lock-contention", "{f:#?}");
    assert_eq!(f[0].functions[0], "sync.(*Mutex).Lock");
    assert_eq!(f[0].functions[1], "main.(*queue).do");
    assert!(f[0].score > 0.9);
}

#[test]
fn hot_path_for_native_stacks() {
    let cpu = profile(
        CPU,
        &[
            (
                &[
                    "core::str::parse",
                    "demo::Config::parse",
                    "demo::handle",
                    "std::thread::start",
                ],
                &[70, 7_000_000_000],
            ),
            (
                &["demo::write", "demo::handle", "std::thread::start"],
                &[30, 3_000_000_000],
            ),
        ],
    );
    let f = analyze(&Inputs {
        cpu: Some(&cpu),
        window_secs: 5.0,
        ..Inputs::default()
    });
    assert_eq!(f[0].kind, "hot-path", "{f:#?}");
    assert_eq!(f[0].functions[0], "demo::Config::parse");
}

#[test]
fn quiet_profiles_give_no_findings() {
    let cpu = profile(
        CPU,
        &[
            (&["a", "runtime.goexit"], &[10, 10]),
            (&["b", "runtime.goexit"], &[10, 10]),
            (&["c", "runtime.goexit"], &[10, 10]),
        ],
    );
    let f = analyze(&Inputs {
        cpu: Some(&cpu),
        window_secs: 1.0,
        ..Inputs::default()
    });
    assert!(f.is_empty(), "{f:#?}");
}
