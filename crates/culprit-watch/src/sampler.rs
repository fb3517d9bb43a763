//! The sampler: reads /proc, the cgroup and the Go service once per call and keeps what
//! it needs from the previous call to compute rates.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::cgroup::CgroupReader;
use crate::error::Error;
use crate::go_client::GoClient;
use crate::proc_files::{ProcStat, parse_system_stat};
use crate::proc_table::{Units, descendants, process_sample, read_stat, scan};
use crate::sample::{ProcessSample, Sample, TreeTotals};

const PROC: &str = "/proc";

/// What to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A process and all its descendants; its cgroup is read too.
    Pid(u32),
    /// The processes of a cgroup: a directory under a cgroup mount or a path inside the
    /// hierarchy (see [`CgroupReader::for_path`]).
    Cgroup(PathBuf),
}

/// Samples a process tree or cgroup, and optionally a Go service.
///
/// ```no_run
/// use culprit_watch::{Sampler, Target};
/// let mut sampler = Sampler::new(Target::Pid(std::process::id()))?;
/// let sample = sampler.sample()?;
/// println!("{} CPU seconds in {} processes", sample.tree.cpu_seconds, sample.tree.processes);
/// # Ok::<(), culprit_watch::Error>(())
/// ```
#[derive(Debug)]
pub struct Sampler {
    target: Target,
    units: Units,
    cgroup: Option<CgroupReader>,
    /// Why the cgroup could not be located; reported with the first sample.
    cgroup_error: Option<String>,
    go: Option<GoClient>,
    prev: Option<Previous>,
    started_total: u64,
    /// The root was started by the caller, so every other process in the first sample
    /// started while watched.
    spawned: bool,
}

/// What the previous sample left for rates.
#[derive(Debug)]
struct Previous {
    at: Instant,
    pids: HashSet<u32>,
    tree_cpu: f64,
    cgroup_cpu: Option<f64>,
    system_forks: u64,
}

impl Sampler {
    /// A sampler of `target`. Fails when the process does not exist or the cgroup cannot
    /// be found; a process whose cgroup cannot be located is still sampled, without one.
    pub fn new(target: Target) -> Result<Self, Error> {
        let system = read_system_stat()?;
        let (cgroup, cgroup_error) = match &target {
            Target::Pid(pid) => {
                if read_stat(Path::new(PROC), *pid).is_none() {
                    return Err(Error::NoProcess(*pid));
                }
                match CgroupReader::for_pid(*pid) {
                    Ok(r) => (Some(r), None),
                    Err(e) => (None, Some(e.to_string())),
                }
            }
            Target::Cgroup(path) => (Some(CgroupReader::for_path(path)?), None),
        };
        Ok(Self {
            target,
            units: Units::of_this_machine(system.btime),
            cgroup,
            cgroup_error,
            go: None,
            prev: None,
            started_total: 0,
            spawned: false,
        })
    }

    /// Also polls the Go service at `base_url` (with net/http/pprof and, ideally, expvar).
    pub fn with_go(mut self, base_url: impl Into<String>) -> Self {
        self.go = Some(GoClient::new(base_url));
        self
    }

    /// Declares that the caller started the root process just now: the descendants the
    /// first sample finds count as started, since a fast forker has them before any sample.
    pub fn spawned(mut self) -> Self {
        self.spawned = true;
        self
    }

    /// Reads this cgroup instead of the one found for the target.
    pub fn with_cgroup(mut self, reader: CgroupReader) -> Self {
        self.cgroup = Some(reader);
        self.cgroup_error = None;
        self
    }

    /// The cgroup being read, if any.
    pub fn cgroup(&self) -> Option<&CgroupReader> {
        self.cgroup.as_ref()
    }

