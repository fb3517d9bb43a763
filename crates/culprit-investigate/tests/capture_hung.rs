//! A capture against a service whose heap endpoint hangs: that capture times out with a
//! clear message and every other capture still completes.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use culprit_investigate::capture::{ClientOptions, Endpoint};
use culprit_investigate::session::{Kind, Plan, Session};
use culprit_profile::{Function, Line, Location, Profile, Sample, ValueType};

fn goroutine_profile() -> Vec<u8> {
    let p = Profile {
        sample_type: vec![ValueType::new("goroutine", "count")],
        functions: vec![Function {
            id: 1,
            name: "main.main".into(),
            ..Function::default()
        }],
        locations: vec![Location {
            id: 1,
            lines: vec![Line {
                function: Some(0),
                line: 1,
                column: 0,
            }],
            ..Location::default()
        }],
        samples: vec![Sample {
            locations: vec![0],
            values: vec![3],
            ..Sample::default()
        }],
        ..Profile::default()
    };
    culprit_profile::encode_gzip(&p)
}

/// Serves goroutine profiles; `/debug/pprof/heap` reads the request and never answers.
fn hanging_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                if first.contains("/debug/pprof/heap") {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                let body = if first.contains("debug=2") {
                    b"goroutine 1 [running]:\nmain.main()\n\t/x/main.go:1 +0x1\n".to_vec()
                } else {
                    goroutine_profile()
                };
                let mut out = stream;
                let _ = write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = out.write_all(&body);
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn hung_endpoint_times_out_and_the_rest_completes() {
    let url = hanging_server();
    let dir = std::env::temp_dir().join(format!("culprit-capture-hung-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let ep = Endpoint::new(
        &url,
        ClientOptions {
            timeout: Duration::from_secs(1),
            ..ClientOptions::default()
        },
    )
    .expect("endpoint");
    let session = Session::new(
        ep,
        &dir,
        Instant::now(),
        Arc::new(AtomicBool::new(false)),
        Box::new(|_: &str| {}),
    );
    session.run(&Plan {
        kinds: vec![Kind::Heap, Kind::Goroutine],
        start: Duration::ZERO,
        window: Duration::from_secs(1),
        cpu_chunk: Duration::from_secs(1),
        goroutine_snapshots: 1,
    });
    // No wall-clock assertion (a loaded machine slows everything): a client that waited
    // the hang out sees the server close the connection after 30 s, a request error, not
    // this timeout.
    let artifacts = session.artifacts();
    let heap = artifacts
        .iter()
        .find(|a| a.kind == "heap")
        .expect("heap attempt");
    let msg = heap.error.as_deref().expect("heap failed");
    assert!(
        msg.contains("/debug/pprof/heap") && msg.contains("no answer within 1s"),
        "{msg}"
    );
    assert!(dir.join("goroutine.pb.gz").is_file(), "{artifacts:#?}");
    assert!(dir.join("goroutines.txt").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
