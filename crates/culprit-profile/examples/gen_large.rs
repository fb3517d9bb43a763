//! Writes a large, realistic CPU profile for benchmarks: by default 1.2 million samples,
//! 150k locations with inlined frames, 40k functions, stacks 8–64 deep, some samples with
//! labels; over 100 MB as uncompressed `profile.proto`, gzipped on disk.
//!
//! `cargo run --release -p culprit-profile --example gen_large -- OUT.pb.gz [SAMPLES] [LOCATIONS]`

use culprit_profile::*;

/// xorshift64*: deterministic, so the benchmark input is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: gen_large OUT.pb.gz [SAMPLES] [LOCATIONS]")?;
    let n_samples: usize = args.next().map_or(Ok(1_200_000), |s| s.parse())?;
    let n_locs: usize = args.next().map_or(Ok(150_000), |s| s.parse())?;
    let n_funcs = (n_locs / 4).max(1);
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
        ..Profile::default()
    };
    p.mappings.push(Mapping {
        id: 1,
        memory_start: 0x400000,
        memory_limit: 0x4000000,
        file: "/usr/local/bin/large-service".into(),
        build_id: "4f1c2d3e5a6b7c8d9e0f".into(),
        has_functions: true,
        has_filenames: true,
        has_line_numbers: true,
        has_inline_frames: true,
        ..Mapping::default()
    });
    for i in 0..n_funcs {
        let pkg = i % 97;
        let name = format!("example.com/svc/pkg{pkg}.(*Type{}).Method{i}", i % 13);
        p.functions.push(Function {
            id: i as u64 + 1,
            name: name.clone(),
            system_name: name,
            filename: format!("/src/example.com/svc/pkg{pkg}/file{}.go", i % 31),
            start_line: (i % 900) as i64 + 10,
        });
    }
    for i in 0..n_locs {
        let inlined = if rng.below(5) == 0 { 2 } else { 1 };
        let lines = (0..inlined)
            .map(|_| Line {
                function: Some(rng.below(n_funcs as u64) as u32),
                line: rng.below(2000) as i64 + 1,
                column: 0,
            })
            .collect();
        p.locations.push(Location {
            id: i as u64 + 1,
            mapping: Some(0),
            address: 0x400000 + 16 * i as u64,
            lines,
            is_folded: false,
        });
    }

    // A pool of distinct stacks sharing prefixes (like real call trees), sampled with a
    // skew so a few stacks are hot.
    let pool_size = (n_samples / 3).max(1);
    let roots: Vec<u32> = (0..32).map(|_| rng.below(n_locs as u64) as u32).collect();
    let mut pool: Vec<Vec<u32>> = Vec::with_capacity(pool_size);
    for i in 0..pool_size {
        let depth = 8 + rng.below(57) as usize;
        let mut stack: Vec<u32> = if i > 0 && rng.below(3) > 0 {
            let parent = &pool[rng.below(i as u64) as usize];
            parent[..parent.len().min(depth) / 2 + 1].to_vec()
        } else {
            vec![roots[rng.below(roots.len() as u64) as usize]]
        };
        while stack.len() < depth {
            stack.push(rng.below(n_locs as u64) as u32);
        }
        stack.reverse(); // leaf first
        pool.push(stack);
    }
    let label_keys: [Str; 2] = [Str::from("handler"), Str::from("tenant")];
    let label_values: Vec<Str> = (0..20).map(|i| Str::from(format!("value{i}"))).collect();
    p.samples.reserve(n_samples);
    for _ in 0..n_samples {
        let r = rng.unit();
        let stack = &pool[((r * r * r) * pool_size as f64) as usize % pool_size];
        let count = 1 + rng.below(3) as i64;
        let mut s = Sample {
            locations: stack.clone(),
            values: vec![count, count * 10_000_000],
            ..Sample::default()
        };
        if rng.below(4) == 0 {
            for k in &label_keys {
                s.labels
                    .push((k.clone(), label_values[rng.below(20) as usize].clone()));
            }
        }
        p.samples.push(s);
    }
    let raw = codec::encode_raw(&p);
    let gz = encode_gzip(&p);
    std::fs::write(&out, &gz)?;
    eprintln!(
        "{out}: {} samples, {} locations, {} functions; {} MB raw, {} MB gzipped",
        p.samples.len(),
        p.locations.len(),
        p.functions.len(),
        raw.len() >> 20,
        gz.len() >> 20
    );
    Ok(())
}
