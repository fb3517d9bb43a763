//! The built-in demo service `culprit demo` investigates: a small HTTP/1.1 routing service
//! whose handler re-parses its whole routing table on every request (the bug, like the
//! field report's client rebuilt from a parsed CA bundle per request). Fixed, it parses the
//! table once at start-up.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

/// One route of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Backend the route points at.
    pub backend: String,
    /// Load-balancing weight.
    pub weight: u32,
    /// Timeout, milliseconds.
    pub timeout_ms: u32,
    /// Free-form tags.
    pub tags: Vec<String>,
}

/// The parsed routing table.
#[derive(Clone, Debug, Default)]
pub struct Config {
    routes: HashMap<String, Route>,
}

/// A routing-table line that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("routing table line {line}: {msg}")]
pub struct ConfigError {
    /// 1-based line.
    pub line: usize,
    /// What was wrong.
    pub msg: String,
}

/// The demo's routing table: `routes` lines of `PATH BACKEND weight=N timeout=Nms tags=a,b`.
pub fn config_text(routes: usize) -> String {
    let mut s = String::with_capacity(routes * 96);
    for i in 0..routes {
        s.push_str(&format!(
            "/api/v1/items/{i} backend-{} weight={} timeout={}ms tags=region-{},tier-{},shard-{}\n",
            i % 17,
            1 + i % 5,
            100 + (i * 7) % 400,
            i % 4,
            i % 3,
            i % 64
        ));
    }
    s
}

impl Config {
    /// Parses a routing table.
    #[inline(never)]
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut routes = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let err = |msg: &str| ConfigError {
                line: i + 1,
                msg: msg.into(),
            };
            let mut words = line.split_whitespace();
            let (Some(path), Some(backend)) = (words.next(), words.next()) else {
                return Err(err("expected PATH BACKEND"));
            };
            let mut route = Route {
                backend: backend.to_string(),
                weight: 1,
                timeout_ms: 1000,
                tags: Vec::new(),
            };
            for w in words {
                let (k, v) = w.split_once('=').ok_or_else(|| err("expected key=value"))?;
                match k {
                    "weight" => route.weight = v.parse().map_err(|_| err("bad weight"))?,
                    "timeout" => {
                        route.timeout_ms = v
                            .trim_end_matches("ms")
                            .parse()
                            .map_err(|_| err("bad timeout"))?;
                    }
                    "tags" => route.tags = v.split(',').map(str::to_string).collect(),
                    _ => return Err(err("unknown key")),
                }
            }
            routes.insert(path.to_string(), route);
        }
        Ok(Config { routes })
    }

    /// The route for `path`.
    pub fn route(&self, path: &str) -> Option<&Route> {
        self.routes.get(path)
    }
}

/// Answers one request: the route for the path, as JSON.
#[inline(never)]
pub fn handle(config: &Config, path: &str) -> (u16, String) {
    let path = path.strip_prefix("/route").unwrap_or(path);
    match config.route(path) {
        Some(r) => (
            200,
            format!(
                "{{\"path\":\"{path}\",\"backend\":\"{}\",\"weight\":{},\"timeout_ms\":{},\"tags\":{}}}\n",
                r.backend,
                r.weight,
                r.timeout_ms,
                r.tags.len()
            ),
        ),
        None => (404, "{\"error\":\"no route\"}\n".into()),
    }
}

/// Where the service gets its routing table per request.
enum Routes {
    /// Parsed once (the fix).
    Shared(Arc<Config>),
    /// Re-parsed from this text on every request (the bug).
    PerRequest(Arc<String>),
}

/// Serves HTTP/1.1 with keep-alive on `listener`, one thread per connection.
pub fn serve(listener: TcpListener, fixed: bool, routes: usize) -> std::io::Result<()> {
    let text = Arc::new(config_text(routes));
    let shared = if fixed {
        let cfg = Config::parse(&text).map_err(std::io::Error::other)?;
        Some(Arc::new(cfg))
    } else {
        None
    };
    for stream in listener.incoming() {
        let stream = stream?;
        let routes = match &shared {
            Some(c) => Routes::Shared(c.clone()),
            None => Routes::PerRequest(text.clone()),
        };
        std::thread::spawn(move || {
            let _ = connection(stream, &routes);
        });
    }
    Ok(())
}

fn connection(stream: TcpStream, routes: &Routes) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let mut length = 0usize;
        let mut close = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    length = v.parse().unwrap_or(0);
                } else if k == "connection" && v.eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        std::io::copy(&mut (&mut reader).take(length as u64), &mut std::io::sink())?;
        let (status, body) = match routes {
            Routes::Shared(c) => handle(c, &path),
            Routes::PerRequest(text) => match Config::parse(text) {
                Ok(c) => handle(&c, &path),
                Err(e) => (500, format!("{{\"error\":\"{e}\"}}\n")),
            },
        };
        let reason = if status == 200 { "OK" } else { "Error" };
        write!(
            out,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        out.flush()?;
        if close {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_routes() {
        let c = Config::parse(&config_text(100)).unwrap();
        let (status, body) = handle(&c, "/route/api/v1/items/42");
        assert_eq!(status, 200);
        assert!(body.contains("backend-8"), "{body}");
        assert_eq!(handle(&c, "/nope").0, 404);
        let e = Config::parse("/a b weight=x\n").unwrap_err();
        assert_eq!(e.line, 1);
    }
}
