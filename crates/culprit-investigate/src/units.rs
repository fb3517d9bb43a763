//! Number formatting shared by findings, the terminal summary and the HTML pages.

/// Bytes with a binary-ish suffix the way pprof prints them (`1.5MB`).
pub fn bytes(v: f64) -> String {
    let a = v.abs();
    let (div, unit) = if a >= 1024.0 * 1024.0 * 1024.0 {
        (1024.0 * 1024.0 * 1024.0, "GB")
    } else if a >= 1024.0 * 1024.0 {
        (1024.0 * 1024.0, "MB")
    } else if a >= 1024.0 {
        (1024.0, "kB")
    } else {
        (1.0, "B")
    };
    format!("{:.1}{unit}", v / div)
}

/// Seconds scaled to s/ms/µs.
pub fn seconds(v: f64) -> String {
    let a = v.abs();
    if a >= 1.0 {
        format!("{v:.2}s")
    } else if a >= 1e-3 {
        format!("{:.2}ms", v * 1e3)
    } else {
        format!("{:.1}µs", v * 1e6)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::bytes(1536.0 * 1024.0), "1.5MB");
        assert_eq!(super::bytes(12.0), "12.0B");
        assert_eq!(super::seconds(0.0123), "12.30ms");
        assert_eq!(super::seconds(2.0), "2.00s");
    }
}
