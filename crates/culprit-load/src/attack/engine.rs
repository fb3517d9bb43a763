//! The event loop for plain-`http://` HTTP/1.1 attacks, the common case: one thread, one
//! epoll instance, no async runtime.
//!
//! At a constant rate the cost of a hit is mostly its wake-ups, and a runtime adds its own
//! bookkeeping to each (task queues, wakers, a timer wheel, a timer descriptor to re-arm).
//! Here a thread sleeps in one `epoll_pwait2` until its next hit is due or a socket has
//! news, and a hit costs a `send` and a `recv`, as with wrk2. When a hit is due within a
//! millisecond the thread sleeps straight to it, sends it, and only then reads the
//! responses that arrived meanwhile: one wake-up per hit instead of two. Their arrival
//! times come from the kernel's receive stamps (`rxtime.rs`), so latencies stay exact.
//!
//! The semantics are the runtime path's (`mod.rs`, `client.rs`): workers are connections;
//! a due hit goes to the longest-idle one, a new one is opened when none is idle (up to
//! `max_workers` across threads), and otherwise the hit waits and its latency shows it;
//! a reused connection that fails before any response byte is retried once on a new one;
//! redirects are followed; the timeout runs from the send to the last byte.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use http::Method;

use super::dispatch::Due;
use super::epoll::{self, Epoll};
use super::h1::{self, Failure, Reader, Response};
use super::request::{Endpoint, Prepared, prepare_all, redirect};
use super::resolve::Resolver;
use super::rxtime;
use super::sendq::SendQueue;
use super::{Config, Shared};
use crate::results::HitResult;
use crate::targets::Target;

/// How often, at the longest, results go to the collector and timeouts are checked.
const TICK_NS: u64 = 10_000_000;
/// Responses wait, unread, for a send due at most this soon.
const DEFER_NS: u64 = 1_000_000;
/// Timer slack of an attack thread: the kernel's default (50 µs) would let every sleep end
/// that much late.
const TIMER_SLACK_NS: libc::c_ulong = 1_000;

/// One thread's share of an attack.
pub(crate) struct Engine {
    shared: Arc<Shared>,
    config: Arc<Config>,
    net: Net,
    targets: Vec<Prepared>,
    slots: Vec<Slot>,
    /// Workers without a hit, longest idle first (so every connection stays in use).
    idle: VecDeque<usize>,
    /// Slots with a hit in progress.
    busy: usize,
    /// Claimed hits waiting for their send window or for a worker.
    pending: SendQueue,
    /// No more hits will be claimed (those pending still go out).
    claims_done: bool,
    /// Maps the kernel's receive stamps onto the attack's clock.
    clock: rxtime::Clock,
    /// The kernel has stamped a response (stamping is switched on for the whole stack a
    /// moment after the first socket asks): only then may responses wait to be read.
    stamped: bool,
    batch: Vec<HitResult>,
    tx: mpsc::Sender<Vec<HitResult>>,
}

/// A worker: its connection and its hit.
#[derive(Default)]
struct Slot {
    conn: Option<Conn>,
    hit: Option<Hit>,
}

/// A connection and what it has read.
struct Conn {
    stream: TcpStream,
    endpoint: usize,
    generation: u32,
    /// The connect has not finished yet.
    connecting: bool,
    /// It was open before its current hit: it carried a response, or was opened before the
    /// clock started (a failure on it may be the server's idle close).
    used: bool,
    /// Epoll reported the peer's close or an error: read to the end, since no further
    /// event will come.
    peer_closed: bool,
    buf: Box<[u8]>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
}

impl Conn {
    /// Whether the connect has finished (it is then no longer `connecting`), or why it
    /// failed.
    fn finish_connect(&mut self) -> io::Result<bool> {
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        self.connecting = self.stream.peer_addr().is_err();
        Ok(!self.connecting)
    }
}

/// A hit in progress.
struct Hit {
    seq: u64,
    target: usize,
    scheduled_ns: u64,
    sent_ns: u64,
    /// The redirect being followed, if any; otherwise the target's own request.
    hop: Option<Box<Prepared>>,
    followed: i32,
    /// The current request already went again on a new connection.
    retried: bool,
    /// The current request went out on a used connection.
    reused: bool,
    /// Request bytes written; all of them once reading.
    written: usize,
    /// When the last response bytes read arrived, by the kernel's stamp.
    arrived_ns: Option<u64>,
    reader: Reader,
}

