//! Per-thread CPU-time sampling: a perf_event `task-clock` counter on each thread overflows
//! every period and signals that thread with SIGPROF; the handler maps the interrupted
//! address to a line, runs the experiment's bookkeeping and re-arms the counter. The
//! kernel's hrtimer gives true 1 ms periods; POSIX CPU-clock timers, the fallback where
//! perf_event_open is refused, only fire on the scheduler tick (4 ms at HZ=250).

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::{delay, objects::Mapping, table::Table};

/// The line tables, fixed before sampling starts, and where their objects are loaded.
pub struct Scope {
    /// Address ranges to lines, per object.
    pub table: Table,
    /// Where each of `table.objects` is loaded now, if it is.
    pub maps: Vec<Mapping>,
    /// Samples per line since the start.
    pub counts: Vec<AtomicU64>,
    /// Part of `counts` already written to the profile.
    pub reported: Vec<AtomicU64>,
}

/// Set once by the profiler before any timer starts.
pub static SCOPE: OnceLock<Scope> = OnceLock::new();

/// No line selected.
pub const NONE: u32 = 0;
/// The next in-scope sample selects its line.
pub const WAITING: u32 = u32::MAX;
/// Selected line id plus one, or [`NONE`] or [`WAITING`].
pub static SELECTED: AtomicU32 = AtomicU32::new(NONE);
/// Nanoseconds of virtual speed-up per sample of the selected line; 0 outside experiments.
pub static DELAY_SIZE: AtomicU64 = AtomicU64::new(0);
/// Samples of the selected line during the current experiment.
pub static SELECTED_SAMPLES: AtomicU64 = AtomicU64::new(0);

static PERIOD_NS: AtomicU64 = AtomicU64::new(1_000_000);

thread_local! {
    static TIMER: Cell<usize> = const { Cell::new(0) };
    static PERF_FD: Cell<i32> = const { Cell::new(-1) };
}

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_COUNT_SW_TASK_CLOCK: u64 = 1;
const ATTR_DISABLED: u64 = 1 << 0;
const ATTR_EXCLUDE_KERNEL: u64 = 1 << 5;
const ATTR_EXCLUDE_HV: u64 = 1 << 6;
const PERF_EVENT_IOC_REFRESH: libc::c_ulong = 0x2402;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
const F_SETSIG: libc::c_int = 10;
const F_SETOWN_EX: libc::c_int = 15;
const F_OWNER_TID: libc::c_int = 0;

/// The leading part of the kernel's `perf_event_attr` (its version-5 size); the rest
/// stays zero.
#[repr(C)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved: u16,
}

#[repr(C)]
struct FOwnerEx {
    kind: libc::c_int,
    pid: libc::pid_t,
}

/// Opens a task-clock counter on the calling thread that signals it with SIGPROF after
/// every `period` nanoseconds of CPU time. Returns the descriptor, or -1.
fn open_perf(period: u64) -> i32 {
    let attr = PerfEventAttr {
        kind: PERF_TYPE_SOFTWARE,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config: PERF_COUNT_SW_TASK_CLOCK,
        sample_period: period,
        sample_type: 0,
        read_format: 0,
        flags: ATTR_DISABLED | ATTR_EXCLUDE_KERNEL | ATTR_EXCLUDE_HV,
        wakeup_events: 1,
        bp_type: 0,
        config1: 0,
        config2: 0,
        branch_sample_type: 0,
        sample_regs_user: 0,
        sample_stack_user: 0,
        clockid: 0,
        sample_regs_intr: 0,
        aux_watermark: 0,
        sample_max_stack: 0,
        reserved: 0,
    };
    // SAFETY: perf_event_open reads `attr`; the rest are plain descriptor operations on
    // the descriptor it returns.
    unsafe {
        let fd = libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            0 as libc::pid_t,
            -1 as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        ) as i32;
        if fd < 0 {
            return -1;
        }
        let owner = FOwnerEx {
            kind: F_OWNER_TID,
            pid: libc::gettid(),
        };
        if libc::fcntl(fd, libc::F_SETFL, libc::O_ASYNC) != 0
            || libc::fcntl(fd, F_SETSIG, libc::SIGPROF) != 0
            || libc::fcntl(fd, F_SETOWN_EX, &owner as *const FOwnerEx) != 0
            || libc::ioctl(fd, PERF_EVENT_IOC_REFRESH, 1) != 0
        {
            libc::close(fd);
            return -1;
        }
        fd
    }
}

