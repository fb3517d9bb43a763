//! Where the table's objects are loaded. The main executable and its libraries are mapped
//! before the runtime starts; libraries the program `dlopen`s later (or `dlclose`s) are
//! picked up by [`refresh`], which the experiment thread calls every few milliseconds:
//! the loader's add/remove counters tell it cheaply when to look again. Shared objects
//! are matched to their tables by device and inode, which survives any spelling of their
//! path. The signal handler reads the published ranges through atomics only.

use std::ffi::CStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use crate::table::Table;

/// One table object's current place in memory, published as a sequence lock: the
/// experiment thread makes `seq` odd while it rewrites the fields, and a sample that saw
/// an odd or changed `seq` treats the object as not loaded rather than read a torn range.
#[derive(Default)]
pub struct Mapping {
    seq: AtomicU64,
    bias: AtomicU64,
    /// `lo == hi` when not loaded.
    lo: AtomicU64,
    hi: AtomicU64,
}

impl Mapping {
    /// Link-time address of a runtime address inside this object. Async-signal-safe.
    pub fn link_address(&self, ip: u64) -> Option<u64> {
        let s1 = self.seq.load(Ordering::Acquire);
        if s1 % 2 == 1 {
            return None;
        }
        let lo = self.lo.load(Ordering::Relaxed);
        let hi = self.hi.load(Ordering::Relaxed);
        let bias = self.bias.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        if self.seq.load(Ordering::Relaxed) != s1 || !(lo <= ip && ip < hi) {
            return None;
        }
        Some(ip.wrapping_sub(bias))
    }

    /// Publishes a new place (`lo == hi` for not loaded). Only the experiment thread (or
    /// start-up, before it exists) writes.
    fn publish(&self, bias: u64, lo: u64, hi: u64) {
        if self.bias.load(Ordering::Relaxed) == bias
            && self.lo.load(Ordering::Relaxed) == lo
            && self.hi.load(Ordering::Relaxed) == hi
        {
            return;
        }
        self.seq.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        self.bias.store(bias, Ordering::Relaxed);
        self.lo.store(lo, Ordering::Relaxed);
        self.hi.store(hi, Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::Release);
    }
}

/// A loaded object as the loader reports it.
struct Loaded {
    name: Vec<u8>,
    bias: u64,
    lo: u64,
    hi: u64,
}

/// Loader generation (objects added plus removed) at the last look.
static SEEN: AtomicU64 = AtomicU64::new(u64::MAX);
/// Objects already warned about, by name.
static WARNED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
static LAST_CHECK: Mutex<Option<Instant>> = Mutex::new(None);

/// How often the experiment thread asks the loader whether objects came or went.
const CHECK_EVERY: Duration = Duration::from_millis(5);

/// The loader's count of objects added plus removed so far.
fn generation() -> u64 {
    extern "C" fn first(info: *mut libc::dl_phdr_info, size: usize, out: *mut libc::c_void) -> i32 {
        if size >= std::mem::size_of::<libc::dl_phdr_info>() {
            // SAFETY: the loader passes a valid info of `size` bytes; `out` is our u64.
            unsafe {
                *out.cast::<u64>() = (*info).dlpi_adds.wrapping_add((*info).dlpi_subs);
            }
        }
        1
    }
    let mut g = 0u64;
    // SAFETY: the callback matches dl_iterate_phdr's contract and writes only `g`.
    unsafe { libc::dl_iterate_phdr(Some(first), (&mut g as *mut u64).cast()) };
    g
}

/// Every loaded object, the main executable first.
fn loaded() -> Vec<Loaded> {
    extern "C" fn each(info: *mut libc::dl_phdr_info, _: usize, out: *mut libc::c_void) -> i32 {
        // SAFETY: the loader passes a valid info whose headers and name live during the
        // call; `out` is our Vec.
        unsafe {
            let info = &*info;
            let out = &mut *out.cast::<Vec<Loaded>>();
            let phdrs: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
                &[]
            } else {
                std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum))
            };
            let loads = phdrs.iter().filter(|p| p.p_type == libc::PT_LOAD);
            let lo = loads.clone().map(|p| p.p_vaddr).min().unwrap_or(0);
            let hi = loads.map(|p| p.p_vaddr + p.p_memsz).max().unwrap_or(0);
            let name = if info.dlpi_name.is_null() {
                Vec::new()
            } else {
                CStr::from_ptr(info.dlpi_name).to_bytes().to_vec()
            };
            out.push(Loaded {
                name,
                bias: info.dlpi_addr,
                lo: info.dlpi_addr.wrapping_add(lo),
                hi: info.dlpi_addr.wrapping_add(hi),
            });
        }
        0
    }
    // Room for a typical program, so the callback rarely allocates under the loader's lock.
    let mut out: Vec<Loaded> = Vec::with_capacity(64);
    // SAFETY: the callback matches dl_iterate_phdr's contract and pushes only to `out`.
    unsafe { libc::dl_iterate_phdr(Some(each), (&mut out as *mut Vec<Loaded>).cast()) };
    out
}

