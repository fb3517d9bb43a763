//! Server bytes, split into reads anywhere: the response reader never panics, never
//! consumes more than it was given, and comes to the same answer however the bytes split.
#![no_main]

use culprit_load::attack::h1::Reader;
use libfuzzer_sys::fuzz_target;

/// Feeds `data` in reads of `piece` bytes, then the close.
fn read(data: &[u8], piece: usize) -> String {
    let mut r = Reader::new(false, Some(1 << 20));
    let mut buf = Vec::new();
    let mut start = 0;
    for chunk in data.chunks(piece.max(1)) {
        buf.extend_from_slice(chunk);
        match r.advance(&buf[start..]) {
            Ok((used, done)) => {
                assert!(start + used <= buf.len());
                start += used;
                if let Some(done) = done {
                    return format!("{done:?}");
                }
            }
            Err(f) => return format!("error {}", f.message),
        }
    }
    format!("{:?}", r.eof())
}

fuzz_target!(|input: &[u8]| {
    let Some((&piece, data)) = input.split_first() else {
        return;
    };
    let whole = read(data, data.len());
    let split = read(data, usize::from(piece % 16) + 1);
    // Errors may be found at different points of a split input; answers may not differ.
    if !whole.starts_with("error") && !split.starts_with("error") {
        assert_eq!(whole, split);
    }
});
