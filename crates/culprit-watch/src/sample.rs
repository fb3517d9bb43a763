//! The serde types of one sample: what `culprit watch` writes as one JSON line.

use serde::{Deserialize, Serialize};

/// One observation of the target: its process tree, its cgroup and its Go runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Wall-clock time of the sample, RFC 3339 in UTC with microseconds.
    pub time: String,
    /// The same instant as seconds since the Unix epoch, for charting on one clock.
    pub unix_seconds: f64,
    /// Seconds since the previous sample of the same sampler (absent for the first).
    pub interval_seconds: Option<f64>,
    /// Totals over the whole process tree (or over the cgroup's processes).
    pub tree: TreeTotals,
    /// Every live process of the tree, parents before children.
    pub processes: Vec<ProcessSample>,
    /// The target's cgroup, when one could be located and read.
    pub cgroup: Option<CgroupSample>,
    /// The Go runtime's statistics, when a Go URL was given and answered.
    pub go: Option<GoSample>,
    /// Problems that did not stop the sample (a Go service not answering, an unreadable
    /// cgroup file), one sentence each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Totals over the process tree.
///
/// CPU and page faults include the children each live process has already reaped
/// (`cutime`/`cstime`, `cminflt`/`cmajflt` of /proc/PID/stat), so processes that start and
/// exit between two samples still count and the CPU total does not drop when they exit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TreeTotals {
    /// The root process of the tree (absent when watching a cgroup).
    pub root_pid: Option<u32>,
    /// The root's command name (`comm`), or the cgroup path when watching a cgroup.
    pub command: String,
    /// User plus system CPU seconds, including reaped children.
    pub cpu_seconds: f64,
    /// User CPU seconds, including reaped children.
    pub cpu_user_seconds: f64,
    /// System CPU seconds, including reaped children.
    pub cpu_system_seconds: f64,
    /// CPU cores in use on average since the previous sample.
    pub cpu_cores: Option<f64>,
    /// Sum of resident set sizes.
    pub rss_bytes: u64,
    /// Sum of virtual memory sizes.
    pub vsize_bytes: u64,
    /// Sum of thread counts.
    pub threads: u64,
    /// Sum of open file descriptors.
    pub fds: u64,
    /// Live processes in the tree.
    pub processes: u64,
    /// Sum of voluntary context switches of the live processes.
    pub voluntary_ctxt_switches: u64,
    /// Sum of involuntary context switches of the live processes.
    pub nonvoluntary_ctxt_switches: u64,
    /// Minor page faults, including reaped children.
    pub minor_faults: u64,
    /// Major page faults, including reaped children.
    pub major_faults: u64,
    /// Processes that joined the tree since the sampler's first sample.
    pub processes_started_total: u64,
    /// Processes that joined the tree per second since the previous sample.
    pub processes_started_per_second: Option<f64>,
    /// Forks per second on the whole machine (`processes` of /proc/stat), which also counts
    /// children too short-lived to be seen between two samples.
    pub system_forks_per_second: Option<f64>,
}

