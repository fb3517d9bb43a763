//! Interposed thread and wait functions. New threads are sampled and inherit their
//! creator's delay account; calls that block waiting for another thread are bracketed so
//! the waiting thread skips delays its waker already paid; calls that wake another thread
//! first pay the caller's own delays.

use std::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{delay, profiler, sampler};

/// Looks up the next definition of a symbol once and caches it.
macro_rules! real {
    ($name:literal, $ty:ty) => {
        real!(
            $name,
            $ty,
            libc::dlsym(libc::RTLD_NEXT, concat!($name, "\0").as_ptr().cast())
        )
    };
    ($name:literal, $ty:ty, versioned) => {
        // glibc keeps a pre-2.3.2 condition variable ABI under the same names; an
        // unversioned lookup may return it, which deadlocks with new-style callers.
        real!(
            $name,
            $ty,
            libc::dlvsym(
                libc::RTLD_NEXT,
                concat!($name, "\0").as_ptr().cast(),
                c"GLIBC_2.3.2".as_ptr()
            )
        )
    };
    ($name:literal, $ty:ty, $lookup:expr) => {{
        static PTR: AtomicUsize = AtomicUsize::new(0);
        let mut p = PTR.load(Ordering::Relaxed);
        if p == 0 {
            // SAFETY: dlsym/dlvsym with NUL-terminated names.
            p = unsafe { $lookup } as usize;
            if p == 0 {
                // SAFETY: writing a static message to stderr, then aborting.
                unsafe {
                    let msg = concat!("culprit causal: cannot find ", $name, "\n");
                    libc::write(2, msg.as_ptr().cast(), msg.len());
                    libc::abort();
                }
            }
            PTR.store(p, Ordering::Relaxed);
        }
        // SAFETY: the symbol has the C signature `$ty`.
        unsafe { std::mem::transmute::<usize, $ty>(p) }
    }};
}

type StartFn = extern "C" fn(*mut c_void) -> *mut c_void;

struct Start {
    start: StartFn,
    arg: *mut c_void,
    paid: u64,
}

extern "C" fn trampoline(p: *mut c_void) -> *mut c_void {
    // SAFETY: `p` is the Box leaked by pthread_create below, handed over exactly once.
    let s = unsafe { Box::from_raw(p.cast::<Start>()) };
    delay::start_thread(s.paid);
    sampler::start_thread();
    let r = (s.start)(s.arg);
    sampler::stop_thread();
    r
}

/// Starts a thread that is sampled and inherits the creator's delay account.
///
/// # Safety
/// As `pthread_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_create(
    thread: *mut libc::pthread_t,
    attr: *const libc::pthread_attr_t,
    start: StartFn,
    arg: *mut c_void,
) -> c_int {
    let real = real!(
        "pthread_create",
        unsafe extern "C" fn(
            *mut libc::pthread_t,
            *const libc::pthread_attr_t,
            StartFn,
            *mut c_void,
        ) -> c_int
    );
    if !profiler::running() {
        // SAFETY: forwarding the caller's arguments.
        return unsafe { real(thread, attr, start, arg) };
    }
    let boxed = Box::into_raw(Box::new(Start {
        start,
        arg,
        paid: delay::paid(),
    }));
    // SAFETY: forwarding, with our trampoline owning `boxed`.
    let rc = unsafe { real(thread, attr, trampoline, boxed.cast()) };
    if rc != 0 {
        // SAFETY: the thread was not created, so the box is still ours.
        drop(unsafe { Box::from_raw(boxed) });
    }
    rc
}

/// Defines an interposer that brackets a blocking call.
macro_rules! blocking {
    ($name:ident, $sym:literal, ($($arg:ident: $ty:ty),*)) => {
        blocking!($name, $sym, ($($arg: $ty),*), real!($sym, unsafe extern "C" fn($($ty),*) -> c_int));
    };
    ($name:ident, $sym:literal, ($($arg:ident: $ty:ty),*), versioned) => {
        blocking!($name, $sym, ($($arg: $ty),*), real!($sym, unsafe extern "C" fn($($ty),*) -> c_int, versioned));
    };
    ($name:ident, $sym:literal, ($($arg:ident: $ty:ty),*), $real:expr) => {
        /// Interposed: skips delays paid by the thread that wakes this one.
        ///
        /// # Safety
        /// As the libc function of the same name.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> c_int {
            let real = $real;
            delay::pre_block();
            // SAFETY: forwarding the caller's arguments.
            let rc = unsafe { real($($arg),*) };
            delay::post_block(rc == 0);
            rc
        }
    };
}

