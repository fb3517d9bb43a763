//! Go's one-trace-per-goroutine text: `?debug=2`, SIGQUIT/SIGABRT tracebacks
//! (GOTRACEBACK=all/crash, with `fp= sp= pc=` frames and register dumps), `panic:` output
//! and `fatal error:` (deadlock) reports.
//!
//! The grammar, as the Go runtime prints it (location lines start with a tab):
//!
//! ```text
//! goroutine 21 [semacquire, 1 minutes, locked to thread]:
//! sync.(*Mutex).lockSlow(0x95f708)
//!     /usr/lib/go-1.19/src/sync/mutex.go:171 +0x165 fp=0xc000039768 sp=0xc000039718 pc=0x471bc5
//! ...additional frames elided...
//! created by main.startMutexWaiters in goroutine 1
//!     /src/blockdemo/main.go:83 +0x45
//! ```
//!
//! Lines that fit nowhere (log output interleaved with the dump, a race report, the
//! crashing thread's `runtime stack:`) are recorded as skipped ranges, never fatal.

use crate::lines::{Interner, SkipLog, hex, numbered};
use crate::model::{Creator, Format, Frame, Snapshot, Task};

const INTERLEAVED: &str = "not part of a goroutine trace (interleaved output?)";
const OUTSIDE: &str = "not part of a goroutine dump";
const HEADERLESS: &str = "stack lines without a goroutine header (dump truncated at the start?)";
const BAD_HEADER: &str = "malformed or truncated goroutine header";
const BAD_LOCATION: &str = "malformed source location line (truncated?)";
const ORPHAN_LOCATION: &str = "source location without a function line before it";
const NO_LOCATION: &str = "function line without its source location (truncated or interleaved)";
const RACE: &str = "race detector report (not a goroutine dump)";
const SYSTEM_STACK: &str = "`runtime stack:` of the crashing thread (not a goroutine)";

/// Parses goroutine traces out of `text`, tolerating anything around or between them.
pub(crate) fn parse(text: &str) -> Snapshot {
    let mut p = Parser::default();
    for (n, line) in numbered(text) {
        p.line(n, line);
    }
    p.finish_task();
    let mut snap = p.snap;
    snap.skipped = p.skips.ranges;
    snap.format = if p.crash {
        Format::GoTraceback
    } else if !snap.tasks.is_empty() {
        Format::GoroutineDebug2
    } else if p.race_seen {
        Format::RaceReport
    } else {
        Format::Unknown
    };
    snap
}

#[derive(Default, PartialEq)]
enum Mode {
    #[default]
    Normal,
    /// Inside `==================` race report delimiters.
    Race,
    /// After `runtime stack:` until a blank line.
    SystemStack,
}

enum Pending {
    Frame(Frame, usize),
    Creator(Creator, usize),
}

#[derive(Default)]
struct Parser {
    snap: Snapshot,
    names: Interner,
    skips: SkipLog,
    task: Option<Task>,
    pending: Option<Pending>,
    mode: Mode,
    crash: bool,
    race_seen: bool,
}

impl Parser {
    fn line(&mut self, n: usize, l: &str) {
        match self.mode {
            Mode::Race => {
                if l.starts_with("==================") {
                    self.mode = Mode::Normal;
                }
                self.skips.skip(n, RACE);
                return;
            }
            Mode::SystemStack if !l.trim().is_empty() => {
                self.skips.skip(n, SYSTEM_STACK);
                return;
            }
            _ => {}
        }
        if l.trim().is_empty() {
            self.finish_task();
            self.mode = Mode::Normal;
            return;
        }
        if let Some(task) = self.header(l) {
            self.finish_task();
            self.task = Some(task);
            return;
        }
        if l.strip_prefix("goroutine ")
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        {
            self.finish_task();
            self.skips.skip(n, BAD_HEADER);
            return;
        }
        if self.task.is_some() {
            self.task_line(n, l);
        } else {
            self.outside_line(n, l);
        }
    }

    fn task_line(&mut self, n: usize, l: &str) {
        if let Some(rest) = l.strip_prefix('\t') {
            if rest.starts_with("goroutine running on other thread") {
                if let Some(t) = &mut self.task {
                    t.extra.push(("stack".into(), rest.trim().into()));
                }
                return;
            }
            let Some(loc) = location(rest) else {
                self.skips.skip(n, BAD_LOCATION);
                return;
            };
            if loc.pc.is_some() {
                self.crash = true;
            }
            let file = self.names.get(loc.file);
            match self.pending.take() {
                Some(Pending::Frame(mut f, _)) => {
                    f.file = file;
                    f.line = loc.line;
                    f.offset = loc.offset;
                    f.pc = loc.pc;
                    if let Some(t) = &mut self.task {
                        t.frames.push(f);
                    }
                }
                Some(Pending::Creator(mut c, _)) => {
                    c.file = file;
                    c.line = loc.line;
                    if let Some(t) = &mut self.task {
                        t.creator = Some(c);
                    }
                }
                None => self.skips.skip(n, ORPHAN_LOCATION),
            }
        } else if let Some(rest) = l.strip_prefix("created by ") {
            self.flush_pending();
            let (function, goroutine) = match rest.rsplit_once(" in goroutine ") {
                Some((f, g)) => (f, g.trim().parse().ok()),
                None => (rest.trim(), None),
            };
            let creator = Creator {
                function: self.names.get(function),
                file: self.names.get(""),
                line: 0,
                goroutine,
            };
            self.pending = Some(Pending::Creator(creator, n));
        } else if l.starts_with("...") && l.contains("elided") {
            self.flush_pending();
            if let Some(t) = &mut self.task {
                t.elided = true;
            }
        } else if let Some((function, args)) = function_line(l) {
            self.flush_pending();
            let frame = Frame {
                function: self.names.get(function),
                args: Some(args.into()),
                file: self.names.get(""),
                line: 0,
                pc: None,
                offset: None,
            };
            self.pending = Some(Pending::Frame(frame, n));
        } else if let Some(reg) = register(l) {
            self.finish_task();
            self.snap.registers.push(reg);
        } else if headline(l).is_some() {
            self.finish_task();
            self.outside_line(n, l);
        } else {
            self.skips.skip(n, INTERLEAVED);
        }
    }

