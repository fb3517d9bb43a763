//! Plain-TCP HTTP/1.1 without hyper, for the common case of `http://` targets.
//!
//! A request's bytes are encoded once per target and go out in one write; the response is
//! parsed in place by a [`Reader`] from a buffer the connection keeps, and its body is
//! counted, not kept. No I/O here: the event loop in `engine.rs` reads and writes the
//! sockets. TLS, HTTP/2 and unix sockets use hyper.

use std::io;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method};

/// Read buffer per connection; also the longest response head accepted.
pub(crate) const BUF_LEN: usize = 16 * 1024;
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Body bytes read (capped at the body limit).
    pub body_bytes: u64,
    /// `Location` of a 3xx.
    pub location: Option<String>,
    /// The connection can carry another request, provided nothing follows the response
    /// in the buffer (the caller knows that).
    pub reusable: bool,
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    /// Nothing of a response arrived: on a reused connection the server may have closed
    /// it while idle, and the request can go again on a new one.
    pub retryable: bool,
}

impl Failure {
    /// A failure to send the request (always retryable on a reused connection).
    pub fn send(e: &io::Error) -> Failure {
        Failure {
            message: format!("connection error: {e}"),
            retryable: true,
        }
    }
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq)]
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

/// Where a [`Reader`] is in the response.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Head,
    /// Body bytes still to come.
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    Trailers,
    UntilClose,
}

/// Reads one response from bytes as they arrive (no I/O: the caller reads the socket and
/// hands over what it has). Bodies are counted, not kept.
#[derive(Debug)]
pub struct Reader {
    head_only: bool,
    max_body: Option<u64>,
    state: State,
    /// Some byte of the response arrived.
    started: bool,
    body_bytes: u64,
    status: u16,
    keep_alive: bool,
    location: Option<String>,
}

impl Reader {
    /// A reader for the response to a request (`head_only` for HEAD, whose response has
    /// no body whatever its headers say).
    pub fn new(head_only: bool, max_body: Option<u64>) -> Reader {
        Reader {
            head_only,
            max_body,
            state: State::Head,
            started: false,
            body_bytes: 0,
            status: 0,
            keep_alive: false,
            location: None,
        }
    }

    /// Consumes what it can of `buf`: the bytes used, and the response once complete.
    pub fn advance(&mut self, buf: &[u8]) -> Result<(usize, Option<Response>), Failure> {
        self.started |= !buf.is_empty();
        let mut p = 0;
        loop {
            let rest = buf.get(p..).unwrap_or_default();
            match self.state {
                State::Head => {
                    let head = match parse_head(rest, self.head_only) {
                        Ok(Some(h)) => h,
                        Ok(None) => return Ok((p, None)),
                        Err(message) => {
                            return Err(Failure {
                                message,
                                retryable: false,
                            });
                        }
                    };
                    p += head.len;
                    if (100..200).contains(&head.status) && head.status != 101 {
                        continue; // an informational response precedes the real one
                    }
                    self.status = head.status;
                    self.keep_alive = head.keep_alive;
                    self.location = head.location;
                    self.state = match head.framing {
                        Framing::Empty | Framing::Length(0) => {
                            return Ok((p, Some(self.done(true))));
                        }
                        Framing::Length(n) => State::Length(n),
                        Framing::Chunked => State::ChunkSize,
                        Framing::UntilClose => {
                            self.keep_alive = false;
                            State::UntilClose
                        }
                    };
                }
                State::Length(left) | State::ChunkData(left) => {
                    let take = left.min(rest.len() as u64);
                    p += take as usize;
                    if !self.count(take) {
                        return Ok((p, Some(self.done(false))));
                    }
                    let left = left - take;
                    self.state = match self.state {
                        State::Length(_) if left == 0 => return Ok((p, Some(self.done(true)))),
                        State::Length(_) => State::Length(left),
                        _ if left == 0 => State::ChunkEnd,
                        _ => State::ChunkData(left),
                    };
                    if left > 0 {
                        return Ok((p, None));
                    }
                }
                State::ChunkSize => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((used, 0))) => {
                        p += used;
                        self.state = State::Trailers;
                    }
                    Ok(httparse::Status::Complete((used, size))) => {
                        p += used;
                        self.state = State::ChunkData(size);
                    }
                    Ok(httparse::Status::Partial) => return Ok((p, None)),
                    Err(_) => return Err(body_error("invalid chunk size line")),
                },
                State::ChunkEnd | State::Trailers => {
                    let Some(i) = rest.windows(2).position(|w| w == b"\r\n") else {
                        return Ok((p, None));
                    };
                    p += i + 2;
                    match (self.state, i) {
                        (State::ChunkEnd, 0) => self.state = State::ChunkSize,
                        (State::ChunkEnd, _) => {
                            return Err(body_error("chunk data longer than its size"));
                        }
                        (_, 0) => return Ok((p, Some(self.done(true)))),
                        _ => {} // a trailer line
                    }
                }
                State::UntilClose => {
                    p = buf.len();
                    if !self.count(rest.len() as u64) {
                        return Ok((p, Some(self.done(false))));
                    }
                    return Ok((p, None));
                }
            }
        }
    }

    /// The server closed the connection: the end of a body that runs until the close,
    /// otherwise an error.
    pub fn eof(&mut self) -> Result<Response, Failure> {
        match self.state {
            State::UntilClose => Ok(self.done(false)),
            State::Head => Err(Failure {
                message: CLOSED.into(),
                retryable: !self.started,
            }),
            _ => Err(body_error(CLOSED)),
        }
    }

    /// A read failed.
    pub fn read_error(&self, e: &io::Error) -> Failure {
        match self.state {
            State::Head => Failure {
                message: e.to_string(),
                retryable: !self.started,
            },
            _ => body_error(&e.to_string()),
        }
    }

    /// The response head does not fit the buffer.
    pub fn overflow(&self) -> Failure {
        match self.state {
            State::Head => Failure {
                message: "response head too large".into(),
                retryable: false,
            },
            _ => body_error("chunk line too long"),
        }
    }

    /// Counts body bytes; `false` once the limit stops the reading.
    fn count(&mut self, n: u64) -> bool {
        self.body_bytes += n;
        match self.max_body {
            Some(max) if self.body_bytes >= max => {
                self.body_bytes = max;
                false
            }
            _ => true,
        }
    }

    fn done(&mut self, complete: bool) -> Response {
        Response {
            status: self.status,
            body_bytes: self.body_bytes,
            location: self.location.take(),
            reusable: complete && self.keep_alive,
        }
    }
}

