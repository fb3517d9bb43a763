//! `culprit attack` against Debian's nginx on loopback, serving a 1 KB file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_culprit");

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_nginx(nginx: &Path, dir: &Path, port: u16) -> Nginx {
    let www = dir.join("www");
    std::fs::create_dir_all(&www).expect("www");
    std::fs::write(www.join("index.html"), "x".repeat(1024)).expect("body");
    let d = dir.display();
    let conf = format!(
        "daemon off; master_process off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; client_body_temp_path {d}/t1; proxy_temp_path {d}/t2; fastcgi_temp_path {d}/t3; uwsgi_temp_path {d}/t4; scgi_temp_path {d}/t5;\n\
         server {{ listen 127.0.0.1:{port}; location / {{ root {d}/www; }} }} }}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("conf");
    let child = Command::new(nginx)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let nginx = Nginx(child);
    // A bound on a hang, not a speed check: a loaded machine may take long to start it.
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "nginx did not listen on 127.0.0.1:{port} within 60 s; its log: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    nginx
}

#[test]
fn attack_debian_nginx() {
    let Some(nginx) = culprit_testkit::require_tool("nginx") else {
        return;
    };
    let dir: PathBuf = std::env::temp_dir().join(format!("culprit-nginx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let port = culprit_testkit::free_port();
    let _nginx = start_nginx(&nginx, &dir, port);
    let log = dir.join("r.bin");
    let cmd = format!(
        "printf 'GET http://127.0.0.1:{port}/\\n' | {BIN} attack --rate 200 --duration 1s -o {}",
        log.display()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .output()
        .expect("attack");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(BIN)
        .args(["report", "--type", "json"])
        .arg(&log)
        .output()
        .expect("report");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["requests"], 200, "{r}");
    assert_eq!(r["status_codes"]["200"], 200, "{r}");
    assert_eq!(r["bytes_in"]["total"], 200 * 1024);
}
