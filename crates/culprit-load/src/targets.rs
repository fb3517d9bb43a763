//! Attack targets in Vegeta's two formats.
//!
//! *http*: a request line `METHOD URL`, then optional `Key: Value` header lines, then an
//! optional `@path` line naming a body file; targets are separated by blank lines (or a
//! new request line). Lines starting with `#` are comments.
//!
//! *json*: one object per line, `{"method":"GET","url":"...","header":{"K":["v"]},"body":"<base64>"}`.

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

/// One request to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// HTTP method.
    pub method: Method,
    /// Absolute `http`, `https` URL.
    pub url: Uri,
    /// Headers sent with the request (the engine adds `Host`).
    pub headers: HeaderMap,
    /// Request body, possibly empty.
    pub body: Bytes,
}

/// A targets file that cannot be read, with the 1-based line it went wrong on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct TargetError {
    /// 1-based line number.
    pub line: usize,
    /// What was expected and what was found.
    pub message: String,
}

/// The two input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Vegeta's http format.
    #[default]
    Http,
    /// JSON lines.
    Json,
}

/// What every target gets unless it says otherwise: `--body` and `-H` from the command line.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// Headers added to each target (a target's own header of the same name wins).
    pub headers: HeaderMap,
    /// Body for targets that name none.
    pub body: Bytes,
}

/// Parses targets in `format`. `load_body` reads `@path` body files (I/O stays with the caller).
pub fn parse(
    text: &str,
    format: Format,
    defaults: &Defaults,
    load_body: &mut dyn FnMut(&str) -> std::io::Result<Vec<u8>>,
) -> Result<Vec<Target>, TargetError> {
    let targets = match format {
        Format::Http => parse_http(text, defaults, load_body)?,
        Format::Json => parse_json(text, defaults)?,
    };
    if targets.is_empty() {
        return Err(TargetError {
            line: text.lines().count().max(1),
            message: "no targets: expected at least one `METHOD URL` line".into(),
        });
    }
    Ok(targets)
}

fn err(line: usize, message: impl Into<String>) -> TargetError {
    TargetError {
        line,
        message: message.into(),
    }
}

fn with_defaults(mut headers: HeaderMap, defaults: &Defaults) -> HeaderMap {
    for (k, v) in &defaults.headers {
        if !headers.contains_key(k) {
            headers.append(k, v.clone());
        }
    }
    headers
}

/// A line such as `GET http://...`: an uppercase token and a second word.
fn request_line(line: &str) -> Option<(&str, &str)> {
    let (method, url) = line.split_once(char::is_whitespace)?;
    let is_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    is_method.then(|| (method, url.trim()))
}

fn parse_method(line: usize, m: &str) -> Result<Method, TargetError> {
    Method::from_bytes(m.as_bytes()).map_err(|_| err(line, format!("invalid method {m:?}")))
}

/// Checks a URL is absolute with an http(s) scheme and a host.
pub fn parse_url(line: usize, url: &str) -> Result<Uri, TargetError> {
    let uri: Uri = url.parse().map_err(|e| {
        err(
            line,
            format!("expected an absolute URL like http://host/path, found {url:?}: {e}"),
        )
    })?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(err(
                line,
                format!("expected an http:// or https:// URL, found {url:?}"),
            ));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(err(line, format!("URL {url:?} has no host")));
    }
    Ok(uri)
}

fn parse_header(line: usize, text: &str) -> Result<(HeaderName, HeaderValue), TargetError> {
    let Some((k, v)) = text.split_once(':') else {
        return Err(err(
            line,
            format!(
                "expected a header `Key: Value`, a body `@file` or a blank line, found {text:?}"
            ),
        ));
    };
    let name = HeaderName::from_bytes(k.trim().as_bytes())
        .map_err(|_| err(line, format!("invalid header name {:?}", k.trim())))?;
    let value = HeaderValue::from_str(v.trim())
        .map_err(|_| err(line, format!("invalid value for header {name}")))?;
    Ok((name, value))
}

