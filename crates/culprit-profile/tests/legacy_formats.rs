//! Legacy formats beyond pprof's goldens: other word sizes and byte orders of the binary
//! CPU format, Go `?debug=1` count profiles, Go mutex text, Java profiles, memory-map
//! rules and the default frame filters.

use std::path::PathBuf;

use culprit_profile::{Profile, legacy, parse, text};

fn testdata(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/pprof/profile/testdata")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parsed(data: &[u8]) -> Profile {
    parse(data).unwrap_or_else(|e| panic!("{e}"))
}

/// Splits a 64-bit little-endian CPU profile into its words and the text after them.
fn words_le64(data: &[u8]) -> (Vec<u64>, Vec<u8>) {
    let mut words = Vec::new();
    let mut at = 0;
    let word = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"));
    for _ in 0..5 {
        words.push(word(at));
        at += 8;
    }
    loop {
        let (count, depth) = (word(at), word(at + 8));
        let n = 2 + depth as usize;
        for i in 0..n {
            words.push(word(at + 8 * i));
        }
        at += 8 * n;
        if count == 0 && depth == 1 && words.last() == Some(&0) {
            break;
        }
    }
    (words, data[at..].to_vec())
}

fn encode_words(words: &[u64], width: usize, big: bool, tail: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &w in words {
        match (width, big) {
            (8, false) => out.extend(w.to_le_bytes()),
            (8, true) => out.extend(w.to_be_bytes()),
            (4, false) => out.extend((w as u32).to_le_bytes()),
            _ => out.extend((w as u32).to_be_bytes()),
        }
    }
    out.extend(tail);
    out
}

#[test]
fn cpu_profiles_read_the_same_in_every_word_size_and_byte_order() {
    for name in ["cppbench.cpu", "gobench.cpu", "go.crc32.cpu"] {
        let data = testdata(name);
        let want = text::to_string(&parsed(&data));
        let (words, tail) = words_le64(&data);
        let mut layouts = vec![(8, true)];
        if words.iter().all(|&w| w <= u64::from(u32::MAX)) {
            layouts.extend([(4, false), (4, true)]);
        }
        for (width, big) in layouts {
            let got = text::to_string(&parsed(&encode_words(&words, width, big, &tail)));
            assert_eq!(got, want, "{name} as {width}-byte words, big-endian {big}");
        }
    }
}

#[test]
fn go_goroutine_count_profile() {
    let data = b"goroutine profile: total 4\n\
3 @ 0x43a6c5 0x44b2f7 0x46b1e1\n\
#\t0x44b2f6\tsync.runtime_notifyListWait+0x116\t/usr/lib/go/src/runtime/sema.go:517\n\
\n\
1 @ 0x43a6c5 0x46b1e1\n";
    let p = parsed(data);
    assert_eq!(p.sample_type[0].kind, "goroutine");
    assert_eq!(
        p.period_type.as_ref().map(|t| t.unit.as_str()),
        Some("count")
    );
    let addrs: Vec<Vec<u64>> = p
        .samples
        .iter()
        .map(|s| {
            s.locations
                .iter()
                .map(|&l| p.locations[l as usize].address)
                .collect()
        })
        .collect();
    // Every frame, the leaf too, moves back one byte onto its call.
    assert_eq!(
        addrs,
        vec![vec![0x43a6c4, 0x44b2f6, 0x46b1e0], vec![0x43a6c4, 0x46b1e0]]
    );
    assert_eq!(
        p.samples.iter().map(|s| s.values[0]).collect::<Vec<_>>(),
        vec![3, 1]
    );
    // No memory map: one fake mapping covers every address.
    assert_eq!(p.mappings.len(), 1);
    assert_eq!(p.mappings[0].memory_limit, u64::MAX);
    assert_eq!(
        p.drop_frames,
        "ProfileData::Add|ProfileData::prof_handler|CpuProfiler::prof_handler|__pthread_sighandler|__restore"
    );
}

#[test]
fn go_mutex_text_profile_scales_cycles_to_nanoseconds() {
    let data = b"--- mutex:\ncycles/second=2000000000\nsampling period=5\n\
100 3 @ 0x1001 0x2001\n";
    let p = parsed(data);
    assert_eq!(p.sample_type[1].kind, "delay");
    assert_eq!(p.period, 5);
    // contentions 3*5; delay 100 cycles * 5 / 2 GHz = 250 ns.
    assert_eq!(p.samples[0].values, vec![15, 250]);
    assert!(p.drop_frames.starts_with("RecordLockProfileData|"));
    assert_eq!(p.keep_frames, "");
}

