//! Writes a large synthetic CPU profile for benchmarks: about 1.2M samples over deep
//! stacks (30-60 frames) drawn from 150k locations, over 100 MB as uncompressed proto.
//!
//! Usage: `cargo run --release -p culprit-report --example gen_large -- OUT.pb.gz [SAMPLES]`

use culprit_profile::{Function, Line, Location, Mapping, Profile, Sample, ValueType};

/// xorshift64*: deterministic, so every run writes the same profile.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FUNCTIONS: u64 = 120_000;
const LOCATIONS: u64 = 150_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: gen_large OUT.pb.gz [SAMPLES]")?;
    let samples: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_200_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut p = Profile {
        sample_type: vec![
            ValueType::new("samples", "count"),
            ValueType::new("cpu", "nanoseconds"),
        ],
        period_type: Some(ValueType::new("cpu", "nanoseconds")),
        period: 10_000_000,
        time_nanos: 1_700_000_000_000_000_000,
        duration_nanos: 600_000_000_000,
        mappings: vec![Mapping {
            id: 1,
            memory_start: 0x400000,
            memory_limit: 0x4000000,
            file: "/usr/local/bin/large-svc".into(),
            build_id: "f00dfeed".into(),
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            ..Mapping::default()
        }],
        ..Profile::default()
    };
    for f in 0..FUNCTIONS {
        let pkg = f % 400;
        p.functions.push(Function {
            id: f + 1,
            name: format!(
                "github.com/example/svc/pkg{pkg}.(*Type{}).Method{f}",
                f % 37
            ),
            system_name: String::new(),
            filename: format!("/src/svc/pkg{pkg}/file{}.go", f % 13),
            start_line: (f % 900 + 10) as i64,
        });
    }
    for l in 0..LOCATIONS {
        // A fifth of the locations carry an inlined callee.
        let func = l % FUNCTIONS;
        let mut lines = Vec::new();
        if l % 5 == 0 {
            lines.push(Line {
                function: Some(((l * 7 + 3) % FUNCTIONS) as u32),
                line: (l % 300 + 1) as i64,
                column: 0,
            });
        }
        lines.push(Line {
            function: Some(func as u32),
            line: (l % 500 + 20) as i64,
            column: 0,
        });
        p.locations.push(Location {
            id: l + 1,
            mapping: Some(0),
            address: 0x400000 + l * 16,
            lines,
            is_folded: false,
        });
    }
    for _ in 0..samples {
        // Walk a random tree: each frame's callee is drawn from a few per caller, so stacks
        // share prefixes the way real programs' do.
        let depth = 30 + rng.below(31);
        let mut loc = rng.below(64);
        let mut stack = Vec::with_capacity(depth as usize);
        for d in 0..depth {
            stack.push(loc as u32);
            let fanout = if d < 8 { 3 } else { 12 };
            loc = (loc.wrapping_mul(2_654_435_761) + 1 + rng.below(fanout) * 7919 + d) % LOCATIONS;
        }
        stack.reverse();
        let n = 1 + rng.below(4) as i64;
        p.samples.push(Sample {
            locations: stack,
            values: vec![n, n * 10_000_000],
            ..Sample::default()
        });
    }
    std::fs::write(&out, culprit_profile::encode_gzip(&p))?;
    eprintln!(
        "wrote {out}: {} samples, {} locations, {} bytes uncompressed",
        p.samples.len(),
        p.locations.len(),
        culprit_profile::encode_raw(&p).len()
    );
    Ok(())
}
