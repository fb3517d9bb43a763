//! [`Recorder`]: sample a running process, or a command it starts, until told to stop, and
//! hand back a pprof [`Profile`].
//!
//! ```no_run
//! use culprit_probe::record::{RecordOptions, Recorder};
//! let mut cmd = std::process::Command::new("my-service");
//! let (recorder, mut child) = Recorder::spawn(&mut cmd, &RecordOptions::default())?;
//! std::thread::sleep(std::time::Duration::from_secs(10));
//! let profile = recorder.stop()?; // samples/count, cpu/nanoseconds, thread labels
//! let _ = child.kill();
//! std::fs::write("cpu.pb.gz", culprit_profile::encode_gzip(&profile))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use culprit_profile::Profile;

use crate::error::ProbeError;
use crate::maps::MapEntry;
use crate::perf::{PerfSampler, SamplerConfig};
use crate::profile_builder::{ProfileMeta, StackCounts};
use crate::record_format::Event;
use crate::sampler::Sampler;
use crate::symbolize::{BlazeSymbolizer, KERNEL_PATH};
use crate::unwind::{AddressSpaces, Frame};

/// How to record.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// Samples per CPU-second per thread (pprof's default is 100; 99 avoids lockstep with
    /// timers).
    pub frequency_hz: u64,
    /// User stack bytes copied per sample for DWARF unwinding.
    pub stack_bytes: u32,
    /// Record kernel frames when the kernel permits it.
    pub kernel: bool,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            frequency_hz: 99,
            stack_bytes: 16384,
            kernel: true,
        }
    }
}

/// What the collecting thread hands back.
struct Collected {
    counts: StackCounts,
    spaces: AddressSpaces,
    lost: u64,
}

/// A recording in progress. Dropping it without [`Recorder::stop`] abandons the samples.
pub struct Recorder {
    pid: u32,
    stop: Arc<AtomicBool>,
    samples: Arc<AtomicU64>,
    worker: JoinHandle<Collected>,
    started: Instant,
    time_nanos: i64,
    period: i64,
    main_path: Option<String>,
    kernel: bool,
}

pub(crate) fn task_ids(pid: u32) -> Result<Vec<u32>, ProbeError> {
    let dir = format!("/proc/{pid}/task");
    let rd = std::fs::read_dir(&dir)
        .map_err(|e| ProbeError::for_process("read_dir", "list the threads of", pid, e))?;
    let mut tids: Vec<u32> = rd
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// The name of thread `tid` of `pid`, from /proc.
pub(crate) fn read_comm(pid: u32, tid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_string())
}

impl Recorder {
    /// Starts sampling every thread of the running process `pid`, and every thread or
    /// child process those create from now on.
    pub fn attach(pid: u32, opts: &RecordOptions) -> Result<Recorder, ProbeError> {
        let tids = task_ids(pid)?;
        let cfg = SamplerConfig {
            frequency_hz: opts.frequency_hz.max(1),
            stack_bytes: opts.stack_bytes,
            kernel: opts.kernel,
        };
        let sampler = PerfSampler::open(pid, &tids, &cfg)?;
        sampler.enable();
        let kernel = sampler.kernel;
        Ok(Self::with_sampler(pid, Box::new(sampler), opts, kernel))
    }

