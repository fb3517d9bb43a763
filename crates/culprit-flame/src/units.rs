//! Human-readable values for frame labels: `1.25s`, `3.50MB`, `1200`.

/// `value` in `unit` scaled to a readable magnitude, as pprof labels them.
pub fn value_label(value: i64, unit: &str) -> String {
    let v = value as f64;
    let (scaled, suffix) = match unit {
        "nanoseconds" | "ns" => scale_time(v),
        "microseconds" | "us" => scale_time(v * 1e3),
        "milliseconds" | "ms" => scale_time(v * 1e6),
        "seconds" | "s" => scale_time(v * 1e9),
        "bytes" | "B" => scale_bytes(v),
        _ => return value.to_string(),
    };
    format!("{}{suffix}", trim(scaled))
}

fn scale_time(ns: f64) -> (f64, &'static str) {
    let a = ns.abs();
    if a >= 1e9 {
        (ns / 1e9, "s")
    } else if a >= 1e6 {
        (ns / 1e6, "ms")
    } else if a >= 1e3 {
        (ns / 1e3, "us")
    } else {
        (ns, "ns")
    }
}

fn scale_bytes(b: f64) -> (f64, &'static str) {
    let a = b.abs();
    for (limit, suffix) in [
        (1u64 << 40, "TB"),
        (1 << 30, "GB"),
        (1 << 20, "MB"),
        (1 << 10, "kB"),
    ] {
        if a >= limit as f64 {
            return (b / limit as f64, suffix);
        }
    }
    (b, "B")
}

fn trim(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `value` as a percentage of `total`, two decimals; `0%` when the total is zero.
pub fn percent(value: i64, total: i64) -> String {
    if total == 0 {
        return "0%".into();
    }
    format!("{:.2}%", value as f64 / total as f64 * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(value_label(1_250_000_000, "nanoseconds"), "1.25s");
        assert_eq!(value_label(3 << 20, "bytes"), "3MB");
        assert_eq!(value_label(1200, "count"), "1200");
        assert_eq!(percent(1, 3), "33.33%");
        assert_eq!(percent(1, 0), "0%");
    }
}
