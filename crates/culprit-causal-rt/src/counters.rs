//! Progress points. Programs built against coz.h look up `_coz_get_counter` with dlsym and
//! bump the counter it returns; so do culprit's Rust macros.

use std::ffi::{CStr, c_char, c_int};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering};

/// Counter layout shared with coz.h: a count and an unused backoff word.
#[repr(C)]
pub struct CozCounter {
    /// Visits so far.
    pub count: AtomicUsize,
    backoff: usize,
}

/// coz.h's counter kinds.
pub const THROUGHPUT: i32 = 1;
/// Start of a latency region.
pub const BEGIN: i32 = 2;
/// End of a latency region.
pub const END: i32 = 3;

const MAX: usize = 256;

static COUNTERS: [CozCounter; MAX] = [const {
    CozCounter {
        count: AtomicUsize::new(0),
        backoff: 0,
    }
}; MAX];
static NAMES: [AtomicPtr<c_char>; MAX] = [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX];
static KINDS: [AtomicI32; MAX] = [const { AtomicI32::new(0) }; MAX];
static LEN: AtomicUsize = AtomicUsize::new(0);
static LOCK: AtomicBool = AtomicBool::new(false);

/// Returns the counter for a progress point, registering it on first use.
///
/// # Safety
/// `name` must be a valid NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _coz_get_counter(kind: c_int, name: *const c_char) -> *mut CozCounter {
    if name.is_null() || !(THROUGHPUT..=END).contains(&kind) {
        return std::ptr::null_mut();
    }
    // SAFETY: the caller passes a NUL-terminated string.
    let wanted = unsafe { CStr::from_ptr(name) };
    while LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    let n = LEN.load(Ordering::Acquire);
    let found = (0..n).find(|&i| {
        KINDS[i].load(Ordering::Relaxed) == kind
            // SAFETY: registered names are strdup'ed and never freed.
            && unsafe { CStr::from_ptr(NAMES[i].load(Ordering::Relaxed)) } == wanted
    });
    let slot = match found {
        Some(i) => Some(i),
        None if n < MAX => {
            // SAFETY: strdup copies the caller's string; the copy lives for the process.
            let copy = unsafe { libc::strdup(name) };
            NAMES[n].store(copy, Ordering::Relaxed);
            KINDS[n].store(kind, Ordering::Relaxed);
            LEN.store(n + 1, Ordering::Release);
            Some(n)
        }
        None => None,
    };
    LOCK.store(false, Ordering::Release);
    slot.map_or(std::ptr::null_mut(), |i| {
        &COUNTERS[i] as *const CozCounter as *mut CozCounter
    })
}

/// A progress point's counts at one moment.
#[derive(Clone)]
pub struct Snapshot {
    /// (name, kind, count) per registered counter.
    pub counts: Vec<(String, i32, usize)>,
}

/// Reads every registered counter.
pub fn snapshot() -> Snapshot {
    let n = LEN.load(Ordering::Acquire);
    let counts = (0..n)
        .map(|i| {
            // SAFETY: registered names are valid for the process lifetime.
            let name = unsafe { CStr::from_ptr(NAMES[i].load(Ordering::Relaxed)) };
            (
                name.to_string_lossy().into_owned(),
                KINDS[i].load(Ordering::Relaxed),
                COUNTERS[i].count.load(Ordering::Relaxed),
            )
        })
        .collect();
    Snapshot { counts }
}

impl Snapshot {
    /// Count of the named counter of a kind, 0 when absent.
    pub fn get(&self, name: &str, kind: i32) -> usize {
        self.counts
            .iter()
            .find(|(n, k, _)| n == name && *k == kind)
            .map_or(0, |c| c.2)
    }
}