/// One live process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessSample {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Command name (`comm`, at most 15 bytes).
    pub command: String,
    /// State letter (`R`, `S`, `D`, `Z`, ...).
    pub state: String,
    /// User plus system CPU seconds of this process alone.
    pub cpu_seconds: f64,
    /// User CPU seconds of this process alone.
    pub cpu_user_seconds: f64,
    /// System CPU seconds of this process alone.
    pub cpu_system_seconds: f64,
    /// CPU seconds of the children this process has reaped.
    pub children_cpu_seconds: f64,
    /// Resident set size.
    pub rss_bytes: u64,
    /// Virtual memory size.
    pub vsize_bytes: u64,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Voluntary context switches (waits).
    pub voluntary_ctxt_switches: u64,
    /// Involuntary context switches (preemptions).
    pub nonvoluntary_ctxt_switches: u64,
    /// Minor page faults.
    pub minor_faults: u64,
    /// Major page faults.
    pub major_faults: u64,
    /// Start time in seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// The cgroup's counters, with cAdvisor's meanings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CgroupSample {
    /// 1 for the legacy per-controller hierarchies, 2 for the unified hierarchy.
    pub version: u8,
    /// The cgroup's path inside its hierarchy (`/` for the root).
    pub path: String,
    /// Total CPU time used by the cgroup's tasks.
    pub cpu_usage_seconds: Option<f64>,
    /// User CPU time.
    pub cpu_user_seconds: Option<f64>,
    /// System CPU time.
    pub cpu_system_seconds: Option<f64>,
    /// CPU cores in use on average since the previous sample.
    pub cpu_cores: Option<f64>,
    /// Elapsed CFS enforcement periods.
    pub cpu_periods: Option<u64>,
    /// Periods in which the cgroup was throttled.
    pub cpu_throttled_periods: Option<u64>,
    /// Total time the cgroup's tasks were throttled.
    pub cpu_throttled_seconds: Option<f64>,
    /// The CFS quota in cores (quota / period); absent when unlimited.
    pub cpu_quota_cores: Option<f64>,
    /// Memory charged to the cgroup (`memory.usage_in_bytes` / `memory.current`).
    pub memory_usage_bytes: Option<u64>,
    /// Usage minus inactive file pages, as cAdvisor computes `container_memory_working_set_bytes`.
    pub memory_working_set_bytes: Option<u64>,
    /// Anonymous memory (`total_rss` in v1, `anon` in v2).
    pub memory_rss_bytes: Option<u64>,
    /// Page cache (`total_cache` in v1, `file` in v2).
    pub memory_cache_bytes: Option<u64>,
    /// The memory limit; absent when unlimited.
    pub memory_limit_bytes: Option<u64>,
    /// Tasks (threads) in the cgroup (`pids.current`).
    pub pids_current: Option<u64>,
    /// The task limit; absent when unlimited.
    pub pids_max: Option<u64>,
}

/// The Go runtime's heap and GC state (from `runtime.MemStats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GoSample {
    /// Where it came from: `expvar` (`/debug/vars`) or `heap` (`/debug/pprof/heap?debug=1`).
    pub source: String,
    /// Bytes of allocated heap objects (`HeapAlloc`).
    pub heap_alloc_bytes: u64,
    /// Bytes in in-use spans (`HeapInuse`).
    pub heap_inuse_bytes: u64,
    /// Bytes of heap obtained from the OS (`HeapSys`).
    pub heap_sys_bytes: u64,
    /// Allocated heap objects (`HeapObjects`).
    pub heap_objects: u64,
    /// Bytes obtained from the OS in total (`Sys`).
    pub sys_bytes: u64,
    /// Heap size target of the next GC (`NextGC`).
    pub next_gc_bytes: u64,
    /// Cumulative bytes allocated (`TotalAlloc`).
    pub total_alloc_bytes: u64,
    /// Completed GC cycles (`NumGC`).
    pub num_gc: u64,
    /// Cumulative stop-the-world pause time (`PauseTotalNs`); absent when only the heap
    /// profile answered and more than 256 GCs ran (its trailer lacks the total).
    pub pause_total_seconds: Option<f64>,
    /// End of the last GC, seconds since the Unix epoch (0 when none ran).
    pub last_gc_unix_seconds: f64,
    /// Pauses of the GCs that completed since the previous sample (at most 256), oldest first.
    pub recent_pauses_seconds: Vec<f64>,
    /// Quantiles 0, 0.25, 0.5, 0.75 and 1 of the last (up to 256) pauses, as client_golang's
    /// `go_gc_duration_seconds` reports them.
    pub pause_quantiles_seconds: [f64; 5],
    /// Fraction of CPU used by the GC since the program started (`GCCPUFraction`).
    pub gc_cpu_fraction: f64,
    /// Goroutines, when the service reports them.
    pub goroutines: Option<u64>,
}
