//! The little of epoll the event loop needs: edge-triggered registration and a wait with a
//! nanosecond timeout (`epoll_pwait2`), so a thread sleeps until its next hit is due with
//! one syscall and no timer descriptor to re-arm.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Interest every connection registers once: readable, writable (a connect finishing, a
/// full send buffer draining) and the peer's close, reported on change only.
const INTEREST: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

/// Events that mean the peer closed or the connection failed.
pub(crate) const CLOSED: u32 = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;

/// An epoll instance.
pub(crate) struct Epoll {
    fd: OwnedFd,
    /// False once the kernel said it has no `epoll_pwait2` (before Linux 5.11).
    pwait2: Cell<bool>,
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: plain syscall; the descriptor is checked and then owned.
        let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Epoll {
            fd,
            pwait2: Cell::new(true),
        })
    }

    /// Watches `fd` under `token` until the descriptor is closed.
    pub(crate) fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: INTEREST,
            u64: token,
        };
        // SAFETY: `ev` is a valid event for the duration of the call.
        let rc = unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits for events (into `events`, replacing what it held) for at most `timeout`.
    /// An interrupted wait returns no events.
    pub(crate) fn wait(
        &self,
        events: &mut Vec<libc::epoll_event>,
        timeout: Duration,
    ) -> io::Result<()> {
        events.clear();
        let cap = i32::try_from(events.capacity()).unwrap_or(i32::MAX).max(1);
        if events.capacity() == 0 {
            events.reserve(1);
        }
        let n = if self.pwait2.get() {
            let ts = libc::timespec {
                tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
                tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
            };
            // SAFETY: the buffer has room for `cap` events; `ts` outlives the call.
            let n = unsafe {
                libc::epoll_pwait2(
                    self.fd.as_raw_fd(),
                    events.as_mut_ptr(),
                    cap,
                    &ts,
                    std::ptr::null(),
                )
            };
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
                self.pwait2.set(false);
                return self.wait(events, timeout);
            }
            n
        } else {
            // Whole milliseconds, rounded down: under a millisecond left polls without
            // sleeping, so hits go out on time at the cost of spinning that last stretch.
            let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
            // SAFETY: the buffer has room for `cap` events.
            unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), cap, ms) }
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(e)
            };
        }
        // SAFETY: the kernel initialised the first `n` (<= capacity) events.
        unsafe { events.set_len(n as usize) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::time::Instant;

    #[test]
    fn reports_readiness_once_per_change_and_times_out() {
        let ep = Epoll::new().unwrap_or_else(|e| panic!("{e}"));
        let (mut a, b) = UnixStream::pair().unwrap_or_else(|e| panic!("{e}"));
        ep.add(b.as_raw_fd(), 7).unwrap_or_else(|e| panic!("{e}"));
        let mut events = Vec::with_capacity(8);
        // A new socket is writable: one event, then none until something changes.
        ep.wait(&mut events, Duration::from_millis(100))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(events.iter().map(|e| e.u64).collect::<Vec<_>>(), vec![7]);
        let t = Instant::now();
        ep.wait(&mut events, Duration::from_micros(300))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(events.is_empty());
        assert!(t.elapsed() >= Duration::from_micros(300));
        a.write_all(b"x").unwrap_or_else(|e| panic!("{e}"));
        ep.wait(&mut events, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{e}"));
        let ev = events.first().map(|e| e.events).unwrap_or(0);
        assert!(ev & libc::EPOLLIN as u32 != 0);
        drop(a);
        ep.wait(&mut events, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{e}"));
        let ev = events.first().map(|e| e.events).unwrap_or(0);
        assert!(ev & CLOSED != 0, "{ev:#x}");
    }
}
