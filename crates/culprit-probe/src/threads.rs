//! Stacks of every thread of a live process, without its cooperation: each thread is
//! seized and interrupted with ptrace, its registers and stack memory are copied, then all
//! are released. Unwinding and symbolization happen after the process runs again.

use std::time::{Duration, Instant};

use culprit_dump::{Format, Frame as DumpFrame, Snapshot, Task};

use crate::error::ProbeError;
use crate::maps::read_maps;
use crate::procinfo::{ThreadProc, read_thread, state_word};
use crate::record::task_ids;
use crate::symbolize::{BlazeSymbolizer, Symbolize};
use crate::unwind::{AddressSpaces, Regs};

/// Most stack bytes copied per thread: deep enough for deep stacks, small enough to keep
/// the stop short.
const MAX_STACK: u64 = 512 * 1024;

/// One stopped thread's raw state.
struct Captured {
    tid: u32,
    proc_info: ThreadProc,
    regs: Option<Regs>,
    stack: Vec<u8>,
}

/// The threads of a process and how long it was stopped to take them.
#[derive(Debug)]
pub struct ThreadSnapshot {
    /// Tasks in the shape `culprit-dump` groups (format [`Format::NativeThreads`]).
    pub snapshot: Snapshot,
    /// From the first thread stopped to the last one released.
    pub stopped_for: Duration,
}

fn ptrace(req: libc::c_uint, tid: u32, data: usize) -> Result<(), std::io::Error> {
    // SAFETY: plain ptrace requests that take no pointers (data is an integer here).
    let r = unsafe { libc::ptrace(req, tid as libc::pid_t, 0usize, data) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn get_regs(tid: u32) -> Option<Regs> {
    // SAFETY: user_regs_struct is plain data; PTRACE_GETREGS fills it for a stopped tracee.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    // SAFETY: regs outlives the call and has the size the kernel writes.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_GETREGS,
            tid as libc::pid_t,
            0usize,
            &raw mut regs,
        )
    };
    (r >= 0).then_some(Regs {
        ip: regs.rip,
        sp: regs.rsp,
        bp: regs.rbp,
    })
}

fn read_memory(pid: u32, addr: u64, len: u64) -> Vec<u8> {
    let mut buf = vec![0u8; len as usize];
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: local points to our buffer of the stated length; remote is only read by
    // the kernel, which checks it against the target's address space.
    let n = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    buf.truncate(usize::try_from(n).unwrap_or(0));
    buf
}

/// Stops every thread of `pid` briefly, copies its registers and stack, releases it, then
/// unwinds and symbolizes. Threads that exit meanwhile are left out.
pub fn snapshot(pid: u32) -> Result<ThreadSnapshot, ProbeError> {
    let tids = task_ids(pid)?;
    // /proc first: interrupting a thread changes what its wchan and syscall say.
    let infos: Vec<(u32, ThreadProc)> = tids.iter().map(|&t| (t, read_thread(pid, t))).collect();
    let maps = read_maps(pid)?;
    let start = Instant::now();
    let mut seized = Vec::new();
    let mut first_error = None;
    for &(tid, _) in &infos {
        match ptrace(libc::PTRACE_SEIZE, tid, 0) {
            Ok(()) => seized.push(tid),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => {
                first_error = Some(e);
                break;
            }
        }
    }
    let mut captured = Vec::new();
    if first_error.is_none() {
        for &tid in &seized {
            if ptrace(libc::PTRACE_INTERRUPT, tid, 0).is_err() {
                continue;
            }
        }
        for &tid in &seized {
            let mut status = 0;
            // SAFETY: waiting for the interrupt stop of a thread we trace.
            let r = unsafe { libc::waitpid(tid as libc::pid_t, &mut status, libc::__WALL) };
            if r < 0 {
                continue;
            }
            let regs = get_regs(tid);
            let stack = regs
                .and_then(|r| {
                    let end = maps.iter().find(|m| m.contains(r.sp)).map(|m| m.end)?;
                    Some(read_memory(pid, r.sp, (end - r.sp).min(MAX_STACK)))
                })
                .unwrap_or_default();
            captured.push((tid, regs, stack));
        }
    }
    for &tid in &seized {
        let _ = ptrace(libc::PTRACE_DETACH, tid, 0);
    }
    let stopped_for = start.elapsed();
    if let Some(e) = first_error {
        return Err(ProbeError::for_process(
            "ptrace(PTRACE_SEIZE)",
            "trace",
            pid,
            e,
        ));
    }
    let captured: Vec<Captured> = infos
        .into_iter()
        .map(|(tid, proc_info)| {
            let (regs, stack) = captured
                .iter_mut()
                .find(|c| c.0 == tid)
                .map(|c| (c.1, std::mem::take(&mut c.2)))
                .unwrap_or((None, Vec::new()));
            Captured {
                tid,
                proc_info,
                regs,
                stack,
            }
        })
        .collect();
    Ok(ThreadSnapshot {
        snapshot: to_snapshot(pid, captured),
        stopped_for,
    })
}

fn to_snapshot(pid: u32, captured: Vec<Captured>) -> Snapshot {
    let mut spaces = AddressSpaces::new();
    let mut sym = BlazeSymbolizer::new();
    let mut tasks = Vec::new();
    for c in captured {
        let frames = c
            .regs
            .map(|r| spaces.unwind(pid, r, &c.stack))
            .unwrap_or_default();
        let mut dump_frames = Vec::new();
        for f in frames {
            let lines = f
                .mapping
                .and_then(|m| spaces.mappings().get(m as usize))
                .map(|m| sym.symbolize(m, &[f.addr]).pop().unwrap_or_default())
                .unwrap_or_default();
            if lines.is_empty() {
                let mut d = DumpFrame::new(format!("{:#x}", f.addr), "", 0);
                d.pc = Some(f.addr);
                dump_frames.push(d);
            }
            for (i, l) in lines.iter().enumerate() {
                // An inlined piece of a function into itself (glibc's syscall wrappers)
                // would print the same frame twice.
                if i > 0 && lines.get(i - 1).is_some_and(|p| p.function == l.function) {
                    continue;
                }
                let mut d = DumpFrame::new(l.function.clone(), l.file.clone(), l.line);
                d.pc = Some(f.addr);
                dump_frames.push(d);
            }
        }
        let p = &c.proc_info;
        let mut task = Task::new();
        task.id = Some(u64::from(c.tid));
        task.name = Some(p.name.clone());
        task.state = Some(match &p.syscall {
            Some(sc) => format!("{} in {sc}", state_word(p.state)),
            None => state_word(p.state).to_string(),
        });
        task.frames = dump_frames;
        if !p.wchan.is_empty() {
            task.extra.push(("wchan".into(), p.wchan.clone()));
        }
        if let Some(sc) = &p.syscall {
            task.extra.push(("syscall".into(), sc.clone()));
        }
        task.extra.push((
            "cpu_time".into(),
            format!("{:.3}s", p.cpu_time.as_secs_f64()),
        ));
        tasks.push(task);
    }
    Snapshot {
        format: Format::NativeThreads,
        tasks,
        ..Snapshot::default()
    }
}
