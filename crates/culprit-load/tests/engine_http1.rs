//! The plain-HTTP/1.1 event loop against a hand-written server whose misbehaviour is under
//! the test's control: connections closed after every response although the response
//! says keep-alive, chunked and close-delimited bodies, HEAD, body limits, and
//! `Connection: close` attacks. Every hit must come back, with the right status and size.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use culprit_load::attack::{Config, run};
use culprit_load::pacer::Pacer;
use culprit_load::rate::Rate;
use culprit_load::results::HitResult;
use culprit_load::targets;

/// What the server did: connections accepted.
struct Server {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

/// Serves requests on loopback until the test process ends; replies by path.
fn serve() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::Relaxed);
            std::thread::spawn(move || connection(stream));
        }
    });
    Server { port, accepted }
}

fn connection(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let body = match path {
            // Says keep-alive, then closes: the client must notice and reconnect.
            "/closing" => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_string(),
            "/chunked" => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n".to_string(),
            "/until-close" => "HTTP/1.0 200 OK\r\n\r\n0123456789".to_string(),
            "/big" => format!("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{}", "z".repeat(100_000)),
            _ if method == "HEAD" => "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n".to_string(),
            _ => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_string(),
        };
        if out.write_all(body.as_bytes()).is_err() {
            return;
        }
        if path == "/closing" || path == "/until-close" || request_line.is_empty() {
            return;
        }
    }
}

/// Attacks `targets` (Vegeta's http format) at 200/s for `hits` hits.
fn attack(targets: &str, hits: u64, tune: impl FnOnce(&mut Config)) -> Vec<HitResult> {
    let targets = targets::parse(
        targets,
        targets::Format::Http,
        &Default::default(),
        &mut |p| std::fs::read(p),
    )
    .unwrap_or_else(|e| panic!("targets: {e}"));
    let mut config = Config {
        pacer: Pacer::Constant(Rate::per_second(200)),
        duration: Some(Duration::from_millis(hits * 5)),
        workers: 2,
        max_workers: 4,
        timeout: Duration::from_secs(10),
        ..Config::default()
    };
    tune(&mut config);
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let got = got.clone();
        move |batch: &[HitResult]| -> std::io::Result<()> {
            got.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(batch);
            Ok(())
        }
    };
    run(config, targets, Box::new(sink)).unwrap_or_else(|e| panic!("attack: {e}"));
    let mut got = std::mem::take(&mut *got.lock().unwrap_or_else(|e| e.into_inner()));
    got.sort_by_key(|r| r.seq);
    got
}

fn summary(results: &[HitResult]) -> Vec<(u16, u64, Option<String>)> {
    results
        .iter()
        .map(|r| (r.status, r.bytes_in, r.error.clone()))
        .collect()
}

#[test]
fn connections_the_server_closes_are_replaced_without_failed_hits() {
    let s = serve();
    let got = attack(
        &format!("GET http://127.0.0.1:{}/closing\n", s.port),
        40,
        |_| {},
    );
    assert_eq!(got.len(), 40);
    assert!(
        summary(&got).iter().all(|r| *r == (200, 5, None)),
        "{:?}",
        summary(&got)
    );
    // One connection per hit: none was used twice.
    assert!(s.accepted.load(Ordering::Relaxed) >= 40);
}

#[test]
fn bodies_of_every_framing_are_counted() {
    let s = serve();
    let p = s.port;
    let targets = format!(
        "GET http://127.0.0.1:{p}/chunked\n\nGET http://127.0.0.1:{p}/until-close\n\nHEAD http://127.0.0.1:{p}/\n\nGET http://127.0.0.1:{p}/big\n\nGET http://127.0.0.1:{p}/\n"
    );
    let got = attack(&targets, 20, |_| {});
    assert_eq!(got.len(), 20);
    let expected = [(200, 7), (200, 10), (200, 0), (200, 100_000), (200, 2)];
    for r in &got {
        let want = expected[r.target as usize];
        assert_eq!(
            (r.status, r.bytes_in, r.error.as_deref()),
            (want.0, want.1, None),
            "{r:?}"
        );
    }
}

#[test]
fn a_body_limit_cuts_reading_and_keepalive_off_reconnects_every_hit() {
    let s = serve();
    let big = format!("GET http://127.0.0.1:{}/big\n", s.port);
    let got = attack(&big, 10, |c| c.max_body = Some(1000));
    assert!(summary(&got).iter().all(|r| *r == (200, 1000, None)));

    let s = serve();
    let plain = format!("GET http://127.0.0.1:{}/\n", s.port);
    let got = attack(&plain, 20, |c| c.keepalive = false);
    assert!(summary(&got).iter().all(|r| *r == (200, 2, None)));
    assert_eq!(s.accepted.load(Ordering::Relaxed), 20);
}

#[test]
fn refused_connections_fail_every_hit_with_the_address() {
    // A port bound by a socket that never listens, held so nothing else takes it.
    let held = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .unwrap_or_else(|e| panic!("socket: {e}"));
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    held.bind(&any.into())
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let port = held
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map_or(0, |a| a.port());
    let got = attack(&format!("GET http://127.0.0.1:{port}/\n"), 10, |_| {});
    assert_eq!(got.len(), 10);
    for r in &got {
        let e = r.error.as_deref().unwrap_or("");
        assert!(
            e.contains(&format!("dial tcp 127.0.0.1:{port}: connect:")) && e.contains("refused"),
            "{e}"
        );
    }
}

#[test]
fn connections_opened_before_the_start_and_closed_by_the_server_are_replaced() {
    // The first connections (those the engine opens before its clock starts) are closed
    // by the server as soon as it accepts them; later ones are served.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().flatten().enumerate() {
            if n >= 2 {
                std::thread::spawn(move || connection(stream));
            }
        }
    });
    let got = attack(&format!("GET http://127.0.0.1:{port}/\n"), 20, |_| {});
    assert_eq!(got.len(), 20);
    assert!(
        summary(&got).iter().all(|r| *r == (200, 2, None)),
        "{:?}",
        summary(&got)
    );
}
