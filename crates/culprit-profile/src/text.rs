//! pprof's `Profile.String()` text dump, the format of `-raw` and the `.string` goldens.
//!
//! The layout follows pprof's quirks exactly: values right-aligned in 10 columns, a trailing
//! space after every location id, labels grouped by key and sorted as strings, the
//! `Duration:` line cut to four characters (Go's `%.4v` of a `time.Duration`), and the time
//! printed as Go's `time.Time.String()` in UTC.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::{Location, Mapping, Profile, Sample};

/// Which pprof release's dump to reproduce. They differ only in small details.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// pprof at HEAD (2026): prints `Doc:` and `file:line:column` on location lines.
    #[default]
    Head,
    /// The pprof vendored in Go 1.19's `go tool pprof`: no `Doc:`, no columns.
    Go119,
}

/// Renders the profile as pprof HEAD's `Profile.String()` does.
pub fn to_string(p: &Profile) -> String {
    to_string_with(p, Style::Head)
}

/// Renders the profile as the given pprof release's `Profile.String()` does.
pub fn to_string_with(p: &Profile, style: Style) -> String {
    let mut out = String::with_capacity(64 * (p.samples.len() + p.locations.len() + 8));
    for c in &p.comments {
        let _ = writeln!(out, "Comment: {c}");
    }
    if style == Style::Head && !p.doc_url.is_empty() {
        let _ = writeln!(out, "Doc: {}", p.doc_url);
    }
    // pprof always has a period type after decoding (an empty one when the file has none).
    let (kind, unit) = p
        .period_type
        .as_ref()
        .map_or(("", ""), |v| (v.kind.as_str(), v.unit.as_str()));
    let _ = writeln!(out, "PeriodType: {kind} {unit}");
    let _ = writeln!(out, "Period: {}", p.period);
    if p.time_nanos != 0 {
        let _ = writeln!(out, "Time: {}", go_time_utc(p.time_nanos));
    }
    if p.duration_nanos != 0 {
        let d: String = go_duration(p.duration_nanos).chars().take(4).collect();
        let _ = writeln!(out, "Duration: {d}");
    }
    out.push_str("Samples:\n");
    let mut header = String::new();
    for t in &p.sample_type {
        let dflt = if t.kind == p.default_sample_type {
            "[dflt]"
        } else {
            ""
        };
        let _ = write!(header, "{}/{}{dflt} ", t.kind, t.unit);
    }
    out.push_str(header.trim());
    out.push('\n');
    for s in &p.samples {
        write_sample(&mut out, p, s);
    }
    out.push_str("Locations\n");
    for l in &p.locations {
        write_location(&mut out, p, l, style);
    }
    out.push_str("Mappings\n");
    for m in &p.mappings {
        write_mapping(&mut out, m);
    }
    out
}

fn write_sample(out: &mut String, p: &Profile, s: &Sample) {
    for v in &s.values {
        let _ = write!(out, " {v:>10}");
    }
    out.push_str(": ");
    for &l in &s.locations {
        let id = p.locations.get(l as usize).map_or(0, |l| l.id);
        let _ = write!(out, "{id} ");
    }
    out.push('\n');
    const LABEL_HEADER: &str = "                ";
    if !s.labels.is_empty() {
        let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (k, v) in &s.labels {
            by_key.entry(k).or_default().push(v);
        }
        let mut items: Vec<String> = by_key
            .into_iter()
            .map(|(k, vs)| format!("{k}:[{}]", vs.join(" ")))
            .collect();
        items.sort();
        out.push_str(LABEL_HEADER);
        out.push_str(&items.join(" "));
        out.push('\n');
    }
    if !s.num_labels.is_empty() {
        let mut by_key: BTreeMap<&str, Vec<(i64, &str)>> = BTreeMap::new();
        for n in &s.num_labels {
            by_key.entry(&n.key).or_default().push((n.value, &n.unit));
        }
        let mut items: Vec<String> = by_key
            .into_iter()
            .map(|(k, vs)| {
                // pprof keeps units for a key only when one of its values has a unit.
                let with_units = vs.iter().any(|(_, u)| !u.is_empty());
                let parts: Vec<String> = vs
                    .iter()
                    .map(|(v, u)| {
                        if with_units {
                            format!("{v} {u}")
                        } else {
                            v.to_string()
                        }
                    })
                    .collect();
                format!("{k}:[{}]", parts.join(" "))
            })
            .collect();
        items.sort();
        out.push_str(LABEL_HEADER);
        out.push_str(&items.join(" "));
        out.push('\n');
    }
}

