//! `culprit demo`: the built-in service with a seeded bottleneck, investigated natively,
//! and with `--fixed` the repaired service and the comparison.

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::{DemoArgs, live, summary};

/// Routes in the demo's table: enough that parsing it dominates a request.
const ROUTES: usize = 4000;

/// `culprit demo-service`.
#[derive(Args)]
pub struct ServiceArgs {
    /// Port on 127.0.0.1 (0 picks one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Parse the routing table once instead of per request.
    #[arg(long)]
    fixed: bool,
}

/// Serves the demo service in this process.
pub fn serve(a: &ServiceArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", a.port)).context("binding 127.0.0.1")?;
    println!("listening on http://{}", listener.local_addr()?);
    culprit_investigate::demo::serve(listener, a.fixed, ROUTES)?;
    Ok(())
}

/// Starts `command` and waits until `url`'s host:port accepts connections.
pub fn start_and_wait(command: &[String], url: &str) -> anyhow::Result<Child> {
    let (prog, args) = command.split_first().context("empty command")?;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {prog}"))?;
    let hostport = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .context("the URL has no host:port")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let addrs: Vec<_> = hostport
            .to_socket_addrs()
            .map(|a| a.collect())
            .unwrap_or_default();
        if addrs
            .iter()
            .any(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
        {
            return Ok(child);
        }
        if let Ok(Some(status)) = child.try_wait() {
            anyhow::bail!("{prog} exited ({status}) before listening on {hostport}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("{prog} did not listen on {hostport} within 15s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn one_run(a: &DemoArgs, fixed: bool, dir: &Path) -> anyhow::Result<live::Outcome> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let exe = std::env::current_exe().context("locating the culprit binary")?;
    let mut cmd = vec![
        exe.display().to_string(),
        "demo-service".into(),
        "--port".into(),
        port.to_string(),
    ];
    if fixed {
        cmd.push("--fixed".into());
    }
    let url = format!("http://127.0.0.1:{port}/route/api/v1/items/42");
    eprintln!(
        "demo: {} service on 127.0.0.1:{port}, {} req/s for {}s",
        if fixed { "repaired" } else { "seeded" },
        a.rate,
        a.duration.as_secs()
    );
    let mut child = start_and_wait(&cmd, &url)?;
    let pid = child.id();
    let result = live::investigate(live::Live {
        pprof: None,
        targets: super::load_targets(&url, None, "http")?,
        rate_text: a.rate.clone(),
        rate: a
            .rate
            .parse()
            .map_err(|e| anyhow::anyhow!("--rate {}: {e}", a.rate))?,
        duration: a.duration,
        workers: 10,
        max_workers: 200,
        hit_timeout: Duration::from_secs(10),
        client: Default::default(),
        kinds: Vec::new(),
        watch_pid: Some(pid),
        native_pid: Some(pid),
        dir: dir.to_path_buf(),
        target: culprit_investigate::run::Target {
            url: Some(url.clone()),
            command: Some(cmd.clone()),
            pid: Some(pid),
        },
    });
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Runs the demo.
pub fn run(a: &DemoArgs) -> anyhow::Result<()> {
    let base = a.output.clone().unwrap_or_else(|| {
        let d = live::default_dir();
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        d.with_file_name(format!("demo-{name}"))
    });
    let before = base.join("before");
    let outcome = one_run(a, false, &before)?;
    summary::print(&outcome);
    if a.fixed && outcome.complete {
        let after = base.join("after");
        let fixed = one_run(a, true, &after)?;
        summary::print(&fixed);
        super::compare::run(&before, &after, None)?;
    } else if !a.fixed {
        println!(
            "next: `culprit demo --fixed` runs the repaired service and compares the two runs"
        );
    }
    Ok(())
}