/// Opens connections and tells their events apart.
struct Net {
    epoll: Epoll,
    endpoints: Vec<Endpoint>,
    resolver: Resolver,
    /// Connections opened, for telling a closed connection's late events from a new one's.
    generation: u32,
}

impl Net {
    /// A connection for worker `i` to endpoint `endpoint`, registered with epoll; the
    /// connect may still be under way.
    fn dial(&mut self, i: usize, endpoint: usize) -> Result<Conn, String> {
        let Some(ep) = self.endpoints.get(endpoint) else {
            return Err("unknown endpoint".into());
        };
        let addr = self
            .resolver
            .resolve_blocking(&ep.host, ep.port)
            .map_err(|e| format!("lookup {}: {e}", ep.host))?;
        let connect_error = |e: io::Error| format!("dial tcp {addr}: connect: {e}");
        let (stream, connecting) = connect(addr).map_err(connect_error)?;
        self.generation = self.generation.wrapping_add(1);
        let token = u64::from(self.generation) << 32 | i as u64;
        self.epoll
            .add(stream.as_raw_fd(), token)
            .map_err(|e| format!("dial tcp {addr}: registering the socket: {e}"))?;
        Ok(Conn {
            stream,
            endpoint,
            generation: self.generation,
            connecting,
            used: false,
            peer_closed: false,
            buf: vec![0; h1::BUF_LEN].into_boxed_slice(),
            start: 0,
            end: 0,
        })
    }
}

/// An engine's workers with their connections open, before the attack's clock starts.
pub(crate) struct Warm {
    net: Net,
    targets: Vec<Prepared>,
    slots: Vec<Slot>,
}

impl Warm {
    /// `workers` of the attack's workers, each connected to the first target's host (the
    /// first hit's) when that can be done within `limit`. Opening them before the clock
    /// starts keeps the attacker's own connect burst out of the first hits' latency, as wrk
    /// does; a worker whose connect failed dials again with its first hit, which then
    /// reports why.
    pub(crate) fn new(
        config: &Config,
        targets: &[Target],
        workers: usize,
        limit: Duration,
    ) -> io::Result<Warm> {
        let mut endpoints = Vec::new();
        let targets = prepare_all(targets, &mut endpoints, config.keepalive);
        let mut warm = Warm {
            net: Net {
                epoll: Epoll::new()?,
                endpoints,
                resolver: Resolver::new(config.dns_ttl),
                generation: 0,
            },
            slots: (0..workers).map(|_| Slot::default()).collect(),
            targets,
        };
        let first = warm
            .targets
            .first()
            .filter(|t| t.h1_wire.is_some())
            .map(|t| t.endpoint)
            .filter(|&e| warm.net.endpoints.get(e).is_some_and(|ep| !ep.https));
        if let Some(endpoint) = first {
            for (i, slot) in warm.slots.iter_mut().enumerate() {
                slot.conn = warm.net.dial(i, endpoint).ok();
            }
            warm.await_connects(limit);
        }
        Ok(warm)
    }

    /// Waits until every connect has finished, failed or run past `limit`; keeps only the
    /// connections that finished.
    fn await_connects(&mut self, limit: Duration) {
        let until = std::time::Instant::now() + limit;
        let mut events: Vec<libc::epoll_event> = Vec::with_capacity(256);
        loop {
            let mut waiting = false;
            for slot in &mut self.slots {
                let Some(conn) = slot.conn.as_mut().filter(|c| c.connecting) else {
                    continue;
                };
                match conn.finish_connect() {
                    // It waits idle for its first hit, so the server may close it.
                    Ok(true) => conn.used = true,
                    Ok(false) => waiting = true,
                    Err(_) => slot.conn = None,
                }
            }
            let left = until.saturating_duration_since(std::time::Instant::now());
            if !waiting || left.is_zero() {
                break;
            }
            let tick = left.min(Duration::from_millis(10));
            if self.net.epoll.wait(&mut events, tick).is_err() {
                break;
            }
        }
        for slot in &mut self.slots {
            if slot.conn.as_ref().is_some_and(|c| c.connecting) {
                slot.conn = None;
            }
        }
    }
}

