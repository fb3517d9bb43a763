//! DNS resolved once per host and kept for a TTL, per worker thread (no locks on the hot path).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How long resolved addresses are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnsTtl {
    /// Resolve once, keep for the whole attack (Vegeta's `-dns-ttl 0`).
    #[default]
    Forever,
    /// Re-resolve after this long.
    For(Duration),
    /// Resolve for every new connection (`-dns-ttl -1`).
    Never,
}

struct Entry {
    addrs: Vec<SocketAddr>,
    at: Instant,
    next: usize,
}

/// A per-thread cache of host lookups that hands addresses out round-robin.
pub(crate) struct Resolver {
    ttl: DnsTtl,
    cache: RefCell<HashMap<(String, u16), Entry>>,
}

impl Resolver {
    pub(crate) fn new(ttl: DnsTtl) -> Self {
        Resolver {
            ttl,
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// An address for `host:port`; IP literals skip DNS.
    pub(crate) async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Some(addr) = self.known(bare, port) {
            return Ok(addr);
        }
        let addrs = tokio::net::lookup_host((bare, port)).await?.collect();
        self.store(bare, port, addrs)
    }

    /// [`Resolver::resolve`] for a thread with no runtime: the lookup blocks, which is
    /// once per host and TTL.
    pub(crate) fn resolve_blocking(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Some(addr) = self.known(bare, port) {
            return Ok(addr);
        }
        let addrs = (bare, port).to_socket_addrs()?.collect();
        self.store(bare, port, addrs)
    }

    /// An IP literal's address, or a cached one.
    fn known(&self, bare: &str, port: u16) -> Option<SocketAddr> {
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Some(SocketAddr::new(ip, port));
        }
        self.cached(&(bare.to_string(), port))
    }

    /// Keeps a lookup's answer (unless every connection resolves anew) and gives its first.
    fn store(&self, bare: &str, port: u16, addrs: Vec<SocketAddr>) -> io::Result<SocketAddr> {
        let first = *addrs.first().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("no addresses for {bare}"))
        })?;
        if self.ttl != DnsTtl::Never {
            self.cache.borrow_mut().insert(
                (bare.to_string(), port),
                Entry {
                    addrs,
                    at: Instant::now(),
                    next: 1,
                },
            );
        }
        Ok(first)
    }

    fn cached(&self, key: &(String, u16)) -> Option<SocketAddr> {
        let mut cache = self.cache.borrow_mut();
        let entry = cache.get_mut(key)?;
        if let DnsTtl::For(ttl) = self.ttl
            && entry.at.elapsed() >= ttl
        {
            return None;
        }
        let addr = *entry.addrs.get(entry.next % entry.addrs.len().max(1))?;
        entry.next = entry.next.wrapping_add(1);
        Some(addr)
    }
}
