//! One GET request to one address: hyper's connection API over a socket connected here
//! (`conn`), the domain as Host (or `:authority`) and SNI, no redirects followed (they
//! are recorded), certificates validated against the system's roots, the head and the
//! body bounded in size and time, the body hashed. Over TLS, ALPN offers h2 and
//! http/1.1 and the server's choice picks hyper's `http2` or `http1` connection.
//!
//! A pooled client would hide exactly what the ISP stage compares: which address
//! answered, over which family and protocol, and what came back before any redirect.

use super::conn::{Tls, connect, tls_connect};
use crate::facts::isp::{CertInfo, HttpProtocol, HttpResponse};
use crate::facts::{ProbeError, ProbeErrorKind};
use crate::probe::ConnTask;
use crate::sanitize::clean;
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper_util::rt::{TokioExecutor, TokioIo};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::time::Instant;

pub use super::conn::hex;

/// Longest response head read (status line and headers; HTTP/2: the header list).
pub const MAX_HEAD: usize = 16 * 1024;
/// Longest body read; the rest is not read (the response is marked truncated).
pub const MAX_BODY: usize = 1024 * 1024;

/// An `http://` or `https://` URL with a host, as the `url` crate parses it (WHATWG
/// rules: host lowercased, IPv6 literals in brackets, dot segments resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url(url::Url);

impl Url {
    /// `None` for another scheme, or a URL without a host.
    pub fn parse(s: &str) -> Option<Url> {
        url::Url::parse(s).ok().and_then(Url::checked)
    }

    /// `scheme://host:port/path` for a site (`host` a name or an address literal).
    pub fn site(tls: bool, host: &str, port: u16, path: &str) -> Option<Url> {
        let host = match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
            _ => host.to_string(),
        };
        Url::parse(&format!(
            "{}://{host}:{port}{path}",
            if tls { "https" } else { "http" }
        ))
    }

    fn checked(mut u: url::Url) -> Option<Url> {
        if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
            return None;
        }
        u.set_fragment(None);
        Some(Url(u))
    }

    pub fn tls(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// Host name, or an address literal without brackets.
    pub fn host(&self) -> String {
        match self.0.host() {
            Some(url::Host::Ipv6(v6)) => v6.to_string(),
            Some(h) => h.to_string(),
            None => String::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.0
            .port_or_known_default()
            .unwrap_or(if self.tls() { 443 } else { 80 })
    }

    /// Path and query, starting with `/`.
    pub fn path(&self) -> String {
        match self.0.query() {
            Some(q) => format!("{}?{q}", self.0.path()),
            None => self.0.path().to_string(),
        }
    }

    pub fn literal(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        }
    }

    /// `Host` header value: the port only when not the scheme's default.
    pub fn host_header(&self) -> String {
        let h = self.0.host_str().unwrap_or_default();
        match self.0.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        }
    }

    /// The same URL with another path (and query).
    pub fn with_path(&self, path: &str) -> Option<Url> {
        self.join(&format!("/{}", path.trim_start_matches('/')))
    }

    /// Resolve a `Location` value against this URL; `None` when it leads to anything
    /// but HTTP(S).
    pub fn join(&self, location: &str) -> Option<Url> {
        self.0.join(location).ok().and_then(Url::checked)
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// How a request is made.
pub struct Request<'a> {
    pub addr: SocketAddr,
    pub url: &'a Url,
    /// The TLS settings for an `https` URL; `None` refuses HTTPS (plain HTTP for an
    /// `https` URL is never wanted).
    pub tls: Option<&'a Tls>,
    /// Accept any certificate (the ACME simulation, as the CA does); otherwise the
    /// system's roots validate it.
    pub any_cert: bool,
    pub accept: &'a str,
    /// Limit for connect + TLS + response head; the body gets what is left of it.
    pub limit: Duration,
    /// How many body bytes to keep for the caller (the rest is only hashed).
    pub keep: usize,
    /// Bytes of a padding header, so the request itself spans full-size packets (the
    /// NAT64 path's MTU); 0 for none.
    pub pad: usize,
}