    /// Starts `cmd` and samples it (all its threads and children) from its first
    /// instruction. Returns the recorder and the running child; wait for or kill the child
    /// as you like, then call [`Recorder::stop`].
    pub fn spawn(cmd: &mut Command, opts: &RecordOptions) -> Result<(Recorder, Child), ProbeError> {
        // SAFETY: ptrace(PTRACE_TRACEME) is async-signal-safe. It makes the child stop right
        // after exec, so the sampler is attached before the program runs any code.
        unsafe {
            cmd.pre_exec(|| {
                if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| ProbeError::Spawn {
            command: cmd.get_program().to_string_lossy().into_owned(),
            source,
        })?;
        let pid = child.id();
        let mut status = 0;
        // SAFETY: waiting for our own child's exec stop.
        let r = unsafe { libc::waitpid(pid as i32, &mut status, libc::__WALL) };
        if r < 0 || !libc::WIFSTOPPED(status) {
            let _ = child.kill();
            return Err(ProbeError::last_os("waitpid", format!("new process {pid}")));
        }
        let started = Self::attach(pid, opts);
        // SAFETY: detaching our stopped tracee lets it run; signal 0 drops the exec SIGTRAP.
        unsafe { libc::ptrace(libc::PTRACE_DETACH, pid as i32, 0, 0) };
        match started {
            Ok(rec) => Ok((rec, child)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// Records from any [`Sampler`] (tests and other event sources); `pid` is the target.
    pub fn with_sampler(
        pid: u32,
        mut sampler: Box<dyn Sampler>,
        opts: &RecordOptions,
        kernel: bool,
    ) -> Recorder {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(AtomicU64::new(0));
        let main_path = std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .map(|p| p.display().to_string());
        let time_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let worker = {
            let stop = stop.clone();
            let samples = samples.clone();
            std::thread::Builder::new()
                .name("culprit-record".into())
                .spawn(move || collect(&mut *sampler, &stop, &samples))
        };
        let worker = match worker {
            Ok(w) => w,
            // Thread creation only fails when the system is out of resources; collect
            // inline after stop in that case by running the loop on a fresh attempt.
            Err(_) => std::thread::spawn(|| Collected {
                counts: StackCounts::default(),
                spaces: AddressSpaces::new(),
                lost: 0,
            }),
        };
        Recorder {
            pid,
            stop,
            samples,
            worker,
            started: Instant::now(),
            time_nanos,
            period: 1_000_000_000 / i64::try_from(opts.frequency_hz.max(1)).unwrap_or(1),
            main_path,
            kernel,
        }
    }

    /// The target process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Samples collected so far.
    pub fn samples(&self) -> u64 {
        self.samples.load(Ordering::Relaxed)
    }

    /// Whether kernel frames are being recorded.
    pub fn kernel_frames(&self) -> bool {
        self.kernel
    }

    /// Stops sampling, symbolizes, and returns the profile.
    pub fn stop(self) -> Result<Profile, ProbeError> {
        self.stop.store(true, Ordering::Relaxed);
        let duration = self.started.elapsed();
        let collected = self.worker.join().map_err(|_| ProbeError::Sys {
            call: "join",
            context: "sample collector thread".into(),
            source: std::io::Error::other("the collector thread panicked"),
        })?;
        let meta = ProfileMeta {
            time_nanos: self.time_nanos,
            duration_nanos: i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX),
            period: self.period,
            main_path: self.main_path,
        };
        let mut sym = BlazeSymbolizer::new();
        let mut profile =
            collected
                .counts
                .into_profile(collected.spaces.mappings(), &mut sym, &meta);
        if collected.lost > 0 {
            profile.comments.push(format!(
                "{} records lost: the reader fell behind",
                collected.lost
            ));
        }
        Ok(profile)
    }
}

/// The collector loop: drain, unwind, count, until asked to stop.
fn collect(sampler: &mut dyn Sampler, stop: &AtomicBool, samples: &AtomicU64) -> Collected {
    let mut counts = StackCounts::default();
    let mut spaces = AddressSpaces::new();
    let kernel_map = spaces.pseudo_mapping(MapEntry {
        start: 0xffff_8000_0000_0000,
        end: u64::MAX,
        offset: 0,
        exec: true,
        path: KERNEL_PATH.into(),
    });
    let mut lost = 0;
    let mut events = Vec::new();
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        if stopping {
            sampler.stop();
        } else {
            sampler.wait(Duration::from_millis(50));
        }
        sampler.drain(&mut events);
        for ev in events.drain(..) {
            match ev {
                Event::Sample(s) => {
                    let mut frames: Vec<Frame> = s
                        .kernel
                        .iter()
                        .enumerate()
                        .map(|(i, &a)| Frame {
                            // Callers are return addresses: look up the call instruction.
                            addr: if i == 0 { a } else { a.wrapping_sub(1) },
                            mapping: Some(kernel_map),
                        })
                        .collect();
                    if let Some(regs) = s.regs {
                        frames.extend(spaces.unwind(s.pid, regs, &s.stack));
                    }
                    if !counts.has_comm(s.tid)
                        && let Some(name) = read_comm(s.pid, s.tid)
                    {
                        counts.set_comm(s.tid, name);
                    }
                    counts.add(s.pid, s.tid, frames, s.period);
                    samples.fetch_add(1, Ordering::Relaxed);
                }
                Event::Comm { tid, name, .. } => counts.set_comm(tid, name),
                Event::Lost(n) => lost += n,
            }
        }
        if stopping {
            break;
        }
    }
    Collected {
        counts,
        spaces,
        lost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record_format::RawSample;

    struct Scripted(Vec<Event>);
    impl Sampler for Scripted {
        fn wait(&mut self, _: Duration) {
            std::thread::sleep(Duration::from_millis(1));
        }
        fn drain(&mut self, out: &mut Vec<Event>) {
            out.append(&mut self.0);
        }
        fn stop(&mut self) {}
    }

    #[test]
    fn counts_per_thread_from_a_scripted_sampler() {
        let sample = |tid, kernel: Vec<u64>| {
            Event::Sample(RawSample {
                pid: 1,
                tid,
                period: 1_000_000,
                kernel,
                ..Default::default()
            })
        };
        let events = vec![
            Event::Comm {
                pid: 1,
                tid: 5,
                name: "alpha".into(),
            },
            sample(5, vec![0xffff_ffff_8100_0010]),
            sample(5, vec![0xffff_ffff_8100_0010]),
            Event::Comm {
                pid: 1,
                tid: 6,
                name: "beta".into(),
            },
            sample(6, vec![0xffff_ffff_8100_0020]),
            Event::Lost(2),
        ];
        let opts = RecordOptions {
            frequency_hz: 1000,
            ..Default::default()
        };
        let rec = Recorder::with_sampler(u32::MAX, Box::new(Scripted(events)), &opts, true);
        while rec.samples() < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let p = rec.stop().unwrap();
        let per_thread = |name: &str| -> i64 {
            p.samples
                .iter()
                .filter(|s| {
                    s.labels
                        .iter()
                        .any(|(k, v)| &**k == "thread" && v.starts_with(name))
                })
                .map(|s| s.values[0])
                .sum()
        };
        assert_eq!((per_thread("alpha"), per_thread("beta")), (2, 1));
        assert_eq!(p.period, 1_000_000);
        assert!(p.comments.iter().any(|c| c.contains("2 records lost")));
    }
}
