//! The kernel side of sampling: `perf_event_open` with the software `cpu-clock` event, one
//! ring buffer per CPU, and reading records out of it.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{Ordering, fence};
use std::time::Duration;

use perf_event_open_sys as sys;
use sys::bindings;

use crate::error::ProbeError;
use crate::record_format::{Event, decode};
use crate::sampler::Sampler;

/// What each sample carries; [`crate::record_format`] decodes exactly this layout.
pub const SAMPLE_TYPE: u64 = (bindings::PERF_SAMPLE_IP
    | bindings::PERF_SAMPLE_TID
    | bindings::PERF_SAMPLE_TIME
    | bindings::PERF_SAMPLE_PERIOD
    | bindings::PERF_SAMPLE_CALLCHAIN
    | bindings::PERF_SAMPLE_REGS_USER
    | bindings::PERF_SAMPLE_STACK_USER) as u64;
/// x86-64 `bp`, `sp`, `ip` (perf_event_x86_regs numbers 6, 7, 8).
const REGS_MASK: u64 = (1 << 6) | (1 << 7) | (1 << 8);
/// Data pages per CPU ring buffer (a power of two): 1 MiB holds ~60 samples of 16 KiB stacks.
const RING_PAGES: usize = 256;

/// How to sample.
#[derive(Clone, Debug)]
pub struct SamplerConfig {
    /// Samples per second of CPU time per thread.
    pub frequency_hz: u64,
    /// Bytes of user stack copied per sample for DWARF unwinding (multiple of 8, ≤ 65528).
    pub stack_bytes: u32,
    /// Also record kernel call chains (falls back to user-only when refused).
    pub kernel: bool,
}

struct Ring {
    base: *mut u8,
    len: usize,
    data_offset: usize,
    data_size: usize,
}

// SAFETY: the mapping is owned by the Ring and only touched through &mut self.
unsafe impl Send for Ring {}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: base/len come from a successful mmap and are unmapped once.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

impl Ring {
    fn map(fd: &OwnedFd) -> Result<Ring, ProbeError> {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let len = page * (RING_PAGES + 1);
        // SAFETY: mapping a perf fd as documented in perf_event_open(2).
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(ProbeError::last_os("mmap", "perf ring buffer"));
        }
        let meta = base.cast::<bindings::perf_event_mmap_page>();
        // SAFETY: the first page is the metadata page the kernel filled in.
        let (data_offset, data_size) = unsafe {
            (
                std::ptr::read_volatile(&raw const (*meta).data_offset),
                std::ptr::read_volatile(&raw const (*meta).data_size),
            )
        };
        let (data_offset, data_size) = if data_size == 0 {
            (page, page * RING_PAGES)
        } else {
            (data_offset as usize, data_size as usize)
        };
        Ok(Ring {
            base: base.cast(),
            len,
            data_offset,
            data_size,
        })
    }

    /// Copies every complete record out of the buffer, then hands the space back.
    fn drain(&mut self, out: &mut Vec<Event>, errors: &mut u64) {
        let meta = self.base.cast::<bindings::perf_event_mmap_page>();
        // SAFETY: reading the kernel-written head of our own mapping.
        let head = unsafe { std::ptr::read_volatile(&raw const (*meta).data_head) };
        fence(Ordering::Acquire);
        // SAFETY: data_tail is ours to read and write.
        let mut tail = unsafe { std::ptr::read_volatile(&raw const (*meta).data_tail) };
        // SAFETY: the data area lies within the mapping.
        let data =
            unsafe { std::slice::from_raw_parts(self.base.add(self.data_offset), self.data_size) };
        let mut record = Vec::new();
        while tail < head {
            let copy = |from: u64, n: usize, into: &mut Vec<u8>| {
                into.clear();
                let start = (from % data.len() as u64) as usize;
                let first = n.min(data.len() - start);
                into.extend_from_slice(&data[start..start + first]);
                into.extend_from_slice(&data[..n - first]);
            };
            copy(tail, 8, &mut record);
            let kind = u32::from_ne_bytes([record[0], record[1], record[2], record[3]]);
            let size = u16::from_ne_bytes([record[6], record[7]]) as usize;
            if size < 8 || (head - tail) < size as u64 {
                *errors += 1;
                tail = head;
                break;
            }
            copy(tail, size, &mut record);
            match decode(kind, &record[8..]) {
                Ok(Some(ev)) => out.push(ev),
                Ok(None) => {}
                Err(_) => *errors += 1,
            }
            tail += size as u64;
        }
        fence(Ordering::Release);
        // SAFETY: publishing the consumed position to the kernel.
        unsafe { std::ptr::write_volatile(&raw mut (*meta).data_tail, tail) };
    }
}

/// Samples a set of threads (and everything they spawn later) on every CPU.
pub struct PerfSampler {
    rings: Vec<Ring>,
    leaders: Vec<OwnedFd>,
    followers: Vec<OwnedFd>,
    /// Records the decoder rejected.
    pub bad_records: u64,
    /// Whether kernel call chains are being recorded.
    pub kernel: bool,
}

fn online_cpus() -> Vec<i32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
            cpus.extend(a..=b);
        }
    }
    if cpus.is_empty() {
        // SAFETY: sysconf has no preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as i32;
        cpus.extend(0..n);
    }
    cpus
}

