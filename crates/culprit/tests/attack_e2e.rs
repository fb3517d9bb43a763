//! `culprit attack`, `report` and `plot` end to end against real servers on loopback that
//! this test starts: hyper over plain TCP, TLS (rcgen certificate), HTTP/2 (ALPN and h2c)
//! and a unix socket.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio_rustls::rustls;

const BIN: &str = env!("CARGO_BIN_EXE_culprit");

/// What the test server saw.
#[derive(Default)]
struct Seen {
    h1: AtomicU64,
    h2: AtomicU64,
    /// Unix ns of the first `/stall` request: the server stalls from 1 s to 2 s after it.
    stall_origin: Mutex<Option<(Instant, u64)>>,
}

async fn handle(
    req: Request<Incoming>,
    seen: Arc<Seen>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match req.version() {
        Version::HTTP_2 => seen.h2.fetch_add(1, Ordering::Relaxed),
        _ => seen.h1.fetch_add(1, Ordering::Relaxed),
    };
    let resp = |status: u16, body: &'static str| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap_or_default()
    };
    Ok(match req.uri().path() {
        "/500" => resp(500, "oops"),
        "/redirect" => Response::builder()
            .status(302)
            .header("location", "/")
            .body(Full::default())
            .unwrap_or_default(),
        "/loop" => Response::builder()
            .status(302)
            .header("location", "/loop")
            .body(Full::default())
            .unwrap_or_default(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            resp(200, "late")
        }
        "/stall" => {
            let origin = {
                let mut o = seen.stall_origin.lock().unwrap_or_else(|e| e.into_inner());
                *o.get_or_insert_with(|| (Instant::now(), unix_ns()))
            };
            let (from, to) = (
                origin.0 + Duration::from_secs(1),
                origin.0 + Duration::from_secs(2),
            );
            let now = Instant::now();
            if now >= from && now < to {
                tokio::time::sleep_until(to.into()).await;
            }
            resp(200, "ok")
        }
        _ => resp(200, "hello world"),
    })
}

fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A hyper server (HTTP/1.1 and HTTP/2, auto-detected) on its own runtime.
struct Server {
    addr: SocketAddr,
    seen: Arc<Seen>,
    _rt: tokio::runtime::Runtime,
}

fn serve_conn<IO>(io: IO, seen: Arc<Seen>)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let svc = hyper::service::service_fn(move |req| handle(req, seen.clone()));
        let _ = auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(io), svc)
            .await;
    });
}

fn server(tls: Option<Arc<rustls::ServerConfig>>) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    rt.spawn(async move {
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        while let Ok((stream, _)) = listener.accept().await {
            let seen = s.clone();
            match &acceptor {
                None => serve_conn(stream, seen),
                Some(acc) => {
                    let acc = acc.clone();
                    tokio::spawn(async move {
                        if let Ok(tls) = acc.accept(stream).await {
                            serve_conn(tls, seen);
                        }
                    });
                }
            }
        }
    });
    Server {
        addr,
        seen,
        _rt: rt,
    }
}

/// A certificate for `localhost`, written to `dir/cert.pem`, and a server config using it.
fn tls_config(dir: &Path) -> (PathBuf, Arc<rustls::ServerConfig>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
    let pem = dir.join("cert.pem");
    std::fs::write(&pem, ck.cert.pem()).expect("write cert");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .expect("server cert");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (pem, Arc::new(config))
}

/// A loopback port bound by a socket that never listens: connecting to it is refused, and
/// nothing else can take it while the socket lives.
fn unlistened_port() -> (socket2::Socket, u16) {
    let s =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
    s.bind(&any.into()).expect("bind");
    let port = s
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map_or(0, |a| a.port());
    (s, port)
}

fn tmp() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "culprit-attack-{}-{}",
        std::process::id(),
        unix_ns()
    ));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

/// Runs `culprit attack ARGS -o LOG` with `targets` on stdin.
fn attack(targets: &str, args: &[&str], log: &Path) -> Output {
    let mut child = Command::new(BIN)
        .arg("attack")
        .args(args)
        .arg("-o")
        .arg(log)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn culprit");
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(targets.as_bytes()).expect("write targets");
    }
    child.wait_with_output().expect("wait culprit")
}

fn report_json(logs: &[&Path]) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["report", "--type", "json"])
        .args(logs)
        .output()
        .expect("run report");
    assert!(
        out.status.success(),
        "report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report json")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "culprit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn code(report: &serde_json::Value, status: &str) -> u64 {
    report["status_codes"][status].as_u64().unwrap_or(0)
}