pub struct Fetched {
    pub response: HttpResponse,
    pub body: Vec<u8>,
}

fn err(kind: ProbeErrorKind, msg: impl Into<String>) -> ProbeError {
    ProbeError::new(kind, msg)
}

/// One GET request.
pub async fn get(req: &Request<'_>) -> Result<Fetched, ProbeError> {
    let deadline = Instant::now() + req.limit;
    let tcp = connect(req.addr, deadline).await?;
    if !req.url.tls() {
        return exchange(TokioIo::new(tcp), HttpProtocol::Http1, req, deadline, None).await;
    }
    let tls = req.tls;
    let config = tls
        .and_then(|t| {
            if req.any_cert {
                Some(t.any.clone())
            } else {
                t.verify.clone().ok()
            }
        })
        .ok_or_else(|| {
            err(
                ProbeErrorKind::Missing,
                "HTTPS needs CA certificates, and none were found",
            )
        })?;
    let (stream, cert) = tls_connect(tcp, config, tls, &req.url.host(), deadline).await?;
    let protocol = match stream.get_ref().1.alpn_protocol() {
        Some(b"h2") => HttpProtocol::H2,
        _ => HttpProtocol::Http1,
    };
    exchange(TokioIo::new(stream), protocol, req, deadline, cert).await
}

/// The request over an established connection speaking `protocol`: the head must
/// arrive before `deadline`; the body is read until its end, `MAX_BODY`, or the
/// deadline, whichever comes first.
async fn exchange<T>(
    io: T,
    protocol: HttpProtocol,
    req: &Request<'_>,
    deadline: Instant,
    cert: Option<CertInfo>,
) -> Result<Fetched, ProbeError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let request = build(req, protocol)?;
    let head = async {
        match protocol {
            HttpProtocol::Http1 => {
                // Header names as curl writes them (`Host:`): the User-Agent says curl,
                // and a server that matches names case-sensitively sees what it expects.
                let (mut send, conn) = hyper::client::conn::http1::Builder::new()
                    .title_case_headers(true)
                    .max_header_size(MAX_HEAD)
                    .handshake::<_, Empty<Bytes>>(io)
                    .await?;
                let task = ConnTask::drive(conn);
                Ok((send.send_request(request).await?, task))
            }
            HttpProtocol::H2 => {
                let (mut send, conn) =
                    hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                        .max_header_list_size(MAX_HEAD as u32)
                        .handshake::<_, Empty<Bytes>>(io)
                        .await?;
                let task = ConnTask::drive(conn);
                Ok((send.send_request(request).await?, task))
            }
        }
    };
    let (response, _task) = crate::probe::before(
        deadline,
        head,
        |e| hyper_error(&e, protocol),
        "no complete response head before the timeout",
    )
    .await?;
    let status = response.status().as_u16();
    let headers = response.headers();
    let location = text(headers, header::LOCATION);
    let server = text(headers, header::SERVER);
    let length: Option<u64> = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let (body, truncated) = read_body(response.into_body(), deadline, length).await;
    let hash = hex(&Sha256::digest(&body));
    let content_sketch = super::sketch::sketch(&body);
    Ok(Fetched {
        response: HttpResponse {
            status,
            location,
            server,
            body_len: body.len() as u64,
            body_truncated: truncated,
            body_sha256: hash,
            content_sketch,
            cert,
            protocol: Some(protocol),
        },
        body: body.into_iter().take(req.keep).collect(),
    })
}