/// Defines an interposer that pays the caller's delays before waking another thread.
macro_rules! waking {
    ($name:ident, $sym:literal, ($($arg:ident: $ty:ty),*)) => {
        waking!($name, $sym, ($($arg: $ty),*), real!($sym, unsafe extern "C" fn($($ty),*) -> c_int));
    };
    ($name:ident, $sym:literal, ($($arg:ident: $ty:ty),*), versioned) => {
        waking!($name, $sym, ($($arg: $ty),*), real!($sym, unsafe extern "C" fn($($ty),*) -> c_int, versioned));
    };
    ($name:ident, $sym:literal, ($($arg:ident: $ty:ty),*), $real:expr) => {
        /// Interposed: pays this thread's delays before waking another.
        ///
        /// # Safety
        /// As the libc function of the same name.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> c_int {
            let real = $real;
            delay::catch_up();
            // SAFETY: forwarding the caller's arguments.
            unsafe { real($($arg),*) }
        }
    };
}

blocking!(pthread_mutex_lock, "pthread_mutex_lock", (m: *mut libc::pthread_mutex_t));
blocking!(pthread_cond_wait, "pthread_cond_wait", (c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t), versioned);
blocking!(pthread_cond_timedwait, "pthread_cond_timedwait", (c: *mut libc::pthread_cond_t, m: *mut libc::pthread_mutex_t, t: *const libc::timespec), versioned);
blocking!(pthread_join, "pthread_join", (t: libc::pthread_t, r: *mut *mut c_void));
blocking!(pthread_rwlock_rdlock, "pthread_rwlock_rdlock", (l: *mut libc::pthread_rwlock_t));
blocking!(pthread_rwlock_wrlock, "pthread_rwlock_wrlock", (l: *mut libc::pthread_rwlock_t));
blocking!(pthread_barrier_wait, "pthread_barrier_wait", (b: *mut libc::pthread_barrier_t));
blocking!(sem_wait, "sem_wait", (s: *mut libc::sem_t));
waking!(pthread_mutex_unlock, "pthread_mutex_unlock", (m: *mut libc::pthread_mutex_t));
waking!(pthread_cond_signal, "pthread_cond_signal", (c: *mut libc::pthread_cond_t), versioned);
waking!(pthread_cond_broadcast, "pthread_cond_broadcast", (c: *mut libc::pthread_cond_t), versioned);
waking!(pthread_rwlock_unlock, "pthread_rwlock_unlock", (l: *mut libc::pthread_rwlock_t));
waking!(sem_post, "sem_post", (s: *mut libc::sem_t));

const FUTEX_CMD_MASK: c_long = 0x7f;

/// Interposed `syscall`: futex waits and wakes made directly (Rust's std locks, parking)
/// get the same treatment as the pthread calls. x86-64 passes these six integer
/// arguments in registers whether or not the caller used fewer.
///
/// # Safety
/// As libc's `syscall`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn syscall(
    num: c_long,
    a1: c_long,
    a2: c_long,
    a3: c_long,
    a4: c_long,
    a5: c_long,
    a6: c_long,
) -> c_long {
    let real = real!(
        "syscall",
        unsafe extern "C" fn(c_long, c_long, c_long, c_long, c_long, c_long, c_long) -> c_long
    );
    if num != libc::SYS_futex {
        // SAFETY: forwarding the caller's arguments.
        return unsafe { real(num, a1, a2, a3, a4, a5, a6) };
    }
    match a2 & FUTEX_CMD_MASK {
        c if c == libc::FUTEX_WAIT as c_long || c == libc::FUTEX_WAIT_BITSET as c_long => {
            delay::pre_block();
            // SAFETY: forwarding the caller's arguments.
            let rc = unsafe { real(num, a1, a2, a3, a4, a5, a6) };
            delay::post_block(rc == 0);
            rc
        }
        c if c == libc::FUTEX_WAKE as c_long
            || c == libc::FUTEX_WAKE_BITSET as c_long
            || c == libc::FUTEX_WAKE_OP as c_long
            || c == libc::FUTEX_REQUEUE as c_long
            || c == libc::FUTEX_CMP_REQUEUE as c_long =>
        {
            delay::catch_up();
            // SAFETY: forwarding the caller's arguments.
            unsafe { real(num, a1, a2, a3, a4, a5, a6) }
        }
        // SAFETY: forwarding the caller's arguments.
        _ => unsafe { real(num, a1, a2, a3, a4, a5, a6) },
    }
}