    fn outside_line(&mut self, n: usize, l: &str) {
        if l.starts_with("==================") {
            self.mode = Mode::Race;
            self.race_seen = true;
            self.skips.skip(n, RACE);
        } else if l.starts_with("runtime stack:") {
            self.mode = Mode::SystemStack;
            self.skips.skip(n, SYSTEM_STACK);
        } else if l.starts_with("-----") {
            // GOTRACEBACK=crash separates the dumps of each thread with a dashed line.
        } else if let Some(kind) = headline(l) {
            match kind {
                Headline::Crash => self.crash = true,
                Headline::Race => self.race_seen = true,
                Headline::Other => {}
            }
            if kind == Headline::Race {
                self.skips.skip(n, RACE);
            } else {
                self.snap.headlines.push(l.trim().to_string());
            }
        } else if let Some(reg) = register(l) {
            self.snap.registers.push(reg);
        } else if let Some(k) = omitted(l) {
            self.snap.omitted += k;
        } else if l.starts_with('\t') || l.starts_with("created by ") || function_line(l).is_some()
        {
            self.skips.skip(n, HEADERLESS);
        } else {
            self.skips.skip(n, OUTSIDE);
        }
    }

    fn header(&mut self, l: &str) -> Option<Task> {
        let rest = l.strip_prefix("goroutine ")?;
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let id: u64 = rest.get(..digits)?.parse().ok()?;
        let rest = rest.get(digits..)?.strip_suffix("]:")?;
        let open = rest.find('[')?;
        let between = rest.get(..open)?;
        let status = rest.get(open + 1..)?;
        if !between.starts_with(' ') {
            return None;
        }
        let mut task = Task::new();
        task.id = Some(id);
        // Go 1.21+ with GOTRACEBACK=system/crash: `goroutine 1 gp=0xc.. m=0 mp=0x.. [running]:`
        for tok in between.split_whitespace() {
            if let Some((k, v)) = tok.split_once('=') {
                task.extra.push((k.to_string(), v.to_string()));
            }
        }
        let mut state: Option<String> = None;
        for tok in status.split(", ") {
            let tok = tok.trim();
            if let Some(m) = tok
                .strip_suffix(" minutes")
                .or_else(|| tok.strip_suffix(" minute"))
                .and_then(|m| m.parse().ok())
            {
                task.wait_minutes = Some(m);
            } else if tok == "locked to thread" {
                task.locked = true;
            } else if state.is_none() {
                state = Some(tok.to_string());
            } else {
                task.extra.push(("status".into(), tok.to_string()));
            }
        }
        task.state = state;
        Some(task)
    }

    fn flush_pending(&mut self) {
        match self.pending.take() {
            Some(Pending::Frame(f, n)) => {
                self.skips.skip(n, NO_LOCATION);
                if let Some(t) = &mut self.task {
                    t.frames.push(f);
                }
            }
            Some(Pending::Creator(c, n)) => {
                self.skips.skip(n, NO_LOCATION);
                if let Some(t) = &mut self.task {
                    t.creator = Some(c);
                }
            }
            None => {}
        }
    }

    fn finish_task(&mut self) {
        self.flush_pending();
        if let Some(t) = self.task.take() {
            self.snap.tasks.push(t);
        }
    }
}

/// A parsed `\tFILE:LINE +0xOFF fp=.. sp=.. pc=..` line (without the tab).
struct Location<'a> {
    file: &'a str,
    line: u32,
    offset: Option<u64>,
    pc: Option<u64>,
}

fn location(rest: &str) -> Option<Location<'_>> {
    let mut main = rest.trim_end();
    let mut pc = None;
    if let Some(i) = main.find(" fp=").or_else(|| main.find(" sp=")) {
        pc = main
            .get(i..)?
            .split_whitespace()
            .find_map(|t| t.strip_prefix("pc="))
            .and_then(hex);
        main = main.get(..i)?;
    }
    let mut offset = None;
    if let Some(i) = main.rfind(" +0x") {
        offset = hex(main.get(i + 2..)?);
        main = main.get(..i)?;
    }
    let (file, line) = main.rsplit_once(':')?;
    let line = line.parse().ok()?;
    if file.is_empty() {
        return None;
    }
    Some(Location {
        file,
        line,
        offset,
        pc,
    })
}

