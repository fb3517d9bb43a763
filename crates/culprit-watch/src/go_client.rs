//! Fetching the Go runtime's statistics over HTTP: the edge where a Go service's
//! `/debug/vars` or `/debug/pprof/heap?debug=1` becomes a [`GoSample`].

use std::time::Duration;

use crate::error::Error;
use crate::go_stats::{
    MemStats, go_sample, parse_expvar, parse_goroutine_total, parse_heap_trailer,
};
use crate::sample::GoSample;

/// Largest response read; a goroutine dump of a busy service can run to megabytes.
const MAX_BODY: u64 = 64 << 20;

/// Polls one Go service.
#[derive(Debug)]
pub struct GoClient {
    base: String,
    agent: ureq::Agent,
    prev_num_gc: Option<u64>,
    /// Set once `/debug/vars` answered without memstats, so later polls go to the heap
    /// profile directly.
    no_expvar: bool,
}

impl GoClient {
    /// A client of the service at `base` (`http://127.0.0.1:6060`), with a 2 s timeout
    /// per request.
    pub fn new(base: impl Into<String>) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .http_status_as_error(false)
            .build();
        Self {
            base: base.into().trim_end_matches('/').to_string(),
            agent: config.into(),
            prev_num_gc: None,
            no_expvar: false,
        }
    }

    /// Polls the service: memstats from expvar, or from the heap profile's trailer when
    /// expvar is not served; goroutines from expvar's `goroutines` var or the goroutine
    /// profile's header.
    pub fn fetch(&mut self) -> Result<GoSample, Error> {
        let (source, memstats, goroutines) = match self.poll_expvar()? {
            Some((m, g)) => ("expvar", m, g),
            None => {
                let url = format!("{}/debug/pprof/heap?debug=1", self.base);
                let body = self.get(&url)?;
                let m = parse_heap_trailer(&body).map_err(|e| self.err(&url, e.to_string()))?;
                ("heap", m, None)
            }
        };
        let goroutines = match goroutines {
            Some(g) => Some(g),
            None => {
                let url = format!("{}/debug/pprof/goroutine?debug=1", self.base);
                self.get(&url)
                    .ok()
                    .and_then(|b| parse_goroutine_total(&b).ok())
            }
        };
        let sample = go_sample(source, &memstats, self.prev_num_gc, goroutines);
        self.prev_num_gc = Some(memstats.num_gc);
        Ok(sample)
    }

    fn poll_expvar(&mut self) -> Result<Option<(MemStats, Option<u64>)>, Error> {
        if self.no_expvar {
            return Ok(None);
        }
        let url = format!("{}/debug/vars", self.base);
        match self.get(&url) {
            Ok(body) => match parse_expvar(&body) {
                Ok(found) => Ok(Some(found)),
                Err(_) => {
                    self.no_expvar = true;
                    Ok(None)
                }
            },
            Err(Error::Go { problem, .. }) if problem.starts_with("HTTP 404") => {
                self.no_expvar = true;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn get(&self, url: &str) -> Result<Vec<u8>, Error> {
        let response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| self.err(url, e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.err(url, format!("HTTP {}", status.as_u16())));
        }
        response
            .into_body()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| self.err(url, e.to_string()))
    }

    fn err(&self, url: &str, problem: String) -> Error {
        Error::Go {
            url: url.to_string(),
            problem,
        }
    }
}
