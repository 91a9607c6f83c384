//! Connections the ISP stage makes itself, one address at a time: TCP under a deadline,
//! TLS with the system's roots (or none, where a CA would not validate either), and what
//! the certificate says: its names and expiry read with x509-parser, and the chain as
//! rustls-webpki validated it.

use crate::facts::isp::CertInfo;
use crate::facts::{ProbeError, ProbeErrorKind};
use crate::sanitize::clean;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The protocols offered to web servers by ALPN, preferred first.
pub const HTTP_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Most certificates of a chain described (a real chain has two or three).
const MAX_CHAIN: usize = 8;

/// TLS settings shared by every request of a run.
#[derive(Clone)]
pub struct Tls {
    /// Validating configuration for HTTPS (system roots, ALPN h2 and http/1.1); `Err`
    /// says why none could be built.
    pub verify: Result<Arc<rustls::ClientConfig>, String>,
    /// Accepts any certificate, for HTTPS: Let's Encrypt follows HTTP-01 redirects to
    /// HTTPS without validating the certificate, and the ACME simulation does the same.
    pub any: Arc<rustls::ClientConfig>,
    /// Accepts any certificate and offers no ALPN: mail servers on implicit TLS.
    pub mail: Arc<rustls::ClientConfig>,
    /// The roots `verify` trusts, to name the chain it validated.
    roots: Arc<rustls::RootCertStore>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl Tls {
    pub fn new() -> Tls {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let loaded = rustls_native_certs::load_native_certs();
        let mut roots = rustls::RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(loaded.certs);
        let verify = if added == 0 {
            Err(format!(
                "no CA certificates found on this host (install ca-certificates){}",
                loaded
                    .errors
                    .first()
                    .map(|e| format!(": {}", clean(&e.to_string())))
                    .unwrap_or_default()
            ))
        } else {
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map(|b| {
                    let mut c = b
                        .with_root_certificates(roots.clone())
                        .with_no_client_auth();
                    c.alpn_protocols = HTTP_ALPN.iter().map(|p| p.to_vec()).collect();
                    Arc::new(c)
                })
                .map_err(|e| format!("TLS setup: {e}"))
        };
        let any_cert = || {
            rustls::ClientConfig::builder_with_provider(provider.clone())
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
                })
        };
        let mut any = any_cert();
        any.alpn_protocols = HTTP_ALPN.iter().map(|p| p.to_vec()).collect();
        Tls {
            verify,
            any: Arc::new(any),
            mail: Arc::new(any_cert()),
            roots: Arc::new(roots),
            provider,
        }
    }

    /// The certificates from the leaf's issuer up to the trust anchor, as the system's
    /// roots validate the presented chain; empty when it does not validate (a
    /// configuration that accepts any certificate was used, or the chain is broken).
    fn validated_chain(&self, presented: &[CertificateDer<'_>]) -> Vec<String> {
        let Some((leaf, intermediates)) = presented.split_first() else {
            return Vec::new();
        };
        let Ok(ee) = webpki::EndEntityCert::try_from(leaf) else {
            return Vec::new();
        };
        let Ok(path) = ee.verify_for_usage(
            self.provider.signature_verification_algorithms.all,
            &self.roots.roots,
            intermediates,
            UnixTime::now(),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        ) else {
            return Vec::new();
        };
        let mut chain: Vec<String> = path
            .intermediate_certificates()
            .map(|c| name_text(c.subject()))
            .collect();
        chain.push(name_text(path.anchor().subject.as_ref()));
        chain.truncate(MAX_CHAIN);
        chain
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

fn err(kind: ProbeErrorKind, msg: impl Into<String>) -> ProbeError {
    ProbeError::new(kind, msg)
}

/// Connect to `addr` within the deadline; a timeout is reported as `Timeout` (the ACME
/// simulation distinguishes it from a refused connection).
pub async fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, ProbeError> {
    match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(err(
            crate::probe::io_kind(&e),
            format!("connect to {addr}: {e}"),
        )),
        Err(_) => Err(err(
            ProbeErrorKind::Timeout,
            format!("connect to {addr}: timed out"),
        )),
    }
}

/// TLS over `tcp` with `host` as SNI: the stream (its ALPN protocol is the server's
/// choice) and the leaf certificate, with the chain when `config` is `tls`'s validating
/// one.
pub async fn tls_connect(
    tcp: TcpStream,
    config: Arc<rustls::ClientConfig>,
    tls: Option<&Tls>,
    host: &str,
    deadline: Instant,
) -> Result<(TlsStream<TcpStream>, Option<CertInfo>), ProbeError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| err(ProbeErrorKind::Failed, format!("TLS name {host}: {e}")))?;
    let validator = tls.filter(|t| t.verify.as_ref().is_ok_and(|v| Arc::ptr_eq(v, &config)));
    let connector = TlsConnector::from(config);
    let stream = crate::probe::before(
        deadline,
        connector.connect(name, tcp),
        |e| format!("TLS handshake: {}", clean(&e.to_string())),
        "TLS handshake: timed out",
    )
    .await?;
    let presented = stream.get_ref().1.peer_certificates().unwrap_or(&[]);
    let cert = presented.first().map(|leaf| {
        let mut info = cert_info(leaf.as_ref());
        if let Some(t) = validator {
            info.chain = t.validated_chain(presented);
        }
        info
    });
    Ok((stream, cert))
}

