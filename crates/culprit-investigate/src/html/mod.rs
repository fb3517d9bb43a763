//! Self-contained HTML pages (inline CSS, JS and SVG; they open offline): the run report
//! and the comparison of two runs.

pub mod compare;
pub mod report;

use std::fmt::Write;

use culprit_profile::Profile;

use crate::findings::Finding;
use crate::stacks::Stacks;
use crate::units;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px 28px}
header h1{margin:0;font-size:20px}header .meta{opacity:.8;font-size:13px;margin-top:4px}
main{padding:8px 28px 40px;max-width:1280px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;margin:18px 0;padding:14px 18px}
h2{font-size:17px;margin:4px 0 12px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eef0f3}
td.name,th.name{text-align:left;font-family:ui-monospace,Menlo,monospace}
.banner{background:#fff3cd;border:1px solid #e0c36a;color:#6b5200;padding:10px 14px;border-radius:6px;margin-top:14px}
ol.findings{padding-left:22px}li.finding{margin:10px 0 16px}
.finding .title{font-weight:600;font-size:15px}.finding .score{display:inline-block;min-width:52px;background:#c0392b;color:#fff;border-radius:4px;padding:0 6px;margin-right:8px;text-align:center;font-size:12px}
.finding .funcs{font-family:ui-monospace,Menlo,monospace;font-size:12px;color:#444;margin:4px 0}
.finding .advice{color:#2b5d34;font-size:13px}
.finding table{margin-top:6px}
.gone{color:#2b5d34;font-weight:600}.still{color:#c0392b;font-weight:600}
.chart{display:block;margin:6px 0 12px}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
iframe.flame{width:100%;height:520px;border:1px solid #e1e4ea;border-radius:6px}
.muted{color:#777}.up{color:#c0392b}.down{color:#2b7d3a}
.cols{display:flex;gap:24px;flex-wrap:wrap}
"#;

const SCRIPT: &str = r#"
// Charts that laid out with a size and have at least one drawn series: tools read this.
document.body.setAttribute('data-charts-drawn', Array.prototype.filter.call(
  document.querySelectorAll('svg.chart'), function(s){
    var b=s.getBoundingClientRect();
    return b.width>0 && b.height>0 && s.querySelector('polyline[data-n]:not([data-n="0"])');
  }).length);
document.querySelectorAll('svg.chart').forEach(function(svg){
  var tip=svg.querySelector('text.tip');if(!tip)return;
  svg.addEventListener('mousemove',function(ev){
    var r=svg.getBoundingClientRect(),x=ev.clientX-r.left,best=null,bd=1e9;
    svg.querySelectorAll('circle[data-v]').forEach(function(c){
      var d=Math.abs(c.cx.baseVal.value-x);if(d<bd){bd=d;best=c;}});
    if(best){tip.textContent=best.getAttribute('data-s')+' @ '+best.getAttribute('data-t')+'s: '+best.getAttribute('data-v');}
  });
});
"#;

pub use culprit_chart::esc;

/// Wraps a body into a whole page.
pub fn page(title: &str, header_meta: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>{STYLE}</style></head><body><header><h1>{t}</h1><div class=\"meta\">{header_meta}</div>\
         </header><main>{body}</main><script>{SCRIPT}</script></body></html>\n",
        t = esc(title)
    )
}

/// The findings as an ordered list (and, for tests and tools, as embedded JSON).
pub fn findings_section(
    findings: &[Finding],
    status: Option<&dyn Fn(&Finding) -> String>,
) -> String {
    let mut s = String::from("<section id=\"findings\"><h2>Findings</h2>");
    if findings.is_empty() {
        s.push_str("<p class=\"muted\">No suspect stood out: no rule explained more than 5% of the time.</p>");
    }
    s.push_str("<ol class=\"findings\">");
    for f in findings {
        let _ = write!(
            s,
            "<li class=\"finding\" data-kind=\"{}\"><div><span class=\"score\">{:.0}%</span><span class=\"title\">{}</span>{}</div>\
             <div class=\"funcs\">{}</div><table><tbody>",
            esc(&f.kind),
            f.score * 100.0,
            esc(&f.title),
            status.map(|st| st(f)).unwrap_or_default(),
            f.functions
                .iter()
                .map(|x| format!("<span class=\"fn\">{}</span>", esc(x)))
                .collect::<Vec<_>>()
                .join(" ← ")
        );
        for e in &f.evidence {
            let _ = write!(
                s,
                "<tr><td class=\"name\">{}</td><td>{}</td></tr>",
                esc(&e.name),
                esc(&e.display_value())
            );
        }
        let _ = write!(
            s,
            "</tbody></table><div class=\"advice\">Fix: {}</div></li>",
            esc(&f.advice)
        );
    }
    s.push_str("</ol>");
    let json = serde_json::to_string(findings).unwrap_or_else(|_| "[]".into());
    // `</` cannot appear inside a script element.
    let _ = write!(
        s,
        "<script type=\"application/json\" id=\"findings-data\">{}</script></section>",
        json.replace("</", "<\\/")
    );
    s
}

/// A top-functions table (flat, flat%, sum%, cum, cum%) of one sample type.
pub fn top_table(p: &Profile, kind: &str, rows: usize, id: &str) -> String {
    let stacks = Stacks::new(p, Some(kind));
    let unit = p
        .sample_type
        .iter()
        .find(|t| t.kind == kind)
        .map_or("", |t| t.unit.as_str())
        .to_string();
    let total = stacks.total.max(1) as f64;
    let mut s = format!(
        "<table id=\"{id}\"><thead><tr><th>flat</th><th>flat%</th><th>sum%</th><th>cum</th><th>cum%</th><th class=\"name\">function</th></tr></thead><tbody>"
    );
    let mut sum = 0.0;
    for f in stacks.functions().into_iter().take(rows) {
        sum += f.flat as f64 / total;
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:.2}%</td><td>{:.2}%</td><td>{}</td><td>{:.2}%</td><td class=\"name\">{}</td></tr>",
            value(f.flat, &unit),
            f.flat as f64 / total * 100.0,
            sum * 100.0,
            value(f.cum, &unit),
            f.cum as f64 / total * 100.0,
            esc(&f.name)
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// A value with its unit, the way pprof prints it.
pub fn value(v: i64, unit: &str) -> String {
    match unit {
        "nanoseconds" => units::seconds(v as f64 / 1e9),
        "bytes" => units::bytes(v as f64),
        _ => v.to_string(),
    }
}

/// A flame graph of one sample type (or a differential one against `base`) embedded in an
/// isolated frame so its own script runs.
pub fn flame(p: &Profile, kind: &str, base: Option<&Profile>, title: &str) -> String {
    use culprit_flame::tree::{Side, StackSet};
    let idx = p
        .sample_type_index(kind)
        .unwrap_or_else(|| p.default_sample_index());
    let unit = p
        .sample_type
        .get(idx)
        .map_or(String::new(), |t| t.unit.clone());
    let mut stacks = StackSet::new();
    stacks.add_profile(p, Side::Value, |s| s.values.get(idx).copied().unwrap_or(0));
    if let Some(b) = base {
        let bidx = b
            .sample_type_index(kind)
            .unwrap_or_else(|| b.default_sample_index());
        stacks.add_profile(b, Side::Base, |s| s.values.get(bidx).copied().unwrap_or(0));
    }
    let opts = culprit_flame::svg::Options {
        title: title.into(),
        unit,
        differential: base.is_some(),
        ..culprit_flame::svg::Options::default()
    };
    let min_value = culprit_flame::svg::min_visible_value(&opts, stacks.total());
    let tree = stacks.build(min_value);
    let mut svg = Vec::new();
    if culprit_flame::svg::write_svg(&tree, &opts, &mut svg).is_err() {
        return String::new();
    }
    let doc = format!(
        "<!doctype html><html><body style=\"margin:0\">{}</body></html>",
        String::from_utf8_lossy(&svg)
    );
    format!(
        "<iframe class=\"flame\" title=\"{}\" srcdoc=\"{}\"></iframe>",
        esc(title),
        esc(&doc)
    )
}