fn file_id(name: &[u8]) -> Option<(u64, u64)> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: a zeroed stat is a valid out-parameter; `c` is NUL-terminated.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        (libc::stat(c.as_ptr(), &mut st) == 0).then_some((st.st_dev, st.st_ino))
    }
}

/// The device and inode of the file mapped at `addr`, from `/proc/self/maps`: for an
/// object whose name no longer leads to it (a relative path after `chdir`).
fn mapped_file_id(addr: u64) -> Option<(u64, u64)> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|l| {
        let mut f = l.split_ascii_whitespace();
        let (start, end) = f.next()?.split_once('-')?;
        let start = u64::from_str_radix(start, 16).ok()?;
        let end = u64::from_str_radix(end, 16).ok()?;
        if !(start..end).contains(&addr) {
            return None;
        }
        let (major, minor) = f.nth(2)?.split_once(':')?;
        let ino: u64 = f.next()?.parse().ok()?;
        let dev = libc::makedev(
            u32::from_str_radix(major, 16).ok()?,
            u32::from_str_radix(minor, 16).ok()?,
        );
        (ino != 0).then_some((dev, ino))
    })
}

/// Publishes where the table's objects are now, when the loader says something changed
/// (always when `force`). Not for the signal handler.
pub fn refresh(table: &Table, maps: &[Mapping], force: bool) {
    if !force {
        let mut last = LAST_CHECK.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < CHECK_EVERY) {
            return;
        }
        *last = Some(Instant::now());
    }
    let g = generation();
    if SEEN.swap(g, Ordering::AcqRel) == g && !force {
        return;
    }
    let own = refresh as *const () as u64;
    let mut present = vec![false; maps.len()];
    for (i, o) in loaded().iter().enumerate() {
        let index = if i == 0 {
            Some(0)
        } else {
            file_id(&o.name)
                .or_else(|| mapped_file_id(o.lo))
                .and_then(|(dev, ino)| {
                    (1..table.objects.len())
                        .find(|&k| table.objects[k].dev == dev && table.objects[k].ino == ino)
                })
        };
        match index {
            Some(k) => {
                if let (Some(m), Some(p)) = (maps.get(k), present.get_mut(k)) {
                    m.publish(o.bias, o.lo, o.hi);
                    *p = true;
                }
            }
            None if (o.lo..o.hi).contains(&own) => {}
            None => warn_unknown(&o.name),
        }
    }
    for (m, p) in maps.iter().zip(present) {
        if !p {
            m.publish(0, 0, 0);
        }
    }
}

/// Says once that a program's own library (not a system one) has no table: the driver
/// did not find it before the run, so its lines are not sampled.
fn warn_unknown(name: &[u8]) {
    if is_system(name) || !name.contains(&b'/') {
        return;
    }
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.iter().any(|w| w == name) {
        return;
    }
    warned.push(name.to_vec());
    crate::profiler::warn(&format!(
        "{} was loaded but was not found before the run, so its lines are out of scope \
         (name it with --lib)",
        String::from_utf8_lossy(name)
    ));
}

/// Under a system library directory (`/lib`, `/lib64`, `/usr/lib`, `/usr/libexec`, ...)
/// or a Rust toolchain, as `culprit_causal::dynamic::is_system_object` decides for the driver.
fn is_system(path: &[u8]) -> bool {
    if path.windows(9).any(|w| w == b"/rustlib/") {
        return true;
    }
    let rest = path.strip_prefix(b"/usr").unwrap_or(path);
    let Some(rest) = rest.strip_prefix(b"/lib") else {
        return false;
    };
    let dir = rest.split(|&b| b == b'/').next().unwrap_or_default();
    rest.contains(&b'/') && matches!(dir, b"" | b"32" | b"64" | b"x32" | b"exec")
}
