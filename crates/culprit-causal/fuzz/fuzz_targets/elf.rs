//! Any bytes as an ELF object: reading its dynamic needs and its line table fails with
//! an error or yields a table whose ranges are sorted, disjoint and name known lines.
//! Seed `corpus/elf` with a small object built with debug information, e.g.
//! `gcc -O1 -g -shared -fPIC testbed/causal/shared_work.c -o corpus/elf/libwork.so`.
#![no_main]

use culprit_causal::dynamic::Dependencies;
use culprit_causal::linetable::{LineTable, Scope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Dependencies::parse(data);
    let Ok(scope) = Scope::new(&[]) else { return };
    if let Ok(t) = LineTable::from_elf(data, &scope) {
        for w in t.ranges.windows(2) {
            assert!(w[0].1 <= w[1].0);
        }
        for r in &t.ranges {
            assert!(r.0 < r.1 && (r.2 as usize) < t.lines.len());
        }
    }
});
