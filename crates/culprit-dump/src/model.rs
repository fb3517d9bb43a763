//! The snapshot model: what every task (goroutine or native thread) of a process was doing.
//!
//! One model serves Go dumps and native thread stacks so both group and print the same way.
//! Names are `Arc<str>` because a dump of 100k goroutines repeats the same few hundred
//! function and file names millions of times.

use std::sync::Arc;

use serde::Serialize;

/// A shared, immutable string (function and file names repeat across tasks).
pub type Name = Arc<str>;

/// Everything one dump or probe captured about a process.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Which form the input had.
    pub format: Format,
    /// The tasks, in the order the input listed them.
    pub tasks: Vec<Task>,
    /// Lines that say why the dump was written (`panic: ...`, `SIGQUIT: quit`,
    /// `fatal error: ...`, `goroutine profile: total N`), in input order.
    pub headlines: Vec<String>,
    /// The total the input announced, when it announces one (`goroutine profile: total N`).
    pub announced_total: Option<u64>,
    /// Tasks the input says it left out (`N goroutines omitted` style lines).
    pub omitted: u64,
    /// Registers of the crashing thread (`rax 0x..` lines of a crash dump), in input order.
    pub registers: Vec<(String, String)>,
    /// Parts of the input that were not understood or deliberately not used.
    pub skipped: Vec<Skipped>,
}

/// The form a dump came in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Nothing recognisable was found.
    #[default]
    Unknown,
    /// `/debug/pprof/goroutine?debug=2` (one trace per goroutine, no crash header).
    GoroutineDebug2,
    /// A crash traceback: SIGQUIT/SIGABRT, `panic:`, `fatal error:` (incl. deadlock).
    GoTraceback,
    /// `/debug/pprof/goroutine?debug=1` (aggregated records `N @ 0x...`).
    GoroutineDebug1,
    /// The gzipped `profile.proto` goroutine profile.
    GoroutineProto,
    /// A Go race detector report (recognised, holds no goroutine states).
    RaceReport,
    /// Native threads of a live process (filled by a probe, not parsed).
    NativeThreads,
}

impl Format {
    /// A short human name for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Unknown => "unrecognised input",
            Format::GoroutineDebug2 => "goroutine dump (debug=2)",
            Format::GoTraceback => "Go traceback (signal, panic or fatal error)",
            Format::GoroutineDebug1 => "goroutine profile (debug=1)",
            Format::GoroutineProto => "goroutine profile (proto)",
            Format::RaceReport => "race detector report",
            Format::NativeThreads => "native threads",
        }
    }
}

/// One goroutine, one aggregated goroutine-profile record, or one native thread.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Task {
    /// Goroutine id or thread id (TID), when the input has one.
    pub id: Option<u64>,
    /// How many tasks this entry stands for: 1 for dumps and threads, N for the
    /// aggregated records of `debug=1` and proto profiles.
    pub count: u64,
    /// What it is doing: Go's wait reason (`semacquire`, `chan receive`, `IO wait`,
    /// `running`, `syscall`) or a thread's `/proc` state (`R`, `S`, `D`). `None` when the
    /// input carries no state (debug=1, proto).
    pub state: Option<String>,
    /// Minutes blocked, as Go prints it (only from one minute up; `None` otherwise).
    pub wait_minutes: Option<u64>,
    /// `locked to thread` (LockOSThread).
    pub locked: bool,
    /// Thread name (`comm`), when known.
    pub name: Option<String>,
    /// Where the task was started (`created by`).
    pub creator: Option<Creator>,
    /// Innermost frame first.
    pub frames: Vec<Frame>,
    /// The trace ended with `...additional frames elided...` (or a truncation).
    pub elided: bool,
    /// pprof labels (`# labels:` in debug=1, sample labels in proto).
    pub labels: Vec<(String, String)>,
    /// Anything else a source knows: for threads `wchan`, `syscall`, `cpu_time`; for Go
    /// 1.21+ headers `gp`, `m`.
    pub extra: Vec<(String, String)>,
}

impl Task {
    /// A task with `count` 1 and nothing else set.
    pub fn new() -> Self {
        Task {
            count: 1,
            ..Task::default()
        }
    }
}

/// The `created by` site of a goroutine (or the spawner of a thread).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Creator {
    /// The function holding the `go` statement.
    pub function: Name,
    /// Its source file (empty when unknown).
    pub file: Name,
    /// Its line (0 when unknown).
    pub line: u32,
    /// The goroutine that ran the `go` statement (`in goroutine N`, Go 1.21+).
    pub goroutine: Option<u64>,
}

/// One stack frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Frame {
    /// Fully qualified function name (`main.(*bigLock).doWork`), or a symbol, or `??`.
    pub function: Name,
    /// The argument text between the parentheses, verbatim (`0x0?, 0x0?`, `...`);
    /// `None` when the source prints no arguments.
    pub args: Option<Box<str>>,
    /// Source file (empty when unknown).
    pub file: Name,
    /// Source line (0 when unknown).
    pub line: u32,
    /// Program counter, when the source gives one (`pc=0x..`, debug=1 addresses, proto).
    pub pc: Option<u64>,
    /// Offset from the function's entry (`+0x4b`), when printed.
    pub offset: Option<u64>,
}

impl Frame {
    /// A frame with just a function, file and line.
    pub fn new(function: impl Into<Name>, file: impl Into<Name>, line: u32) -> Self {
        Frame {
            function: function.into(),
            args: None,
            file: file.into(),
            line,
            pc: None,
            offset: None,
        }
    }

    /// True for frames of Go's runtime internals that a level-1 traceback hides:
    /// unexported `runtime.` functions (`runtime.gopark`, `runtime.goexit`) and
    /// compiler-generated wrappers (`<autogenerated>` files).
    pub fn is_go_runtime_internal(&self) -> bool {
        if &*self.file == "<autogenerated>" {
            return true;
        }
        match self.function.strip_prefix("runtime.") {
            Some(rest) => !rest.starts_with(|c: char| c.is_ascii_uppercase()),
            None => false,
        }
    }
}

/// A part of the input that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// First line (1-based) of the range; for binary inputs, 0.
    pub first_line: usize,
    /// Last line (1-based, inclusive).
    pub last_line: usize,
    /// Why it was not used.
    pub reason: String,
}

impl Snapshot {
    /// The number of tasks, counting aggregated records by their count.
    pub fn total(&self) -> u64 {
        self.tasks.iter().map(|t| t.count).sum()
    }

    /// Drops Go runtime-internal frames (see [`Frame::is_go_runtime_internal`]) from every
    /// task whose stack has other frames, which is what a `debug=2` dump or a
    /// `GOTRACEBACK=all` traceback shows; crash dumps (level 2) and proto profiles keep
    /// them. Makes stacks from different capture forms comparable.
    pub fn hide_runtime_frames(&mut self) {
        for task in &mut self.tasks {
            if task.frames.iter().any(|f| !f.is_go_runtime_internal()) {
                task.frames.retain(|f| !f.is_go_runtime_internal());
            }
        }
    }
}
