//! Any text: parsing fails with a line number or yields records that analyse, render and
//! round-trip. Seed with `../../../shared/testdata/coz/*.coz`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(records) = culprit_causal::parse(text) {
        let a = culprit_causal::analyze(&records);
        let _ = culprit_causal::render::text("fuzz", &a);
        let _ = culprit_causal::render::html("fuzz", &a);
        let again = culprit_causal::parse(&culprit_causal::write(&records));
        assert_eq!(again.map(|r| r.len()).ok(), Some(records.len()));
    }
});