impl Engine {
    /// An engine for the workers of `warm` (more may be added as hits wait).
    pub(crate) fn new(
        warm: Warm,
        shared: Arc<Shared>,
        config: Arc<Config>,
        tx: mpsc::Sender<Vec<HitResult>>,
    ) -> Engine {
        Engine {
            idle: (0..warm.slots.len()).collect(),
            net: warm.net,
            slots: warm.slots,
            targets: warm.targets,
            busy: 0,
            pending: SendQueue::new(config.send_window, config.pacer),
            claims_done: false,
            clock: rxtime::Clock::new(shared.start),
            stamped: false,
            batch: Vec::with_capacity(config.batch),
            shared,
            config,
            tx,
        }
    }

    /// Runs until no more hits are due and every hit has finished.
    pub(crate) fn run(mut self) {
        // SAFETY: prctl with PR_SET_TIMERSLACK only changes this thread's timer slack.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, TIMER_SLACK_NS);
        }
        let mut events: Vec<libc::epoll_event> = Vec::with_capacity(256);
        let mut tick_ns = self.now_ns() + TICK_NS;
        loop {
            self.dispatch();
            if self.claims_done && self.busy == 0 && self.pending.is_empty() {
                break;
            }
            let now = self.now_ns();
            let mut wake = tick_ns;
            let send_at = self
                .pending
                .send_at()
                .filter(|_| !self.idle.is_empty() || self.can_grow());
            if let Some(at) = send_at {
                wake = wake.min(at);
            }
            let mut wait = Duration::from_nanos(wake.saturating_sub(now));
            if self.stamped && send_at.is_some_and(|at| at.saturating_sub(now) <= DEFER_NS) {
                // A hit goes out soon: sleep until then without waking for responses, and
                // read what arrived meanwhile when sending it. The kernel's stamps keep
                // their arrival times exact; a wake-up is most of a hit's cost.
                std::thread::sleep(wait);
                wait = Duration::ZERO;
                // Send first: reading what arrived meanwhile would make the hit late.
                self.dispatch();
            }
            if let Err(e) = self.net.epoll.wait(&mut events, wait) {
                self.abandon(&format!("waiting for events: {e}"));
                break;
            }
            for ev in &events {
                let (events, token) = (ev.events, ev.u64);
                self.event(token, events);
            }
            let now = self.now_ns();
            if now >= tick_ns {
                self.clock.resync();
                self.expire(now);
                self.flush();
                tick_ns = now + TICK_NS;
            }
        }
        self.flush();
    }

    fn now_ns(&self) -> u64 {
        self.shared.start.elapsed().as_nanos() as u64
    }

    fn can_grow(&self) -> bool {
        self.shared.workers.load(Ordering::Relaxed) < self.shared.max_workers
    }

    /// A new worker, when the limit allows one.
    fn grow(&mut self) -> Option<usize> {
        let max = self.shared.max_workers;
        self.shared
            .workers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                (w < max).then_some(w + 1)
            })
            .ok()?;
        self.slots.push(Slot::default());
        Some(self.slots.len() - 1)
    }

    /// Starts every pending hit whose window has come and that has a worker.
    fn dispatch(&mut self) {
        let limit = self.config.duration.map(|d| d.as_nanos() as u64);
        loop {
            if self.shared.stopped.load(Ordering::Relaxed) {
                self.claims_done = true;
                self.pending.clear();
                return;
            }
            let now = self.now_ns();
            if self.config.pacer.is_unpaced() {
                if self.claims_done {
                    return;
                }
                let Some(&i) = self.idle.front() else {
                    return;
                };
                if limit.is_some_and(|l| now >= l) {
                    self.claims_done = true;
                    return;
                }
                let seq = self.shared.next_hit.fetch_add(1, Ordering::Relaxed);
                self.idle.pop_front();
                self.begin(
                    i,
                    Due {
                        seq,
                        scheduled_ns: now,
                    },
                );
                continue;
            }
            // Only as many as workers could take, so a thread whose workers are all busy
            // leaves the next hits to the others.
            if !self.claims_done {
                let room = self.idle.len() + usize::from(self.can_grow());
                self.claims_done = !self.pending.fill(&self.shared.next_hit, limit, room);
            }
            if self.pending.send_at().is_none_or(|at| at > now) {
                return;
            }
            let mut started = false;
            while let Some(due) = self.pending.first_due(now) {
                let (i, grown) = match self.idle.pop_front() {
                    Some(i) => (i, false),
                    None => match self.grow() {
                        Some(i) => (i, true),
                        None => return,
                    },
                };
                self.pending.pop();
                self.begin(i, due);
                if grown {
                    // Read what has arrived before opening another connection: a connect
                    // can take longer than the hits' spacing, and dialing for every waiting
                    // hit without reading the responses that would free a worker ran away
                    // to the connection limit (1000 connects and hits 75 ms late at 20k/s,
                    // from a cold start).
                    return;
                }
                started = true;
            }
            if !started {
                return;
            }
        }
    }

    /// Starts hit `due` on worker `i`.
    fn begin(&mut self, i: usize, due: Due) {
        let target = (due.seq % self.targets.len().max(1) as u64) as usize;
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        slot.hit = Some(Hit {
            seq: due.seq,
            target,
            scheduled_ns: due.scheduled_ns,
            sent_ns: self.shared.start.elapsed().as_nanos() as u64,
            hop: None,
            followed: 0,
            retried: false,
            reused: false,
            written: 0,
            arrived_ns: None,
            reader: Reader::new(false, None),
        });
        self.busy += 1;
        self.exchange(i);
    }

    /// The request hit `hit` is sending now.
    fn request<'a>(targets: &'a [Prepared], hit: &'a Hit) -> Option<&'a Prepared> {
        hit.hop.as_deref().or_else(|| targets.get(hit.target))
    }

    /// Sends worker `i`'s current request: on its connection when that goes to the right
    /// place and is still open, otherwise on a new one.
    fn exchange(&mut self, i: usize) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let Some(hit) = slot.hit.as_mut() else {
            return;
        };
        let Some(req) = Self::request(&self.targets, hit) else {
            return self.finish(i, Err("no such target".into()));
        };
        let (endpoint, head_only) = (req.endpoint, req.method == Method::HEAD);
        let Some(ep) = self.net.endpoints.get(endpoint) else {
            return self.finish(i, Err("unknown endpoint".into()));
        };
        if ep.https {
            return self.finish(i, Err("https target but TLS is not configured".into()));
        }
        if req.h1_wire.is_none() {
            return self.finish(i, Err("request needs chunked encoding".into()));
        }
        hit.written = 0;
        hit.arrived_ns = None;
        hit.reader = Reader::new(head_only, self.config.max_body);
        if slot.conn.as_ref().is_some_and(|c| c.endpoint != endpoint) {
            slot.conn = None;
        }
        if slot.conn.is_none() {
            match self.net.dial(i, endpoint) {
                Ok(conn) => {
                    if let Some(slot) = self.slots.get_mut(i) {
                        slot.conn = Some(conn);
                    }
                }
                Err(e) => return self.finish(i, Err(e)),
            }
        }
        if let Some(slot) = self.slots.get_mut(i)
            && let (Some(hit), Some(conn)) = (slot.hit.as_mut(), slot.conn.as_ref())
        {
            hit.reused = conn.used;
        }
        self.drive(i, false);
    }

    /// Handles epoll's news about a connection.
    fn event(&mut self, token: u64, events: u32) {
        let (generation, i) = ((token >> 32) as u32, (token & 0xffff_ffff) as usize);
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let Some(conn) = slot.conn.as_mut().filter(|c| c.generation == generation) else {
            return; // a connection closed since
        };
        conn.peer_closed |= events & epoll::CLOSED != 0;
        if slot.hit.is_some() {
            let readable = events & (libc::EPOLLIN as u32 | epoll::CLOSED) != 0;
            self.drive(i, readable);
        } else if events & epoll::CLOSED != 0 {
            // The server closed an idle connection: the next hit opens a new one rather
            // than failing on this one first.
            slot.conn = None;
        }
    }

    /// Moves worker `i`'s exchange on as far as the socket allows; `readable` when epoll
    /// said there is something to read (a connect finishing says only "writable").
    fn drive(&mut self, i: usize, readable: bool) {
        loop {
            let Some(slot) = self.slots.get_mut(i) else {
                return;
            };
            let (Some(hit), Some(conn)) = (slot.hit.as_mut(), slot.conn.as_mut()) else {
                return;
            };
            if conn.connecting {
                match conn.finish_connect() {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        let addr = conn.stream.peer_addr().map_or_else(
                            |_| {
                                self.net
                                    .endpoints
                                    .get(conn.endpoint)
                                    .map_or_else(String::new, |e| format!("{}:{}", e.host, e.port))
                            },
                            |a| a.to_string(),
                        );
                        slot.conn = None;
                        return self.finish(i, Err(format!("dial tcp {addr}: connect: {e}")));
                    }
                }
            }
            let wire = match &hit.hop {
                Some(hop) => hop.h1_wire.as_ref(),
                None => self
                    .targets
                    .get(hit.target)
                    .and_then(|t| t.h1_wire.as_ref()),
            };
            let Some(wire) = wire else {
                return self.finish(i, Err("no such target".into()));
            };
            if hit.written < wire.len() {
                match conn
                    .stream
                    .write(wire.get(hit.written..).unwrap_or_default())
                {
                    Ok(0) => {
                        let e = io::Error::from(io::ErrorKind::WriteZero);
                        return self.failed(i, Failure::send(&e));
                    }
                    Ok(n) => {
                        hit.written += n;
                        if hit.written < wire.len() {
                            continue;
                        }
                        // The answer cannot be there yet: wait for the socket to say so
                        // rather than read in vain.
                        conn.start = 0;
                        conn.end = 0;
                        return;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return self.failed(i, Failure::send(&e)),
                }
            }
            if !readable {
                return;
            }
            if conn.end == conn.buf.len() {
                if conn.start == 0 {
                    let f = hit.reader.overflow();
                    return self.failed(i, f);
                }
                conn.buf.copy_within(conn.start..conn.end, 0);
                conn.end -= conn.start;
                conn.start = 0;
            }
            let space = conn.buf.len() - conn.end;
            let read = rxtime::recv(
                conn.stream.as_raw_fd(),
                conn.buf.get_mut(conn.end..).unwrap_or_default(),
            );
            match read {
                Ok((0, _)) => match hit.reader.eof() {
                    Ok(r) => {
                        slot.conn = None;
                        return self.completed(i, r);
                    }
                    Err(f) => return self.failed(i, f),
                },
                Ok((n, at)) => {
                    conn.end += n;
                    hit.arrived_ns = at.map(|unix| self.clock.attack_ns(unix));
                    self.stamped |= at.is_some();
                    match hit
                        .reader
                        .advance(conn.buf.get(conn.start..conn.end).unwrap_or_default())
                    {
                        Ok((used, Some(mut r))) => {
                            conn.start += used;
                            conn.used = true;
                            r.reusable &= self.config.keepalive
                                && conn.start == conn.end
                                && !conn.peer_closed;
                            if !r.reusable {
                                slot.conn = None;
                            }
                            return self.completed(i, r);
                        }
                        Ok((used, None)) => {
                            conn.start += used;
                            if conn.start == conn.end {
                                conn.start = 0;
                                conn.end = 0;
                            }
                            if n < space && !conn.peer_closed {
                                // The socket is drained; edge-triggered epoll reports the
                                // next bytes (or the close), so no read to learn that it
                                // would block.
                                return;
                            }
                        }
                        Err(f) => return self.failed(i, f),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let f = hit.reader.read_error(&e);
                    return self.failed(i, f);
                }
            }
        }
    }

    /// Worker `i`'s current request got response `r`: follow a redirect or finish.
    fn completed(&mut self, i: usize, r: Response) {
        let Some(hit) = self.slots.get_mut(i).and_then(|s| s.hit.as_mut()) else {
            return;
        };
        let redirects = self.config.redirects;
        let Some(loc) = r.location.filter(|_| redirects >= 0) else {
            return self.finish(i, Ok((r.status, r.body_bytes)));
        };
        if hit.followed >= redirects {
            return self.finish(i, Err(format!("stopped after {redirects} redirects")));
        }
        hit.followed += 1;
        let Some(from) = Self::request(&self.targets, hit) else {
            return self.finish(i, Err("no such target".into()));
        };
        match redirect(
            from,
            r.status,
            &loc,
            &mut self.net.endpoints,
            self.config.keepalive,
        ) {
            Ok(next) => {
                hit.hop = Some(Box::new(next));
                hit.retried = false;
                self.exchange(i);
            }
            Err(e) => self.finish(i, Err(e)),
        }
    }

    /// Worker `i`'s current request failed: again on a new connection when a used one
    /// failed before any response byte (the server may have closed it while idle).
    fn failed(&mut self, i: usize, f: Failure) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        slot.conn = None;
        match slot.hit.as_mut() {
            Some(hit) if f.retryable && hit.reused && !hit.retried => {
                hit.retried = true;
                self.exchange(i);
            }
            _ => self.finish(i, Err(f.message)),
        }
    }

    /// Records worker `i`'s hit and makes the worker idle.
    fn finish(&mut self, i: usize, outcome: Result<(u16, u64), String>) {
        let Some(hit) = self.slots.get_mut(i).and_then(|s| s.hit.take()) else {
            return;
        };
        self.busy = self.busy.saturating_sub(1);
        self.idle.push_back(i);
        let target = self.targets.get(hit.target);
        let bytes_out = target.map_or(0, |t| t.body.len() as u64);
        let now = self.now_ns();
        let (status, bytes_in, error, done_ns) = match outcome {
            // The kernel's stamp of the last bytes: the response may be read later, with
            // the next hit the loop woke up to send.
            Ok((status, bytes)) => {
                let done = hit.arrived_ns.map_or(now, |at| at.clamp(hit.sent_ns, now));
                (status, bytes, None, done)
            }
            Err(e) => {
                let (method, url) =
                    target.map_or((&Method::GET, None), |t| (&t.method, Some(&t.url)));
                let url = url.map_or_else(String::new, ToString::to_string);
                (0, 0, Some(format!("{method} {url}: {e}")), now)
            }
        };
        let result = HitResult {
            seq: hit.seq,
            target: hit.target as u32,
            scheduled_ns: hit.scheduled_ns,
            sent_ns: hit.sent_ns,
            done_ns,
            status,
            bytes_in,
            bytes_out,
            error,
        };
        self.batch.push(result);
        if self.batch.len() >= self.config.batch {
            self.flush();
        }
    }

    /// Fails every hit that has run past the timeout; their connections cannot carry
    /// another request.
    fn expire(&mut self, now: u64) {
        let timeout = self.config.timeout;
        let limit = timeout.as_nanos() as u64;
        for i in 0..self.slots.len() {
            let late = self
                .slots
                .get(i)
                .and_then(|s| s.hit.as_ref())
                .is_some_and(|h| now.saturating_sub(h.sent_ns) >= limit);
            if late {
                if let Some(slot) = self.slots.get_mut(i) {
                    slot.conn = None;
                }
                self.finish(
                    i,
                    Err(format!("timeout after {}", crate::godur::format(timeout))),
                );
            }
        }
    }

    /// Ends every hit with `why` (the event loop itself failed).
    fn abandon(&mut self, why: &str) {
        self.claims_done = true;
        for i in 0..self.slots.len() {
            if let Some(slot) = self.slots.get_mut(i) {
                slot.conn = None;
            }
            self.finish(i, Err(why.to_string()));
        }
    }

    fn flush(&mut self) {
        if !self.batch.is_empty() {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(self.config.batch));
            let _ = self.tx.send(full);
        }
    }
}

/// Starts a non-blocking connect with Nagle off; `true` while it is under way.
fn connect(addr: SocketAddr) -> io::Result<(TcpStream, bool)> {
    use socket2::{Domain, Protocol as IpProtocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM,
        Some(IpProtocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    // Without stamps a response's end is taken when it is read, which is still right.
    rxtime::enable(socket.as_raw_fd());
    let connecting = match socket.connect(&addr.into()) {
        Ok(()) => false,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(e) => return Err(e),
    };
    Ok((socket.into(), connecting))
}
