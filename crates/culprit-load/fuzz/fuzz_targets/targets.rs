#![no_main]
//! Both target formats on arbitrary text: errors, never panics.

use culprit_load::targets::{Defaults, Format, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut load = |p: &str| -> std::io::Result<Vec<u8>> { Ok(p.as_bytes().to_vec()) };
    for format in [Format::Http, Format::Json] {
        let _ = parse(&text, format, &Defaults::default(), &mut load);
    }
});