fn build(
    req: &Request<'_>,
    protocol: HttpProtocol,
) -> Result<hyper::Request<Empty<Bytes>>, ProbeError> {
    let b = hyper::Request::builder()
        .method(hyper::Method::GET)
        .header(
            header::USER_AGENT,
            concat!("curl/8.5.0 (dsdoctor/", env!("CARGO_PKG_VERSION"), ")"),
        )
        .header(header::ACCEPT, req.accept);
    // HTTP/1.1 names the host in a header and the path alone on the request line;
    // HTTP/2 takes both from the URI (`:authority`, `:path`), and forbids
    // connection-specific headers.
    let b = match protocol {
        HttpProtocol::Http1 => b
            .uri(req.url.path())
            .header(header::HOST, req.url.host_header())
            .header(header::CONNECTION, "close"),
        HttpProtocol::H2 => b.uri(req.url.to_string()),
    };
    let b = if req.pad > 0 {
        b.header("X-Padding", "x".repeat(req.pad))
    } else {
        b
    };
    b.body(Empty::new()).map_err(|e| {
        err(
            ProbeErrorKind::Failed,
            format!("request for {}: {}", clean(&req.url.to_string()), e),
        )
    })
}

/// A header's value as text fit for a terminal.
fn text(headers: &HeaderMap<HeaderValue>, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| clean(String::from_utf8_lossy(v.as_bytes()).trim()))
}

/// The body up to `MAX_BODY`, and whether it was cut: longer than that, not over by the
/// deadline, or shorter than its `Content-Length` said.
async fn read_body(mut body: Incoming, deadline: Instant, length: Option<u64>) -> (Vec<u8>, bool) {
    let mut raw: Vec<u8> = Vec::new();
    let mut truncated = false;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(None) => break,
            Ok(Some(Ok(frame))) => {
                let Ok(data) = frame.into_data() else {
                    continue; // trailers
                };
                let room = MAX_BODY - raw.len();
                if data.len() > room {
                    raw.extend_from_slice(&data[..room]);
                    truncated = true;
                    break;
                }
                raw.extend_from_slice(&data);
            }
            // A TLS peer that closes without close_notify, a reset after the body, a
            // malformed chunk: what was read stands.
            Ok(Some(Err(_))) => break,
            Err(_) => {
                truncated = true;
                break;
            }
        }
    }
    if length.is_some_and(|n| (raw.len() as u64) < n) {
        truncated = true;
    }
    (raw, truncated)
}

