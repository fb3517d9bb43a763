//! pprof's measurement units: scaling values between units, picking a readable unit, and
//! formatting numbers and percentages exactly as `go tool pprof` prints them.

/// One unit of a family, with the names it is recognised by.
struct Unit {
    canonical: &'static str,
    aliases: &'static [&'static str],
    factor: f64,
}

/// A family of convertible units (bytes, time, GCU).
struct UnitType {
    default: Unit,
    units: &'static [Unit],
}

const BYTES: &[Unit] = &[
    Unit {
        canonical: "B",
        aliases: &["b", "byte"],
        factor: 1.0,
    },
    Unit {
        canonical: "kB",
        aliases: &["kb", "kbyte", "kilobyte"],
        factor: 1024.0,
    },
    Unit {
        canonical: "MB",
        aliases: &["mb", "mbyte", "megabyte"],
        factor: 1048576.0,
    },
    Unit {
        canonical: "GB",
        aliases: &["gb", "gbyte", "gigabyte"],
        factor: 1073741824.0,
    },
    Unit {
        canonical: "TB",
        aliases: &["tb", "tbyte", "terabyte"],
        factor: 1099511627776.0,
    },
    Unit {
        canonical: "PB",
        aliases: &["pb", "pbyte", "petabyte"],
        factor: 1125899906842624.0,
    },
];

const TIME: &[Unit] = &[
    Unit {
        canonical: "ns",
        aliases: &["ns", "nanosecond"],
        factor: 1.0,
    },
    Unit {
        canonical: "us",
        aliases: &["μs", "us", "microsecond"],
        factor: 1e3,
    },
    Unit {
        canonical: "ms",
        aliases: &["ms", "millisecond"],
        factor: 1e6,
    },
    Unit {
        canonical: "s",
        aliases: &["s", "sec", "second"],
        factor: 1e9,
    },
    Unit {
        canonical: "hrs",
        aliases: &["hour", "hr"],
        factor: 3600e9,
    },
];

const GCU: &[Unit] = &[
    Unit {
        canonical: "n*GCU",
        aliases: &["nanogcu"],
        factor: 1e-9,
    },
    Unit {
        canonical: "u*GCU",
        aliases: &["microgcu"],
        factor: 1e-6,
    },
    Unit {
        canonical: "m*GCU",
        aliases: &["milligcu"],
        factor: 1e-3,
    },
    Unit {
        canonical: "GCU",
        aliases: &["gcu"],
        factor: 1.0,
    },
    Unit {
        canonical: "k*GCU",
        aliases: &["kilogcu"],
        factor: 1e3,
    },
    Unit {
        canonical: "M*GCU",
        aliases: &["megagcu"],
        factor: 1e6,
    },
    Unit {
        canonical: "G*GCU",
        aliases: &["gigagcu"],
        factor: 1e9,
    },
    Unit {
        canonical: "T*GCU",
        aliases: &["teragcu"],
        factor: 1e12,
    },
    Unit {
        canonical: "P*GCU",
        aliases: &["petagcu"],
        factor: 1e15,
    },
];

const UNIT_TYPES: &[UnitType] = &[
    UnitType {
        default: Unit {
            canonical: "B",
            aliases: &[],
            factor: 1.0,
        },
        units: BYTES,
    },
    UnitType {
        default: Unit {
            canonical: "s",
            aliases: &[],
            factor: 1e9,
        },
        units: TIME,
    },
    UnitType {
        default: Unit {
            canonical: "GCU",
            aliases: &[],
            factor: 1.0,
        },
        units: GCU,
    },
];

impl UnitType {
    fn sniff(&self, unit: &str) -> Option<&Unit> {
        let mut unit = unit.to_lowercase();
        // pprof strips a plural "s" from names longer than two characters.
        if unit.chars().count() > 2 && unit.ends_with('s') {
            unit.pop();
        }
        self.units
            .iter()
            .find(|u| u.aliases.contains(&unit.as_str()))
    }

    fn auto_scale(&self, value: f64) -> Option<(f64, &'static str)> {
        let mut factor = 0.0;
        let mut name = "";
        for u in self.units {
            if u.factor >= factor && value / u.factor >= 1.0 {
                factor = u.factor;
                name = u.canonical;
            }
        }
        (factor != 0.0).then(|| (value / factor, name))
    }

    fn convert(&self, value: i64, from: &str, to: &str) -> Option<(f64, String)> {
        let from = self.sniff(from)?;
        let v = value as f64 * from.factor;
        if to == "minimum" || to == "auto" {
            if let Some((v, u)) = self.auto_scale(v) {
                return Some((v, u.to_string()));
            }
            return Some((v / self.default.factor, self.default.canonical.to_string()));
        }
        match self.sniff(to) {
            Some(t) => Some((v / t.factor, t.canonical.to_string())),
            None => Some((v / self.default.factor, self.default.canonical.to_string())),
        }
    }
}

