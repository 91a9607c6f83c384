//! A deliberately small HTTP/1.1 client: one request to one address, the domain as Host
//! and SNI, no redirects followed (they are recorded), certificates validated against
//! the system's roots, the body bounded in size and time and hashed.
//!
//! A general-purpose client would hide exactly what the ISP stage compares: which
//! address answered, over which family, and what came back before any redirect.

use crate::facts::isp::{CertInfo, HttpResponse};
use crate::facts::{ProbeError, ProbeErrorKind};
use crate::sanitize::clean;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};

/// Longest response head read.
pub const MAX_HEAD: usize = 16 * 1024;
/// Longest body read; the rest is not read (the response is marked truncated).
pub const MAX_BODY: usize = 1024 * 1024;

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// TLS settings shared by every request of a run.
#[derive(Clone)]
pub struct Tls {
    /// Validating configuration (system roots); `Err` says why none could be built.
    pub verify: Result<Arc<rustls::ClientConfig>, String>,
    /// Accepts any certificate: Let's Encrypt follows HTTP-01 redirects to HTTPS
    /// without validating the certificate, and the ACME simulation does the same.
    pub any: Arc<rustls::ClientConfig>,
}

impl Tls {
    pub fn new() -> Tls {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verify = (|| {
            let loaded = rustls_native_certs::load_native_certs();
            let mut roots = rustls::RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(loaded.certs);
            if added == 0 {
                return Err(format!(
                    "no CA certificates found on this host (install ca-certificates){}",
                    loaded
                        .errors
                        .first()
                        .map(|e| format!(": {}", clean(&e.to_string())))
                        .unwrap_or_default()
                ));
            }
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map(|b| {
                    Arc::new(
                        b.with_root_certificates(roots.clone())
                            .with_no_client_auth(),
                    )
                })
                .map_err(|e| format!("TLS setup: {e}"))
        })();
        let any = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map(|b| {
                b.dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyCert(provider.clone())))
                    .with_no_client_auth()
            })
            // The ring provider supports the default protocol versions: this cannot
            // fail, and if it did the default configuration is still a working client.
            .unwrap_or_else(|_| {
                rustls::ClientConfig::builder()
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyCert(provider.clone())))
                    .with_no_client_auth()
            });
        Tls {
            verify,
            any: Arc::new(any),
        }
    }
}

impl Default for Tls {
    fn default() -> Self {
        Tls::new()
    }
}

#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A parsed `http://` / `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub tls: bool,
    /// Host name, or an address literal without brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    pub fn parse(s: &str) -> Option<Url> {
        let (tls, rest) = if let Some(r) = s.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (false, r)
        } else {
            return None;
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = path.split('#').next().unwrap_or("/");
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let default = if tls { 443 } else { 80 };
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let (h, after) = r.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None if after.is_empty() => default,
                None => return None,
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().ok()?),
                None => (authority.to_string(), default),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        Some(Url {
            tls,
            host: host.to_ascii_lowercase(),
            port,
            path,
        })
    }

    pub fn literal(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `Host` header value: the port only when not the scheme's default.
    pub fn host_header(&self) -> String {
        let h = match self.literal() {
            Some(IpAddr::V6(v6)) => format!("[{v6}]"),
            _ => self.host.clone(),
        };
        if self.port == if self.tls { 443 } else { 80 } {
            h
        } else {
            format!("{h}:{}", self.port)
        }
    }

    pub fn to_string_with_path(&self, path: &str) -> String {
        format!(
            "{}://{}{}",
            if self.tls { "https" } else { "http" },
            self.host_header(),
            path
        )
    }

    /// Resolve a `Location` value against this URL.
    pub fn join(&self, location: &str) -> Option<Url> {
        if location.starts_with("http://") || location.starts_with("https://") {
            return Url::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!(
                "{}://{rest}",
                if self.tls { "https" } else { "http" }
            ));
        }
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            let dir = self.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            format!("{dir}/{location}")
        };
        Some(Url {
            path,
            ..self.clone()
        })
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_string_with_path(&self.path))
    }
}

