//! Requests built once per target before the attack, and the redirects they lead to.

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Method, Uri};

use super::h1;
use crate::targets::Target;

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Endpoint {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Endpoint {
    /// The endpoint of an absolute URI.
    pub(crate) fn of(uri: &Uri) -> Option<Endpoint> {
        let https = uri.scheme() == Some(&Scheme::HTTPS);
        Some(Endpoint {
            https,
            host: uri.host()?.to_string(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        })
    }
}

/// A target with everything a request needs built once, before the attack.
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) url: Uri,
    pub(crate) endpoint: usize,
    /// Origin-form URI for HTTP/1.1.
    pub(crate) path: Uri,
    /// Headers for HTTP/1.1, with `Host` (and `Connection: close` without keep-alive).
    pub(crate) h1_headers: HeaderMap,
    /// Headers for HTTP/2 (the authority travels in the URI).
    pub(crate) h2_headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The whole HTTP/1.1 request on the wire, for `http://` URLs.
    pub(crate) h1_wire: Option<Bytes>,
}

/// Builds every target's request, numbering their endpoints in `endpoints`.
pub(crate) fn prepare_all(
    targets: &[Target],
    endpoints: &mut Vec<Endpoint>,
    keepalive: bool,
) -> Vec<Prepared> {
    targets
        .iter()
        .map(|t| {
            let ep = Endpoint::of(&t.url).unwrap_or(Endpoint {
                https: false,
                host: String::new(),
                port: 80,
            });
            prepare(t, endpoint_index(endpoints, ep), keepalive)
        })
        .collect()
}

/// Builds the request for target `t`, whose endpoint is number `endpoint`.
fn prepare(t: &Target, endpoint: usize, keepalive: bool) -> Prepared {
    prepare_parts(
        t.method.clone(),
        t.url.clone(),
        t.headers.clone(),
        t.body.clone(),
        endpoint,
        keepalive,
    )
}

fn prepare_parts(
    method: Method,
    url: Uri,
    headers: HeaderMap,
    body: Bytes,
    endpoint: usize,
    keepalive: bool,
) -> Prepared {
    let path = url
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let mut h1_headers = headers.clone();
    if !h1_headers.contains_key(HOST)
        && let Some(v) = url
            .authority()
            .map(Authority::as_str)
            .and_then(|a| HeaderValue::from_str(a).ok())
    {
        h1_headers.insert(HOST, v);
    }
    if !keepalive {
        h1_headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    let h1_wire = if url.scheme() == Some(&Scheme::HTTP) {
        h1::encode(&method, path.as_str(), &h1_headers, &body)
    } else {
        None
    };
    let path = Uri::from_maybe_shared(Bytes::copy_from_slice(path.as_str().as_bytes()))
        .unwrap_or_else(|_| Uri::from_static("/"));
    let mut h2_headers = headers;
    h2_headers.remove(HOST);
    h2_headers.remove(CONNECTION);
    Prepared {
        method,
        url,
        endpoint,
        path,
        h1_headers,
        h2_headers,
        body,
        h1_wire,
    }
}

/// Resolves a `Location` header against the URL that returned it.
fn resolve_location(base: &Uri, loc: &str) -> Option<Uri> {
    if loc.contains("://") {
        return loc.parse().ok();
    }
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    if let Some(rest) = loc.strip_prefix("//") {
        return format!("{scheme}://{rest}").parse().ok();
    }
    let path = if loc.starts_with('/') {
        loc.to_string()
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{loc}")
    };
    format!("{scheme}://{authority}{path}").parse().ok()
}

/// The number of `ep` in `endpoints`, added when new.
pub(crate) fn endpoint_index(endpoints: &mut Vec<Endpoint>, ep: Endpoint) -> usize {
    endpoints.iter().position(|e| *e == ep).unwrap_or_else(|| {
        endpoints.push(ep);
        endpoints.len() - 1
    })
}

/// The request a `status` response with `Location: loc` to `from` leads to, as browsers
/// and Go's client follow it: 307 and 308 repeat the method and body, the others turn
/// into a GET (HEAD stays HEAD) without a body.
pub(crate) fn redirect(
    from: &Prepared,
    status: u16,
    loc: &str,
    endpoints: &mut Vec<Endpoint>,
    keepalive: bool,
) -> Result<Prepared, String> {
    let url = resolve_location(&from.url, loc).ok_or_else(|| format!("bad redirect {loc:?}"))?;
    let (mut method, mut body) = (from.method.clone(), from.body.clone());
    if status != 307 && status != 308 {
        if method != Method::HEAD {
            method = Method::GET;
        }
        body = Bytes::new();
    }
    let ep = Endpoint::of(&url).ok_or_else(|| format!("bad redirect {loc:?}"))?;
    let endpoint = endpoint_index(endpoints, ep);
    let mut headers = from.h2_headers.clone();
    if method == Method::GET {
        headers.remove(CONTENT_LENGTH);
        headers.remove(CONTENT_TYPE);
    }
    Ok(prepare_parts(
        method, url, headers, body, endpoint, keepalive,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_like_browsers() {
        let base: Uri = "http://a:8080/x/y?q=1".parse().unwrap_or_default();
        let r = |l| resolve_location(&base, l).map(|u| u.to_string());
        assert_eq!(r("/z").as_deref(), Some("http://a:8080/z"));
        assert_eq!(r("z").as_deref(), Some("http://a:8080/x/z"));
        assert_eq!(r("https://b/c").as_deref(), Some("https://b/c"));
        assert_eq!(r("//c/d").as_deref(), Some("http://c/d"));
    }

    #[test]
    fn redirects_change_the_method_as_browsers_do() {
        let url: Uri = "http://a/x".parse().unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let post = prepare_parts(
            Method::POST,
            url,
            headers,
            Bytes::from_static(b"hi"),
            0,
            true,
        );
        let mut eps = vec![Endpoint::of(&post.url).unwrap_or_else(|| panic!("endpoint"))];
        let r =
            |status, eps: &mut Vec<Endpoint>| redirect(&post, status, "http://b:81/y", eps, true);
        let see_other = r(303, &mut eps).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (see_other.method.as_str(), see_other.body.len()),
            ("GET", 0)
        );
        assert!(!see_other.h2_headers.contains_key(CONTENT_TYPE));
        assert_eq!(see_other.endpoint, 1);
        let temporary = r(307, &mut eps).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (temporary.method.as_str(), temporary.body.len()),
            ("POST", 2)
        );
        assert_eq!((temporary.endpoint, eps.len()), (1, 2));
        assert!(
            temporary
                .h1_wire
                .is_some_and(|w| w.starts_with(b"POST /y HTTP/1.1"))
        );
    }
}
