//! Threads take turns on one std Mutex: the work inside the lock (CRIT_LINE) serialises
//! them and is the bottleneck; the work outside (OUT_LINE) runs in parallel and is not.
//! Built by the tests with `rustc -O -g`; uses culprit-coz's progress points by path.

#[path = "../../crates/culprit-coz/src/lib.rs"]
mod culprit_coz;
pub use culprit_coz::*;

use std::hint::black_box;
use std::sync::{Arc, Mutex};

#[inline(never)]
fn crit(v: u64, n: u64) -> u64 {
    (0..n).fold(v, |a, i| black_box(a.wrapping_mul(31).wrapping_add(i))) // CRIT_LINE
}

#[inline(never)]
fn outside(n: u64) -> u64 {
    (0..n).fold(1, |a, i| black_box(a.wrapping_mul(17).wrapping_add(i))) // OUT_LINE
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let iters = args.first().copied().unwrap_or(400);
    let unit = args.get(1).copied().unwrap_or(400_000);
    // `--cfg faster` builds the variant whose critical work is 25% less, the real speed-up
    // a causal profile's prediction for CRIT_LINE is checked against.
    let crit_n = if cfg!(faster) { unit * 3 / 2 } else { unit * 2 };
    let shared = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for _ in 0..iters {
                    {
                        let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
                        *g = crit(*g, crit_n);
                    }
                    black_box(outside(unit));
                    progress!("item");
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    println!("done");
}