fn parse_http(
    text: &str,
    defaults: &Defaults,
    load_body: &mut dyn FnMut(&str) -> std::io::Result<Vec<u8>>,
) -> Result<Vec<Target>, TargetError> {
    let mut out = Vec::new();
    // The target being read: (method, url, headers, body, body already given).
    let mut current: Option<(Method, Uri, HeaderMap, Option<Bytes>)> = None;
    let mut finish = |cur: &mut Option<(Method, Uri, HeaderMap, Option<Bytes>)>| {
        if let Some((method, url, headers, body)) = cur.take() {
            out.push(Target {
                method,
                url,
                headers: with_defaults(headers, defaults),
                body: body.unwrap_or_else(|| defaults.body.clone()),
            });
        }
    };
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            finish(&mut current);
            continue;
        }
        match &mut current {
            None => {
                let Some((m, u)) = request_line(line) else {
                    return Err(err(
                        line_no,
                        format!("expected a request line `METHOD URL`, found {line:?}"),
                    ));
                };
                current = Some((
                    parse_method(line_no, m)?,
                    parse_url(line_no, u)?,
                    HeaderMap::new(),
                    None,
                ));
            }
            Some((_, _, headers, body)) => {
                if let Some(path) = line.strip_prefix('@') {
                    if body.is_some() {
                        return Err(err(line_no, "a second @body line for the same target"));
                    }
                    let bytes = load_body(path.trim())
                        .map_err(|e| err(line_no, format!("reading body file {path:?}: {e}")))?;
                    *body = Some(Bytes::from(bytes));
                } else if let Some((m, u)) = request_line(line).filter(|(_, u)| u.contains("://")) {
                    let next = (
                        parse_method(line_no, m)?,
                        parse_url(line_no, u)?,
                        HeaderMap::new(),
                        None,
                    );
                    finish(&mut current);
                    current = Some(next);
                } else if body.is_some() {
                    return Err(err(
                        line_no,
                        format!("expected a blank line after the @body line, found {line:?}"),
                    ));
                } else {
                    let (k, v) = parse_header(line_no, line)?;
                    headers.append(k, v);
                }
            }
        }
    }
    finish(&mut current);
    Ok(out)
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct JsonTarget {
    method: String,
    url: String,
    #[serde(default)]
    header: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    body: Option<String>,
}

fn parse_json(text: &str, defaults: &Defaults) -> Result<Vec<Target>, TargetError> {
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        if line.trim().is_empty() {
            continue;
        }
        let jt: JsonTarget = serde_json::from_str(line).map_err(|e| {
            err(
                line_no,
                format!(
                    r#"expected {{"method":..,"url":..,"header":{{..}},"body":"<base64>"}}: {e}"#
                ),
            )
        })?;
        let method = parse_method(line_no, &jt.method)?;
        let url = parse_url(line_no, &jt.url)?;
        let mut headers = HeaderMap::new();
        for (k, values) in &jt.header {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| err(line_no, format!("invalid header name {k:?}")))?;
            for v in values {
                let value = HeaderValue::from_str(v)
                    .map_err(|_| err(line_no, format!("invalid value for header {k}")))?;
                headers.append(name.clone(), value);
            }
        }
        let body = match jt.body {
            Some(b) => Bytes::from(
                base64::engine::general_purpose::STANDARD
                    .decode(b.as_bytes())
                    .map_err(|e| err(line_no, format!("body is not base64: {e}")))?,
            ),
            None => defaults.body.clone(),
        };
        out.push(Target {
            method,
            url,
            headers: with_defaults(headers, defaults),
            body,
        });
    }
    Ok(out)
}

