//! Plain-TCP HTTP/1.1 without hyper, for the common case of `http://` targets.
//!
//! A request's bytes are encoded once per target and go out in one write; the response is
//! parsed in place from a buffer the connection keeps, and its body is counted, not kept.
//! There is no connection task and no channel between the worker and the socket, which
//! roughly halves the user-space CPU of a hit. TLS, HTTP/2 and unix sockets use hyper.

use std::io;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Read buffer per connection; also the longest response head accepted.
const BUF_LEN: usize = 16 * 1024;
/// Most response headers parsed.
const MAX_HEADERS: usize = 128;

/// The wire bytes of a request, or `None` when it needs what only hyper does (a body sent
/// with `Transfer-Encoding`).
pub(crate) fn encode(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Bytes> {
    if headers.contains_key(TRANSFER_ENCODING) {
        return None;
    }
    let mut out = Vec::with_capacity(64 + path.len() + body.len() + 32 * headers.len());
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // As hyper does: a length for any body, and for an empty one where a body is expected.
    let expects_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if !headers.contains_key(CONTENT_LENGTH) && (!body.is_empty() || expects_body) {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Some(Bytes::from(out))
}

/// What a response came to.
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Body bytes read (capped at the body limit).
    pub(crate) body_bytes: u64,
    /// `Location` of a 3xx.
    pub(crate) location: Option<String>,
    /// The connection can carry another request.
    pub(crate) reusable: bool,
}

/// Why an exchange failed.
pub(crate) struct Failure {
    pub(crate) message: String,
    /// Nothing of a response arrived: on a reused connection the server may have closed
    /// it while idle, and the request can go again on a new one.
    pub(crate) retryable: bool,
}

/// How the response body is delimited.
#[derive(Debug, PartialEq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A parsed response head.
#[derive(Debug)]
struct Head {
    len: usize,
    status: u16,
    framing: Framing,
    keep_alive: bool,
    location: Option<String>,
}

/// One kept-alive HTTP/1.1 connection.
pub(crate) struct Conn {
    io: TcpStream,
    buf: Box<[u8]>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
}

impl Conn {
    pub(crate) fn new(io: TcpStream) -> Self {
        Conn {
            io,
            buf: vec![0; BUF_LEN].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// Sends `request` and reads the whole response.
    pub(crate) async fn exchange(
        &mut self,
        request: &[u8],
        head_only: bool,
        max_body: Option<u64>,
    ) -> Result<Response, Failure> {
        self.start = 0;
        self.end = 0;
        self.io.write_all(request).await.map_err(|e| Failure {
            message: format!("connection error: {e}"),
            retryable: true,
        })?;
        let head = loop {
            match parse_head(&self.buf[self.start..self.end], head_only) {
                Ok(Some(h)) if (100..200).contains(&h.status) && h.status != 101 => {
                    self.start += h.len; // an informational response precedes the real one
                }
                Ok(Some(h)) => break h,
                Ok(None) => {
                    let first = self.end == 0;
                    self.fill(true).await.map_err(|e| Failure {
                        message: e.to_string(),
                        retryable: first,
                    })?;
                }
                Err(message) => {
                    return Err(Failure {
                        message,
                        retryable: false,
                    });
                }
            }
        };
        self.start += head.len;
        let location = head.location;
        let mut body = Body {
            conn: self,
            n: 0,
            max: max_body,
        };
        let complete = match head.framing {
            Framing::Empty => Ok(true),
            Framing::Length(len) => body.skip(len).await,
            Framing::Chunked => body.chunked().await,
            Framing::UntilClose => body.until_close().await.map(|_| false),
        }
        .map_err(|e| Failure {
            message: format!("error reading a body from connection: {e}"),
            retryable: false,
        })?;
        let body_bytes = body.n;
        Ok(Response {
            status: head.status,
            body_bytes,
            location,
            reusable: complete
                && head.keep_alive
                && head.framing != Framing::UntilClose
                && self.start == self.end,
        })
    }

    /// Reads more bytes; `head` makes a full buffer an error (the head is too large).
    async fn fill(&mut self, head: bool) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if head && self.start == 0 {
                return Err(io::Error::other("response head too large"));
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = self.io.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before message completed",
            ));
        }
        self.end += n;
        Ok(n)
    }
}

