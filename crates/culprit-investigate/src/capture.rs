//! The pprof endpoint client: one Go service's `/debug/pprof/*` and `/debug/vars`, with
//! timeouts, extra headers (auth) and TLS options. Blocking; callers run fetches on threads.

use std::time::Duration;

/// Why an endpoint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The URL could not be used as a pprof base.
    #[error("bad service URL {url:?}: {why}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What was wrong.
        why: String,
    },
    /// The endpoint did not answer in time.
    #[error("GET {url}: no answer within {}s (the endpoint hung or is overloaded)", .after.as_secs_f64())]
    Timeout {
        /// The URL fetched.
        url: String,
        /// The time allowed.
        after: Duration,
    },
    /// The endpoint answered with an error status.
    #[error("GET {url}: HTTP {status}: {body}")]
    Status {
        /// The URL fetched.
        url: String,
        /// HTTP status code.
        status: u16,
        /// Start of the response body.
        body: String,
    },
    /// The request failed (connection refused, TLS, protocol).
    #[error("GET {url}: {why}")]
    Request {
        /// The URL fetched.
        url: String,
        /// What failed.
        why: String,
    },
}

/// How to reach the service.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Extra request headers, e.g. `Authorization`.
    pub headers: Vec<(String, String)>,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// Time allowed for a request beyond its own profiling duration.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            insecure: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Parses a `K: V` header argument.
pub fn parse_header(arg: &str) -> Result<(String, String), String> {
    let (k, v) = arg
        .split_once(':')
        .ok_or_else(|| format!("header {arg:?} is not in the form 'Name: value'"))?;
    let k = k.trim();
    if k.is_empty() || k.contains(char::is_whitespace) {
        return Err(format!("header {arg:?} has an invalid name"));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

/// A service's debug endpoints.
#[derive(Clone)]
pub struct Endpoint {
    origin: String,
    pprof: String,
    agent: ureq::Agent,
    opts: ClientOptions,
}

impl Endpoint {
    /// Reads `url`: a service origin (`http://host:port`) or its pprof base
    /// (`http://host:port/debug/pprof/`, or any other prefix ending in `/debug/pprof`).
    pub fn new(url: &str, opts: ClientOptions) -> Result<Self, CaptureError> {
        let bad = |why: &str| CaptureError::BadUrl {
            url: url.into(),
            why: why.into(),
        };
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| bad("it must start with http:// or https://"))?;
        let scheme_len = url.len() - rest.len();
        let host_end = rest.find('/').unwrap_or(rest.len());
        if host_end == 0 {
            return Err(bad("it has no host"));
        }
        let origin = url[..scheme_len + host_end].to_string();
        let path = rest[host_end..].trim_end_matches('/');
        let pprof = if path.is_empty() {
            format!("{origin}/debug/pprof/")
        } else if path.ends_with("/debug/pprof") {
            format!("{origin}{path}/")
        } else {
            return Err(bad("the path must be empty or end in /debug/pprof"));
        };
        let tls = ureq::tls::TlsConfig::builder()
            .disable_verification(opts.insecure)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .build()
            .into();
        Ok(Self {
            origin,
            pprof,
            agent,
            opts,
        })
    }

    /// The service origin, `http://host:port`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// URL of a pprof endpoint such as `heap` or `profile?seconds=5`.
    pub fn pprof_url(&self, what: &str) -> String {
        format!("{}{what}", self.pprof)
    }

    /// Fetches a pprof endpoint, allowing `busy` on top of the timeout for endpoints that
    /// record for a while (`profile`, `trace`).
    pub fn pprof(&self, what: &str, busy: Duration) -> Result<Vec<u8>, CaptureError> {
        self.get(&self.pprof_url(what), busy)
    }

    /// Fetches `path` on the service origin (e.g. `/debug/vars`).
    pub fn origin_get(&self, path: &str) -> Result<Vec<u8>, CaptureError> {
        self.get(&format!("{}{path}", self.origin), Duration::ZERO)
    }

    fn get(&self, url: &str, busy: Duration) -> Result<Vec<u8>, CaptureError> {
        let allowed = self.opts.timeout + busy;
        let mut req = self.agent.get(url);
        for (k, v) in &self.opts.headers {
            req = req.header(k, v);
        }
        let fail = |e: ureq::Error| match e {
            ureq::Error::Timeout(_) => CaptureError::Timeout {
                url: url.into(),
                after: allowed,
            },
            other => CaptureError::Request {
                url: url.into(),
                why: other.to_string(),
            },
        };
        let mut resp = req
            .config()
            .timeout_global(Some(allowed))
            .build()
            .call()
            .map_err(fail)?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(fail)?;
        if status >= 400 {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)])
                .trim()
                .to_string();
            return Err(CaptureError::Status {
                url: url.into(),
                status,
                body: text,
            });
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let e = Endpoint::new("http://127.0.0.1:6060", ClientOptions::default()).unwrap();
        assert_eq!(
            e.pprof_url("heap"),
            "http://127.0.0.1:6060/debug/pprof/heap"
        );
        let e = Endpoint::new("https://h/x/debug/pprof/", ClientOptions::default()).unwrap();
        assert_eq!(e.pprof_url("allocs"), "https://h/x/debug/pprof/allocs");
        assert_eq!(e.origin(), "https://h");
        assert!(Endpoint::new("ftp://h", ClientOptions::default()).is_err());
        assert!(Endpoint::new("http://h/other", ClientOptions::default()).is_err());
    }

    #[test]
    fn headers() {
        assert_eq!(
            parse_header("Authorization: Bearer x").unwrap(),
            ("Authorization".into(), "Bearer x".into())
        );
        assert!(parse_header("nocolon").is_err());
    }
}
