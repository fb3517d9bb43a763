//! Appends records to the profile file. Each batch is one `write` under a spin lock, so
//! the experiment thread and the exit handler never interleave lines.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static FD: AtomicI32 = AtomicI32::new(-1);
static LOCK: AtomicBool = AtomicBool::new(false);

/// Opens (creating or appending to) the profile file. Returns false on failure.
pub fn open(path: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(path) else {
        return false;
    };
    // SAFETY: a NUL-terminated path; the descriptor is kept for the process lifetime.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC,
            0o644,
        )
    };
    FD.store(fd, Ordering::Release);
    fd >= 0
}

/// Appends text made of whole lines.
pub fn append(text: &str) {
    let fd = FD.load(Ordering::Acquire);
    if fd < 0 || text.is_empty() {
        return;
    }
    while LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        // SAFETY: writing from a live buffer to our descriptor.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            break;
        }
        rest = &rest[n as usize..];
    }
    LOCK.store(false, Ordering::Release);
}
