//! Rules that read the CPU profile: TLS/certificate churn, stack growth, one hot path.

use super::{Evidence, Finding, Inputs, own_caller, pct};
use crate::stacks::Stacks;

fn is_handshake(f: &str) -> bool {
    const HS: &[&str] = &[
        "crypto/tls.(*Conn).clientHandshake",
        "crypto/tls.(*Conn).serverHandshake",
        "crypto/tls.(*Conn).handshakeContext",
        "crypto/tls.(*Conn).HandshakeContext",
        "crypto/tls.(*Conn).Handshake",
        "SSL_do_handshake",
    ];
    HS.contains(&f)
        || f.starts_with("rustls::client::hs::")
        || f.starts_with("rustls::server::hs::")
}

fn is_cert_parse(f: &str) -> bool {
    const PARSE: &[&str] = &[
        "crypto/x509.ParseCertificate",
        "crypto/x509.parseCertificate",
        "crypto/x509.(*CertPool).AppendCertsFromPEM",
        "crypto/x509.SystemCertPool",
        "crypto/x509.loadSystemRoots",
        "PEM_read_bio_X509",
        "d2i_X509",
    ];
    PARSE.contains(&f)
}

/// Counts, from the allocation delta, how many client connections were dialed: Go's
/// `net/http.(*Transport).dialConn` makes exactly one read and one write buffer per new
/// connection, so their (sampling-scaled) object counts estimate the dials.
fn dials(allocs: &culprit_profile::Profile) -> Option<f64> {
    let s = Stacks::new(allocs, Some("alloc_objects"));
    let mut n = 0i64;
    for (frames, v) in &s.samples {
        let hit = frames.windows(2).any(|w| {
            (w[0] == "bufio.NewReaderSize" || w[0] == "bufio.NewWriterSize")
                && w[1] == "net/http.(*Transport).dialConn"
        });
        if hit {
            n += v;
        }
    }
    (n > 0).then_some(n as f64 / 2.0)
}

/// CPU dominated by TLS handshakes and certificate parsing: clients or connections rebuilt
/// for every request instead of reused.
pub(super) fn tls_churn(cpu: &Stacks, inputs: &Inputs<'_>) -> Option<Finding> {
    let hs = cpu.share(is_handshake);
    let parse = cpu.share(is_cert_parse);
    let both = cpu.share(|f| is_handshake(f) || is_cert_parse(f));
    if both < 0.10 {
        return None;
    }
    let mut evidence = vec![
        Evidence::new("CPU in TLS handshakes and certificate parsing", both, "%"),
        Evidence::new("CPU in TLS handshakes", hs, "%"),
        Evidence::new("CPU parsing certificates (x509)", parse, "%"),
    ];
    let mut per_request = None;
    if let Some(d) = inputs.allocs.and_then(dials) {
        evidence.push(Evidence::new(
            "new client connections (estimated)",
            d,
            "count",
        ));
        if let Some(load) = inputs.load.filter(|l| l.requests > 0) {
            evidence.push(Evidence::new(
                "requests served",
                load.requests as f64,
                "count",
            ));
            let r = d / load.requests as f64;
            evidence.push(Evidence::new("new connections per request", r, "ratio"));
            per_request = Some(r);
        }
    }
    let mut functions = Vec::new();
    for f in cpu.functions_matching(|f| is_handshake(f) || is_cert_parse(f)) {
        functions.push(f);
    }
    if let Some(own) = own_caller(cpu, |f| is_handshake(f) || is_cert_parse(f)) {
        functions.push(own);
    }
    let what = match (hs >= 0.02, parse >= 0.02) {
        (true, true) => "TLS handshakes and certificate parsing",
        (false, true) => "certificate parsing",
        _ => "TLS handshakes",
    };
    let reuse = match per_request {
        Some(r) if r >= 0.2 => format!(": about {r:.1} new connections per request"),
        _ => ": connections or clients are rebuilt instead of reused".into(),
    };
    Some(Finding {
        kind: "tls-handshake-churn".into(),
        title: format!("{what} take {} of CPU{reuse}", pct(both)),
        score: both,
        functions,
        evidence,
        advice: "Build the HTTP client and its CA pool once and share it; read response bodies to \
                 EOF before closing them so connections go back to the pool and stay alive."
            .into(),
    })
}