const CLOSED: &str = "connection closed before message completed";

fn body_error(what: &str) -> Failure {
    Failure {
        message: format!("error reading a body from connection: {what}"),
        retryable: false,
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

    /// Feeds `reply` to a reader `piece` bytes at a time, as reads from a socket would
    /// arrive, then the close; returns what the reader made of it and the bytes left over.
    fn read(reply: &[u8], piece: usize, max: Option<u64>) -> (Result<Response, Failure>, usize) {
        let mut r = Reader::new(false, max);
        let mut buf: Vec<u8> = Vec::new();
        let mut start = 0;
        for chunk in reply.chunks(piece.max(1)) {
            buf.extend_from_slice(chunk);
            match r.advance(&buf[start..]) {
                Ok((used, done)) => {
                    start += used;
                    if let Some(done) = done {
                        return (Ok(done), buf.len() - start);
                    }
                }
                Err(f) => return (Err(f), 0),
            }
        }
        (r.eof(), 0)
    }

    #[test]
    fn bodies_are_counted_across_reads() {
        let limited = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n{}",
            "x".repeat(150)
        );
        let replies: [&[u8]; 4] = [
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            limited.as_bytes(),
        ];
        let ok = |status, body_bytes, reusable| Response {
            status,
            body_bytes,
            location: None,
            reusable,
        };
        for piece in [1, 7, 4096] {
            let got: Vec<_> = replies
                .iter()
                .map(|r| read(r, piece, Some(100)).0)
                .collect();
            assert_eq!(got[0], Ok(ok(200, 11, true)), "piece {piece}");
            assert_eq!(got[1], Ok(ok(200, 11, true)), "piece {piece}");
            assert_eq!(got[2], Ok(ok(204, 0, true)), "piece {piece}");
            // The body limit (100) stops the read; the connection cannot be reused.
            assert_eq!(got[3], Ok(ok(200, 100, false)), "piece {piece}");
        }
        let (until_close, _) = read(b"HTTP/1.0 200 OK\r\n\r\nabc", 2, None);
        assert_eq!(until_close, Ok(ok(200, 3, false)));
    }

    #[test]
    fn a_close_mid_response_is_an_error_retryable_only_before_any_byte() {
        let (mid_body, _) = read(
            b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
            4096,
            None,
        );
        let f = mid_body
            .err()
            .unwrap_or_else(|| panic!("a short body must fail"));
        assert!(
            f.message.contains("closed before message completed"),
            "{f:?}"
        );
        assert!(!f.retryable);
        let (nothing, _) = read(b"", 1, None);
        assert!(nothing.is_err_and(|f| f.retryable));
        let (half_head, _) = read(b"HTTP/1.1 200", 1, None);
        assert!(half_head.is_err_and(|f| !f.retryable));
        let (bad_chunk, _) = read(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
            64,
            None,
        );
        assert!(bad_chunk.is_err_and(|f| f.message.contains("longer than its size")));
    }

    #[test]
    fn bytes_after_the_response_are_left_for_the_caller() {
        let (r, left) = read(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
            4096,
            None,
        );
        assert_eq!(r.map(|r| r.body_bytes), Ok(2));
        assert_eq!(left, 5);
    }

    proptest::proptest! {
        /// However the bytes are split into reads, the reader comes to the same response.
        #[test]
        fn splitting_never_changes_the_outcome(
            chunks in proptest::collection::vec(0u64..40, 0..6),
            length in proptest::option::of(0u64..300),
            piece in 1usize..64,
            max in proptest::option::of(0u64..200),
        ) {
            let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
            match length {
                Some(n) => {
                    reply.extend_from_slice(format!("Content-Length: {n}\r\n\r\n").as_bytes());
                    reply.extend(std::iter::repeat_n(b'x', n as usize));
                }
                None => {
                    reply.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    for c in &chunks {
                        if *c > 0 {
                            reply.extend_from_slice(format!("{c:x}\r\n").as_bytes());
                            reply.extend(std::iter::repeat_n(b'y', *c as usize));
                            reply.extend_from_slice(b"\r\n");
                        }
                    }
                    reply.extend_from_slice(b"0\r\n\r\n");
                }
            }
            let whole = read(&reply, reply.len(), max);
            let pieces = read(&reply, piece, max);
            proptest::prop_assert_eq!(&whole.0, &pieces.0);
            let total = length.unwrap_or_else(|| chunks.iter().sum());
            let expect = max.map_or(total, |m| total.min(m));
            proptest::prop_assert_eq!(whole.0.map(|r| r.body_bytes), Ok(expect));
        }
    }
}
