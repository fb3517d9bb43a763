//! Locating a cgroup (v1 or v2) and reading its counters: the edge where cgroup files
//! become a [`CgroupSample`].

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::cgroup_files::{
    CgroupMembership, CgroupMount, lookup, parse_cpu_max, parse_flat_keyed, parse_mountinfo,
    parse_proc_cgroup, parse_procs, parse_signed, parse_single, quota_cores, v1_limit,
};
use crate::error::Error;
use crate::sample::CgroupSample;

/// Where a cgroup's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupDirs {
    /// The legacy hierarchies: one directory per controller (the same directory when
    /// controllers are co-mounted, as in `cpu,cpuacct`). `None` when that controller is
    /// not mounted.
    V1 {
        /// The `cpu` controller's directory (`cpu.stat`, `cpu.cfs_quota_us`).
        cpu: Option<PathBuf>,
        /// The `cpuacct` controller's directory (`cpuacct.usage`, `cpuacct.stat`).
        cpuacct: Option<PathBuf>,
        /// The `memory` controller's directory.
        memory: Option<PathBuf>,
        /// The `pids` controller's directory.
        pids: Option<PathBuf>,
    },
    /// The unified hierarchy: one directory.
    V2(PathBuf),
}

/// Reads one cgroup's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupReader {
    /// The cgroup's path inside its hierarchy, for labels.
    pub path: String,
    /// Its files.
    pub dirs: CgroupDirs,
    /// `USER_HZ`, the unit of v1's `cpuacct.stat`.
    clk_tck: u64,
}

const V1_CONTROLLERS: [&str; 4] = ["cpu", "cpuacct", "memory", "pids"];

impl CgroupReader {
    /// A reader of the given directories; `path` names the cgroup in labels.
    pub fn new(path: impl Into<String>, dirs: CgroupDirs) -> Self {
        // SAFETY: sysconf has no preconditions.
        let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Self {
            path: path.into(),
            dirs,
            clk_tck: u64::try_from(tck).ok().filter(|&t| t > 0).unwrap_or(100),
        }
    }

    /// The cgroup of process `pid`, found from `/proc/self/mountinfo` and
    /// `/proc/PID/cgroup`. The v1 controllers win on a hybrid host when they are mounted.
    pub fn for_pid(pid: u32) -> Result<Self, Error> {
        let mounts = read_mounts()?;
        let path = format!("/proc/{pid}/cgroup");
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let members = parse_proc_cgroup(&bytes)?;
        let (name, dirs) = locate(&mounts, &members)
            .ok_or_else(|| Error::Cgroup(format!("no mounted cgroup holds process {pid}")))?;
        Ok(Self::new(name, dirs))
    }

    /// The cgroup named by `path`: either a directory under a cgroup mount
    /// (`/sys/fs/cgroup/memory/foo`, `/sys/fs/cgroup/foo`) or a path inside the hierarchy
    /// (`/foo`), looked up in every v1 controller and then in the unified hierarchy.
    pub fn for_path(path: &Path) -> Result<Self, Error> {
        let mounts = read_mounts()?;
        let text = path.to_string_lossy();
        let containing = mounts
            .iter()
            .filter(|m| path.starts_with(&m.mount_point))
            .max_by_key(|m| m.mount_point.len());
        let rel = match containing {
            Some(m) if m.controllers.is_none() => {
                let rel = path.strip_prefix(&m.mount_point).unwrap_or(path);
                return Ok(Self::new(
                    join_rel(&m.root, rel),
                    CgroupDirs::V2(path.to_path_buf()),
                ));
            }
            Some(m) => join_rel(&m.root, path.strip_prefix(&m.mount_point).unwrap_or(path)),
            None => text.into_owned(),
        };
        let members: Vec<CgroupMembership> = mounts
            .iter()
            .enumerate()
            .map(|(i, m)| CgroupMembership {
                hierarchy: if m.controllers.is_some() {
                    i as u32 + 1
                } else {
                    0
                },
                controllers: m.controllers.clone().unwrap_or_default(),
                path: rel.clone(),
            })
            .collect();
        let (name, dirs) = locate(&mounts, &members)
            .map(|(name, d)| (name, existing_only(d)))
            .filter(|(_, d)| dirs_exist(d))
            .ok_or_else(|| {
                Error::Cgroup(format!(
                    "no cgroup {} under any cgroup mount",
                    path.display()
                ))
            })?;
        Ok(Self::new(name, dirs))
    }

