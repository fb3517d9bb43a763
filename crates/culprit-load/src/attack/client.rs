//! Connections and requests through hyper on tokio, for attacks the event loop in
//! `engine.rs` does not take (TLS, HTTP/2, h2c, unix sockets): one HTTP/1.1 connection per
//! worker, or HTTP/2 connections shared by a thread's workers; redirects, timeouts.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::LOCATION;
use http::{HeaderMap, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;

use super::request::{Endpoint, Prepared, prepare_all, redirect};
use super::resolve::Resolver;
use super::{Config, Protocol};
use crate::targets::Target;

type Body = Full<Bytes>;

enum Sender {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

/// A worker's own kept-alive HTTP/1.1 connection, with the endpoint it goes to.
pub(crate) struct WorkerConn(Option<(usize, http1::SendRequest<Body>)>);

impl WorkerConn {
    pub(crate) fn new() -> Self {
        WorkerConn(None)
    }
}

/// What one hit came to.
pub(crate) struct Outcome {
    pub(crate) status: u16,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    pub(crate) error: Option<String>,
}

/// Runs hyper's background tasks on the current thread's `LocalSet`.
#[derive(Clone, Copy)]
struct LocalExec;

impl<F: Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// One thread's client: shared by all of that thread's workers.
pub(crate) struct Client {
    targets: Vec<Prepared>,
    endpoints: RefCell<Vec<Endpoint>>,
    tls: Option<TlsConnector>,
    protocol: Protocol,
    unix_socket: Option<PathBuf>,
    resolver: Resolver,
    timeout: Duration,
    redirects: i32,
    max_body: Option<u64>,
    keepalive: bool,
    /// HTTP/2 connections per endpoint for this thread.
    h2_per_endpoint: usize,
    h2_pool: RefCell<HashMap<usize, Vec<http2::SendRequest<Body>>>>,
}

impl Client {
    pub(crate) fn new(
        config: &Config,
        targets: &[Target],
        tls: Option<Arc<ClientConfig>>,
        h2_per_endpoint: usize,
    ) -> Self {
        let mut endpoints: Vec<Endpoint> = Vec::new();
        let prepared = prepare_all(targets, &mut endpoints, config.keepalive);
        Client {
            targets: prepared,
            endpoints: RefCell::new(endpoints),
            tls: tls.map(TlsConnector::from),
            protocol: config.protocol,
            unix_socket: config.unix_socket.clone(),
            resolver: Resolver::new(config.dns_ttl),
            timeout: config.timeout,
            redirects: config.redirects,
            max_body: config.max_body,
            keepalive: config.keepalive,
            h2_per_endpoint: h2_per_endpoint.max(1),
            h2_pool: RefCell::new(HashMap::new()),
        }
    }

    pub(crate) fn target_count(&self) -> usize {
        self.targets.len()
    }

    /// Sends target `idx` (following redirects) within the timeout.
    pub(crate) async fn hit(&self, idx: usize, worker: usize, conn: &mut WorkerConn) -> Outcome {
        let Some(t) = self.targets.get(idx) else {
            return Outcome::failed(0, "no such target".into());
        };
        let bytes_out = t.body.len() as u64;
        match tokio::time::timeout(self.timeout, self.follow(t, worker, conn)).await {
            Ok(Ok((status, bytes_in))) => Outcome {
                status,
                bytes_in,
                bytes_out,
                error: None,
            },
            Ok(Err(e)) => Outcome::failed(bytes_out, format!("{} {}: {e}", t.method, t.url)),
            Err(_) => {
                // The connection is mid-exchange; it cannot carry another request.
                conn.0 = None;
                Outcome::failed(
                    bytes_out,
                    format!(
                        "{} {}: timeout after {}",
                        t.method,
                        t.url,
                        crate::godur::format(self.timeout)
                    ),
                )
            }
        }
    }

    async fn follow(
        &self,
        t: &Prepared,
        worker: usize,
        conn: &mut WorkerConn,
    ) -> Result<(u16, u64), String> {
        let (mut status, mut bytes, mut location) = self.exchange_prepared(t, worker, conn).await?;
        let mut hop;
        let mut from = t;
        let mut followed = 0;
        loop {
            let Some(loc) = location.take() else {
                return Ok((status, bytes));
            };
            if self.redirects < 0 {
                return Ok((status, bytes));
            }
            if followed >= self.redirects {
                return Err(format!("stopped after {} redirects", self.redirects));
            }
            followed += 1;
            hop = redirect(
                from,
                status,
                &loc,
                &mut self.endpoints.borrow_mut(),
                self.keepalive,
            )?;
            from = &hop;
            (status, bytes, location) = self.exchange_prepared(from, worker, conn).await?;
        }
    }

    /// One request/response; returns status, body bytes and a redirect location.
    async fn exchange_prepared(
        &self,
        t: &Prepared,
        worker: usize,
        conn: &mut WorkerConn,
    ) -> Result<(u16, u64, Option<String>), String> {
        // A kept-alive HTTP/1.1 connection may have been closed by the server while idle;
        // like Go's transport, retry once on a fresh connection when a reused one fails.
        for attempt in 0..2 {
            let (mut sender, reused) = self.sender(t.endpoint, worker, conn).await?;
            let result = match &mut sender {
                Sender::H1(s) => {
                    let req = build(t, &t.path, &t.h1_headers);
                    s.send_request(req).await
                }
                Sender::H2(s) => {
                    let req = build(t, &t.url, &t.h2_headers);
                    s.send_request(req).await
                }
            };
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    self.discard(t.endpoint, &sender, conn);
                    if reused
                        && attempt == 0
                        && (e.is_closed() || e.is_canceled() || e.is_incomplete_message())
                    {
                        continue;
                    }
                    return Err(error_chain(&e));
                }
            };
            let status = resp.status().as_u16();
            let location = if (300..400).contains(&status) {
                resp.headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            } else {
                None
            };
            let mut body = resp.into_body();
            let mut n = 0u64;
            let mut complete = true;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| {
                    self.discard(t.endpoint, &sender, conn);
                    error_chain(&e)
                })?;
                if let Some(data) = frame.data_ref() {
                    n += data.len() as u64;
                    if let Some(max) = self.max_body
                        && n >= max
                    {
                        n = max;
                        complete = false;
                        break;
                    }
                }
            }
            match sender {
                Sender::H1(s) if complete && self.keepalive => {
                    conn.0 = Some((t.endpoint, s));
                }
                Sender::H1(_) => conn.0 = None,
                Sender::H2(_) => {}
            }
            return Ok((status, n, location));
        }
        Err("connection closed twice".into())
    }

    fn discard(&self, endpoint: usize, sender: &Sender, conn: &mut WorkerConn) {
        match sender {
            Sender::H1(_) => conn.0 = None,
            Sender::H2(s) => {
                if s.is_closed()
                    && let Some(pool) = self.h2_pool.borrow_mut().get_mut(&endpoint)
                {
                    pool.retain(|p| !p.is_closed());
                }
            }
        }
    }

    /// A sender for `endpoint`: the worker's own HTTP/1.1 connection, a pooled HTTP/2 one,
    /// or a new connection. The flag says whether it was reused.
    async fn sender(
        &self,
        endpoint: usize,
        worker: usize,
        conn: &mut WorkerConn,
    ) -> Result<(Sender, bool), String> {
        if let Some((ep, mut s)) = conn.0.take()
            && ep == endpoint
            && s.ready().await.is_ok()
        {
            return Ok((Sender::H1(s), true));
        }
        if let Some(s) = self.pooled_h2(endpoint, worker) {
            return Ok((Sender::H2(s), true));
        }
        let sender = self.connect(endpoint).await?;
        if let Sender::H2(s) = &sender {
            self.h2_pool
                .borrow_mut()
                .entry(endpoint)
                .or_default()
                .push(s.clone());
        }
        Ok((sender, false))
    }

    fn pooled_h2(&self, endpoint: usize, worker: usize) -> Option<http2::SendRequest<Body>> {
        let mut pools = self.h2_pool.borrow_mut();
        let pool = pools.get_mut(&endpoint)?;
        pool.retain(|s| !s.is_closed());
        if pool.len() < self.h2_per_endpoint && pool.len() <= worker {
            return None; // open more connections until the pool is full
        }
        pool.get(worker % pool.len().max(1)).cloned()
    }

    fn endpoint(&self, endpoint: usize) -> Result<Endpoint, String> {
        let ep = self.endpoints.borrow().get(endpoint).cloned();
        ep.ok_or_else(|| "unknown endpoint".into())
    }

    async fn connect(&self, endpoint: usize) -> Result<Sender, String> {
        let ep = self.endpoint(endpoint)?;
        if let Some(path) = &self.unix_socket {
            let stream = tokio::net::UnixStream::connect(path)
                .await
                .map_err(|e| format!("dial unix {}: {e}", path.display()))?;
            return self.wrap(stream, &ep).await;
        }
        let stream = self.dial_tcp(endpoint).await?;
        self.wrap(stream, &ep).await
    }

    /// A TCP connection to `endpoint`, with Nagle off.
    async fn dial_tcp(&self, endpoint: usize) -> Result<tokio::net::TcpStream, String> {
        let ep = self.endpoint(endpoint)?;
        let addr = self
            .resolver
            .resolve(&ep.host, ep.port)
            .await
            .map_err(|e| format!("lookup {}: {e}", ep.host))?;
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("dial tcp {addr}: connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    async fn wrap<IO>(&self, io: IO, ep: &Endpoint) -> Result<Sender, String>
    where
        IO: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        if !ep.https {
            return handshake(io, self.protocol == Protocol::H2c).await;
        }
        let Some(tls) = &self.tls else {
            return Err("https target but TLS is not configured".into());
        };
        let name = ServerName::try_from(
            ep.host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        )
        .map_err(|e| format!("bad TLS server name {:?}: {e}", ep.host))?;
        let stream = tls
            .connect(name, io)
            .await
            .map_err(|e| format!("tls handshake: {e}"))?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        handshake(stream, h2).await
    }
}

async fn handshake<IO>(io: IO, h2: bool) -> Result<Sender, String>
where
    IO: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let io = TokioIo::new(io);
    if h2 {
        let (s, conn) = http2::Builder::new(LocalExec)
            .handshake(io)
            .await
            .map_err(|e| format!("http2 handshake: {}", error_chain(&e)))?;
        tokio::task::spawn_local(conn);
        Ok(Sender::H2(s))
    } else {
        let (s, conn) = http1::handshake(io)
            .await
            .map_err(|e| format!("http1 handshake: {}", error_chain(&e)))?;
        tokio::task::spawn_local(conn);
        Ok(Sender::H1(s))
    }
}

impl Outcome {
    fn failed(bytes_out: u64, error: String) -> Self {
        Outcome {
            status: 0,
            bytes_in: 0,
            bytes_out,
            error: Some(error),
        }
    }
}

fn build(t: &Prepared, uri: &Uri, headers: &HeaderMap) -> Request<Body> {
    let mut req = Request::new(Full::new(t.body.clone()));
    *req.method_mut() = t.method.clone();
    *req.uri_mut() = uri.clone();
    *req.headers_mut() = headers.clone();
    req
}

/// An error with its causes, as `outer: inner: innermost`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}
