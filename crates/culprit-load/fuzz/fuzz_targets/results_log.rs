#![no_main]
//! The result log reader on arbitrary bytes (with and without a valid header): it returns
//! records or an error and stops, never panics or loops.

use culprit_load::results::{LogReader, encode_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut with_header = encode_header(1).to_vec();
    with_header.extend_from_slice(data);
    for input in [data, &with_header[..]] {
        if let Ok(reader) = LogReader::new(input) {
            for record in reader {
                if record.is_err() {
                    break;
                }
            }
        }
    }
});