/// How a request is made.
pub struct Request<'a> {
    pub addr: SocketAddr,
    pub url: &'a Url,
    /// `None`: plain HTTP even for an `https` URL is never wanted; the URL decides.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub accept: &'a str,
    /// Limit for connect + TLS + response head; the body gets what is left of it.
    pub limit: Duration,
    /// How many body bytes to keep for the caller (the rest is only hashed).
    pub keep: usize,
}

pub struct Fetched {
    pub response: HttpResponse,
    pub body: Vec<u8>,
}

fn err(kind: ProbeErrorKind, msg: impl Into<String>) -> ProbeError {
    ProbeError::new(kind, msg)
}

/// Connect to `addr` within the deadline; a timeout is reported as `Timeout` (the ACME
/// simulation distinguishes it from a refused connection).
pub async fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, ProbeError> {
    match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(err(
            match e.kind() {
                std::io::ErrorKind::TimedOut => ProbeErrorKind::Timeout,
                std::io::ErrorKind::PermissionDenied => ProbeErrorKind::Permission,
                _ => ProbeErrorKind::Failed,
            },
            format!("connect to {addr}: {e}"),
        )),
        Err(_) => Err(err(
            ProbeErrorKind::Timeout,
            format!("connect to {addr}: timed out"),
        )),
    }
}

/// Wrap `tcp` in TLS with `host` as SNI; returns the stream and the leaf certificate.
pub async fn tls_wrap(
    tcp: TcpStream,
    config: Arc<rustls::ClientConfig>,
    host: &str,
    deadline: Instant,
) -> Result<(Box<dyn Io>, Option<CertInfo>), ProbeError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| err(ProbeErrorKind::Failed, format!("TLS name {host}: {e}")))?;
    let connector = TlsConnector::from(config);
    let stream = match tokio::time::timeout_at(deadline, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(err(
                ProbeErrorKind::Failed,
                format!("TLS handshake: {}", clean(&e.to_string())),
            ));
        }
        Err(_) => {
            return Err(err(ProbeErrorKind::Timeout, "TLS handshake: timed out"));
        }
    };
    let cert = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| cert_info(c.as_ref()));
    Ok((Box::new(stream), cert))
}

/// One GET request.
pub async fn get(req: &Request<'_>) -> Result<Fetched, ProbeError> {
    let deadline = Instant::now() + req.limit;
    let tcp = connect(req.addr, deadline).await?;
    let (mut io, cert): (Box<dyn Io>, Option<CertInfo>) = if req.url.tls {
        let config = req.tls.clone().ok_or_else(|| {
            err(
                ProbeErrorKind::Missing,
                "HTTPS needs CA certificates, and none were found",
            )
        })?;
        let sni = req.url.host.clone();
        tls_wrap(tcp, config, &sni, deadline).await?
    } else {
        (Box::new(tcp), None)
    };
    let head = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: curl/8.5.0 (dsdoctor/{})\r\nAccept: {}\r\nConnection: close\r\n\r\n",
        req.url.path,
        req.url.host_header(),
        env!("CARGO_PKG_VERSION"),
        req.accept
    );
    match tokio::time::timeout_at(deadline, io.write_all(head.as_bytes())).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(err(ProbeErrorKind::Failed, format!("sending request: {e}"))),
        Err(_) => return Err(err(ProbeErrorKind::Timeout, "sending request: timed out")),
    }
    read_response(&mut io, deadline, req.keep, cert).await
}

