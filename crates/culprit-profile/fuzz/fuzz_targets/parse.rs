//! Any bytes: parsing fails cleanly or yields a profile that dumps, encodes and parses
//! again. Seed with `../../../shared/testdata/pprof/fuzz/corpus` and
//! `../../../shared/testdata/pprof/profile/testdata`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = culprit_profile::parse(data) {
        let _ = culprit_profile::text::to_string(&p);
        let again = culprit_profile::parse(&culprit_profile::encode_gzip(&p));
        // An encoded profile may be empty (no fields at all), which is not a profile.
        if let Err(e) = &again {
            assert!(
                matches!(e, culprit_profile::ParseError::Empty),
                "our own encoding did not parse: {e}"
            );
        }
    }
});