/// Counts a body's bytes as they are read, up to the limit.
struct Body<'a> {
    conn: &'a mut Conn,
    n: u64,
    max: Option<u64>,
}

impl Body<'_> {
    /// Counts `len` bytes; `false` once the limit stops the reading.
    fn count(&mut self, len: u64) -> bool {
        self.n += len;
        match self.max {
            Some(max) if self.n >= max => {
                self.n = max;
                false
            }
            _ => true,
        }
    }

    /// Consumes `len` body bytes; `Ok(false)` when the limit cut it short.
    async fn skip(&mut self, mut len: u64) -> io::Result<bool> {
        while len > 0 {
            if self.conn.start == self.conn.end {
                self.conn.fill(false).await?;
            }
            let take = len.min((self.conn.end - self.conn.start) as u64);
            self.conn.start += take as usize;
            len -= take;
            if !self.count(take) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A chunked body; `Ok(false)` when the limit cut it short.
    async fn chunked(&mut self) -> io::Result<bool> {
        loop {
            let (used, size) = loop {
                match httparse::parse_chunk_size(&self.conn.buf[self.conn.start..self.conn.end]) {
                    Ok(httparse::Status::Complete(c)) => break c,
                    Ok(httparse::Status::Partial) => {
                        self.conn.fill(false).await?;
                    }
                    Err(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "invalid chunk size line",
                        ));
                    }
                }
            };
            self.conn.start += used;
            if size == 0 {
                return self.trailers().await.map(|()| true);
            }
            if !self.skip(size).await? {
                return Ok(false);
            }
            self.line(true).await?;
        }
    }

    /// Skips trailer lines up to the empty line that ends the body.
    async fn trailers(&mut self) -> io::Result<()> {
        while !self.line(false).await? {}
        Ok(())
    }

    /// Consumes one CRLF-terminated line; true when it was empty. `empty` requires it to be.
    async fn line(&mut self, empty: bool) -> io::Result<bool> {
        loop {
            let rest = &self.conn.buf[self.conn.start..self.conn.end];
            if let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
                if empty && i != 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "chunk data longer than its size",
                    ));
                }
                self.conn.start += i + 2;
                return Ok(i == 0);
            }
            self.conn.fill(false).await?;
        }
    }

    /// A body that ends when the server closes the connection.
    async fn until_close(&mut self) -> io::Result<()> {
        loop {
            let avail = (self.conn.end - self.conn.start) as u64;
            self.conn.start = self.conn.end;
            if !self.count(avail) {
                return Ok(());
            }
            match self.conn.fill(false).await {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}

/// Parses a response head from the start of `buf`; `None` while it is incomplete.
fn parse_head(buf: &[u8], head_only: bool) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("invalid HTTP response: {e}")),
    };
    let status = resp.code.unwrap_or(0);
    let http11 = resp.version == Some(1);
    let (mut length, mut chunked, mut close, mut keep, mut location) =
        (None::<u64>, false, false, false, None);
    for h in resp.headers.iter() {
        let value = || String::from_utf8_lossy(h.value);
        if h.name.eq_ignore_ascii_case(CONTENT_LENGTH.as_str()) {
            let v: u64 = value()
                .trim()
                .parse()
                .map_err(|_| format!("invalid content-length {:?}", value()))?;
            if length.is_some_and(|l| l != v) {
                return Err("conflicting content-length headers".into());
            }
            length = Some(v);
        } else if h.name.eq_ignore_ascii_case(TRANSFER_ENCODING.as_str()) {
            chunked = value()
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if h.name.eq_ignore_ascii_case(CONNECTION.as_str()) {
            for token in value().split(',') {
                close |= token.trim().eq_ignore_ascii_case("close");
                keep |= token.trim().eq_ignore_ascii_case("keep-alive");
            }
        } else if (300..400).contains(&status) && h.name.eq_ignore_ascii_case("location") {
            location = Some(value().into_owned());
        }
    }
    let framing = if head_only || (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if let Some(l) = length {
        Framing::Length(l)
    } else {
        Framing::UntilClose
    };
    Ok(Some(Head {
        len,
        status,
        framing,
        keep_alive: !close && (http11 || keep),
        location,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    #[test]
    fn requests_encode_like_hyper() {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("a:1"));
        let get = encode(&Method::GET, "/x?y", &h, b"").unwrap_or_default();
        assert_eq!(&get[..], b"GET /x?y HTTP/1.1\r\nhost: a:1\r\n\r\n");
        let post = encode(&Method::POST, "/", &h, b"hi").unwrap_or_default();
        assert_eq!(
            &post[..],
            b"POST / HTTP/1.1\r\nhost: a:1\r\ncontent-length: 2\r\n\r\nhi"
        );
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        assert!(encode(&Method::POST, "/", &h, b"hi").is_none());
    }

    #[test]
    fn heads_frame_bodies() {
        let p = |s: &str, head_only| parse_head(s.as_bytes(), head_only);
        let h = p("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false);
        let h = h.ok().flatten().map(|h| (h.len, h.framing, h.keep_alive));
        assert_eq!(h, Some((38, Framing::Length(5), true)));
        let h = p(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            false,
        );
        assert_eq!(h.ok().flatten().map(|h| h.framing), Some(Framing::Chunked));
        let h = p("HTTP/1.0 200 OK\r\n\r\n", false).ok().flatten();
        assert_eq!(
            h.map(|h| (h.framing, h.keep_alive)),
            Some((Framing::UntilClose, false))
        );
        let h = p(
            "HTTP/1.1 302 Found\r\nLocation: /a\r\nContent-Length: 3\r\n\r\n",
            true,
        );
        let h = h.ok().flatten().map(|h| (h.framing, h.location));
        assert_eq!(h, Some((Framing::Empty, Some("/a".into()))));
        assert!(p("HTTP/1.1 200 OK\r\nContent-Le", false).is_ok_and(|h| h.is_none()));
        assert!(p("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false).is_err());
        assert!(p("nonsense\r\n\r\n", false).is_err());
    }

    /// Serves `replies` (one per request, written in `pieces` bytes at a time) and returns
    /// what each exchange came to.
    fn exchanges(replies: &[&'static str], pieces: usize) -> Vec<Result<(u16, u64, bool), String>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let replies = replies.to_vec();
        rt.block_on(async move {
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let addr = l.local_addr().unwrap_or_else(|e| panic!("{e}"));
            let n = replies.len();
            tokio::spawn(async move {
                let Ok((mut s, _)) = l.accept().await else {
                    return;
                };
                for r in replies {
                    let mut req = [0u8; 1024];
                    let _ = s.read(&mut req).await;
                    for piece in r.as_bytes().chunks(pieces) {
                        let _ = s.write_all(piece).await;
                        let _ = s.flush().await;
                        tokio::task::yield_now().await;
                    }
                }
            });
            let io = TcpStream::connect(addr)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut c = Conn::new(io);
            let mut out = Vec::new();
            for _ in 0..n {
                let r = c
                    .exchange(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", false, Some(100))
                    .await;
                out.push(
                    r.map(|r| (r.status, r.body_bytes, r.reusable))
                        .map_err(|f| f.message),
                );
            }
            out
        })
    }

    #[test]
    fn bodies_are_counted_across_reads() {
        let replies = [
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
            Box::leak(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n{}",
                    "x".repeat(150)
                )
                .into_boxed_str(),
            ),
        ];
        for pieces in [1, 7, 4096] {
            let got = exchanges(&replies, pieces);
            assert_eq!(got.first(), Some(&Ok((200, 11, true))), "pieces {pieces}");
            assert_eq!(got.get(1), Some(&Ok((200, 11, true))), "pieces {pieces}");
            assert_eq!(got.get(2), Some(&Ok((204, 0, true))), "pieces {pieces}");
            // The body limit (100) stops the read; the connection cannot be reused.
            assert_eq!(got.get(3), Some(&Ok((200, 100, false))), "pieces {pieces}");
        }
    }

    #[test]
    fn a_close_mid_body_is_an_error() {
        let got = exchanges(
            &["HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"],
            4096,
        );
        let err = got
            .first()
            .and_then(|r| r.as_ref().err())
            .cloned()
            .unwrap_or_default();
        assert!(err.contains("closed before message completed"), "{err}");
    }
}
