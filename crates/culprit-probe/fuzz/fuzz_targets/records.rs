//! perf ring buffer records, /proc maps and stat text: no input may panic the decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&kind, body)) = data.split_first() {
        let _ = culprit_probe::record_format::decode(u32::from(kind % 12), body);
    }
    let text = String::from_utf8_lossy(data);
    let _ = culprit_probe::maps::parse_maps(&text, "fuzz");
    let _ = culprit_probe::procinfo::parse_stat(&text);
    let _ = culprit_probe::procinfo::parse_syscall(&text);
});