/// Read a response from `io`: the head must arrive before `deadline`; the body is read
/// until its end, `MAX_BODY`, or the deadline, whichever comes first.
pub async fn read_response(
    io: &mut (impl AsyncRead + Unpin + ?Sized),
    deadline: Instant,
    keep: usize,
    cert: Option<CertInfo>,
) -> Result<Fetched, ProbeError> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(err(
                ProbeErrorKind::Failed,
                format!("response head longer than {MAX_HEAD} bytes"),
            ));
        }
        match tokio::time::timeout_at(deadline, io.read(&mut chunk)).await {
            Ok(Ok(0)) => {
                return Err(err(
                    ProbeErrorKind::Failed,
                    if buf.is_empty() {
                        "the server closed the connection without answering".to_string()
                    } else {
                        "the server closed the connection in the middle of the response head"
                            .to_string()
                    },
                ));
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => {
                return Err(err(
                    ProbeErrorKind::Failed,
                    format!("reading the response: {}", clean(&e.to_string())),
                ));
            }
            Err(_) => {
                return Err(err(
                    ProbeErrorKind::Timeout,
                    "no complete response head before the timeout",
                ));
            }
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .filter(|_| status_line.starts_with("HTTP/"))
        .ok_or_else(|| {
            err(
                ProbeErrorKind::Failed,
                format!("not an HTTP response: {}", clean(status_line)),
            )
        })?;
    let mut location = None;
    let mut server = None;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "location" => location = Some(clean(v)),
            "server" => server = Some(clean(v)),
            "content-length" => length = v.parse().ok(),
            "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let mut raw: Vec<u8> = buf[head_end..].to_vec();
    let no_body = status / 100 == 1 || status == 204 || status == 304;
    let mut truncated = false;
    if !no_body {
        loop {
            if let (Some(n), false) = (length, chunked) {
                if raw.len() >= n {
                    raw.truncate(n);
                    break;
                }
            }
            if chunked && find(&raw, b"0\r\n\r\n").is_some() && chunked_complete(&raw) {
                break;
            }
            if raw.len() >= MAX_BODY {
                raw.truncate(MAX_BODY);
                truncated = true;
                break;
            }
            match tokio::time::timeout_at(deadline, io.read(&mut chunk)).await {
                Ok(Ok(0)) => break,
                Ok(Ok(n)) => raw.extend_from_slice(&chunk[..n]),
                // A TLS peer that closes without close_notify, or a reset after the
                // body: what was read stands.
                Ok(Err(_)) => break,
                Err(_) => {
                    truncated = true;
                    break;
                }
            }
        }
        if let (Some(n), false) = (length, chunked) {
            if raw.len() < n {
                truncated = true;
            }
        }
    }
    let body = if chunked && !no_body {
        dechunk(&raw)
    } else if no_body {
        Vec::new()
    } else {
        raw
    };
    let hash = hex(&Sha256::digest(&body));
    Ok(Fetched {
        response: HttpResponse {
            status,
            location,
            server,
            body_len: body.len() as u64,
            body_truncated: truncated,
            body_sha256: hash,
            cert,
        },
        body: body.into_iter().take(keep).collect(),
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether a chunked body has reached its last chunk.
fn chunked_complete(raw: &[u8]) -> bool {
    let mut rest = raw;
    loop {
        let Some(i) = find(rest, b"\r\n") else {
            return false;
        };
        let size_text = String::from_utf8_lossy(&rest[..i]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
        else {
            return true; // malformed: stop reading, keep what came
        };
        if size == 0 {
            return true;
        }
        // A hostile size (ffffffffffffffff) must not overflow: such a chunk never ends.
        let end = (i + 2).saturating_add(size).saturating_add(2);
        if rest.len() < end {
            return false;
        }
        rest = &rest[end..];
    }
}

fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(i) = find(rest, b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..i]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        if size == 0 {
            break;
        }
        let start = i + 2;
        let end = start.saturating_add(size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        let next = start.saturating_add(size).saturating_add(2);
        if rest.len() < next {
            break;
        }
        rest = &rest[next..];
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ------------------------------------------------------------------ certificates (DER)

/// One DER element: (tag, content, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    if b.len() < end {
        return None;
    }
    Some((tag, &b[hdr..end], &b[end..]))
}

/// Names, expiry and fingerprint of a certificate; fields that cannot be read stay empty.
pub fn cert_info(der: &[u8]) -> CertInfo {
    let (names, not_after) = parse_cert(der).unwrap_or_default();
    CertInfo {
        names,
        not_after,
        sha256: hex(&Sha256::digest(der)),
    }
}

fn parse_cert(der: &[u8]) -> Option<(Vec<String>, Option<String>)> {
    let (_, cert, _) = tlv(der)?;
    let (_, tbs, _) = tlv(cert)?;
    let mut rest = tbs;
    // [0] version (optional)
    let (tag, _, r) = tlv(rest)?;
    if tag == 0xa0 {
        rest = r;
    }
    let (_, _, r) = tlv(rest)?; // serial
    let (_, _, r) = tlv(r)?; // signature algorithm
    let (_, _, r) = tlv(r)?; // issuer
    let (_, validity, r) = tlv(r)?;
    let (_, _, vr) = tlv(validity)?; // notBefore
    let (t, not_after, _) = tlv(vr)?;
    let not_after = time_text(t, not_after);
    let (_, _, r) = tlv(r)?; // subject
    let (_, _, mut r) = tlv(r)?; // subject public key info
    let mut names = Vec::new();
    while let Some((tag, content, next)) = tlv(r) {
        if tag == 0xa3 {
            let (_, exts, _) = tlv(content)?;
            let mut e = exts;
            while let Some((_, ext, enext)) = tlv(e) {
                let (_, oid, mut er) = tlv(ext)?;
                if oid == [0x55, 0x1d, 0x11] {
                    if let Some((0x01, _, after)) = tlv(er) {
                        er = after; // critical flag
                    }
                    let (_, octets, _) = tlv(er)?;
                    let (_, seq, _) = tlv(octets)?;
                    let mut g = seq;
                    while let Some((gt, gv, gnext)) = tlv(g) {
                        if gt == 0x82 {
                            names.push(clean(&String::from_utf8_lossy(gv)));
                        } else if gt == 0x87 {
                            match gv.len() {
                                4 => names
                                    .push(IpAddr::from(<[u8; 4]>::try_from(gv).ok()?).to_string()),
                                16 => names
                                    .push(IpAddr::from(<[u8; 16]>::try_from(gv).ok()?).to_string()),
                                _ => {}
                            }
                        }
                        g = gnext;
                    }
                }
                e = enext;
            }
        }
        r = next;
    }
    Some((names, not_after))
}

fn time_text(tag: u8, v: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(v).ok()?;
    let full = match tag {
        0x17 if s.len() >= 12 => {
            let yy: u32 = s[..2].parse().ok()?;
            format!("{}{}", if yy >= 50 { 19 } else { 20 }, s)
        }
        0x18 if s.len() >= 14 => s.to_string(),
        _ => return None,
    };
    if !full[..14].chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!(
        "{}-{}-{} {}:{}:{} UTC",
        &full[..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn urls() {
        let u = Url::parse("https://ifconfig.co/").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.path.as_str()),
            (true, "ifconfig.co", 443, "/")
        );
        let u = Url::parse("http://[2001:db8::1]:8080/x?y").unwrap();
        assert_eq!(u.literal(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(u.port, 8080);
        assert_eq!(u.host_header(), "[2001:db8::1]:8080");
        assert_eq!(u.path, "/x?y");
        let u = Url::parse("http://Shop.Example").unwrap();
        assert_eq!(u.to_string(), "http://shop.example/");
        assert_eq!(
            u.join("https://shop.example/a").unwrap().to_string(),
            "https://shop.example/a"
        );
        assert_eq!(u.join("/b").unwrap().to_string(), "http://shop.example/b");
        assert!(Url::parse("ftp://x").is_none());
        assert!(Url::parse("http://[::1/").is_none());
    }

    #[test]
    fn chunks() {
        let raw = b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\n";
        assert!(chunked_complete(raw));
        assert_eq!(dechunk(raw), b"Wikipedia");
        assert!(!chunked_complete(b"4\r\nWi"));
    }

    async fn respond(payload: &'static [u8], then_hang: bool) -> Fetched {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let _ = server.write_all(payload).await;
            if then_hang {
                // An endless body: keep sending until the reader goes away.
                loop {
                    if server.write_all(&[b'x'; 4096]).await.is_err() {
                        break;
                    }
                }
            }
        });
        let deadline = Instant::now() + Duration::from_millis(500);
        read_response(&mut client, deadline, 64, None)
            .await
            .expect("response")
    }

    #[tokio::test]
    async fn content_length_and_redirect() {
        let f = respond(
            b"HTTP/1.1 301 Moved\r\nLocation: https://x.example/\x1b[31m\r\nContent-Length: 3\r\n\r\nabcdef",
            false,
        )
        .await;
        assert_eq!(f.response.status, 301);
        assert_eq!(
            f.response.location.as_deref(),
            Some("https://x.example/[31m")
        );
        assert_eq!(f.response.body_len, 3);
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
        let (mut client, mut server) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            let _ = server
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nab")
                .await;
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(server);
        });
        let t = std::time::Instant::now();
        let deadline = Instant::now() + Duration::from_millis(300);
        let f = read_response(&mut client, deadline, 10, None)
            .await
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(f.response.body_truncated);
        assert_eq!(f.body, b"ab");
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let (mut client, _server) = tokio::io::duplex(1024);
        let deadline = Instant::now() + Duration::from_millis(200);
        let e = match read_response(&mut client, deadline, 10, None).await {
            Err(e) => e,
            Ok(_) => panic!("no answer must be an error"),
        };
        assert_eq!(e.kind, ProbeErrorKind::Timeout);
    }

    #[test]
    fn certificate_names_expiry_and_fingerprint() {
        let der = include_bytes!("../../../tests/fixtures/isp/cert.der");
        let c = cert_info(der);
        assert_eq!(
            c.names,
            vec![
                "shop.example",
                "www.shop.example",
                "192.0.2.1",
                "2001:db8::1"
            ]
        );
        assert_eq!(c.not_after.as_deref(), Some("2036-11-20 18:36:42 UTC"));
        assert_eq!(
            c.sha256,
            "2f22619db65669cbd992e1393f587722a4c1605c672013ccfb7dad43bc587150"
        );
        // Garbage and truncated input give empty fields, never a panic.
        for n in 0..der.len() {
            let _ = cert_info(&der[..n]);
        }
        assert!(cert_info(b"\x30\x84\xff\xff\xff\xff").names.is_empty());
    }

    #[test]
    fn time_texts() {
        assert_eq!(
            time_text(0x17, b"491231235959Z").as_deref(),
            Some("2049-12-31 23:59:59 UTC")
        );
        assert_eq!(
            time_text(0x18, b"21260101000000Z").as_deref(),
            Some("2126-01-01 00:00:00 UTC")
        );
    }

    /// Found by `fuzz_response_parsing`: a chunk size of 2^64-1 overflowed the chunk
    /// arithmetic (a panic in debug builds, a slice out of range in release).
    #[test]
    fn huge_chunk_size_does_not_overflow() {
        let raw = b"ffffffffffffffff\r\nabc\r\n0\r\n\r\n";
        assert!(!chunked_complete(raw));
        assert_eq!(dechunk(raw), b"abc\r\n0\r\n\r\n");
        let rt = crate::testutil::runtime();
        let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n";
        let f = rt
            .block_on(async {
                let mut r: &[u8] = resp;
                read_response(&mut r, Instant::now() + Duration::from_secs(1), 64, None).await
            })
            .unwrap();
        assert_eq!(f.response.status, 200);
    }

    #[test]
    fn fuzz_response_parsing() {
        use crate::testutil::{fuzz_rounds, is_inert};
        let rt = crate::testutil::runtime();
        fuzz_rounds("http", 0x4774_5000_0001, 30, |rng, round, mut raw| {
            if round % 3 == 2 {
                // A valid status line, then anything.
                raw.splice(0..0, b"HTTP/1.1 200 OK\r\n".iter().copied());
            }
            let keep = rng.below(300);
            let got = rt.block_on(async {
                let deadline = Instant::now() + Duration::from_secs(5);
                let mut r: &[u8] = &raw;
                read_response(&mut r, deadline, keep, None).await
            });
            match got {
                Ok(f) => {
                    let r = &f.response;
                    assert!(r.location.as_deref().is_none_or(is_inert), "{r:?}");
                    assert!(r.server.as_deref().is_none_or(is_inert), "{r:?}");
                    assert!(r.body_len as usize <= raw.len().max(MAX_BODY));
                    assert!(f.body.len() <= keep);
                }
                Err(e) => assert!(is_inert(&e.message), "{:?}", e.message),
            }
            let _ = chunked_complete(&raw);
            let _ = dechunk(&raw);
            let _ = Url::parse(&String::from_utf8_lossy(&raw));
            if let Some(u) = Url::parse("https://shop.example/a/b") {
                let _ = u.join(&String::from_utf8_lossy(&raw));
            }
            let _ = cert_info(&raw);
        });
    }
}