/// Goroutine stack growth (copying stacks on `morestack`) taking a noticeable CPU share.
pub(super) fn stack_growth(cpu: &Stacks) -> Option<Finding> {
    let pred =
        |f: &str| f == "runtime.newstack" || f == "runtime.morestack" || f == "runtime.copystack";
    let share = cpu.share(pred);
    if share < 0.05 {
        return None;
    }
    let mut functions = vec!["runtime.newstack".to_string()];
    let callers = cpu.callers_of(pred);
    if let Some((c, _)) = callers.first() {
        functions.push(c.clone());
    }
    Some(Finding {
        kind: "stack-growth".into(),
        title: format!(
            "Goroutine stack growth takes {} of CPU{}",
            pct(share),
            callers
                .first()
                .map(|(c, _)| format!(", entered from {c}"))
                .unwrap_or_default()
        ),
        score: share,
        functions,
        evidence: vec![Evidence::new(
            "CPU in runtime.newstack/copystack",
            share,
            "%",
        )],
        advice: "Reuse long-lived goroutines for deep call chains instead of starting a fresh \
                 goroutine (with a small stack) per unit of work."
            .into(),
    })
}

/// One code path holding most of the CPU: the deepest function that at least 40% of CPU
/// samples pass through.
pub(super) fn hot_path(
    cpu: &Stacks,
    already_named: &[String],
    window_secs: f64,
) -> Option<Finding> {
    let path = cpu.dominant_path(0.4);
    let (deepest, _) = path.last()?.clone();
    let (own, cum) = path
        .iter()
        .rev()
        .find(|(f, _)| !cpu.is_library(f))
        .cloned()?;
    if already_named.contains(&deepest) || already_named.contains(&own) {
        return None;
    }
    let share = cum as f64 / cpu.total.max(1) as f64;
    // The leaf functions under the hot node say what it spends its time on.
    let under: Vec<_> = cpu
        .samples
        .iter()
        .filter(|(frames, _)| frames.contains(&own))
        .cloned()
        .collect();
    let sub = Stacks {
        total: under.iter().map(|(_, v)| v).sum(),
        samples: under,
        own_bare: cpu.own_bare.clone(),
    };
    let mut evidence = vec![Evidence::new(&format!("CPU under {own}"), share, "%")];
    // A hot path in a mostly idle process is not what makes it slow: weigh by how busy
    // the CPU was (half a core or more counts fully).
    let busy = if window_secs > 0.0 {
        let cores = cpu.total as f64 / 1e9 / window_secs;
        evidence.push(Evidence::new("CPU used (cores)", cores, "ratio"));
        (cores / 0.5).min(1.0)
    } else {
        1.0
    };
    let mut functions = vec![own.clone()];
    if own != deepest {
        functions.push(deepest.clone());
    }
    for f in sub.functions().into_iter().take(3) {
        evidence.push(Evidence::new(
            &format!("flat in {}", f.name),
            f.flat as f64 / cpu.total.max(1) as f64,
            "%",
        ));
        if !functions.contains(&f.name) {
            functions.push(f.name);
        }
    }
    let mostly = if own != deepest {
        format!(" (mostly in {deepest})")
    } else {
        String::new()
    };
    Some(Finding {
        kind: "hot-path".into(),
        title: format!("{own} takes {} of CPU{mostly}", pct(share)),
        // A plain hot path explains less than a diagnosed cause of the same CPU would.
        score: share * 0.8 * busy,
        functions,
        evidence,
        advice: "Check whether this work has to happen on every request: cache or precompute \
                 it, or make it cheaper."
            .into(),
    })
}
