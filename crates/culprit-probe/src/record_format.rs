//! Decoding perf ring buffer records (bytes in, events out), for the sample layout
//! [`crate::perf::SAMPLE_TYPE`] asks the kernel for.

use crate::error::ProbeError;
use crate::unwind::Regs;

/// `PERF_RECORD_LOST`.
pub const RECORD_LOST: u32 = 2;
/// `PERF_RECORD_COMM`.
pub const RECORD_COMM: u32 = 3;
/// `PERF_RECORD_SAMPLE`.
pub const RECORD_SAMPLE: u32 = 9;
/// Callchain entries at or above this are context markers (`PERF_CONTEXT_*`), not addresses.
const CONTEXT_MAX: u64 = (-4095i64) as u64;

/// One sample as the kernel delivered it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawSample {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Kernel timestamp (ns, `CLOCK_MONOTONIC`-like perf clock).
    pub time: u64,
    /// Nanoseconds of CPU this sample stands for.
    pub period: u64,
    /// Kernel call chain, leaf first, markers removed; empty for samples in user mode.
    pub kernel: Vec<u64>,
    /// User registers at the sample (or at kernel entry); `None` for kernel threads.
    pub regs: Option<Regs>,
    /// User stack memory from `regs.sp` on.
    pub stack: Vec<u8>,
}

/// A decoded record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A CPU sample.
    Sample(RawSample),
    /// A thread got (or changed) its name.
    Comm {
        /// Process id.
        pid: u32,
        /// Thread id.
        tid: u32,
        /// New name.
        name: String,
    },
    /// The kernel dropped this many records because we read too slowly.
    Lost(u64),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProbeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(ProbeError::Record {
                offset: self.pos,
                problem: what,
            });
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, ProbeError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_ne_bytes(b))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, ProbeError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_ne_bytes(b))
    }
}

/// Decodes the body (after the 8-byte header) of a record of type `kind`. Returns `None`
/// for record types we do not use.
pub fn decode(kind: u32, body: &[u8]) -> Result<Option<Event>, ProbeError> {
    let mut r = Reader {
        bytes: body,
        pos: 0,
    };
    match kind {
        RECORD_SAMPLE => decode_sample(&mut r).map(|s| Some(Event::Sample(s))),
        RECORD_COMM => {
            let pid = r.u32("truncated comm pid")?;
            let tid = r.u32("truncated comm tid")?;
            let rest = &body[r.pos..];
            let name = rest.split(|&b| b == 0).next().unwrap_or_default();
            Ok(Some(Event::Comm {
                pid,
                tid,
                name: String::from_utf8_lossy(name).into_owned(),
            }))
        }
        RECORD_LOST => {
            let _id = r.u64("truncated lost id")?;
            Ok(Some(Event::Lost(r.u64("truncated lost count")?)))
        }
        _ => Ok(None),
    }
}