fn attr(cfg: &SamplerConfig, kernel: bool) -> bindings::perf_event_attr {
    let mut a = bindings::perf_event_attr {
        size: std::mem::size_of::<bindings::perf_event_attr>() as u32,
        type_: bindings::PERF_TYPE_SOFTWARE,
        config: bindings::PERF_COUNT_SW_CPU_CLOCK as u64,
        sample_type: SAMPLE_TYPE,
        sample_regs_user: REGS_MASK,
        sample_stack_user: cfg.stack_bytes.min(65528) & !7,
        ..Default::default()
    };
    // cpu-clock counts nanoseconds, so a fixed period gives exactly `frequency_hz`
    // samples per CPU-second and each sample is worth exactly `period` ns.
    a.__bindgen_anon_1.sample_period = 1_000_000_000 / cfg.frequency_hz.max(1);
    a.set_disabled(1);
    a.set_inherit(1);
    a.set_comm(1);
    a.set_exclude_hv(1);
    a.set_exclude_callchain_user(1);
    if !kernel {
        a.set_exclude_kernel(1);
        a.set_exclude_callchain_kernel(1);
    }
    a.set_watermark(1);
    a.__bindgen_anon_2.wakeup_watermark = (RING_PAGES * 4096 / 4) as u32;
    a
}

fn open_one(
    a: &mut bindings::perf_event_attr,
    tid: u32,
    cpu: i32,
) -> Result<OwnedFd, std::io::Error> {
    // SAFETY: `a` is a valid, fully initialised attr; the fd is owned on success.
    let fd = unsafe {
        sys::perf_event_open(
            a,
            tid as i32,
            cpu,
            -1,
            sys::bindings::PERF_FLAG_FD_CLOEXEC as u64,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl PerfSampler {
    /// Opens disabled, inheriting `cpu-clock` events for each thread in `tids` (of process
    /// `pid`) on every CPU, one ring buffer per CPU.
    pub fn open(pid: u32, tids: &[u32], cfg: &SamplerConfig) -> Result<PerfSampler, ProbeError> {
        let mut kernel = cfg.kernel;
        let cpus = online_cpus();
        let first_tid = *tids.first().ok_or(ProbeError::NoSuchProcess(pid))?;
        let first_cpu = *cpus.first().unwrap_or(&0);
        // Probe once to learn whether kernel frames are allowed.
        let mut a = attr(cfg, kernel);
        let probe = match open_one(&mut a, first_tid, first_cpu) {
            Ok(fd) => fd,
            Err(e) if kernel && matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
                kernel = false;
                a = attr(cfg, false);
                open_one(&mut a, first_tid, first_cpu)
                    .map_err(|e| ProbeError::for_process("perf_event_open", "sample", pid, e))?
            }
            Err(e) => return Err(ProbeError::for_process("perf_event_open", "sample", pid, e)),
        };
        let mut leaders: Vec<OwnedFd> = Vec::new();
        let mut followers = Vec::new();
        let mut rings = Vec::new();
        let mut probe = Some(probe);
        for &cpu in &cpus {
            let mut leader: Option<i32> = None;
            for &tid in tids {
                let fd = match probe.take() {
                    Some(fd) if cpu == first_cpu && tid == first_tid => fd,
                    other => {
                        probe = other;
                        match open_one(&mut a, tid, cpu) {
                            Ok(fd) => fd,
                            // The thread exited since we listed it.
                            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => continue,
                            Err(e) => {
                                return Err(ProbeError::for_process(
                                    "perf_event_open",
                                    "sample",
                                    pid,
                                    e,
                                ));
                            }
                        }
                    }
                };
                match leader {
                    None => {
                        rings.push(Ring::map(&fd)?);
                        leader = Some(fd.as_raw_fd());
                        leaders.push(fd);
                    }
                    Some(l) => {
                        // SAFETY: both fds are open perf events on the same CPU.
                        if unsafe { sys::ioctls::SET_OUTPUT(fd.as_raw_fd(), l) } < 0 {
                            return Err(ProbeError::last_os(
                                "PERF_EVENT_IOC_SET_OUTPUT",
                                format!("cpu {cpu}"),
                            ));
                        }
                        followers.push(fd);
                    }
                }
            }
        }
        if leaders.is_empty() {
            return Err(ProbeError::NoSuchProcess(pid));
        }
        Ok(PerfSampler {
            rings,
            leaders,
            followers,
            bad_records: 0,
            kernel,
        })
    }

    fn all_fds(&self) -> impl Iterator<Item = &OwnedFd> {
        self.leaders.iter().chain(self.followers.iter())
    }

    /// Starts counting.
    pub fn enable(&self) {
        for fd in self.all_fds() {
            // SAFETY: enabling an open perf event.
            unsafe { sys::ioctls::ENABLE(fd.as_raw_fd(), 0) };
        }
    }
}

impl Sampler for PerfSampler {
    fn wait(&mut self, timeout: Duration) {
        let mut fds: Vec<libc::pollfd> = self
            .leaders
            .iter()
            .map(|fd| libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: fds is a valid array of pollfd for the duration of the call.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    }

    fn drain(&mut self, out: &mut Vec<Event>) {
        for ring in &mut self.rings {
            ring.drain(out, &mut self.bad_records);
        }
    }

    fn stop(&mut self) {
        for fd in self.all_fds() {
            // SAFETY: disabling an open perf event.
            unsafe { sys::ioctls::DISABLE(fd.as_raw_fd(), 0) };
        }
    }
}