#[test]
fn heap_profiles_get_allocator_frames_dropped() {
    let p = parsed(&testdata("cppbench.heap"));
    assert!(p.drop_frames.starts_with("calloc|cfree|malloc|free|"));
    assert_eq!(
        p.keep_frames,
        r"runtime\.panic|runtime\.reflectcall|runtime\.call[0-9]*"
    );
}

#[test]
fn java_heap_profile_with_symbols() {
    let data = b"--- heapz 1 ---\nformat = java\nresolution = bytes\n\
 1048576 2 @ 0x100 0x200\n\
 32 1 @ 0x200\n\
0x100 com.example.Foo.alloc (Foo.java:12)\n\
0x200 com.example.Main.main (Main.java:-1)\n";
    let p = parsed(data);
    assert_eq!(p.sample_type[1].kind, "inuse_space");
    assert_eq!(p.sample_type[1].unit, "bytes");
    assert_eq!(p.functions.len(), 2);
    assert_eq!(p.functions[0].name, "com.example.Foo.alloc");
    assert_eq!(p.functions[0].filename, "Foo.java");
    let l0 = &p.locations[0];
    assert_eq!((l0.address, l0.lines[0].line), (0, 12));
    // A non-positive line number is dropped.
    assert_eq!(p.locations[1].lines[0].line, 0);
    // Java lines are `bytes count @ …`. The block size label is taken before un-sampling
    // at Java's 512 KiB rate: a 32-byte object is seen with probability 1-exp(-32/524288).
    assert_eq!(p.samples[0].num_labels[0].value, 524288);
    assert!(p.samples[0].values[1] > 1048576);
    assert_eq!(p.samples[1].values[0], 16384);
    assert!(
        (524_300..524_310).contains(&p.samples[1].values[1]),
        "{:?}",
        p.samples[1].values
    );
}

#[test]
fn java_contention_profile_scales_by_period() {
    let data = b"--- contentionz 1 ---\nformat = java\nresolution = microseconds\nsampling period = 100\nms since reset = 6000\n\
 10 2 @ 0x1\n\
0x1 java.lang.Object.wait (Native Method)\n";
    let p = parsed(data);
    assert_eq!(p.sample_type[1].unit, "microseconds");
    assert_eq!(p.duration_nanos, 6_000_000_000);
    assert_eq!(p.samples[0].values, vec![200, 1000]);
    assert_eq!(p.functions[0].name, "java.lang.Object.wait");
    assert_eq!(p.functions[0].filename, "Native Method");
}

#[test]
fn java_cpu_profile_in_binary_form() {
    let mut words: Vec<u64> = vec![0, 3, 1, 10_000, 0];
    words.extend([5, 2, 0xaa, 0xbb, 0, 1, 0]);
    let tail = b"0xaa Leaf.run (Leaf.java:7)\n0xbb generated stub/JIT\n";
    let p = parsed(&encode_words(&words, 4, false, tail));
    assert_eq!(p.samples[0].values, vec![5, 50_000_000]);
    assert_eq!(p.functions[1].name, "STUB");
    assert!(p.locations.iter().all(|l| l.address == 0));
}

#[test]
fn thread_profile_counts_same_as_previous_threads() {
    let data = b"--- threadz 1 ---\n\n\
--- Thread 1 (name: a/1) stack: ---\n  PC: 0x10 0x21\n\
--- Thread 2 (name: b/2) stack: ---\n  same as previous thread\n\
--- Memory map: ---\n";
    let p = parsed(data);
    assert_eq!(p.samples.len(), 1);
    assert_eq!(p.samples[0].values, vec![2]);
}

#[test]
fn memory_map_rules() {
    // Libraries listed first; the main binary moves to the front; split regions merge.
    let maps = b"7f0000000000-7f0000001000 r-xp 00000000 00:00 1 /lib/libc.so.6\n\
00400000-00500000 r-xp 00000000 00:00 2 /bin/server\n\
00500000-00600000 r-xp 00100000 00:00 2 /bin/server\n";
    let mut m = legacy::parse_proc_maps(maps);
    assert_eq!(m.len(), 3);
    let data = [
        b"goroutine profile: total 1\n1 @ 0x400010 0x7f0000000010 0x12345\n--- Memory map: ---\n"
            .as_slice(),
        maps,
    ]
    .concat();
    let p = parsed(&data);
    let files: Vec<&str> = p.mappings.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(files, vec!["/bin/server", "/lib/libc.so.6", ""]);
    assert_eq!(p.mappings[0].memory_limit, 0x600000);
    assert_eq!(
        p.mappings.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let mapping_of = |i: usize| p.locations[i].mapping.map(|m| p.mappings[m as usize].id);
    assert_eq!(
        (mapping_of(0), mapping_of(1), mapping_of(2)),
        (Some(1), Some(2), Some(3))
    );
    m.clear();
}
