//! When a response's bytes arrived, from the kernel (`SO_TIMESTAMPNS`): the event loop can
//! then read a response a little after it arrived, with the next hit it wakes up to send,
//! and still record the arrival to the nanosecond. One wake-up per hit instead of two.

use std::io;
use std::os::fd::RawFd;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// `SO_TIMESTAMPNS` (`SO_TIMESTAMPNS_OLD`, 35 on x86_64 and aarch64; the libc crate does
/// not define it for glibc targets). The control message has the same number.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const SO_TIMESTAMPNS: libc::c_int = 35;

/// Asks the kernel to stamp what `fd` receives; `false` where it cannot.
pub(crate) fn enable(fd: RawFd) -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        let on: libc::c_int = 1;
        // SAFETY: `on` outlives the call and its size is passed.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        rc == 0
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = fd;
        false
    }
}

/// Keeps the kernel's receive stamping switched on while held. The kernel turns stamping on
/// for the whole stack when the first socket asks and off when the last one closes, each
/// time patching its code, which stalls every core for a moment and leaves the first
/// responses unstamped: held from before the attack's clock starts, that happens once and
/// before the first hit, however connections come and go (with keep-alive off, every hit).
pub(crate) struct Stamping {
    _socket: socket2::Socket,
}

impl Stamping {
    /// A socket that asks for stamps, or `None` where they cannot be had.
    pub(crate) fn hold() -> Option<Stamping> {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).ok()?;
        enable(std::os::fd::AsRawFd::as_raw_fd(&socket)).then_some(Stamping { _socket: socket })
    }
}

/// Reads from `fd` into `buf`: the bytes read and, when the kernel stamped them, when the
/// last of them arrived (Unix nanoseconds).
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<u64>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one timespec control message, aligned for cmsghdr.
    let mut control = [0u64; 8];
    // SAFETY: zeroed is a valid msghdr; the pointers set below outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: `msg` describes buffers that are valid and writable for the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((n as usize, stamp(&msg)))
}

/// The `SCM_TIMESTAMPNS` in a received message's control data.
fn stamp(msg: &libc::msghdr) -> Option<u64> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        // SAFETY: `msg` came back from recvmsg, so its control pointer and length describe
        // the control messages the kernel wrote; each header is checked before its data
        // is read, and the data is read unaligned.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET
                    && (*c).cmsg_type == SO_TIMESTAMPNS
                    && (*c).cmsg_len as usize
                        >= libc::CMSG_LEN(std::mem::size_of::<libc::timespec>() as u32) as usize
                {
                    let ts: libc::timespec =
                        std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>());
                    let ns = u64::try_from(ts.tv_sec).ok()? * 1_000_000_000
                        + u64::try_from(ts.tv_nsec).ok()?;
                    return (ns > 0).then_some(ns);
                }
                c = libc::CMSG_NXTHDR(msg, c);
            }
            None
        }
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = msg;
        None
    }
}

/// Maps the kernel's Unix-time stamps onto the attack's monotonic clock.
pub(crate) struct Clock {
    start: Instant,
    /// Unix nanoseconds at `start`, re-measured now and then so clock slewing cannot
    /// accumulate.
    unix_at_start: i128,
}

impl Clock {
    pub(crate) fn new(start: Instant) -> Clock {
        let mut c = Clock {
            start,
            unix_at_start: 0,
        };
        c.resync();
        c
    }

    /// Measures the offset between the two clocks again.
    pub(crate) fn resync(&mut self) {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        self.unix_at_start = unix - self.start.elapsed().as_nanos() as i128;
    }

    /// A Unix-time stamp as nanoseconds since the attack's start.
    pub(crate) fn attack_ns(&self, unix_ns: u64) -> u64 {
        u64::try_from(i128::from(unix_ns) - self.unix_at_start).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    #[test]
    fn received_bytes_carry_their_arrival_time() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = l.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let client = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
        let (mut server, _) = l.accept().unwrap_or_else(|e| panic!("{e}"));
        let stamped = enable(client.as_raw_fd());
        let mut buf = [0u8; 16];
        if stamped {
            // The kernel turns stamping on for the whole stack from a work queue, a moment
            // later: wait (bounded) for the first stamped byte.
            let mut tries = 0;
            loop {
                server.write_all(b"x").unwrap_or_else(|e| panic!("{e}"));
                std::thread::sleep(std::time::Duration::from_millis(5));
                let (_, at) = recv(client.as_raw_fd(), &mut buf).unwrap_or_else(|e| panic!("{e}"));
                tries += 1;
                if at.is_some() {
                    break;
                }
                assert!(tries < 2000, "no byte was stamped in 10 s");
            }
        }
        let clock = Clock::new(Instant::now());
        let before = clock.start.elapsed().as_nanos() as u64;
        server.write_all(b"hello").unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        let (n, at) = recv(client.as_raw_fd(), &mut buf).unwrap_or_else(|e| panic!("{e}"));
        let after = clock.start.elapsed().as_nanos() as u64;
        assert_eq!(&buf[..n], b"hello");
        if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            assert!(stamped);
            let at = clock.attack_ns(at.unwrap_or_else(|| panic!("no timestamp")));
            // Arrived before the 20 ms sleep, read after it (1 ms for the clocks' skew).
            assert!(at + 1_000_000 >= before, "{at} < {before}");
            assert!(at + 15_000_000 <= after, "{at} vs read at {after}");
        }
    }
}