/// Installs the SIGPROF handler; called once before any thread samples.
pub fn install(period: Duration) {
    PERIOD_NS.store(period.as_nanos() as u64, Ordering::Relaxed);
    // SAFETY: a zeroed sigaction is valid; the handler has the SA_SIGINFO signature.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sample as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGPROF, &sa, std::ptr::null_mut());
    }
}

/// Period between samples of one thread, in nanoseconds.
pub fn period_ns() -> u64 {
    PERIOD_NS.load(Ordering::Relaxed)
}

/// Starts sampling the calling thread.
pub fn start_thread() {
    let period = period_ns();
    let fd = open_perf(period);
    if fd >= 0 {
        PERF_FD.with(|f| f.set(fd));
        return;
    }
    // SAFETY: plain syscalls on values we own; failure leaves the thread unsampled.
    unsafe {
        let mut sev: libc::sigevent = std::mem::zeroed();
        sev.sigev_notify = libc::SIGEV_THREAD_ID;
        sev.sigev_signo = libc::SIGPROF;
        sev.sigev_notify_thread_id = libc::gettid();
        let mut timer: libc::timer_t = std::ptr::null_mut();
        if libc::timer_create(libc::CLOCK_THREAD_CPUTIME_ID, &mut sev, &mut timer) != 0 {
            return;
        }
        let ts = libc::timespec {
            tv_sec: (period / 1_000_000_000) as libc::time_t,
            tv_nsec: (period % 1_000_000_000) as libc::c_long,
        };
        let its = libc::itimerspec {
            it_interval: ts,
            it_value: ts,
        };
        libc::timer_settime(timer, 0, &its, std::ptr::null_mut());
        TIMER.with(|t| t.set(timer as usize));
    }
}

/// Stops sampling the calling thread.
pub fn stop_thread() {
    let fd = PERF_FD.with(|f| f.replace(-1));
    if fd >= 0 {
        // SAFETY: closing the counter this thread opened.
        unsafe { libc::close(fd) };
    }
    let timer = TIMER.with(|t| t.replace(0));
    if timer != 0 {
        // SAFETY: the timer was created by this thread and not deleted yet.
        unsafe { libc::timer_delete(timer as libc::timer_t) };
    }
}

impl Scope {
    /// The in-scope line at a runtime address. Async-signal-safe.
    fn lookup(&self, ip: u64) -> Option<u32> {
        self.table
            .objects
            .iter()
            .zip(&self.maps)
            .filter(|(o, _)| o.has_lines())
            .find_map(|(o, m)| m.link_address(ip).map(|a| o.lookup(a)))?
    }
}

extern "C" fn on_sample(_sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: errno is thread-local; the handler must leave it as it found it.
    let errno = unsafe { *libc::__errno_location() };
    if let Some(scope) = SCOPE.get() {
        // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
        let ip = unsafe {
            (*(ctx as *const libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RIP as usize]
        } as u64;
        let line = scope.lookup(ip);
        if let Some(l) = line {
            if let Some(c) = scope.counts.get(l as usize) {
                c.fetch_add(1, Ordering::Relaxed);
            }
            let _ = SELECTED.compare_exchange(WAITING, l + 1, Ordering::AcqRel, Ordering::Relaxed);
            if SELECTED.load(Ordering::Acquire) == l + 1 {
                SELECTED_SAMPLES.fetch_add(1, Ordering::Relaxed);
                let d = DELAY_SIZE.load(Ordering::Acquire);
                if d > 0 {
                    delay::credit_selected(d);
                }
            }
        }
        delay::catch_up();
    }
    let fd = PERF_FD.with(|f| f.get());
    if fd >= 0 {
        // SAFETY: re-arming this thread's own counter for one more overflow.
        unsafe { libc::ioctl(fd, PERF_EVENT_IOC_REFRESH, 1) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}
