//! Parsers of /proc files: bytes in, values out.

use crate::error::ParseError;

/// The fields of `/proc/PID/stat` the sampler uses, in the kernel's units (clock ticks,
/// pages, bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: u32,
    /// Command name, the text between the first `(` and the last `)`.
    pub comm: String,
    /// State letter.
    pub state: char,
    /// Parent process id.
    pub ppid: u32,
    /// Minor faults.
    pub minflt: u64,
    /// Minor faults of reaped children.
    pub cminflt: u64,
    /// Major faults.
    pub majflt: u64,
    /// Major faults of reaped children.
    pub cmajflt: u64,
    /// User time, clock ticks.
    pub utime: u64,
    /// System time, clock ticks.
    pub stime: u64,
    /// User time of reaped children, clock ticks.
    pub cutime: u64,
    /// System time of reaped children, clock ticks.
    pub cstime: u64,
    /// Threads.
    pub num_threads: u64,
    /// Start time after boot, clock ticks.
    pub starttime: u64,
    /// Virtual memory size, bytes.
    pub vsize: u64,
    /// Resident set size, pages.
    pub rss: u64,
}

const STAT: &str = "/proc/PID/stat";

/// Parses `/proc/PID/stat`. The command name may hold spaces and parentheses, so it runs
/// to the last `)`.
pub fn parse_stat(bytes: &[u8]) -> Result<ProcStat, ParseError> {
    let text = String::from_utf8_lossy(bytes);
    let open = text
        .find('(')
        .ok_or_else(|| ParseError::new(STAT, 1, "no '(' before the command name"))?;
    let close = text
        .rfind(')')
        .filter(|&c| c > open)
        .ok_or_else(|| ParseError::new(STAT, 1, "no ')' after the command name"))?;
    let pid = parse_num::<u32>(text[..open].trim(), "pid")?;
    let comm = text[open + 1..close].to_string();
    let rest: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    // Index 0 of `rest` is field 3 (state) of proc(5).
    let field = |i: usize, name: &str| -> Result<&str, ParseError> {
        rest.get(i)
            .copied()
            .ok_or_else(|| ParseError::new(STAT, 1, format!("missing field {} ({name})", i + 3)))
    };
    let num = |i: usize, name: &str| -> Result<u64, ParseError> {
        parse_num::<u64>(field(i, name)?, name)
    };
    // cutime and cstime are signed in the kernel's format; a negative value means none.
    let signed = |i: usize, name: &str| -> Result<u64, ParseError> {
        Ok(parse_num::<i64>(field(i, name)?, name)?
            .max(0)
            .unsigned_abs())
    };
    let state = field(0, "state")?.chars().next().unwrap_or('?');
    Ok(ProcStat {
        pid,
        comm,
        state,
        ppid: parse_num::<u32>(field(1, "ppid")?, "ppid")?,
        minflt: num(7, "minflt")?,
        cminflt: num(8, "cminflt")?,
        majflt: num(9, "majflt")?,
        cmajflt: num(10, "cmajflt")?,
        utime: num(11, "utime")?,
        stime: num(12, "stime")?,
        cutime: signed(13, "cutime")?,
        cstime: signed(14, "cstime")?,
        num_threads: signed(17, "num_threads")?,
        starttime: num(19, "starttime")?,
        vsize: num(20, "vsize")?,
        rss: signed(21, "rss")?,
    })
}

fn parse_num<T: std::str::FromStr>(s: &str, name: &str) -> Result<T, ParseError> {
    s.parse::<T>()
        .map_err(|_| ParseError::new(STAT, 1, format!("{name} is not a number: {s:?}")))
}

/// The fields of `/proc/PID/status` the sampler uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcStatus {
    /// `voluntary_ctxt_switches`.
    pub voluntary_ctxt_switches: u64,
    /// `nonvoluntary_ctxt_switches`.
    pub nonvoluntary_ctxt_switches: u64,
}

/// Parses `/proc/PID/status` (`Key:\tvalue` lines). Unknown keys are skipped; a known key
/// with a value that is not a number is an error.
pub fn parse_status(bytes: &[u8]) -> Result<ProcStatus, ParseError> {
    let mut out = ProcStatus::default();
    for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "voluntary_ctxt_switches" => &mut out.voluntary_ctxt_switches,
            "nonvoluntary_ctxt_switches" => &mut out.nonvoluntary_ctxt_switches,
            _ => continue,
        };
        *slot = value.trim().parse().map_err(|_| {
            ParseError::new(
                "/proc/PID/status",
                i + 1,
                format!("{key} is not a number: {:?}", value.trim()),
            )
        })?;
    }
    Ok(out)
}

/// The fields of `/proc/stat` the sampler uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemStat {
    /// Boot time, seconds since the Unix epoch (`btime`).
    pub btime: u64,
    /// Forks since boot (`processes`).
    pub processes: u64,
}

/// Parses `/proc/stat`; both `btime` and `processes` must be present.
pub fn parse_system_stat(bytes: &[u8]) -> Result<SystemStat, ParseError> {
    let (mut btime, mut processes) = (None, None);
    for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
        let mut words = line.split_ascii_whitespace();
        let slot = match words.next() {
            Some("btime") => &mut btime,
            Some("processes") => &mut processes,
            _ => continue,
        };
        let value = words.next().unwrap_or("");
        *slot = Some(value.parse::<u64>().map_err(|_| {
            ParseError::new("/proc/stat", i + 1, format!("not a number: {value:?}"))
        })?);
    }
    match (btime, processes) {
        (Some(btime), Some(processes)) => Ok(SystemStat { btime, processes }),
        (None, _) => Err(ParseError::new("/proc/stat", 1, "no btime line")),
        (_, None) => Err(ParseError::new("/proc/stat", 1, "no processes line")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_parentheses_and_spaces_in_comm() {
        let line = b"4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 1510 20 3 1 75 25 -2 4 20 0 3 0 123456 10485760 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.pid, 4242);
        assert_eq!(s.comm, "we (ird) name");
        assert_eq!(s.state, 'S');
        assert_eq!(s.ppid, 1);
        assert_eq!((s.minflt, s.cminflt, s.majflt, s.cmajflt), (1510, 20, 3, 1));
        assert_eq!((s.utime, s.stime, s.cutime, s.cstime), (75, 25, 0, 4));
        assert_eq!(s.num_threads, 3);
        assert_eq!(s.starttime, 123456);
        assert_eq!(s.vsize, 10485760);
        assert_eq!(s.rss, 512);
    }

    #[test]
    fn stat_errors_name_the_field() {
        let e = parse_stat(b"1 (x) S 0 1").unwrap_err();
        assert!(e.to_string().contains("minflt"), "{e}");
        let e = parse_stat(b"1 (x) S zero").unwrap_err();
        assert!(e.to_string().contains("ppid"), "{e}");
    }

    #[test]
    fn status_context_switches() {
        let s = parse_status(b"Name:\tsh\nThreads:\t1\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n").unwrap();
        assert_eq!(s.voluntary_ctxt_switches, 12);
        assert_eq!(s.nonvoluntary_ctxt_switches, 3);
        let e = parse_status(b"Name:\tx\nvoluntary_ctxt_switches:\tmany\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn system_stat() {
        let s =
            parse_system_stat(b"cpu  1 2 3\nbtime 1795388208\nprocesses 14007\nprocs_running 2\n")
                .unwrap();
        assert_eq!(
            s,
            SystemStat {
                btime: 1795388208,
                processes: 14007
            }
        );
        assert!(parse_system_stat(b"btime 1\n").is_err());
    }
}