    /// Pids of the processes in the cgroup (`cgroup.procs`).
    pub fn procs(&self) -> Result<Vec<u32>, Error> {
        let dir = match &self.dirs {
            CgroupDirs::V2(d) => Some(d),
            CgroupDirs::V1 {
                cpu,
                cpuacct,
                memory,
                pids,
            } => cpu
                .as_ref()
                .or(cpuacct.as_ref())
                .or(memory.as_ref())
                .or(pids.as_ref()),
        };
        let Some(dir) = dir else {
            return Ok(Vec::new());
        };
        match read_opt(&dir.join("cgroup.procs"))? {
            Some(b) => Ok(parse_procs("cgroup.procs", &b)?),
            None => Ok(Vec::new()),
        }
    }

    /// Reads the counters. Files of controllers that are not enabled give `None` fields.
    pub fn read(&self) -> Result<CgroupSample, Error> {
        match &self.dirs {
            CgroupDirs::V1 {
                cpu,
                cpuacct,
                memory,
                pids,
            } => self.read_v1(
                cpu.as_deref(),
                cpuacct.as_deref(),
                memory.as_deref(),
                pids.as_deref(),
            ),
            CgroupDirs::V2(dir) => self.read_v2(dir),
        }
    }

    fn read_v1(
        &self,
        cpu: Option<&Path>,
        cpuacct: Option<&Path>,
        memory: Option<&Path>,
        pids: Option<&Path>,
    ) -> Result<CgroupSample, Error> {
        let mut s = CgroupSample {
            version: 1,
            path: self.path.clone(),
            ..CgroupSample::default()
        };
        let tck = self.clk_tck as f64;
        if let Some(dir) = cpuacct {
            s.cpu_usage_seconds = single(dir, "cpuacct.usage")?
                .flatten()
                .map(|ns| ns as f64 / 1e9);
            if let Some(stat) = keyed(dir, "cpuacct.stat")? {
                s.cpu_user_seconds = lookup(&stat, "user").map(|t| t as f64 / tck);
                s.cpu_system_seconds = lookup(&stat, "system").map(|t| t as f64 / tck);
            }
        }
        if let Some(dir) = cpu {
            if let Some(stat) = keyed(dir, "cpu.stat")? {
                s.cpu_periods = lookup(&stat, "nr_periods");
                s.cpu_throttled_periods = lookup(&stat, "nr_throttled");
                s.cpu_throttled_seconds = lookup(&stat, "throttled_time").map(|ns| ns as f64 / 1e9);
            }
            let quota = read_opt(&dir.join("cpu.cfs_quota_us"))?
                .map(|b| parse_signed("cpu.cfs_quota_us", &b))
                .transpose()?
                .flatten();
            let period = single(dir, "cpu.cfs_period_us")?.flatten();
            s.cpu_quota_cores = quota.zip(period).and_then(|(q, p)| quota_cores(q, p));
        }
        if let Some(dir) = memory {
            s.memory_usage_bytes = single(dir, "memory.usage_in_bytes")?.flatten();
            s.memory_limit_bytes = single(dir, "memory.limit_in_bytes")?
                .flatten()
                .and_then(v1_limit);
            if let Some(stat) = keyed(dir, "memory.stat")? {
                s.memory_rss_bytes = lookup(&stat, "total_rss").or(lookup(&stat, "rss"));
                s.memory_cache_bytes = lookup(&stat, "total_cache").or(lookup(&stat, "cache"));
                let inactive =
                    lookup(&stat, "total_inactive_file").or(lookup(&stat, "inactive_file"));
                s.memory_working_set_bytes = s.memory_usage_bytes.map(|u| working_set(u, inactive));
            }
        }
        if let Some(dir) = pids {
            s.pids_current = single(dir, "pids.current")?.flatten();
            s.pids_max = single(dir, "pids.max")?.flatten();
        }
        Ok(s)
    }