/// Converts `value` in `from` units to `to` units (`minimum`/`auto` pick a readable unit),
/// returning the scaled value and the unit name to print, as pprof's `measurement.Scale`.
pub fn scale(value: i64, from: &str, to: &str) -> (f64, String) {
    if value < 0 && value != i64::MIN {
        let (v, u) = scale(-value, from, to);
        return (-v, u);
    }
    for ut in UNIT_TYPES {
        if let Some(r) = ut.convert(value, from, to) {
            return r;
        }
    }
    match to {
        "count" | "sample" | "unit" | "minimum" | "auto" => (value as f64, String::new()),
        _ => (value as f64, to.to_string()),
    }
}

/// Whether both units belong to one of pprof's unit families (bytes, time, GCU), so values
/// in one can be converted to the other.
pub fn same_family(a: &str, b: &str) -> bool {
    UNIT_TYPES
        .iter()
        .any(|ut| ut.sniff(a).is_some() && ut.sniff(b).is_some())
}

/// Formats `value` with an automatically chosen unit, as pprof's `measurement.Label`.
pub fn label(value: i64, unit: &str) -> String {
    scaled_label(value, unit, "auto")
}

/// Formats `value` (in `from` units) converted to `to` units with two decimals, trailing
/// `.00` removed, as pprof's `measurement.ScaledLabel`.
pub fn scaled_label(value: i64, from: &str, to: &str) -> String {
    let (v, u) = scale(value, from, to);
    let s = format!("{v:.2}");
    let s = s.strip_suffix(".00").unwrap_or(&s);
    if s == "0" || s == "-0" {
        return "0".to_string();
    }
    format!("{s}{u}")
}

/// `value` as a percentage of `total` in pprof's six-character layout (`  100%`, `12.34%`,
/// ` 0.05%`).
pub fn percentage(value: i64, total: i64) -> String {
    let ratio = if total != 0 {
        (value as f64 / total as f64).abs() * 100.0
    } else {
        0.0
    };
    if (99.95..=100.05).contains(&ratio) {
        "  100%".to_string()
    } else if ratio >= 1.0 {
        format!("{ratio:5.2}%")
    } else {
        format!("{:>5}%", format_g(ratio, 2))
    }
}

/// Go's `%.{prec}g` for a non-negative finite float: `prec` significant digits, trailing
/// zeros dropped, exponent form below 1e-4 or at/above 10^prec.
pub fn format_g(x: f64, prec: usize) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let prec = prec.max(1);
    let e = format!("{:.*e}", prec - 1, x);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let mut eprec = prec as i32;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    let sign = if neg { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}e{esign}{:02}", exp.abs());
    }
    let p = if prec as i32 > dp { nd } else { prec as i32 };
    let decimals = (p - dp).max(0) as usize;
    format!("{sign}{:.*}", decimals, x.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_like_pprof() {
        assert_eq!(
            scaled_label(1_500_000_000, "nanoseconds", "minimum"),
            "1.50s"
        );
        assert_eq!(scaled_label(10_000_000, "nanoseconds", "ms"), "10ms");
        assert_eq!(scaled_label(2048, "bytes", "auto"), "2kB");
        assert_eq!(scaled_label(0, "bytes", "auto"), "0");
        assert_eq!(scaled_label(7, "count", "minimum"), "7");
        assert_eq!(scaled_label(-3_000, "microseconds", "auto"), "-3ms");
        assert_eq!(scale(5, "objects", "foo"), (5.0, "foo".to_string()));
    }

    #[test]
    fn percentages_like_go() {
        assert_eq!(percentage(1, 1), "  100%");
        assert_eq!(percentage(1234, 10000), "12.34%");
        assert_eq!(percentage(5, 10000), " 0.05%");
        assert_eq!(percentage(0, 10), "    0%");
        assert_eq!(percentage(1, 100000000), "1e-06%");
        assert_eq!(percentage(999, 100000), "    1%");
        assert_eq!(percentage(12, 10000), " 0.12%");
    }

    #[test]
    fn g_format() {
        assert_eq!(format_g(0.0025, 2), "0.0025");
        assert_eq!(format_g(0.5, 2), "0.5");
        assert_eq!(format_g(0.999, 2), "1");
        assert_eq!(format_g(0.00001, 2), "1e-05");
        assert_eq!(format_g(0.000012, 2), "1.2e-05");
    }
}