    /// Takes one sample. Fails when the watched root process is gone; problems with the
    /// cgroup or the Go service are reported in [`Sample::errors`] instead.
    pub fn sample(&mut self) -> Result<Sample, Error> {
        let now = Instant::now();
        let wall = SystemTime::now();
        let mut errors: Vec<String> = self.cgroup_error.take().into_iter().collect();
        let proc_root = Path::new(PROC);
        let table = scan(proc_root).map_err(|e| Error::io(PROC, e))?;
        let (pids, root_pid, command) = match &self.target {
            Target::Pid(root) => {
                let stat = table.get(root).ok_or(Error::NoProcess(*root))?;
                (descendants(&table, *root), Some(*root), stat.comm.clone())
            }
            Target::Cgroup(_) => {
                let reader = self
                    .cgroup
                    .as_ref()
                    .ok_or_else(|| Error::Cgroup("no cgroup".into()))?;
                let mut pids = reader.procs()?;
                pids.sort_unstable();
                (pids, None, reader.path.clone())
            }
        };
        let stats: Vec<&ProcStat> = pids.iter().filter_map(|p| table.get(p)).collect();
        let processes: Vec<ProcessSample> = stats
            .iter()
            .map(|s| process_sample(proc_root, s, &self.units))
            .collect();
        let system_forks = read_system_stat().map(|s| s.processes).unwrap_or(0);

        let mut tree = totals(&stats, &processes, &self.units);
        tree.root_pid = root_pid;
        tree.command = command;
        let cgroup = match &self.cgroup {
            Some(reader) => match reader.read() {
                Ok(c) => Some(c),
                Err(e) => {
                    errors.push(e.to_string());
                    None
                }
            },
            None => None,
        };
        let go = match &mut self.go {
            Some(client) => match client.fetch() {
                Ok(g) => Some(g),
                Err(e) => {
                    errors.push(e.to_string());
                    None
                }
            },
            None => None,
        };

        let pid_set: HashSet<u32> = processes.iter().map(|p| p.pid).collect();
        let mut cgroup = cgroup;
        let mut interval_seconds = None;
        if let Some(prev) = &self.prev {
            let dt = now.duration_since(prev.at).as_secs_f64();
            interval_seconds = Some(dt);
            // A counter must not go back; a reap caught between reading a child and its
            // parent can briefly hide a child's CPU.
            tree.cpu_seconds = tree.cpu_seconds.max(prev.tree_cpu);
            let new = pid_set.difference(&prev.pids).count() as u64;
            self.started_total += new;
            if dt > 0.0 {
                tree.cpu_cores = Some((tree.cpu_seconds - prev.tree_cpu) / dt);
                tree.processes_started_per_second = Some(new as f64 / dt);
                tree.system_forks_per_second =
                    Some(system_forks.saturating_sub(prev.system_forks) as f64 / dt);
                if let Some(c) = cgroup.as_mut() {
                    c.cpu_cores = c
                        .cpu_usage_seconds
                        .zip(prev.cgroup_cpu)
                        .map(|(now, before)| (now - before).max(0.0) / dt);
                }
            }
        } else if self.spawned {
            self.started_total = pid_set.len().saturating_sub(1) as u64;
        }
        tree.processes_started_total = self.started_total;
        self.prev = Some(Previous {
            at: now,
            pids: pid_set,
            tree_cpu: tree.cpu_seconds,
            cgroup_cpu: cgroup.as_ref().and_then(|c| c.cpu_usage_seconds),
            system_forks,
        });
        let unix = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok(Sample {
            time: humantime::format_rfc3339_micros(wall).to_string(),
            unix_seconds: unix.as_secs_f64(),
            interval_seconds,
            tree,
            processes,
            cgroup,
            go,
            errors,
        })
    }
}

/// Sums over the live processes; CPU and faults include what each has reaped.
fn totals(stats: &[&ProcStat], processes: &[ProcessSample], units: &Units) -> TreeTotals {
    let mut t = TreeTotals::default();
    for (s, p) in stats.iter().zip(processes) {
        t.cpu_user_seconds += units.seconds(s.utime.saturating_add(s.cutime));
        t.cpu_system_seconds += units.seconds(s.stime.saturating_add(s.cstime));
        t.rss_bytes = t.rss_bytes.saturating_add(p.rss_bytes);
        t.vsize_bytes = t.vsize_bytes.saturating_add(p.vsize_bytes);
        t.threads += p.threads;
        t.fds += p.fds;
        t.voluntary_ctxt_switches += p.voluntary_ctxt_switches;
        t.nonvoluntary_ctxt_switches += p.nonvoluntary_ctxt_switches;
        t.minor_faults += s.minflt.saturating_add(s.cminflt);
        t.major_faults += s.majflt.saturating_add(s.cmajflt);
    }
    t.cpu_seconds = t.cpu_user_seconds + t.cpu_system_seconds;
    t.processes = processes.len() as u64;
    t
}

fn read_system_stat() -> Result<crate::proc_files::SystemStat, Error> {
    let path = "/proc/stat";
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(parse_system_stat(&bytes)?)
}