    fn read_v2(&self, dir: &Path) -> Result<CgroupSample, Error> {
        if !dir.is_dir() {
            return Err(Error::Cgroup(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        let mut s = CgroupSample {
            version: 2,
            path: self.path.clone(),
            ..CgroupSample::default()
        };
        let usec = |v: u64| v as f64 / 1e6;
        if let Some(stat) = keyed(dir, "cpu.stat")? {
            s.cpu_usage_seconds = lookup(&stat, "usage_usec").map(usec);
            s.cpu_user_seconds = lookup(&stat, "user_usec").map(usec);
            s.cpu_system_seconds = lookup(&stat, "system_usec").map(usec);
            s.cpu_periods = lookup(&stat, "nr_periods");
            s.cpu_throttled_periods = lookup(&stat, "nr_throttled");
            s.cpu_throttled_seconds = lookup(&stat, "throttled_usec").map(usec);
        }
        if let Some(b) = read_opt(&dir.join("cpu.max"))? {
            s.cpu_quota_cores = parse_cpu_max(&b)?;
        }
        s.memory_usage_bytes = single(dir, "memory.current")?.flatten();
        s.memory_limit_bytes = single(dir, "memory.max")?.flatten();
        if let Some(stat) = keyed(dir, "memory.stat")? {
            s.memory_rss_bytes = lookup(&stat, "anon");
            s.memory_cache_bytes = lookup(&stat, "file");
            let inactive = lookup(&stat, "inactive_file");
            s.memory_working_set_bytes = s.memory_usage_bytes.map(|u| working_set(u, inactive));
        }
        s.pids_current = single(dir, "pids.current")?.flatten();
        s.pids_max = single(dir, "pids.max")?.flatten();
        Ok(s)
    }
}

/// cAdvisor's working set: usage minus inactive file pages, never below zero.
pub fn working_set(usage: u64, inactive_file: Option<u64>) -> u64 {
    usage.saturating_sub(inactive_file.unwrap_or(0))
}

/// Finds the directories of the cgroup a process belongs to, given the cgroup mounts and
/// the process's `/proc/PID/cgroup` lines. Returns the cgroup's name (its path in the
/// memory or cpu hierarchy, or the unified one) and its directories. v1 is chosen when any
/// of cpu, cpuacct or memory is mounted as v1; v2 otherwise.
pub fn locate(
    mounts: &[CgroupMount],
    members: &[CgroupMembership],
) -> Option<(String, CgroupDirs)> {
    let v1_dir = |controller: &str| -> Option<(String, PathBuf)> {
        let mount = mounts.iter().find(|m| {
            m.controllers
                .as_ref()
                .is_some_and(|c| c.iter().any(|c| c == controller))
        })?;
        let member = members
            .iter()
            .find(|m| m.controllers.iter().any(|c| c == controller))?;
        Some((member.path.clone(), under_mount(mount, &member.path)))
    };
    let [cpu, cpuacct, memory, pids] = V1_CONTROLLERS.map(v1_dir);
    if cpu.is_some() || cpuacct.is_some() || memory.is_some() {
        let name = memory
            .as_ref()
            .or(cpu.as_ref())
            .or(cpuacct.as_ref())
            .map(|(n, _)| n.clone())?;
        let dir = |d: Option<(String, PathBuf)>| d.map(|(_, p)| p);
        return Some((
            name,
            CgroupDirs::V1 {
                cpu: dir(cpu),
                cpuacct: dir(cpuacct),
                memory: dir(memory),
                pids: dir(pids),
            },
        ));
    }
    let mount = mounts.iter().find(|m| m.controllers.is_none())?;
    let member = members.iter().find(|m| m.hierarchy == 0)?;
    Some((
        member.path.clone(),
        CgroupDirs::V2(under_mount(mount, &member.path)),
    ))
}

/// The directory of cgroup `path` under `mount`, whose root shows cgroup `mount.root`.
fn under_mount(mount: &CgroupMount, path: &str) -> PathBuf {
    let rel = if mount.root == "/" {
        path
    } else {
        path.strip_prefix(mount.root.as_str()).unwrap_or(path)
    };
    Path::new(&mount.mount_point).join(rel.trim_start_matches('/'))
}

fn join_rel(root: &str, rel: &Path) -> String {
    let joined = Path::new(root).join(rel);
    let s = joined.to_string_lossy();
    if s.starts_with('/') {
        s.into_owned()
    } else {
        format!("/{s}")
    }
}

/// Drops the v1 controller directories that do not exist: a path given for one
/// hierarchy (memory) need not exist in the others (cpu).
fn existing_only(dirs: CgroupDirs) -> CgroupDirs {
    match dirs {
        CgroupDirs::V2(d) => CgroupDirs::V2(d),
        CgroupDirs::V1 {
            cpu,
            cpuacct,
            memory,
            pids,
        } => {
            let keep = |d: Option<PathBuf>| d.filter(|d| d.is_dir());
            CgroupDirs::V1 {
                cpu: keep(cpu),
                cpuacct: keep(cpuacct),
                memory: keep(memory),
                pids: keep(pids),
            }
        }
    }
}

fn dirs_exist(dirs: &CgroupDirs) -> bool {
    match dirs {
        CgroupDirs::V2(d) => d.is_dir(),
        CgroupDirs::V1 {
            cpu,
            cpuacct,
            memory,
            pids,
        } => [cpu, cpuacct, memory, pids]
            .into_iter()
            .flatten()
            .any(|d| d.is_dir()),
    }
}

fn read_mounts() -> Result<Vec<CgroupMount>, Error> {
    let path = "/proc/self/mountinfo";
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(parse_mountinfo(&bytes)?)
}

/// Reads a file; `None` when it does not exist (a controller that is not enabled).
fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn single(dir: &Path, name: &str) -> Result<Option<Option<u64>>, Error> {
    let path = dir.join(name);
    read_opt(&path)?
        .map(|b| parse_single(&path.to_string_lossy(), &b))
        .transpose()
        .map_err(Error::from)
}

fn keyed(dir: &Path, name: &str) -> Result<Option<Vec<(String, u64)>>, Error> {
    let path = dir.join(name);
    read_opt(&path)?
        .map(|b| parse_flat_keyed(&path.to_string_lossy(), &b))
        .transpose()
        .map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup_files::{parse_mountinfo, parse_proc_cgroup};

    #[test]
    fn hybrid_host_prefers_v1() {
        let mounts = parse_mountinfo(
            b"32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n\
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
        )
        .unwrap();
        let members = parse_proc_cgroup(b"4:memory:/api/x\n2:cpuacct:/\n1:cpu:/\n0::/\n").unwrap();
        let (name, dirs) = locate(&mounts, &members).unwrap();
        assert_eq!(name, "/api/x");
        assert_eq!(
            dirs,
            CgroupDirs::V1 {
                cpu: Some("/sys/fs/cgroup/cpu".into()),
                cpuacct: Some("/sys/fs/cgroup/cpuacct".into()),
                memory: Some("/sys/fs/cgroup/memory/api/x".into()),
                pids: None,
            }
        );
    }

    #[test]
    fn unified_host_with_namespace_root() {
        let mounts =
            parse_mountinfo(b"30 25 0:26 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
                .unwrap();
        let members = parse_proc_cgroup(b"0::/kubepods/pod1/c1\n").unwrap();
        let (name, dirs) = locate(&mounts, &members).unwrap();
        assert_eq!(name, "/kubepods/pod1/c1");
        assert_eq!(dirs, CgroupDirs::V2("/sys/fs/cgroup/pod1/c1".into()));
    }

    #[test]
    fn working_set_never_negative() {
        assert_eq!(working_set(100, Some(30)), 70);
        assert_eq!(working_set(10, Some(30)), 0);
        assert_eq!(working_set(10, None), 10);
    }
}
