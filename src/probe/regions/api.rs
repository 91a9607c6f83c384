//! One request to the measurement API: hyper's connection API over a connection made by
//! the ISP stage's `conn` (TCP, TLS with the system's roots), as `probe::isp::http`
//! does, but with a method, a JSON body and the token. One connection per request: the
//! API is asked a few dozen times a run, and a request that fails says which.

use crate::facts::{ProbeError, ProbeErrorKind};
use crate::parse::globalping::MAX_ANSWER;
use crate::probe::ConnTask;
use crate::probe::isp::conn::{Tls, connect, tls_connect};
use crate::probe::isp::http::Url;
use crate::sanitize::clean;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use tokio::time::Instant;

/// The API at a base URL (`https://api.globalping.io/v1`), with an optional token.
pub struct Api {
    base: Url,
    token: Option<String>,
    tls: Tls,
    /// `--resolver`'s servers, which look the API's host up when given.
    resolvers: Vec<std::net::SocketAddr>,
}

/// What came back: the status, `Retry-After` in seconds, the body (bounded).
pub struct Reply {
    pub status: u16,
    pub retry_after_s: Option<u64>,
    pub body: Vec<u8>,
}

fn err(kind: ProbeErrorKind, msg: impl Into<String>) -> ProbeError {
    ProbeError::new(kind, msg)
}

impl Api {
    /// `None` when `base` is not an HTTP(S) URL.
    pub fn new(
        base: &str,
        token: Option<String>,
        resolvers: Vec<std::net::SocketAddr>,
    ) -> Option<Api> {
        let base = Url::parse(base.trim_end_matches('/'))?;
        Some(Api {
            base,
            token: token.filter(|t| !t.is_empty()),
            tls: Tls::new(),
            resolvers,
        })
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The URL of `path` under the base (`/measurements`).
    fn url(&self, path: &str) -> Option<Url> {
        let base = self.base.path();
        let base = base.trim_end_matches('/');
        self.base.with_path(&format!("{base}{path}"))
    }

    async fn addrs(&self, url: &Url, deadline: Instant) -> Result<Vec<SocketAddr>, ProbeError> {
        if let Some(ip) = url.literal() {
            return Ok(vec![SocketAddr::new(ip, url.port())]);
        }
        let host = url.host();
        if !self.resolvers.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let ips = crate::probe::dns::addrs_via(&self.resolvers, &host, left).await?;
            return Ok(ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, url.port()))
                .collect());
        }
        let lookup = tokio::net::lookup_host((host.as_str(), url.port()));
        match tokio::time::timeout_at(deadline, lookup).await {
            Ok(Ok(a)) => Ok(a.collect()),
            Ok(Err(e)) => Err(err(
                ProbeErrorKind::Failed,
                format!("looking up {}: {e}", clean(&host)),
            )),
            Err(_) => Err(err(
                ProbeErrorKind::Timeout,
                "looking up the API: timed out",
            )),
        }
    }

    /// `GET` (no body) or `POST` (a JSON body) of `path`, finished before `deadline`.
    pub async fn request(
        &self,
        path: &str,
        body: Option<Vec<u8>>,
        deadline: Instant,
    ) -> Result<Reply, ProbeError> {
        let url = self
            .url(path)
            .ok_or_else(|| err(ProbeErrorKind::Failed, "the API URL cannot take that path"))?;
        let mut last = err(ProbeErrorKind::Failed, "the API's name has no address");
        for addr in self.addrs(&url, deadline).await? {
            match self.exchange(addr, &url, body.clone(), deadline).await {
                Ok(r) => return Ok(r),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn exchange(
        &self,
        addr: SocketAddr,
        url: &Url,
        body: Option<Vec<u8>>,
        deadline: Instant,
    ) -> Result<Reply, ProbeError> {
        let tcp = connect(addr, deadline).await?;
        let method = if body.is_some() {
            hyper::Method::POST
        } else {
            hyper::Method::GET
        };
        let mut b = hyper::Request::builder()
            .method(method)
            .header(
                header::USER_AGENT,
                concat!("dsdoctor/", env!("CARGO_PKG_VERSION")),
            )
            .header(header::ACCEPT, "application/json");
        if let Some(t) = &self.token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let payload = Full::new(Bytes::from(body.unwrap_or_default()));
        if !url.tls() {
            let req = b
                .uri(url.path())
                .header(header::HOST, url.host_header())
                .body(payload)
                .map_err(|e| err(ProbeErrorKind::Failed, format!("request: {e}")))?;
            return send_http1(TokioIo::new(tcp), req, deadline).await;
        }
        let config = self
            .tls
            .verify
            .clone()
            .map_err(|e| err(ProbeErrorKind::Missing, e))?;
        let (stream, _) = tls_connect(tcp, config, None, &url.host(), deadline).await?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        if h2 {
            let req = b
                .uri(url.to_string())
                .body(payload)
                .map_err(|e| err(ProbeErrorKind::Failed, format!("request: {e}")))?;
            let io = TokioIo::new(stream);
            let work = async {
                let (mut send, conn) =
                    hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                        .max_header_list_size(16 * 1024)
                        .handshake::<_, Full<Bytes>>(io)
                        .await?;
                let task = ConnTask::drive(conn);
                Ok::<_, hyper::Error>((send.send_request(req).await?, task))
            };
            return finish(work, deadline).await;
        }
        let req = b
            .uri(url.path())
            .header(header::HOST, url.host_header())
            .body(payload)
            .map_err(|e| err(ProbeErrorKind::Failed, format!("request: {e}")))?;
        send_http1(TokioIo::new(stream), req, deadline).await
    }
}

async fn send_http1<T>(
    io: T,
    req: hyper::Request<Full<Bytes>>,
    deadline: Instant,
) -> Result<Reply, ProbeError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let work = async {
        let (mut send, conn) = hyper::client::conn::http1::Builder::new()
            .max_header_size(16 * 1024)
            .handshake::<_, Full<Bytes>>(io)
            .await?;
        let task = ConnTask::drive(conn);
        Ok::<_, hyper::Error>((send.send_request(req).await?, task))
    };
    finish(work, deadline).await
}

/// The response head before the deadline, then the body up to `MAX_ANSWER` (a longer
/// one is refused whole: half a JSON document is no answer).
async fn finish(
    work: impl std::future::Future<
        Output = Result<(hyper::Response<hyper::body::Incoming>, ConnTask), hyper::Error>,
    >,
    deadline: Instant,
) -> Result<Reply, ProbeError> {
    let (response, _task) = crate::probe::before(
        deadline,
        work,
        |e| format!("the API's answer: {}", clean(&e.to_string())),
        "the API did not answer in time",
    )
    .await?;
    let status = response.status().as_u16();
    let retry_after_s = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut body = response.into_body();
    let mut raw = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(None) => break,
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if raw.len() + data.len() > MAX_ANSWER {
                        return Err(err(
                            ProbeErrorKind::Failed,
                            format!("the API's answer is longer than {MAX_ANSWER} bytes"),
                        ));
                    }
                    raw.extend_from_slice(&data);
                }
            }
            Ok(Some(Err(e))) => {
                return Err(err(
                    ProbeErrorKind::Failed,
                    format!("the API's answer broke off: {}", clean(&e.to_string())),
                ));
            }
            Err(_) => {
                return Err(err(
                    ProbeErrorKind::Timeout,
                    "the API's answer did not end in time",
                ));
            }
        }
    }
    Ok(Reply {
        status,
        retry_after_s,
        body: raw,
    })
}
