//! Folded stacks from arbitrary bytes: parsing must not panic, and whatever parses must
//! draw as a flame graph and write back as folded stacks without panicking.
#![no_main]

use culprit_flame::svg;
use culprit_flame::tree::{StackSet, Side};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = culprit_profile::folded::parse(data) else {
        return;
    };
    let mut stacks = StackSet::new();
    stacks.add_profile(&p, Side::Value, |s| s.values.first().copied().unwrap_or(0));
    stacks.add_profile(&p, Side::Base, |s| s.values.first().copied().unwrap_or(0) / 2);
    let tree = stacks.build(0);
    let opts = svg::Options { differential: true, ..svg::Options::default() };
    let _ = svg::write_svg(&tree, &opts, &mut std::io::sink());
    let _ = culprit_profile::folded::write(&p, 0, &mut std::io::sink());
});