/// What went wrong before a response head, in words (hyper's own are terse, and the
/// cause of an I/O error is in its source).
fn hyper_error(e: &hyper::Error, protocol: HttpProtocol) -> String {
    // hyper's `is_parse_too_large` exists for servers only; its message is stable.
    if e.is_parse() && e.to_string().contains("too large") {
        return format!("response head longer than {MAX_HEAD} bytes");
    }
    if e.is_incomplete_message() {
        return "the server closed the connection before a complete response head".into();
    }
    let mut text = if e.is_parse() {
        format!("not an HTTP response ({e})")
    } else {
        format!("{} exchange: {e}", protocol.name())
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    clean(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn urls() {
        let u = Url::parse("https://ifconfig.co/").unwrap();
        assert_eq!(
            (u.tls(), u.host().as_str(), u.port(), u.path().as_str()),
            (true, "ifconfig.co", 443, "/")
        );
        let u = Url::parse("http://[2001:db8::1]:8080/x?y#frag").unwrap();
        assert_eq!(u.literal(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(u.port(), 8080);
        assert_eq!(u.host(), "2001:db8::1");
        assert_eq!(u.host_header(), "[2001:db8::1]:8080");
        assert_eq!(u.path(), "/x?y");
        assert_eq!(u.to_string(), "http://[2001:db8::1]:8080/x?y");
        let u = Url::parse("http://Shop.Example").unwrap();
        assert_eq!(u.to_string(), "http://shop.example/");
        assert_eq!(u.host_header(), "shop.example");
        assert_eq!(
            u.join("https://shop.example/a").unwrap().to_string(),
            "https://shop.example/a"
        );
        assert_eq!(u.join("/b").unwrap().to_string(), "http://shop.example/b");
        assert_eq!(
            u.join("//cdn.example/c").unwrap().to_string(),
            "http://cdn.example/c"
        );
        assert_eq!(
            Url::parse("https://shop.example/a/b/c")
                .unwrap()
                .join("../d")
                .unwrap()
                .to_string(),
            "https://shop.example/a/d"
        );
        assert!(u.join("mailto:x@shop.example").is_none());
        assert!(Url::parse("ftp://x").is_none());
        assert!(Url::parse("http://[::1/").is_none());
        assert!(
            Url::parse("http:///").is_none()
                || Url::parse("http:///").is_some_and(|u| !u.host().is_empty())
        );
        let s = Url::site(true, "shop.example", 443, "/").unwrap();
        assert_eq!(s.to_string(), "https://shop.example/");
        let s = Url::site(false, "2001:db8::1", 8080, "/x").unwrap();
        assert_eq!(s.to_string(), "http://[2001:db8::1]:8080/x");
        assert_eq!(
            Url::parse("http://198.51.100.10:8080/")
                .unwrap()
                .with_path("/port/80")
                .unwrap()
                .to_string(),
            "http://198.51.100.10:8080/port/80"
        );
    }

    /// A server on the other end of an in-memory stream: it reads the request, writes
    /// `payload`, then (with `then_hang`) an endless body until the reader goes away.
    async fn serve(
        payload: Vec<u8>,
        then_hang: bool,
        protocol: HttpProtocol,
        keep: usize,
        limit: Duration,
    ) -> (Result<Fetched, ProbeError>, Vec<u8>) {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut request = vec![0u8; 4096];
            let n = tokio::time::timeout(Duration::from_millis(200), server.read(&mut request))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(0);
            let _ = tx.send(request[..n].to_vec());
            let _ = server.write_all(&payload).await;
            if then_hang {
                while server.write_all(&[b'x'; 4096]).await.is_ok() {}
            } else {
                // Hold the stream open a moment, as a server finishing its response.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let url = Url::parse("http://shop.example/").unwrap();
        let req = test_request(&url, "192.0.2.1:80", limit, keep);
        let got = exchange(
            TokioIo::new(client),
            protocol,
            &req,
            Instant::now() + limit,
            None,
        )
        .await;
        (got, rx.await.unwrap_or_default())
    }

    /// A plain request for `url` to `addr`, as the probes make them.
    fn test_request<'a>(url: &'a Url, addr: &str, limit: Duration, keep: usize) -> Request<'a> {
        Request {
            addr: addr.parse().unwrap(),
            url,
            tls: None,
            any_cert: false,
            accept: "*/*",
            limit,
            keep,
            pad: 0,
        }
    }

    /// `serve` over HTTP/1.1 with nothing after `payload` and half a second to answer.
    async fn serve1(payload: Vec<u8>, keep: usize) -> (Result<Fetched, ProbeError>, Vec<u8>) {
        serve(
            payload,
            false,
            HttpProtocol::Http1,
            keep,
            Duration::from_millis(500),
        )
        .await
    }

    async fn respond(payload: &[u8], then_hang: bool) -> Fetched {
        serve(
            payload.to_vec(),
            then_hang,
            HttpProtocol::Http1,
            64,
            Duration::from_millis(500),
        )
        .await
        .0
        .unwrap_or_else(|e| panic!("no response: {}", e.message))
    }

    #[tokio::test]
    async fn request_names_the_host_and_closes() {
        let (got, request) = serve1(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(), 0).await;
        let request = String::from_utf8_lossy(&request).to_ascii_lowercase();
        assert!(request.starts_with("get / http/1.1\r\n"), "{request}");
        assert!(request.contains("host: shop.example\r\n"), "{request}");
        assert!(request.contains("connection: close\r\n"), "{request}");
        assert!(
            request.contains("user-agent: curl/8.5.0 (dsdoctor/"),
            "{request}"
        );
        let f = got.unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(f.response.status, 204);
        assert_eq!(f.response.protocol, Some(HttpProtocol::Http1));
    }

    #[tokio::test]
    async fn content_length_and_redirect() {
        // U+009B is the one-byte CSI of terminals: the cleaned text drops it.
        let f = respond(
            "HTTP/1.1 301 Moved\r\nLocation: https://x.example/\u{9b}31m\r\nContent-Length: 3\r\n\r\nabcdef"
                .as_bytes(),
            false,
        )
        .await;
        assert_eq!(f.response.status, 301);
        assert_eq!(
            f.response.location.as_deref(),
            Some("https://x.example/31m")
        );
        assert_eq!(f.response.body_len, 3);
        assert!(!f.response.body_truncated);
    }

    #[tokio::test]
    async fn control_characters_in_a_header_are_no_response() {
        let (got, _) = serve1(
            b"HTTP/1.1 301 Moved\r\nLocation: https://x.example/\x1b[31m\r\n\r\n".to_vec(),
            0,
        )
        .await;
        let e = got.err().expect("an escape in a header is not HTTP");
        assert!(
            e.message.starts_with("not an HTTP response"),
            "{}",
            e.message
        );
        assert!(crate::testutil::is_inert(&e.message));
    }

    #[tokio::test]
    async fn chunked_body_is_decoded() {
        let f = respond(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\n",
            false,
        )
        .await;
        assert_eq!(f.body, b"Wikipedia");
        assert!(!f.response.body_truncated);
    }

    #[tokio::test]
    async fn endless_body_is_bounded() {
        let t = std::time::Instant::now();
        let f = respond(b"HTTP/1.1 200 OK\r\n\r\n", true).await;
        assert!(f.response.body_truncated);
        assert_eq!(f.response.body_len as usize, MAX_BODY);
        assert!(t.elapsed() < Duration::from_secs(3));
        assert_eq!(f.body.len(), 64);
    }

    #[tokio::test]
    async fn slow_body_stops_at_the_deadline() {
        let (client, mut server) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let _ = server.read(&mut buf).await;
            let _ = server
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nab")
                .await;
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(server);
        });
        let url = Url::parse("http://shop.example/").unwrap();
        let req = test_request(&url, "192.0.2.1:80", Duration::from_millis(300), 10);
        let t = std::time::Instant::now();
        let deadline = Instant::now() + Duration::from_millis(300);
        let f = exchange(
            TokioIo::new(client),
            HttpProtocol::Http1,
            &req,
            deadline,
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(f.response.body_truncated);
        assert_eq!(f.body, b"ab");
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let (client, _server) = tokio::io::duplex(1024);
        let url = Url::parse("http://shop.example/").unwrap();
        for protocol in [HttpProtocol::Http1, HttpProtocol::H2] {
            let req = test_request(&url, "192.0.2.1:80", Duration::from_millis(200), 10);
            let (client, _server) = tokio::io::duplex(1024);
            let deadline = Instant::now() + Duration::from_millis(200);
            let t = std::time::Instant::now();
            let e = match exchange(TokioIo::new(client), protocol, &req, deadline, None).await {
                Err(e) => e,
                Ok(_) => panic!("no answer must be an error"),
            };
            assert_eq!(e.kind, ProbeErrorKind::Timeout, "{protocol:?}");
            assert!(t.elapsed() < Duration::from_secs(2));
        }
        drop(client);
    }

    #[tokio::test]
    async fn a_huge_head_is_refused() {
        let mut payload = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..2000 {
            payload.extend_from_slice(format!("X-Filler-{i}: yes\r\n").as_bytes());
        }
        payload.extend_from_slice(b"\r\n");
        let (got, _) = serve1(payload, 0).await;
        let e = got.err().expect("a head over the bound is an error");
        assert!(e.message.contains("longer than 16384"), "{}", e.message);
    }

    /// An HTTP/2 server on the other end of an in-memory stream: it answers the first
    /// request with `headers` extra response headers and `body`, then holds the
    /// connection open; the request's `:authority` and `:path` come back.
    async fn serve_h2(
        headers: usize,
        body: &'static [u8],
    ) -> (Result<Fetched, ProbeError>, String) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let Ok(mut conn) = h2::server::handshake(server).await else {
                return;
            };
            let Some(Ok((request, mut respond))) = conn.accept().await else {
                return;
            };
            let _ = tx.send(format!(
                "{} {}",
                request.uri().authority().map(|a| a.as_str()).unwrap_or(""),
                request.uri().path()
            ));
            let mut response = hyper::Response::builder().status(200);
            for i in 0..headers {
                response = response.header(format!("x-filler-{i}"), "yes");
            }
            if let Ok(mut send) = respond.send_response(response.body(()).unwrap(), false) {
                let _ = send.send_data(Bytes::from_static(body), true);
            }
            // Drive the connection until the client goes away.
            while conn.accept().await.is_some() {}
        });
        let url = Url::parse("https://shop.example/a?b").unwrap();
        let req = test_request(&url, "192.0.2.1:443", Duration::from_secs(2), 64);
        let deadline = Instant::now() + Duration::from_secs(2);
        let got = exchange(TokioIo::new(client), HttpProtocol::H2, &req, deadline, None).await;
        (got, rx.await.unwrap_or_default())
    }

    #[tokio::test]
    async fn an_h2_exchange_names_the_authority_and_reads_the_body() {
        let (got, seen) = serve_h2(0, b"the shop\n").await;
        assert_eq!(seen, "shop.example /a");
        let f = got.unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(f.response.status, 200);
        assert_eq!(f.response.protocol, Some(HttpProtocol::H2));
        assert_eq!(f.body, b"the shop\n");
        assert!(!f.response.body_truncated);
    }

    #[tokio::test]
    async fn an_h2_head_over_the_bound_is_no_response() {
        // 2000 headers are about 40 KiB: more than the 16 KiB the client announced.
        let (got, _) = serve_h2(2000, b"x").await;
        let e = got.err().expect("an h2 head over the bound is an error");
        assert!(crate::testutil::is_inert(&e.message), "{}", e.message);
    }

    /// Found by fuzzing the hand-written client this one replaced: a chunk size of 2^64-1
    /// overflowed the chunk arithmetic. Whatever hyper makes of it, the answer is bounded.
    #[tokio::test]
    async fn huge_chunk_size_does_not_overflow() {
        let (got, _) = serve1(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n"
                .to_vec(), 64).await;
        if let Ok(f) = got {
            assert_eq!(f.response.status, 200);
            assert!(f.response.body_len <= 64);
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        /// Whatever a server sends, over either protocol: a response within the bounds
        /// with inert header values, or an error in inert words. Every third input gets a
        /// valid status line in front; every fifth is served as HTTP/2 frames (hyper's h2
        /// reads them).
        #[test]
        fn fuzz_response_parsing(
            mut raw in crate::testutil::inputs::input("http", 30),
            round in 0usize..15,
            keep in 0usize..300,
        ) {
            use crate::testutil::is_inert;
            if round % 3 == 2 {
                raw.splice(0..0, b"HTTP/1.1 200 OK\r\n".iter().copied());
            }
            let protocol = if round % 5 == 4 {
                HttpProtocol::H2
            } else {
                HttpProtocol::Http1
            };
            let len = raw.len();
            let rt = crate::testutil::runtime();
            let (got, _) = rt.block_on(serve(raw, false, protocol, keep, Duration::from_secs(5)));
            match got {
                Ok(f) => {
                    let r = &f.response;
                    assert!(r.location.as_deref().is_none_or(is_inert), "{r:?}");
                    assert!(r.server.as_deref().is_none_or(is_inert), "{r:?}");
                    assert!(r.body_len as usize <= len.max(MAX_BODY));
                    assert!(f.body.len() <= keep);
                }
                Err(e) => assert!(is_inert(&e.message), "{:?}", e.message),
            }
        }

        /// Any text as a URL or a link relative to a page: a host to connect to, a path,
        /// and a Host header with nothing a terminal would act on.
        #[test]
        fn fuzz_urls(raw in crate::testutil::inputs::input_text("http", 30)) {
            use crate::testutil::is_inert;
            let base = Url::parse("https://shop.example/a/b").unwrap();
            for u in [Url::parse(&raw), base.join(&raw)].into_iter().flatten() {
                assert!(!u.host().is_empty(), "{u}");
                assert!(u.path().starts_with('/'), "{u}");
                assert!(is_inert(&u.host_header()), "{u}");
            }
        }
    }
}
