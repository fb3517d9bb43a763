//! What /proc says about a thread: name, state, wait channel, current system call, CPU time.

use std::time::Duration;

/// A thread's /proc facts; fields are empty/`None` when the file could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadProc {
    /// `comm`.
    pub name: String,
    /// State letter from `stat` (`R`, `S`, `D`, `T`, `t`, `Z`).
    pub state: char,
    /// Kernel function the thread sleeps in (`wchan`), empty when running or unknown.
    pub wchan: String,
    /// System call it is in, by name (`futex`, `read`), `None` when in user space.
    pub syscall: Option<String>,
    /// User plus system CPU time.
    pub cpu_time: Duration,
}

/// Human word for a state letter.
pub fn state_word(state: char) -> &'static str {
    match state {
        'R' => "running",
        'S' => "sleeping",
        'D' => "disk-sleep",
        'T' => "stopped",
        't' => "tracing-stop",
        'Z' => "zombie",
        'X' => "dead",
        'I' => "idle",
        _ => "unknown",
    }
}

/// Name of an x86-64 system call number; `syscall_N` for ones not listed.
pub fn syscall_name(nr: u64) -> String {
    let name = match nr {
        0 => "read",
        1 => "write",
        7 => "poll",
        17 => "pread64",
        18 => "pwrite64",
        19 => "readv",
        20 => "writev",
        23 => "select",
        24 => "sched_yield",
        34 => "pause",
        35 => "nanosleep",
        42 => "connect",
        43 => "accept",
        44 => "sendto",
        45 => "recvfrom",
        46 => "sendmsg",
        47 => "recvmsg",
        61 => "wait4",
        72 => "fcntl",
        74 => "fsync",
        130 => "rt_sigsuspend",
        202 => "futex",
        230 => "clock_nanosleep",
        232 => "epoll_wait",
        247 => "waitid",
        270 => "pselect6",
        271 => "ppoll",
        281 => "epoll_pwait",
        288 => "accept4",
        299 => "recvmmsg",
        435 => "clone3",
        441 => "epoll_pwait2",
        _ => return format!("syscall_{nr}"),
    };
    name.to_string()
}

/// Parses `/proc/PID/task/TID/stat`: the state letter and utime+stime in clock ticks.
pub fn parse_stat(text: &str) -> Option<(char, u64)> {
    // The name is in parentheses and may itself contain spaces or parentheses.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Fields after ')' start at stat field 3 (state); utime is 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((state, utime + stime))
}

/// Parses `/proc/PID/task/TID/syscall`: `running`, `-1 ...` (not in a syscall) or
/// `NR args...`.
pub fn parse_syscall(text: &str) -> Option<String> {
    let first = text.split_whitespace().next()?;
    let nr: i64 = first.parse().ok()?;
    u64::try_from(nr).ok().map(syscall_name)
}

/// Reads the /proc facts of thread `tid` of `pid`.
pub fn read_thread(pid: u32, tid: u32) -> ThreadProc {
    let dir = format!("/proc/{pid}/task/{tid}");
    let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap_or_default();
    // SAFETY: sysconf has no preconditions.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
        .unwrap_or(100)
        .max(1);
    let (state, ticks) = parse_stat(&read("stat")).unwrap_or(('?', 0));
    let wchan = read("wchan");
    ThreadProc {
        name: read("comm").trim_end().to_string(),
        state,
        wchan: if wchan == "0" { String::new() } else { wchan },
        syscall: parse_syscall(&read("syscall")),
        cpu_time: Duration::from_millis(ticks * 1000 / hz),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stat_with_odd_name() {
        let s = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(parse_stat(s), Some(('S', 300)));
    }

    #[test]
    fn syscall_forms() {
        assert_eq!(
            parse_syscall("202 0x1 0x2 0x3 0x4 0x5 0x6 0x7ff 0x7f\n").as_deref(),
            Some("futex")
        );
        assert_eq!(parse_syscall("-1 0x7ffd 0x401000\n"), None);
        assert_eq!(parse_syscall("running\n"), None);
        assert_eq!(syscall_name(999), "syscall_999");
    }

    proptest! {
        #[test]
        fn never_panic(s in ".{0,120}") {
            let _ = parse_stat(&s);
            let _ = parse_syscall(&s);
        }
    }
}
