//! Virtual speed-up by delays. Whenever the selected line is sampled, every other thread
//! owes one delay: the global delay count grows, the thread that ran the line credits
//! itself, and each thread pays what it owes by sleeping at its next sample. Threads woken
//! by another thread skip the delays inserted while they were blocked, because the waker
//! paid them before waking it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Total delay, in nanoseconds, every thread must have paid by now.
pub static GLOBAL: AtomicU64 = AtomicU64::new(0);

/// Longest single pause, so a bookkeeping slip can never hang a thread.
const MAX_PAUSE_NS: u64 = 100_000_000;

struct Local {
    /// Delay this thread has paid or been credited, in nanoseconds.
    paid: Cell<u64>,
    /// The global count when this thread last blocked.
    blocked_at: Cell<u64>,
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            paid: Cell::new(0),
            blocked_at: Cell::new(0),
        }
    };
}

/// This thread's paid delay; a new thread starts from its creator's.
pub fn paid() -> u64 {
    LOCAL.with(|l| l.paid.get())
}

/// Starts a new thread's account where its creator's stood.
pub fn start_thread(inherited: u64) {
    LOCAL.with(|l| l.paid.set(inherited));
}

/// Credits this thread for running the selected line (`ns` of virtual speed-up) and makes
/// every other thread owe it.
pub fn credit_selected(ns: u64) {
    GLOBAL.fetch_add(ns, Ordering::AcqRel);
    LOCAL.with(|l| l.paid.set(l.paid.get() + ns));
}

/// Pays what this thread owes by sleeping. Async-signal-safe.
pub fn catch_up() {
    LOCAL.with(|l| {
        let owed = GLOBAL.load(Ordering::Acquire).saturating_sub(l.paid.get());
        if owed == 0 {
            return;
        }
        let pause = owed.min(MAX_PAUSE_NS);
        let ts = libc::timespec {
            tv_sec: (pause / 1_000_000_000) as libc::time_t,
            tv_nsec: (pause % 1_000_000_000) as libc::c_long,
        };
        // SAFETY: nanosleep only reads `ts`; a null remainder is allowed.
        unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
        l.paid.set(l.paid.get() + owed);
    });
}

/// Called before a call that may block waiting for another thread.
pub fn pre_block() {
    LOCAL.with(|l| l.blocked_at.set(GLOBAL.load(Ordering::Acquire)));
}

/// Called after it returns: when another thread woke this one, the delays inserted
/// meanwhile were paid by the waker, so this thread is credited with them.
pub fn post_block(woken: bool) {
    if woken {
        LOCAL.with(|l| {
            let during = GLOBAL
                .load(Ordering::Acquire)
                .saturating_sub(l.blocked_at.get());
            l.paid.set(l.paid.get() + during);
        });
    }
}
