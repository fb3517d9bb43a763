//! Any bytes through the whole `culprit goroutines` path: detect, parse, group, render.
#![no_main]

use culprit_dump::{Filter, GroupOptions, group, parse, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = parse(data) {
        for exact_args in [false, true] {
            let opts = GroupOptions {
                exact_args,
                by_labels: !exact_args,
            };
            let g = group(&snap, &Filter::default(), &opts);
            let _ = render::text(&g, render::Noun::GOROUTINES);
            let _ = render::json(&g);
        }
        let mut hidden = snap.clone();
        hidden.hide_runtime_frames();
        let _ = render::skipped_text(&hidden);
    }
});