/// TLS over `tcp` for a protocol that needs only the byte stream (SMTP); the
/// certificate is not validated.
pub async fn tls_wrap(
    tcp: TcpStream,
    config: Arc<rustls::ClientConfig>,
    host: &str,
    deadline: Instant,
) -> Result<(Box<dyn Io>, Option<CertInfo>), ProbeError> {
    let (stream, cert) = tls_connect(tcp, config, None, host, deadline).await?;
    Ok((Box::new(stream), cert))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Names, expiry and fingerprint of a certificate; fields that cannot be read stay
/// empty (the certificate comes from the server: it may be anything).
pub fn cert_info(der: &[u8]) -> CertInfo {
    let mut info = CertInfo {
        names: Vec::new(),
        not_after: None,
        sha256: hex(&Sha256::digest(der)),
        chain: Vec::new(),
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return info;
    };
    info.not_after = utc_text(cert.validity().not_after.timestamp());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        use x509_parser::extensions::GeneralName;
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => info.names.push(clean(n)),
                GeneralName::IPAddress(b) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*b) {
                        info.names.push(IpAddr::from(v4).to_string());
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*b) {
                        info.names.push(IpAddr::from(v6).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    info
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a Unix time; `None` outside what humantime prints
/// (years 1970 to 9999).
fn utc_text(secs: i64) -> Option<String> {
    let secs = u64::try_from(secs).ok()?;
    let t = SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))?;
    if secs > 253_402_300_799 {
        return None;
    }
    let text = humantime::format_rfc3339_seconds(t).to_string();
    let (date, time) = text.trim_end_matches('Z').split_once('T')?;
    Some(format!("{date} {time} UTC"))
}

/// A distinguished name as text (`CN=dsdoctor lab CA`), from its DER contents without
/// the outer SEQUENCE header (how webpki hands subjects over).
fn name_text(contents: &[u8]) -> String {
    let mut der = vec![0x30];
    let len = contents.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        der.push(0x80 | bytes.len() as u8);
        der.extend(bytes);
    }
    der.extend_from_slice(contents);
    use x509_parser::prelude::FromDer;
    match x509_parser::x509::X509Name::from_der(&der) {
        Ok((_, name)) => clean(&name.to_string()),
        Err(_) => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[u8] = include_bytes!("../../../tests/fixtures/isp/cert.der");

    #[test]
    fn certificate_names_expiry_and_fingerprint() {
        let c = cert_info(CERT);
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
        for n in 0..CERT.len() {
            let c = cert_info(&CERT[..n]);
            assert!(c.names.is_empty() && c.not_after.is_none());
        }
        assert!(cert_info(b"\x30\x84\xff\xff\xff\xff").names.is_empty());
    }

    #[test]
    fn times_and_names() {
        use crate::testutil::is_inert;
        assert_eq!(
            utc_text(2524607999).as_deref(),
            Some("2049-12-31 23:59:59 UTC")
        );
        assert_eq!(utc_text(-1), None);
        assert_eq!(utc_text(i64::MAX), None);
        let (_, cert) = x509_parser::parse_x509_certificate(CERT).unwrap();
        let issuer = cert.issuer().as_raw();
        // as_raw is the whole SEQUENCE; webpki hands over its contents.
        let contents = &issuer[2..];
        assert_eq!(name_text(contents), clean(&cert.issuer().to_string()));
        for junk in [&[0xff; 300][..], &[0x02, 0x01], &[]] {
            assert!(is_inert(&name_text(junk)));
        }
    }

    #[test]
    fn a_chain_is_named_only_when_it_validates() {
        let tls = Tls::new();
        // The fixture is self-signed and in no system store.
        assert!(
            tls.validated_chain(&[CertificateDer::from(CERT)])
                .is_empty()
        );
        assert!(tls.validated_chain(&[]).is_empty());
        assert!(
            tls.validated_chain(&[CertificateDer::from(&b"junk"[..])])
                .is_empty()
        );
    }

    #[test]
    fn only_web_configurations_offer_h2() {
        let tls = Tls::new();
        assert_eq!(
            tls.any.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        if let Ok(v) = &tls.verify {
            assert_eq!(v.alpn_protocols, tls.any.alpn_protocols);
        }
        assert!(tls.mail.alpn_protocols.is_empty());
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        /// A real certificate mutated, or arbitrary bytes: names and the name text are
        /// inert, and nothing panics.
        #[test]
        fn fuzz_certificates(
            raw in proptest::prop_oneof![
                3 => crate::testutil::inputs::mutated_bytes(CERT),
                1 => crate::testutil::inputs::bytes(600),
            ],
        ) {
            use crate::testutil::is_inert;
            let c = cert_info(&raw);
            assert!(c.names.iter().all(|n| is_inert(n)), "{c:?}");
            assert!(is_inert(&name_text(&raw)));
        }
    }
}