#[test]
fn plain_http_at_a_constant_rate_and_piped_report() {
    let s = server(None);
    let dir = tmp();
    let log = dir.join("r.bin");
    let targets = format!("GET http://{}/\nX-Test: 1\n", s.addr);
    ok(&attack(
        &targets,
        &["--rate", "100/1s", "--duration", "1s"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert_eq!(r["requests"], 100);
    assert_eq!(code(&r, "200"), 100);
    assert_eq!(r["bytes_in"]["total"], 100 * 11);
    assert_eq!(r["success"], 1.0);
    // Latency is never below the service time: it counts from the schedule.
    assert!(r["latencies"]["max"].as_u64() >= r["service_times"]["max"].as_u64());
    assert_eq!(s.seen.h1.load(Ordering::Relaxed), 100);

    // `attack | report`, as with Vegeta.
    let pipe = format!(
        "printf 'GET http://{}/\\n' | {BIN} attack --rate 50 --duration 200ms | {BIN} report",
        s.addr
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&pipe)
        .output()
        .expect("sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Requests"), "{text}");
    assert!(text.contains("200:10"), "{text}");

    // The plot is one offline page.
    let html = dir.join("plot.html");
    let out = Command::new(BIN)
        .arg("plot")
        .arg(&log)
        .arg("-o")
        .arg(&html)
        .output()
        .expect("plot");
    ok(&out);
    let page = std::fs::read_to_string(&html).expect("read plot");
    assert!(page.contains("<canvas") && !page.contains("<script src"));
}

#[test]
fn tls_with_a_generated_certificate_and_http2_by_alpn() {
    let dir = tmp();
    let (pem, config) = tls_config(&dir);
    let s = server(Some(config));
    let targets = format!("GET https://localhost:{}/\n", s.addr.port());
    let pem = pem.to_string_lossy().into_owned();

    let log = dir.join("h1.bin");
    ok(&attack(
        &targets,
        &[
            "--rate",
            "20",
            "--duration",
            "500ms",
            "--root-certs",
            &pem,
            "--http1",
        ],
        &log,
    ));
    assert_eq!(code(&report_json(&[&log]), "200"), 10);
    assert_eq!(s.seen.h1.load(Ordering::Relaxed), 10);

    let log = dir.join("h2.bin");
    ok(&attack(
        &targets,
        &["--rate", "20", "--duration", "500ms", "--root-certs", &pem],
        &log,
    ));
    assert_eq!(code(&report_json(&[&log]), "200"), 10);
    assert_eq!(s.seen.h2.load(Ordering::Relaxed), 10, "ALPN should pick h2");

    // Without trusting the certificate every hit fails; --insecure accepts it.
    let log = dir.join("untrusted.bin");
    ok(&attack(
        &targets,
        &["--rate", "20", "--duration", "250ms"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert_eq!(code(&r, "0"), 5);
    assert!(
        r["errors"][0]
            .as_str()
            .unwrap_or("")
            .contains("certificate"),
        "{r}"
    );
    let log = dir.join("insecure.bin");
    ok(&attack(
        &targets,
        &["--rate", "20", "--duration", "250ms", "--insecure"],
        &log,
    ));
    assert_eq!(code(&report_json(&[&log]), "200"), 5);
}

#[test]
fn h2c_with_prior_knowledge() {
    let s = server(None);
    let dir = tmp();
    let log = dir.join("h2c.bin");
    let targets = format!("GET http://{}/\n", s.addr);
    ok(&attack(
        &targets,
        &["--rate", "40", "--duration", "500ms", "--h2c"],
        &log,
    ));
    assert_eq!(code(&report_json(&[&log]), "200"), 20);
    assert_eq!(s.seen.h2.load(Ordering::Relaxed), 20);
    assert_eq!(s.seen.h1.load(Ordering::Relaxed), 0);
}

#[test]
fn a_stall_shows_in_the_latency_of_every_hit_scheduled_during_it() {
    let s = server(None);
    let dir = tmp();
    let log = dir.join("stall.bin");
    let targets = format!("GET http://{}/stall\n", s.addr);
    // 5 workers at 50/s: during the 1 s stall all of them hang, and the hits scheduled
    // meanwhile wait for a worker. Their latency must count that wait.
    ok(&attack(
        &targets,
        &[
            "--rate",
            "50",
            "--duration",
            "3s",
            "--connections",
            "5",
            "--max-connections",
            "5",
        ],
        &log,
    ));
    let origin_ns = s
        .seen
        .stall_origin
        .lock()
        .map(|o| o.map_or(0, |x| x.1))
        .unwrap_or(0);
    let (from, to) = (origin_ns + 1_000_000_000, origin_ns + 2_000_000_000);
    let bytes = std::fs::read(&log).expect("read log");
    let mut reader = culprit_load::results::LogReader::new(&bytes[..]).expect("log");
    let start = reader.start_unix_ns();
    let mut during = 0;
    while let Some(hit) = reader.next_record().expect("record") {
        let scheduled = start + hit.scheduled_ns;
        // Scheduled inside the stall (with a margin for the two clocks' skew).
        if scheduled > from + 20_000_000 && scheduled + 20_000_000 < to {
            during += 1;
            let stall_left = to - scheduled;
            assert!(
                hit.latency().as_nanos() as u64 + 5_000_000 >= stall_left,
                "hit {} scheduled {}ms before the stall ended reports only {:?}",
                hit.seq,
                stall_left / 1_000_000,
                hit.latency()
            );
        }
    }
    assert!(
        during >= 40,
        "only {during} hits scheduled during the stall"
    );
    let r = report_json(&[&log]);
    assert!(
        r["latencies"]["max"].as_u64().unwrap_or(0) >= 900_000_000,
        "{r}"
    );
}

#[test]
fn refused_connections_timeouts_5xx_and_redirects() {
    let dir = tmp();
    // Refused: a port bound but not listening, held for the test so nothing else takes it.
    let (_held, port) = unlistened_port();
    let log = dir.join("refused.bin");
    ok(&attack(
        &format!("GET http://127.0.0.1:{port}/\n"),
        &["--rate", "20", "--duration", "250ms"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert_eq!(code(&r, "0"), 5);
    assert!(
        r["errors"][0].as_str().unwrap_or("").contains("refused"),
        "{r}"
    );

    let s = server(None);
    let log = dir.join("timeout.bin");
    ok(&attack(
        &format!("GET http://{}/slow\n", s.addr),
        &["--rate", "20", "--duration", "250ms", "--timeout", "200ms"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert_eq!(code(&r, "0"), 5);
    assert!(
        r["errors"][0]
            .as_str()
            .unwrap_or("")
            .contains("timeout after 200ms"),
        "{r}"
    );

    let log = dir.join("500.bin");
    ok(&attack(
        &format!("GET http://{}/500\n", s.addr),
        &["--rate", "20", "--duration", "250ms"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert_eq!(code(&r, "500"), 5);
    assert_eq!(r["success"], 0.0);

    let log = dir.join("redirect.bin");
    ok(&attack(
        &format!("GET http://{}/redirect\n", s.addr),
        &["--rate", "20", "--duration", "250ms"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert_eq!(code(&r, "200"), 5, "{r}");
    assert_eq!(r["bytes_in"]["total"], 5 * 11);

    let log = dir.join("loop.bin");
    ok(&attack(
        &format!("GET http://{}/loop\n", s.addr),
        &["--rate", "20", "--duration", "250ms", "--redirects", "2"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert_eq!(code(&r, "0"), 5);
    assert!(
        r["errors"][0]
            .as_str()
            .unwrap_or("")
            .contains("stopped after 2 redirects"),
        "{r}"
    );

    let log = dir.join("nofollow.bin");
    ok(&attack(
        &format!("GET http://{}/redirect\n", s.addr),
        &["--rate", "20", "--duration", "250ms", "--redirects", "-1"],
        &log,
    ));
    assert_eq!(code(&report_json(&[&log]), "302"), 5);
}

#[test]
fn unix_socket() {
    let dir = tmp();
    let sock = dir.join("s.sock");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(async { tokio::net::UnixListener::bind(&sock) })
        .expect("bind unix");
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            serve_conn(stream, s.clone());
        }
    });
    let log = dir.join("unix.bin");
    let sock_arg = sock.to_string_lossy().into_owned();
    ok(&attack(
        "GET http://unix.invalid/\n",
        &[
            "--rate",
            "20",
            "--duration",
            "500ms",
            "--unix-socket",
            &sock_arg,
        ],
        &log,
    ));
    assert_eq!(code(&report_json(&[&log]), "200"), 10);
    assert_eq!(seen.h1.load(Ordering::Relaxed), 10);
}

#[test]
fn malformed_targets_and_flags_name_the_problem() {
    let dir = tmp();
    let log = dir.join("x.bin");
    let out = attack(
        "GET http://127.0.0.1:1/\nX-Ok: 1\nthis is not a header\n",
        &["--duration", "1s"],
        &log,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("line 3") && err.contains("expected a header"),
        "{err}"
    );

    let out = attack("\nGET /relative\n", &["--duration", "1s"], &log);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("http://"), "{err}");

    let out = attack("{\"method\":\"GET\"}\n", &["--format", "json"], &log);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") && err.contains("url"), "{err}");

    let out = attack("GET http://127.0.0.1:1/\n", &["--rate", "fast"], &log);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--rate") && err.contains("expected a whole number"),
        "{err}"
    );

    let out = attack("GET http://127.0.0.1:1/\n", &["--duration", "10"], &log);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--duration") && err.contains("missing unit"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args(["report", "--type", "hist[5ms,1ms]"])
        .output()
        .expect("report");
    assert!(String::from_utf8_lossy(&out.stderr).contains("bucket bounds must increase"));
}

#[test]
fn logs_merge_losslessly_and_a_cut_log_reads_to_its_last_whole_record() {
    let s = server(None);
    let dir = tmp();
    let (a, b) = (dir.join("a.bin"), dir.join("b.bin"));
    let targets = format!("GET http://{}/\n", s.addr);
    ok(&attack(
        &targets,
        &["--rate", "40", "--duration", "500ms"],
        &a,
    ));
    ok(&attack(
        &targets,
        &["--rate", "60", "--duration", "500ms"],
        &b,
    ));
    let merged = report_json(&[&a, &b]);
    assert_eq!(merged["requests"], 50);
    assert_eq!(code(&merged, "200"), 50);
    let (ra, rb) = (report_json(&[&a]), report_json(&[&b]));
    let max = |r: &serde_json::Value| r["latencies"]["max"].as_u64().unwrap_or(0);
    assert_eq!(max(&merged), max(&ra).max(max(&rb)));

    let hist = Command::new(BIN)
        .args(["report", "--type", "hist[0,100ms,1s]"])
        .arg(&a)
        .arg(&b)
        .output()
        .expect("hist");
    let text = String::from_utf8_lossy(&hist.stdout);
    assert!(text.contains("[0s,     100ms]  50  100.00%"), "{text}");

    // Cut the log in the middle of its last record.
    let bytes = std::fs::read(&a).expect("read");
    let cut = dir.join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).expect("write cut");
    let out = Command::new(BIN)
        .args(["report", "--type", "json"])
        .arg(&cut)
        .output()
        .expect("report cut");
    ok(&out);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["requests"], 19);
    assert!(String::from_utf8_lossy(&out.stderr).contains("partial record"));
}

#[test]
fn json_targets_and_rate_zero() {
    let s = server(None);
    let dir = tmp();
    let log = dir.join("j.bin");
    let targets = format!(
        "{{\"method\":\"POST\",\"url\":\"http://{}/\",\"header\":{{\"Content-Type\":[\"text/plain\"]}},\"body\":\"aGVsbG8=\"}}\n",
        s.addr
    );
    ok(&attack(
        &targets,
        &["--format", "json", "--rate", "20", "--duration", "250ms"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert_eq!(code(&r, "200"), 5);
    assert_eq!(r["bytes_out"]["total"], 25);

    let log = dir.join("max.bin");
    ok(&attack(
        &format!("GET http://{}/\n", s.addr),
        &["--rate", "0", "--max-workers", "4", "--duration", "300ms"],
        &log,
    ));
    let r = report_json(&[&log]);
    assert!(r["requests"].as_u64().unwrap_or(0) > 10, "{r}");
}

/// Separate sends in `log` (hits sent over 1 ms apart), the most a hit went out late, and
/// whether any went out before its time.
fn sends(log: &Path) -> (usize, u64, bool) {
    let bytes = std::fs::read(log).expect("read log");
    let mut reader = culprit_load::results::LogReader::new(&bytes[..]).expect("log");
    let (mut sent, mut late, mut early) = (Vec::new(), 0, false);
    while let Some(hit) = reader.next_record().expect("record") {
        sent.push(hit.sent_ns);
        early |= hit.sent_ns < hit.scheduled_ns;
        late = late.max(hit.sent_ns.saturating_sub(hit.scheduled_ns));
    }
    sent.sort_unstable();
    let groups = 1 + sent.windows(2).filter(|w| w[1] - w[0] > 1_000_000).count();
    (groups, late, early)
}

#[test]
fn hits_within_a_send_window_go_out_together_on_both_engines() {
    let s = server(None);
    let dir = tmp();
    let targets = format!("GET http://{}/\n", s.addr);
    // 5 ms apart with a 30 ms window: about seven hits per send, on the epoll engine
    // (plain HTTP/1.1) and on the hyper one (h2c).
    for (name, extra) in [("http1", None), ("h2c", Some("--h2c"))] {
        let log = dir.join(format!("window-{name}.bin"));
        let mut args = vec![
            "--rate",
            "200",
            "--duration",
            "300ms",
            "--send-window",
            "30ms",
        ];
        args.extend(extra);
        ok(&attack(&targets, &args, &log));
        assert_eq!(code(&report_json(&[&log]), "200"), 60, "{name}");
        let (groups, late, early) = sends(&log);
        assert!(!early, "{name}: a hit went out before its time");
        assert!(
            late >= 20_000_000,
            "{name}: no hit waited for its window ({late} ns)"
        );
        assert!(groups <= 30, "{name}: 60 hits went out in {groups} sends");
    }
}
