//! Sub-millisecond sleeps. Tokio's timer wheel rounds deadlines up to the next millisecond,
//! which alone would make sends up to 1 ms late; a timerfd wakes within microseconds.
//! Each thread's dispatcher owns one, so a wait costs one `timerfd_settime` and one epoll
//! wake however many hits become due together.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;

/// Deadlines closer than this are treated as reached: a timer round trip costs more.
const SPIN_FREE_NS: u128 = 5_000;

/// A thread's precise timer.
pub(crate) struct Timer {
    fd: AsyncFd<OwnedFd>,
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        // SAFETY: plain syscall; the returned descriptor is checked and then owned.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh, valid descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: an OwnedFd's descriptor stays open and the same until the AsyncFd drops it.
        let fd = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        Ok(Timer { fd })
    }

    /// Waits until `deadline`.
    ///
    /// The expiry count is never read: `timerfd_settime` resets it, and the edge-triggered
    /// registration reports every new expiry, so clearing tokio's readiness is enough. A
    /// readiness left over from an earlier, abandoned wait is caught by checking the clock.
    pub(crate) async fn sleep_until(&self, deadline: Instant) -> io::Result<()> {
        let mut armed = false;
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Ok(());
            };
            if left.as_nanos() < SPIN_FREE_NS {
                return Ok(());
            }
            if !armed {
                self.arm(left)?;
                armed = true;
            }
            let mut guard = self.fd.readable().await?;
            guard.clear_ready();
        }
    }

    fn arm(&self, left: Duration) -> io::Result<()> {
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: left.as_secs() as libc::time_t,
                tv_nsec: libc::c_long::from(left.subsec_nanos() as i32),
            },
        };
        // SAFETY: `spec` is a valid itimerspec and the descriptor is a timerfd we own.
        let rc =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