/// `pkg.(*T).method(args)` → (`pkg.(*T).method`, `args`).
pub(crate) fn function_line(l: &str) -> Option<(&str, &str)> {
    if l.starts_with(char::is_whitespace) {
        return None;
    }
    let body = l.trim_end().strip_suffix(')')?;
    let open = body.rfind('(')?;
    let function = body.get(..open)?;
    let args = body.get(open + 1..)?;
    if function.is_empty() || function.ends_with(' ') {
        return None;
    }
    // Type names inside generic or anonymous-type functions may hold spaces; log lines
    // that happen to end in `)` usually hold other spaces.
    if function.contains(' ')
        && !(function.contains("interface {") || function.contains("struct {"))
    {
        return None;
    }
    Some((function, args))
}

#[derive(PartialEq, Clone, Copy)]
enum Headline {
    /// Says the process is dying: signal, panic, fatal error.
    Crash,
    /// The summary line of a race report.
    Race,
    Other,
}

fn headline(l: &str) -> Option<Headline> {
    let t = l.trim_start();
    const CRASH: [&str; 5] = ["panic: ", "fatal error: ", "PC=0x", "[signal ", "fatal: "];
    if CRASH.iter().any(|p| t.starts_with(p)) || signal_line(t) {
        return Some(Headline::Crash);
    }
    if t.starts_with("Found ") && t.contains("data race") {
        return Some(Headline::Race);
    }
    if t.starts_with("WARNING: DATA RACE") {
        return Some(Headline::Race);
    }
    const OTHER: [&str; 4] = [
        "signal arrived during",
        "runtime: ",
        "exit status ",
        "goroutine profile: total ",
    ];
    OTHER
        .iter()
        .any(|p| t.starts_with(p))
        .then_some(Headline::Other)
}

/// `SIGQUIT: quit`, `SIGABRT: abort`, `SIGSEGV: segmentation violation`.
fn signal_line(t: &str) -> bool {
    t.strip_prefix("SIG").is_some_and(|r| {
        r.split_once(": ").is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase())
        })
    })
}

/// A register dump line: `rax    0xca`, `r15    0x7fee3fbf3881`, `rflags 0x286`.
fn register(l: &str) -> Option<(String, String)> {
    let mut it = l.split_whitespace();
    let name = it.next()?;
    let value = it.next()?;
    if it.next().is_some()
        || name.len() > 8
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return None;
    }
    hex(value)?;
    Some((name.to_string(), value.to_string()))
}

/// `N goroutines omitted` (with or without surrounding dots).
fn omitted(l: &str) -> Option<u64> {
    let t = l.trim().trim_matches('.').trim();
    let (n, rest) = t.split_once(' ')?;
    if rest.starts_with("goroutines omitted") || rest.starts_with("goroutine omitted") {
        n.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_minutes_and_lock() {
        let t = Parser::default()
            .header("goroutine 106 [chan receive, 1 minutes, locked to thread]:")
            .unwrap();
        assert_eq!(t.id, Some(106));
        assert_eq!(t.state.as_deref(), Some("chan receive"));
        assert_eq!(t.wait_minutes, Some(1));
        assert!(t.locked);
    }

    #[test]
    fn header_go121_fields() {
        let t = Parser::default()
            .header("goroutine 1 gp=0xc000002380 m=0 mp=0x5b3d60 [running]:")
            .unwrap();
        assert_eq!(t.state.as_deref(), Some("running"));
        assert_eq!(t.extra.first().map(|(k, _)| k.as_str()), Some("gp"));
    }

    #[test]
    fn crash_location() {
        let l = location(
            "/usr/lib/go-1.19/src/sync/mutex.go:171 +0x165 fp=0xc000039768 sp=0xc000039718 pc=0x471bc5",
        )
        .unwrap();
        assert_eq!(l.file, "/usr/lib/go-1.19/src/sync/mutex.go");
        assert_eq!(l.line, 171);
        assert_eq!(l.offset, Some(0x165));
        assert_eq!(l.pc, Some(0x471bc5));
    }

    #[test]
    fn method_function_line() {
        assert_eq!(
            function_line("main.(*bigLock).doWork(0x0?, 0x0?)"),
            Some(("main.(*bigLock).doWork", "0x0?, 0x0?"))
        );
        assert_eq!(function_line("12:00:01 started worker (pid 3)"), None);
    }

    #[test]
    fn created_in_goroutine() {
        let s = parse(
            "goroutine 7 [chan receive]:\nmain.worker()\n\t/a/main.go:10 +0x1\ncreated by main.main in goroutine 1\n\t/a/main.go:20 +0x2\n",
        );
        let c = s.tasks[0].creator.as_ref().unwrap();
        assert_eq!(
            (&*c.function, c.line, c.goroutine),
            ("main.main", 20, Some(1))
        );
        assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    }
}
