//! Reading the process table from /proc: the edge where /proc files become samples.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::proc_files::{ProcStat, parse_stat, parse_status};
use crate::sample::ProcessSample;

/// Kernel constants needed to turn /proc's units into seconds and bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Units {
    /// Clock ticks per second (`USER_HZ`).
    pub clk_tck: f64,
    /// Bytes per page.
    pub page_size: u64,
    /// Boot time, seconds since the Unix epoch.
    pub btime: u64,
}

impl Units {
    pub(crate) fn of_this_machine(btime: u64) -> Self {
        // SAFETY: sysconf has no preconditions; it returns -1 for unknown names.
        let (tck, page) = unsafe {
            (
                libc::sysconf(libc::_SC_CLK_TCK),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        Self {
            clk_tck: if tck > 0 { tck as f64 } else { 100.0 },
            page_size: u64::try_from(page).ok().filter(|&p| p > 0).unwrap_or(4096),
            btime,
        }
    }

    pub(crate) fn seconds(&self, ticks: u64) -> f64 {
        ticks as f64 / self.clk_tck
    }
}

/// Reads `/proc/PID/stat` of every process. Processes that exit during the scan, and
/// files that do not parse, are skipped: the table is a snapshot of what could be read.
pub(crate) fn scan(proc_root: &Path) -> std::io::Result<HashMap<u32, ProcStat>> {
    let mut table = HashMap::new();
    for entry in fs::read_dir(proc_root)? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(stat) = read_stat(proc_root, pid) {
            table.insert(pid, stat);
        }
    }
    Ok(table)
}

/// Reads one process's stat; `None` when it is gone or unreadable.
pub(crate) fn read_stat(proc_root: &Path, pid: u32) -> Option<ProcStat> {
    let bytes = fs::read(proc_root.join(pid.to_string()).join("stat")).ok()?;
    parse_stat(&bytes).ok()
}

/// `root` and its descendants in `table`, parents before children.
pub(crate) fn descendants(table: &HashMap<u32, ProcStat>, root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for s in table.values() {
        if s.pid != root {
            children.entry(s.ppid).or_default().push(s.pid);
        }
    }
    let mut out = vec![root];
    let mut next = 0;
    while let Some(&pid) = out.get(next) {
        if let Some(kids) = children.get_mut(&pid) {
            kids.sort_unstable();
            out.extend_from_slice(kids);
        }
        next += 1;
    }
    out
}

/// Completes a stat with `status` and the fd count. A process that vanished since its
/// stat was read still gives a sample from the stat alone.
pub(crate) fn process_sample(proc_root: &Path, stat: &ProcStat, units: &Units) -> ProcessSample {
    let dir = proc_root.join(stat.pid.to_string());
    let status = fs::read(dir.join("status"))
        .ok()
        .and_then(|b| parse_status(&b).ok())
        .unwrap_or_default();
    let fds = fs::read_dir(dir.join("fd")).map_or(0, |d| d.count() as u64);
    let user = units.seconds(stat.utime);
    let system = units.seconds(stat.stime);
    ProcessSample {
        pid: stat.pid,
        ppid: stat.ppid,
        command: stat.comm.clone(),
        state: stat.state.to_string(),
        cpu_seconds: user + system,
        cpu_user_seconds: user,
        cpu_system_seconds: system,
        children_cpu_seconds: units.seconds(stat.cutime.saturating_add(stat.cstime)),
        rss_bytes: stat.rss.saturating_mul(units.page_size),
        vsize_bytes: stat.vsize,
        threads: stat.num_threads,
        fds,
        voluntary_ctxt_switches: status.voluntary_ctxt_switches,
        nonvoluntary_ctxt_switches: status.nonvoluntary_ctxt_switches,
        minor_faults: stat.minflt,
        major_faults: stat.majflt,
        start_time_seconds: units.btime as f64 + units.seconds(stat.starttime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pid: u32, ppid: u32) -> ProcStat {
        ProcStat {
            pid,
            ppid,
            ..ProcStat::default()
        }
    }

    #[test]
    fn descendants_parents_first() {
        let table: HashMap<u32, ProcStat> = [
            stat(1, 0),
            stat(10, 1),
            stat(20, 10),
            stat(11, 1),
            stat(30, 5),
        ]
        .into_iter()
        .map(|s| (s.pid, s))
        .collect();
        assert_eq!(descendants(&table, 1), vec![1, 10, 11, 20]);
        assert_eq!(descendants(&table, 10), vec![10, 20]);
    }
}
