//! `culprit watch -- CMD` on a real process tree: a C parent forks CPU-burning children
//! and grandchildren; the tree total counts their CPU, the parent's own figure does not.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const TREE_C: &str = r#"
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void burn(double seconds) {
    volatile unsigned long x = 0;
    while (cpu() < seconds)
        for (int i = 0; i < 100000; i++) x += i;
}

/* tree KIDS SECONDS LINGER: KIDS children, each with one grandchild; every child and
   grandchild burns SECONDS of CPU; the parent burns nothing, reaps them all, then
   lingers LINGER seconds so a sample sees the reaped total. */
int main(int argc, char **argv) {
    if (argc != 4) return 2;
    int kids = atoi(argv[1]);
    double seconds = atof(argv[2]);
    for (int i = 0; i < kids; i++) {
        if (fork() == 0) {
            pid_t g = fork();
            burn(seconds);
            if (g == 0) _exit(0);
            waitpid(g, NULL, 0);
            _exit(0);
        }
    }
    while (wait(NULL) > 0) {}
    sleep(atoi(argv[3]));
    return 0;
}
"#;

fn build_tree_program(dir: &Path) -> Option<PathBuf> {
    culprit_testkit::require_tool("gcc")?;
    let src = dir.join("tree.c");
    let bin = dir.join("tree");
    std::fs::write(&src, TREE_C).unwrap();
    let status = Command::new("gcc")
        .args(["-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .unwrap();
    assert!(status.success(), "gcc failed");
    Some(bin)
}

fn read_series(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("culprit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn tree_total_counts_children_and_grandchildren() {
    let dir = scratch("watch-tree");
    let Some(bin) = build_tree_program(&dir) else {
        return;
    };
    let series = dir.join("series.jsonl");
    let (kids, burn) = (2, 0.4);
    let status = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["watch", "--interval", "100ms", "--duration", "120s", "-o"])
        .arg(&series)
        .arg("--")
        .arg(&bin)
        .args([kids.to_string(), burn.to_string(), "1".into()])
        .status()
        .unwrap();
    assert!(status.success());
    let samples = read_series(&series);
    assert!(samples.len() >= 2, "{} samples", samples.len());
    let last = samples.last().unwrap();
    let root = last["tree"]["root_pid"].as_u64().unwrap();
    let expected = 2.0 * f64::from(kids) * burn;
    let tree_cpu = last["tree"]["cpu_seconds"].as_f64().unwrap();
    assert!(
        tree_cpu >= expected * 0.9 && tree_cpu <= expected + 1.0,
        "tree CPU {tree_cpu}s, children burned {expected}s"
    );
    let parent = last["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"].as_u64() == Some(root))
        .expect("the root process is in the last sample");
    let own = parent["cpu_seconds"].as_f64().unwrap();
    assert!(own < 0.3, "the parent alone burned {own}s");
    assert!(parent["children_cpu_seconds"].as_f64().unwrap() >= expected * 0.9);
    // While they burned, the children and grandchildren were seen as processes.
    let most = samples
        .iter()
        .map(|s| s["tree"]["processes"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(most >= 3, "at most {most} processes seen");
    let started = last["tree"]["processes_started_total"].as_u64().unwrap();
    assert!(started >= 2, "{started} processes seen starting");
    // Every sample has the documented shape and the total never drops.
    let mut before = 0.0;
    for s in &samples {
        for key in [
            "cpu_seconds",
            "rss_bytes",
            "vsize_bytes",
            "threads",
            "fds",
            "processes",
        ] {
            assert!(s["tree"][key].is_number(), "tree.{key} missing in {s}");
        }
        assert!(s["time"].is_string());
        let cpu = s["tree"]["cpu_seconds"].as_f64().unwrap();
        assert!(cpu >= before, "tree CPU dropped from {before} to {cpu}");
        before = cpu;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn short_lived_children_between_samples_still_count() {
    let dir = scratch("watch-short");
    let Some(bin) = build_tree_program(&dir) else {
        return;
    };
    let series = dir.join("series.jsonl");
    // Ten children and ten grandchildren of 50 ms each start and end between two samples
    // 5 s apart; only the parent's cutime/cstime can carry them.
    let status = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["watch", "--interval", "5s", "--duration", "120s", "-o"])
        .arg(&series)
        .arg("--")
        .arg(&bin)
        .args(["10", "0.05", "0"])
        .status()
        .unwrap();
    assert!(status.success());
    let samples = read_series(&series);
    let tree_cpu = samples.last().unwrap()["tree"]["cpu_seconds"]
        .as_f64()
        .unwrap();
    assert!(
        tree_cpu >= 20.0 * 0.05 * 0.9,
        "tree CPU {tree_cpu}s of 1.0s burned"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn watches_an_existing_pid_until_it_exits() {
    let dir = scratch("watch-pid");
    let series = dir.join("series.jsonl");
    // Not reaped until culprit is done: the exit shows as a zombie, which must end the
    // watch (the duration is a bound on a hung test).
    let mut child = Command::new("sleep").arg("1").spawn().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args([
            "watch",
            "--interval",
            "200ms",
            "--duration",
            "300s",
            "--pid",
        ])
        .arg(child.id().to_string())
        .arg("-o")
        .arg(&series)
        .status()
        .unwrap();
    let _ = child.wait();
    assert!(status.success());
    let samples = read_series(&series);
    assert!(!samples.is_empty());
    assert_eq!(samples[0]["processes"][0]["command"], "sleep");
    // It stopped at the exit: only the last sample shows the root exited.
    let states: Vec<&Value> = samples
        .iter()
        .map(|s| &s["processes"][0]["state"])
        .collect();
    let zombies = states.iter().filter(|s| **s == "Z").count();
    assert!(
        zombies == 1 && *states[states.len() - 1] == "Z",
        "states {states:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_stops_with_every_sample_written() {
    let dir = scratch("watch-term");
    let series = dir.join("series.jsonl");
    let mut watch = Command::new(env!("CARGO_BIN_EXE_culprit"))
        .args(["watch", "--interval", "100ms", "-o"])
        .arg(&series)
        .args(["--", "sleep", "60"])
        .spawn()
        .unwrap();
    // Wait (bounded) until a few samples are on disk, then ask it to stop.
    for _ in 0..300 {
        let lines = std::fs::read_to_string(&series)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &watch.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = watch.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let samples = read_series(&series);
    assert!(samples.len() >= 3, "{} samples", samples.len());
    let _ = std::fs::remove_dir_all(&dir);
}
