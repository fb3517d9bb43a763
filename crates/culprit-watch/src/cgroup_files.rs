//! Parsers of cgroup files and of the /proc files that say where cgroups are: bytes in,
//! values out.

use crate::error::ParseError;

/// One cgroup filesystem mount from `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// Where it is mounted.
    pub mount_point: String,
    /// The cgroup path that appears at the mount point (`/` unless a namespace or bind
    /// mount shows a sub-tree).
    pub root: String,
    /// `None` for the unified (v2) hierarchy; the controllers (and `name=` options) of a
    /// v1 hierarchy otherwise.
    pub controllers: Option<Vec<String>>,
}

/// Finds the cgroup mounts in `/proc/self/mountinfo`. Non-cgroup lines are skipped.
pub fn parse_mountinfo(bytes: &[u8]) -> Result<Vec<CgroupMount>, ParseError> {
    let mut mounts = Vec::new();
    for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        // Fields: id parent major:minor root mount-point options [optional...] - fstype source super-options
        let Some((left, right)) = line.split_once(" - ") else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(ParseError::new(
                "/proc/self/mountinfo",
                i + 1,
                "no ' - ' separator",
            ));
        };
        let mut right_fields = right.split(' ');
        let fstype = right_fields.next().unwrap_or("");
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        let left_fields: Vec<&str> = left.split(' ').collect();
        let (Some(root), Some(mount_point)) = (left_fields.get(3), left_fields.get(4)) else {
            return Err(ParseError::new(
                "/proc/self/mountinfo",
                i + 1,
                "fewer than 5 fields before ' - '",
            ));
        };
        let controllers = (fstype == "cgroup").then(|| {
            let super_options = right_fields.nth(1).unwrap_or("");
            super_options
                .split(',')
                .filter(|o| !matches!(*o, "rw" | "ro") && !o.is_empty())
                .map(str::to_string)
                .collect()
        });
        mounts.push(CgroupMount {
            mount_point: unescape_octal(mount_point),
            root: unescape_octal(root),
            controllers,
        });
    }
    Ok(mounts)
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .map(|d| d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0')));
        match octal.and_then(|v| u8::try_from(v).ok()) {
            Some(v) => {
                out.push(v);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One line of `/proc/PID/cgroup`: `hierarchy-id:controllers:path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMembership {
    /// The hierarchy id (0 for the unified hierarchy).
    pub hierarchy: u32,
    /// The controllers of the hierarchy (empty for the unified one).
    pub controllers: Vec<String>,
    /// The cgroup's path inside the hierarchy.
    pub path: String,
}

/// Parses `/proc/PID/cgroup`.
pub fn parse_proc_cgroup(bytes: &[u8]) -> Result<Vec<CgroupMembership>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let err = |p: &str| ParseError::new("/proc/PID/cgroup", i + 1, p);
        let (id, rest) = line.split_once(':').ok_or_else(|| err("no ':'"))?;
        let (controllers, path) = rest.split_once(':').ok_or_else(|| err("no second ':'"))?;
        out.push(CgroupMembership {
            hierarchy: id
                .parse()
                .map_err(|_| err(&format!("hierarchy id is not a number: {id:?}")))?,
            controllers: controllers
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            path: path.to_string(),
        });
    }
    Ok(out)
}

/// Parses a flat-keyed cgroup file (`key value` per line: `cpu.stat`, `memory.stat`,
/// `cpuacct.stat`). `file` names it in errors.
pub fn parse_flat_keyed(file: &str, bytes: &[u8]) -> Result<Vec<(String, u64)>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        let mut words = line.split_ascii_whitespace();
        let Some(key) = words.next() else { continue };
        let value = words
            .next()
            .ok_or_else(|| ParseError::new(file, i + 1, format!("{key} has no value")))?;
        let value = value.parse::<u64>().map_err(|_| {
            ParseError::new(file, i + 1, format!("{key} is not a number: {value:?}"))
        })?;
        out.push((key.to_string(), value));
    }
    Ok(out)
}

/// Looks `key` up in the output of [`parse_flat_keyed`].
pub fn lookup(pairs: &[(String, u64)], key: &str) -> Option<u64> {
    pairs.iter().find(|(k, _)| k == key).map(|&(_, v)| v)
}

/// Parses a single-number file (`memory.current`, `cpuacct.usage`). `max` (v2's
/// "unlimited") gives `None`.
pub fn parse_single(file: &str, bytes: &[u8]) -> Result<Option<u64>, ParseError> {
    let text = String::from_utf8_lossy(bytes);
    let word = text.trim();
    if word == "max" {
        return Ok(None);
    }
    word.parse::<u64>()
        .map(Some)
        .map_err(|_| ParseError::new(file, 1, format!("not a number: {word:?}")))
}

/// Parses a v1 signed number file (`cpu.cfs_quota_us`, where `-1` means unlimited).
pub fn parse_signed(file: &str, bytes: &[u8]) -> Result<Option<u64>, ParseError> {
    let text = String::from_utf8_lossy(bytes);
    let word = text.trim();
    let v = word
        .parse::<i64>()
        .map_err(|_| ParseError::new(file, 1, format!("not a number: {word:?}")))?;
    Ok(u64::try_from(v).ok())
}

/// Parses v2's `cpu.max` (`$MAX $PERIOD`, `max` for unlimited) into quota cores.
pub fn parse_cpu_max(bytes: &[u8]) -> Result<Option<f64>, ParseError> {
    let text = String::from_utf8_lossy(bytes);
    let mut words = text.split_ascii_whitespace();
    let err = |p: String| ParseError::new("cpu.max", 1, p);
    let quota = words.next().ok_or_else(|| err("empty".into()))?;
    let period = words.next().unwrap_or("100000");
    let period: u64 = period
        .parse()
        .map_err(|_| err(format!("period is not a number: {period:?}")))?;
    if quota == "max" {
        return Ok(None);
    }
    let quota: u64 = quota
        .parse()
        .map_err(|_| err(format!("quota is not a number: {quota:?}")))?;
    Ok(quota_cores(quota, period))
}

/// Quota over period, `None` when the period is 0.
pub fn quota_cores(quota_us: u64, period_us: u64) -> Option<f64> {
    (period_us > 0).then(|| quota_us as f64 / period_us as f64)
}

/// v1 reports "unlimited" as a huge number rounded down to the page size; treat anything
/// at or above 2^62 as no limit.
pub fn v1_limit(bytes: u64) -> Option<u64> {
    (bytes < 1 << 62).then_some(bytes)
}

/// Parses `cgroup.procs` (one pid per line).
pub fn parse_procs(file: &str, bytes: &[u8]) -> Result<Vec<u32>, ParseError> {
    String::from_utf8_lossy(bytes)
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            l.trim()
                .parse()
                .map_err(|_| ParseError::new(file, i + 1, format!("not a pid: {l:?}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &[u8] = b"23 1 0:21 / /proc rw,nosuid - proc proc rw\n\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory\n\
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n\
41 31 0:38 / /sys/fs/cgroup/unified\\040dir rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";

    #[test]
    fn mountinfo_finds_v1_and_v2() {
        let m = parse_mountinfo(MOUNTINFO).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].mount_point, "/sys/fs/cgroup/cpu");
        assert_eq!(m[0].controllers.as_deref(), Some(&["cpu".to_string()][..]));
        assert_eq!(
            m[2].controllers.as_deref(),
            Some(&["xattr".to_string(), "name=systemd".to_string()][..])
        );
        assert_eq!(m[3].mount_point, "/sys/fs/cgroup/unified dir");
        assert_eq!(m[3].controllers, None);
    }

    #[test]
    fn proc_cgroup_lines() {
        let c = parse_proc_cgroup(b"4:memory:/a/b\n2:cpu,cpuacct:/\n0::/user.slice\n").unwrap();
        assert_eq!(c[0].controllers, vec!["memory"]);
        assert_eq!(c[0].path, "/a/b");
        assert_eq!(c[1].controllers, vec!["cpu", "cpuacct"]);
        assert_eq!(c[2].hierarchy, 0);
        assert!(c[2].controllers.is_empty());
        assert!(parse_proc_cgroup(b"x:cpu:/\n").is_err());
    }

    #[test]
    fn flat_keyed_and_single() {
        let p = parse_flat_keyed("cpu.stat", b"nr_periods 5\nnr_throttled 2\n").unwrap();
        assert_eq!(lookup(&p, "nr_throttled"), Some(2));
        let e = parse_flat_keyed("cpu.stat", b"nr_periods 5\nnr_throttled x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cpu.stat: line 2: nr_throttled is not a number: \"x\""
        );
        assert_eq!(parse_single("memory.max", b"max\n").unwrap(), None);
        assert_eq!(
            parse_single("memory.current", b"4096\n").unwrap(),
            Some(4096)
        );
        assert_eq!(parse_signed("cpu.cfs_quota_us", b"-1\n").unwrap(), None);
        assert_eq!(parse_cpu_max(b"max 100000\n").unwrap(), None);
        assert_eq!(parse_cpu_max(b"50000 100000\n").unwrap(), Some(0.5));
        assert_eq!(v1_limit(9223372036854771712), None);
        assert_eq!(
            parse_procs("cgroup.procs", b"1\n22\n").unwrap(),
            vec![1, 22]
        );
    }
}