fn decode_sample(r: &mut Reader<'_>) -> Result<RawSample, ProbeError> {
    let ip = r.u64("truncated ip")?;
    let pid = r.u32("truncated pid")?;
    let tid = r.u32("truncated tid")?;
    let time = r.u64("truncated time")?;
    let period = r.u64("truncated period")?;
    let nr = r.u64("truncated callchain length")?;
    let nr = usize::try_from(nr).map_err(|_| ProbeError::Record {
        offset: r.pos,
        problem: "callchain length too large",
    })?;
    let chain = r.take(
        nr.checked_mul(8).ok_or(ProbeError::Record {
            offset: r.pos,
            problem: "callchain length too large",
        })?,
        "callchain longer than the record",
    )?;
    let kernel: Vec<u64> = chain
        .chunks_exact(8)
        .filter_map(|c| c.try_into().ok().map(u64::from_ne_bytes))
        .filter(|&a| a < CONTEXT_MAX)
        .collect();
    let abi = r.u64("truncated regs abi")?;
    let regs = if abi != 0 {
        // Order is by register number: bp (6), sp (7), ip (8).
        let bp = r.u64("truncated bp")?;
        let sp = r.u64("truncated sp")?;
        let uip = r.u64("truncated user ip")?;
        Some(Regs { ip: uip, sp, bp })
    } else {
        None
    };
    let size = r.u64("truncated stack size")?;
    let mut stack = Vec::new();
    if size > 0 {
        let size = usize::try_from(size).map_err(|_| ProbeError::Record {
            offset: r.pos,
            problem: "stack size too large",
        })?;
        let data = r.take(size, "stack longer than the record")?;
        let dyn_size = r.u64("truncated stack dyn_size")?;
        let used = usize::try_from(dyn_size)
            .unwrap_or(usize::MAX)
            .min(data.len());
        stack.extend_from_slice(&data[..used]);
    }
    // A sample taken in user mode has no kernel chain; its ip is the user ip.
    let kernel = if kernel.first().is_some_and(|&k| k == ip) || regs.is_none() {
        kernel
    } else {
        Vec::new()
    };
    Ok(RawSample {
        pid,
        tid,
        time,
        period,
        kernel,
        regs,
        stack,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample_bytes(kernel: &[u64], regs: Option<[u64; 3]>, stack: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        let ip = kernel.first().copied().unwrap_or(regs.map_or(0, |r| r[2]));
        b.extend(ip.to_ne_bytes());
        b.extend(7u32.to_ne_bytes());
        b.extend(8u32.to_ne_bytes());
        b.extend(99u64.to_ne_bytes());
        b.extend(1_000_000u64.to_ne_bytes());
        let mut chain = vec![(-128i64) as u64];
        chain.extend(kernel);
        b.extend((chain.len() as u64).to_ne_bytes());
        for c in chain {
            b.extend(c.to_ne_bytes());
        }
        match regs {
            Some(r) => {
                b.extend(2u64.to_ne_bytes());
                for v in r {
                    b.extend(v.to_ne_bytes());
                }
            }
            None => b.extend(0u64.to_ne_bytes()),
        }
        b.extend((stack.len() as u64).to_ne_bytes());
        if !stack.is_empty() {
            b.extend(stack);
            b.extend((stack.len() as u64 - 8).to_ne_bytes());
        }
        b
    }

    #[test]
    fn decodes_a_user_sample() {
        let body = sample_bytes(&[], Some([0x10, 0x20, 0x400123]), &[1; 32]);
        let Some(Event::Sample(s)) = decode(RECORD_SAMPLE, &body).unwrap() else {
            panic!("not a sample")
        };
        assert_eq!((s.pid, s.tid, s.period), (7, 8, 1_000_000));
        assert_eq!(
            s.regs,
            Some(Regs {
                ip: 0x400123,
                sp: 0x20,
                bp: 0x10
            })
        );
        assert_eq!(s.stack.len(), 24, "dyn_size trims the copy");
        assert!(s.kernel.is_empty());
    }

    #[test]
    fn decodes_kernel_chain_without_markers() {
        let k = [0xffff_ffff_8100_0000u64, 0xffff_ffff_8100_1000];
        let body = sample_bytes(&k, Some([1, 2, 3]), &[]);
        let Some(Event::Sample(s)) = decode(RECORD_SAMPLE, &body).unwrap() else {
            panic!("not a sample")
        };
        assert_eq!(s.kernel, k);
    }

    #[test]
    fn decodes_comm_and_lost() {
        let mut b = Vec::new();
        b.extend(5u32.to_ne_bytes());
        b.extend(6u32.to_ne_bytes());
        b.extend(b"worker\0\0");
        assert_eq!(
            decode(RECORD_COMM, &b).unwrap(),
            Some(Event::Comm {
                pid: 5,
                tid: 6,
                name: "worker".into()
            })
        );
        let mut l = 1u64.to_ne_bytes().to_vec();
        l.extend(3u64.to_ne_bytes());
        assert_eq!(decode(RECORD_LOST, &l).unwrap(), Some(Event::Lost(3)));
    }

    #[test]
    fn truncation_names_the_offset() {
        let body = sample_bytes(&[], Some([1, 2, 3]), &[0; 16]);
        let err = decode(RECORD_SAMPLE, &body[..30]).unwrap_err().to_string();
        assert!(err.contains("byte offset"), "{err}");
    }

    proptest! {
        #[test]
        fn never_panics(kind in 0u32..12, body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(kind, &body);
        }
    }
}