/// Renders targets as JSON lines (the inverse of the json format).
pub fn to_json_lines(targets: &[Target]) -> String {
    let mut out = String::new();
    for t in targets {
        let mut header = std::collections::BTreeMap::<String, Vec<String>>::new();
        for (k, v) in &t.headers {
            header
                .entry(k.to_string())
                .or_default()
                .push(String::from_utf8_lossy(v.as_bytes()).into_owned());
        }
        let jt = JsonTarget {
            method: t.method.to_string(),
            url: t.url.to_string(),
            header,
            body: (!t.body.is_empty())
                .then(|| base64::engine::general_purpose::STANDARD.encode(&t.body)),
        };
        if let Ok(s) = serde_json::to_string(&jt) {
            out.push_str(&s);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn no_files(_: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::other("no files here"))
    }

    fn http(text: &str) -> Result<Vec<Target>, TargetError> {
        parse(text, Format::Http, &Defaults::default(), &mut no_files)
    }

    #[test]
    fn reads_vegeta_http_format() {
        let text = "GET http://goku:9090/path/to/dragon?item=ball\nX-Account-ID: 8675309\n\n# comment\nDELETE http://goku:9090/path/to/remove\nConfirmation-Token: 90215\nAuthorization: Token DEADBEEF\nPOST http://goku:9090/things\n@thing.json\n";
        let mut load = |p: &str| -> std::io::Result<Vec<u8>> { Ok(format!("<{p}>").into_bytes()) };
        let t = parse(text, Format::Http, &Defaults::default(), &mut load).unwrap_or_default();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].headers["x-account-id"], "8675309");
        assert_eq!(t[1].method, Method::DELETE);
        assert_eq!(t[1].headers.len(), 2);
        assert_eq!(t[2].body, Bytes::from_static(b"<thing.json>"));
    }

    #[test]
    fn errors_name_the_line() {
        let e = http("GET http://a/\nbad header line\n").err();
        assert_eq!(e.as_ref().map(|e| e.line), Some(2));
        let e = http("\n\nGET /relative\n").err();
        assert_eq!(e.as_ref().map(|e| e.line), Some(3));
        assert!(e.is_some_and(|e| e.message.contains("http://")));
        let e = http("http://a/\n").err();
        assert!(e.is_some_and(|e| e.line == 1 && e.message.contains("METHOD URL")));
        let e = http("GET ftp://a/\n").err();
        assert!(e.is_some_and(|e| e.message.contains("http://")));
        assert!(http("# nothing\n").is_err());
    }

    #[test]
    fn reads_json_lines() {
        let text = r#"{"method":"POST","url":"http://a:1/x","header":{"K":["v1","v2"]},"body":"aGk="}
{"method":"GET","url":"https://b/"}"#;
        let t = parse(text, Format::Json, &Defaults::default(), &mut no_files).unwrap_or_default();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].headers.get_all("k").iter().count(), 2);
        assert_eq!(t[0].body, Bytes::from_static(b"hi"));
        let e = parse(
            "{}\n{\"method\":1}",
            Format::Json,
            &Defaults::default(),
            &mut no_files,
        );
        assert_eq!(e.err().map(|e| e.line), Some(1));
    }

    fn arb_target() -> impl Strategy<Value = Target> {
        (
            prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH"]),
            "[a-z]{1,8}",
            1u16..65535,
            "(/[a-z0-9]{0,6}){0,3}",
            prop::collection::vec(("[a-z][a-z0-9-]{0,6}", "[ -~]{0,10}"), 0..4),
            prop::collection::vec(any::<u8>(), 0..16),
        )
            .prop_map(|(m, host, port, path, hdrs, body)| {
                let mut headers = HeaderMap::new();
                for (k, v) in hdrs {
                    if let (Ok(k), Ok(v)) = (
                        HeaderName::from_bytes(k.as_bytes()),
                        HeaderValue::from_str(v.trim()),
                    ) {
                        headers.append(k, v);
                    }
                }
                let url = format!("http://{host}:{port}{path}");
                Target {
                    method: Method::from_bytes(m.as_bytes()).unwrap_or(Method::GET),
                    url: url
                        .parse()
                        .unwrap_or_else(|_| Uri::from_static("http://x/")),
                    headers,
                    body: Bytes::from(body),
                }
            })
    }

    proptest! {
        #[test]
        fn json_lines_round_trip(targets in prop::collection::vec(arb_target(), 1..5)) {
            let text = to_json_lines(&targets);
            let back = parse(&text, Format::Json, &Defaults::default(), &mut no_files);
            prop_assert_eq!(back, Ok(targets));
        }

        #[test]
        fn http_parser_never_panics(text in "[ -~\n]{0,200}") {
            let _ = http(&text);
        }
    }
}