fn write_location(out: &mut String, p: &Profile, l: &Location, style: Style) {
    let mut head = format!("{:>6}: {:#x} ", l.id, l.address);
    if let Some(m) = l.mapping.and_then(|m| p.mappings.get(m as usize)) {
        let _ = write!(head, "M={} ", m.id);
    }
    if l.is_folded {
        head.push_str("[F] ");
    }
    if l.lines.is_empty() {
        out.push_str(&head);
        out.push('\n');
    }
    for line in &l.lines {
        out.push_str(&head);
        match line.function.and_then(|f| p.functions.get(f as usize)) {
            None => out.push_str("??"),
            Some(f) => {
                match style {
                    Style::Head => {
                        let _ = write!(
                            out,
                            "{} {}:{}:{} s={}",
                            f.name, f.filename, line.line, line.column, f.start_line
                        );
                    }
                    Style::Go119 => {
                        let _ = write!(
                            out,
                            "{} {}:{} s={}",
                            f.name, f.filename, line.line, f.start_line
                        );
                    }
                }
                if f.name != f.system_name {
                    let _ = write!(out, "({})", f.system_name);
                }
            }
        }
        out.push('\n');
        // Later lines of an inlined location only repeat the indentation.
        head = "             ".to_string();
    }
}

fn write_mapping(out: &mut String, m: &Mapping) {
    let mut bits = String::new();
    for (on, tag) in [
        (m.has_functions, "[FN]"),
        (m.has_filenames, "[FL]"),
        (m.has_line_numbers, "[LN]"),
        (m.has_inline_frames, "[IN]"),
    ] {
        if on {
            bits.push_str(tag);
        }
    }
    let _ = writeln!(
        out,
        "{}: {:#x}/{:#x}/{:#x} {} {} {bits}",
        m.id, m.memory_start, m.memory_limit, m.file_offset, m.file, m.build_id
    );
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `800ns`, `0s`.
pub fn go_duration(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut s = String::new();
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0 => return "0s".into(),
            1..1_000 => (0, "ns"),
            1_000..1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        let frac;
        (frac, u) = go_frac(u, prec);
        s = format!("{u}{frac}{unit}");
    } else {
        let frac;
        (frac, u) = go_frac(u, 9);
        s.insert_str(0, &format!("{}{frac}s", u % 60));
        u /= 60;
        if u > 0 {
            s.insert_str(0, &format!("{}m", u % 60));
            u /= 60;
            if u > 0 {
                s.insert_str(0, &format!("{u}h"));
            }
        }
    }
    if neg {
        s.insert(0, '-');
    }
    s
}

/// The fraction of `v / 10^prec` with trailing zeros dropped (and no dot when it is zero),
/// and the integer part.
fn go_frac(mut v: u64, prec: u32) -> (String, u64) {
    let mut digits = Vec::new();
    let mut print = false;
    for _ in 0..prec {
        let digit = v % 10;
        print = print || digit != 0;
        if print {
            digits.push(b'0' + digit as u8);
        }
        v /= 10;
    }
    if print {
        digits.push(b'.');
    }
    digits.reverse();
    (String::from_utf8(digits).unwrap_or_default(), v)
}

/// Go's `time.Time.String()` for `time.Unix(0, nanos)` in UTC:
/// `2017-09-29 20:57:59.25723537 +0000 UTC`.
pub fn go_time_utc(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000) as u64;
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let mut out = format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    );
    if sub != 0 {
        let frac = format!("{sub:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(800), "800ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(1_500_000), "1.5ms");
        assert_eq!(go_duration(2_000_000_000), "2s");
        assert_eq!(go_duration(240_000_000_000), "4m0s");
        assert_eq!(go_duration(16_510_000_000_000), "4h35m10s");
        assert_eq!(go_duration(-3_500_000_000), "-3.5s");
        assert_eq!(go_duration(i64::MIN), "-2562047h47m16.854775808s");
    }

    #[test]
    fn times_print_like_go_in_utc() {
        assert_eq!(
            go_time_utc(1_506_718_679_257_235_370),
            "2017-09-29 20:57:59.25723537 +0000 UTC"
        );
        assert_eq!(go_time_utc(0), "1970-01-01 00:00:00 +0000 UTC");
    }
}
