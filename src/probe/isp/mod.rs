//! What the internet sees: egress, public addresses, inbound probes, HTTP parity, SMTP,
//! the ACME HTTP-01 simulation and the home page's subresources.
//!
//! Every request has its own time limit (`--timeout`; the echo service's `/port/N` gets
//! extra headroom for its connect-back), all run concurrently, and each failure becomes
//! a `ProbeError` in the facts, never a hang.

pub mod conn;
pub mod html;
pub mod http;
pub mod nat64;
pub mod sketch;
pub mod smtp;

use crate::facts::isp::*;
use crate::facts::{
    DnsFacts, Link, Listener, ProbeError, ProbeErrorKind, Probed, Route, WebServers,
};
use crate::model::Family;
use crate::options::Options;
use crate::sanitize::clean;
use conn::Tls;
use futures::future::join_all;
use http::Url;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// `--echo-url` default (contract).
pub const DEFAULT_ECHO_URL: &str = "https://ifconfig.co/";
/// `--egress` default: well-known dual-stack anycast resolvers, by address literal so no
/// DNS is needed to test the path.
pub const DEFAULT_EGRESS: &[&str] = &[
    "1.1.1.1:443",
    "8.8.8.8:443",
    "[2606:4700:4700::1111]:443",
    "[2001:4860:4860::8888]:443",
];
/// echoip waits up to 2 s for its connect-back before it answers "not reachable".
pub const CONNECT_BACK_HEADROOM: Duration = Duration::from_secs(3);
/// Body bytes kept of the home page for the subresource scan.
const PAGE_KEEP: usize = 256 * 1024;
/// Most URLs followed in the ACME simulation (Let's Encrypt follows 10 redirects).
const ACME_MAX_URLS: usize = 10;
/// Body bytes kept of a linked stylesheet for its `url()` references.
const CSS_KEEP: usize = 256 * 1024;
/// Most requests of one redirect chain (Let's Encrypt follows 10 redirects).
const REDIRECT_MAX_HOPS: usize = 11;
/// Most other names of the site looked up.
const MAX_SITE_NAMES: usize = 20;
/// Most other hosts of subresources looked up.
const MAX_RESOURCE_HOSTS: usize = 20;

pub fn is_tls_port(p: u16) -> bool {
    matches!(p, 443 | 8443)
}

/// Everything the ISP stage needs, gathered once the DNS answers are known.
/// The probes that need no DNS answer (egress, the echo service) start at once; those
/// that need the site's A/AAAA start when `dns` delivers them, so a dead resolver and a
/// dead uplink cost one timeout together, not one after the other.
pub async fn gather(
    opts: &Options,
    dns: impl std::future::Future<Output = Option<DnsFacts>>,
    web: impl std::future::Future<Output = Option<WebServers>>,
    detours: impl std::future::Future<Output = Vec<Detour>>,
    links: Option<&Vec<Link>>,
    routes: Option<&Vec<Route>>,
    _listeners: Option<&Vec<Listener>>,
) -> Probed<IspFacts> {
    if opts.offline {
        return Probed::err(ProbeErrorKind::NotRun, "not run: --offline");
    }
    let t0 = Instant::now();
    // Reading the system's CA bundle is file I/O: off the async threads.
    let tls = tokio::task::spawn_blocking(Tls::new)
        .await
        .unwrap_or_else(|_| Tls::new());
    let site = async {
        let dns = dns.await;
        let ips = |pick: fn(&DnsFacts) -> &Probed<crate::facts::DnsAnswer>| -> Vec<IpAddr> {
            dns.as_ref()
                .and_then(|d| pick(d).value())
                .map(|d| d.ips())
                .unwrap_or_default()
        };
        let a: Vec<IpAddr> = ips(|d| &d.a);
        let aaaa: Vec<IpAddr> = ips(|d| &d.aaaa);
        let dns64: Vec<std::net::Ipv6Addr> = dns
            .as_ref()
            .and_then(|d| d.dns64.value().cloned())
            .unwrap_or_default();
        // The names in the servers' configuration are looked up while the site is
        // asked; the certificates' names once its answers are in.
        let config_names = async {
            let names: Vec<String> = web
                .await
                .map(|w| w.site_names(None).into_iter().map(|(n, _)| n).collect())
                .unwrap_or_default();
            lookup_names(opts, names).await
        };
        let detours = detours.await;
        let site = Site {
            tls: &tls,
            a: &a,
            aaaa: &aaaa,
            detours: &detours,
        };
        let ((http, smtp, acme, resources, redirects, nat64), mut names) = tokio::join!(
            async {
                tokio::join!(
                    http_all(opts, &site),
                    smtp_all(opts, &site),
                    acme(opts, &site),
                    resources(opts, &site),
                    redirect_all(opts, &site),
                    nat64::gather(opts, &tls, &dns64, links, routes),
                )
            },
            config_names,
        );
        let cert_names: Vec<String> = http
            .iter()
            .filter_map(|p| p.response.value()?.cert.as_ref())
            .flat_map(|c| c.names.iter())
            .filter_map(|n| crate::facts::host_name_of(n))
            .filter(|n| !names.iter().any(|s: &SiteName| s.name == *n))
            .collect();
        names.extend(lookup_names(opts, cert_names).await);
        (
            http, smtp, acme, resources, redirects, names, nat64, detours,
        )
    };
    let (
        egress,
        (echo, inbound),
        (http, smtp, acme, resources, redirects, site_names, nat64, detours),
    ) = tokio::join!(egress_all(opts), echo_all(opts, &tls), site);
    Probed {
        result: Ok(IspFacts {
            egress,
            echo,
            inbound,
            http,
            smtp,
            acme,
            resources,
            nat64,
            redirects,
            site_names,
            detours,
        }),
        ms: t0.elapsed().as_millis() as u64,
    }
}

fn timed_out(what: &str, limit: Duration) -> ProbeError {
    ProbeError::new(
        ProbeErrorKind::Timeout,
        format!(
            "{what}: no answer within {}",
            humantime::format_duration(limit)
        ),
    )
}

/// Addresses of `host`: a literal, or a name asked of `--resolver`'s servers when the
/// admin named some (the contract: instead of the system's), else of the system
/// resolver (which reads /etc/hosts as the host's programs do).
pub(super) async fn resolve(
    opts: &Options,
    host: &str,
    port: u16,
) -> Result<Vec<IpAddr>, ProbeError> {
    let limit = opts.timeout;
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    if !opts.resolvers.is_empty() {
        return crate::probe::dns::addrs_via(&opts.resolvers, host, limit).await;
    }
    match tokio::time::timeout(limit, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(it)) => {
            let mut v: Vec<IpAddr> = Vec::new();
            for sa in it {
                if !v.contains(&sa.ip()) {
                    v.push(sa.ip());
                }
            }
            Ok(v)
        }
        Ok(Err(e)) => Err(ProbeError::new(
            ProbeErrorKind::Failed,
            format!("resolving {}: {e}", clean(host)),
        )),
        Err(_) => Err(timed_out(&format!("resolving {}", clean(host)), limit)),
    }
}

// ----------------------------------------------------------------------------- egress

async fn egress_all(opts: &Options) -> Vec<EgressProbe> {
    let targets: Vec<String> = if opts.egress.is_empty() {
        DEFAULT_EGRESS.iter().map(|s| s.to_string()).collect()
    } else {
        opts.egress.clone()
    };
    let futs = targets.into_iter().map(|t| async move {
        let mut addrs: Vec<SocketAddr> = Vec::new();
        let mut fail = None;
        if let Ok(sa) = t.parse::<SocketAddr>() {
            addrs.push(sa);
        } else if let Some((host, port)) = t.rsplit_once(':') {
            let port: u16 = port.parse().unwrap_or(443);
            match resolve(opts, host, port).await {
                Ok(ips) => {
                    // One address per family is enough to test the path.
                    for family in Family::BOTH {
                        if let Some(ip) = ips.iter().find(|i| Family::of(**i) == family) {
                            addrs.push(SocketAddr::new(*ip, port));
                        }
                    }
                }
                Err(e) => fail = Some(e),
            }
        }
        if addrs.is_empty() {
            let e = fail.unwrap_or_else(|| {
                ProbeError::new(ProbeErrorKind::Failed, format!("{t}: no address"))
            });
            return vec![EgressProbe {
                target: clean(&t),
                addr: None,
                family: Family::V4,
                tcp_ms: Probed {
                    result: Err(e.clone()),
                    ms: 0,
                },
                icmp_ms: Probed {
                    result: Err(e.clone()),
                    ms: 0,
                },
                full_size_icmp_ms: Probed {
                    result: Err(e),
                    ms: 0,
                },
            }];
        }
        let t = &t;
        join_all(addrs.into_iter().map(|sa| async move {
            let what_tcp = format!("TCP connect to {sa}");
            let what_icmp = format!("ICMP echo to {}", sa.ip());
            let what_full = format!(
                "{}-byte ICMP echo to {}",
                crate::facts::isp::FULL_SIZE_PACKET,
                sa.ip()
            );
            let (tcp_ms, icmp_ms, full_size_icmp_ms) = tokio::join!(
                crate::probe::timed(opts.timeout, &what_tcp, async {
                    let start = Instant::now();
                    let deadline = tokio::time::Instant::now() + opts.timeout;
                    conn::connect(sa, deadline).await?;
                    Ok(start.elapsed().as_secs_f64() * 1000.0)
                }),
                crate::probe::timed(
                    opts.timeout,
                    &what_icmp,
                    crate::probe::ping::ping_once(sa.ip(), None, opts.timeout),
                ),
                crate::probe::timed(
                    opts.timeout,
                    &what_full,
                    crate::probe::ping::ping_full_size(sa.ip(), opts.timeout),
                ),
            );
            EgressProbe {
                target: clean(t),
                addr: Some(sa),
                family: Family::of(sa.ip()),
                tcp_ms,
                icmp_ms,
                full_size_icmp_ms,
            }
        }))
        .await
    });
    join_all(futs).await.into_iter().flatten().collect()
}

// ------------------------------------------------------------------------------- echo

/// The echo URL for a family: one whose host is a literal of that family, else the
/// first one with a host name.
fn echo_url_for(urls: &[Url], family: Family) -> Option<&Url> {
    urls.iter()
        .find(|u| u.literal().is_some_and(|ip| Family::of(ip) == family))
        .or_else(|| urls.iter().find(|u| u.literal().is_none()))
}

fn join_path(base: &Url, tail: &str) -> Url {
    // A valid URL's path with an ASCII tail appended is a valid path: the fallback is
    // never taken.
    base.with_path(&format!("{}{tail}", base.path().trim_end_matches('/')))
        .unwrap_or_else(|| base.clone())
}

async fn echo_all(opts: &Options, tls: &Tls) -> (Vec<EchoProbe>, Vec<InboundProbe>) {
    let given: Vec<String> = if opts.echo_urls.is_empty() {
        vec![DEFAULT_ECHO_URL.to_string()]
    } else {
        opts.echo_urls.clone()
    };
    let urls: Vec<Url> = given.iter().filter_map(|s| Url::parse(s)).collect();
    let fams = Family::BOTH.map(|family| {
        let url = echo_url_for(&urls, family).cloned();
        async move {
            let Some(url) = url else {
                return (None, Vec::new());
            };
            let addr = match resolve(opts, &url.host(), url.port()).await {
                Ok(ips) => ips.into_iter().find(|i| Family::of(*i) == family),
                Err(e) => {
                    let probe = EchoProbe {
                        family,
                        url: url.to_string(),
                        seen: Probed {
                            result: Err(e),
                            ms: 0,
                        },
                        server: None,
                    };
                    return (Some(probe), Vec::new());
                }
            };
            let Some(ip) = addr else {
                let probe = EchoProbe {
                    family,
                    url: url.to_string(),
                    seen: Probed::err(
                        ProbeErrorKind::NotRun,
                        format!("{} has no {} address", url.host(), family.name()),
                    ),
                    server: None,
                };
                return (Some(probe), Vec::new());
            };
            let echo = EchoAt {
                addr: SocketAddr::new(ip, url.port()),
                tls,
            };
            let echo = &echo;
            let seen_fut = echo.get(&url, "text/plain", opts.timeout, 256, |f| {
                if f.response.status != 200 {
                    return Err(ProbeError::new(
                        ProbeErrorKind::Failed,
                        format!("echo service {url} answered HTTP {}", f.response.status),
                    ));
                }
                parse_echo_text(&f.body).map_err(|text| {
                    ProbeError::new(
                        ProbeErrorKind::Failed,
                        format!("echo service {url} did not answer an address: {text:?}"),
                    )
                })
            });
            let inbound_futs = opts.target.ports.iter().map(|&port| {
                let u = join_path(&url, &format!("/port/{port}"));
                async move {
                    let limit = opts.timeout + CONNECT_BACK_HEADROOM;
                    let answer = echo
                        .get(&u, "application/json", limit, 4096, |f| {
                            parse_port_answer(&f.body, f.response.status)
                        })
                        .await;
                    InboundProbe {
                        family,
                        port,
                        url: u.to_string(),
                        answer,
                    }
                }
            });
            // The port probes wait for a connect-back beyond the probe timeout; when the
            // echo service itself gives no answer over this family they are not asked.
            let inbound_fut = join_all(inbound_futs);
            tokio::pin!(seen_fut, inbound_fut);
            let mut seen_done = None;
            let mut inbound_done = None;
            while seen_done.is_none() || inbound_done.is_none() {
                tokio::select! {
                    s = &mut seen_fut, if seen_done.is_none() => {
                        let unreachable = s.result.as_ref().is_err_and(|e| e.kind == ProbeErrorKind::Timeout);
                        seen_done = Some(s);
                        if unreachable && inbound_done.is_none() {
                            inbound_done = Some(opts.target.ports.iter().map(|&port| InboundProbe {
                                family,
                                port,
                                url: join_path(&url, &format!("/port/{port}")).to_string(),
                                answer: Probed::err(
                                    ProbeErrorKind::NotRun,
                                    format!("the echo service {url} did not answer over {}", family.name()),
                                ),
                            }).collect());
                        }
                    }
                    i = &mut inbound_fut, if inbound_done.is_none() => inbound_done = Some(i),
                }
            }
            let (seen, inbound) = (
                seen_done.unwrap_or_else(|| Probed::err(ProbeErrorKind::Failed, "echo probe lost")),
                inbound_done.unwrap_or_default(),
            );
            (
                Some(EchoProbe {
                    family,
                    url: url.to_string(),
                    seen,
                    server: Some(ip),
                }),
                inbound,
            )
        }
    });
    let [v4, v6] = fams;
    let ((e4, i4), (e6, i6)) = tokio::join!(v4, v6);
    let echo = e4.into_iter().chain(e6).collect();
    let inbound = i4.into_iter().chain(i6).collect();
    (echo, inbound)
}

/// One echo service, reached at one address.
struct EchoAt<'a> {
    addr: SocketAddr,
    tls: &'a Tls,
}

impl EchoAt<'_> {
    /// GET `url` within `limit`, keeping up to `keep` body bytes, the answer read by `read`.
    async fn get<T>(
        &self,
        url: &Url,
        accept: &str,
        limit: Duration,
        keep: usize,
        read: impl FnOnce(http::Fetched) -> Result<T, ProbeError>,
    ) -> Probed<T> {
        let req = http::Request {
            addr: self.addr,
            url,
            tls: Some(self.tls),
            any_cert: false,
            accept,
            limit,
            keep,
            pad: 0,
        };
        crate::probe::timed(limit, &format!("echo service {url}"), async {
            read(http::get(&req).await?)
        })
        .await
    }
}

/// The echo service's `GET /` answer: the caller's address as plain text; else the
/// (cleaned) text it gave instead.
pub(super) fn parse_echo_text(body: &[u8]) -> Result<IpAddr, String> {
    let text = String::from_utf8_lossy(body).trim().to_string();
    text.parse::<IpAddr>().map(unmap).map_err(|_| clean(&text))
}

fn parse_port_answer(body: &[u8], status: u16) -> Result<InboundAnswer, ProbeError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        ip: String,
        reachable: bool,
    }
    if status != 200 {
        return Err(ProbeError::new(
            ProbeErrorKind::Failed,
            format!("the echo service answered HTTP {status} to the port probe"),
        ));
    }
    let a: Answer = serde_json::from_slice(body).map_err(|e| {
        ProbeError::new(
            ProbeErrorKind::Failed,
            format!("the echo service's port probe answer is not the expected JSON: {e}"),
        )
    })?;
    let ip: IpAddr = a.ip.trim().parse().map_err(|_| {
        ProbeError::new(
            ProbeErrorKind::Failed,
            format!("the echo service named no address: {:?}", clean(&a.ip)),
        )
    })?;
    Ok(InboundAnswer {
        ip: unmap(ip),
        reachable: a.reachable,
    })
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack echo service may
/// print an IPv4 caller) as the IPv4 address it is.
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

// ------------------------------------------------------------------------------- HTTP

/// What the probes of the site share: the TLS roots, the domain's A and AAAA addresses,
/// and where a nat rule sends outside clients of an address on this host.
struct Site<'a> {
    tls: &'a Tls,
    a: &'a [IpAddr],
    aaaa: &'a [IpAddr],
    detours: &'a [Detour],
}

impl Site<'_> {
    fn all(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.a.iter().chain(self.aaaa).copied()
    }
}

async fn fetch(
    opts: &Options,
    site: &Site<'_>,
    url: &Url,
    ip: IpAddr,
    any_cert: bool,
    keep: usize,
) -> (Probed<HttpResponse>, Vec<u8>) {
    let limit = opts.timeout;
    let tls = site.tls;
    let addr = dial(site.detours, SocketAddr::new(ip, url.port()));
    let req = http::Request {
        addr,
        url,
        tls: Some(tls),
        any_cert,
        accept: "text/html,*/*",
        limit,
        keep,
        pad: 0,
    };
    let mut body = Vec::new();
    let what = if addr == SocketAddr::new(ip, url.port()) {
        format!("GET {url} from {}", crate::net::bracketed(ip))
    } else {
        format!("GET {url} from {addr} (where a nat rule sends outside clients)")
    };
    let r = crate::probe::timed(limit, &what, async {
        if url.tls()
            && !any_cert
            && let Err(e) = &tls.verify
        {
            return Err(ProbeError::new(ProbeErrorKind::Missing, e.clone()));
        }
        let f = http::get(&req).await?;
        body = f.body;
        Ok(f.response)
    })
    .await;
    (r, body)
}

async fn http_all(opts: &Options, site: &Site<'_>) -> Vec<HttpProbe> {
    let mut jobs = Vec::new();
    for &port in &opts.target.ports {
        if crate::options::is_mail_port(port) {
            continue;
        }
        for ip in site.all() {
            jobs.push((port, ip));
        }
    }
    join_all(jobs.into_iter().map(|(port, ip)| async move {
        let tls_port = is_tls_port(port);
        let response = match Url::site(tls_port, &opts.target.domain, port, "/") {
            Some(url) => fetch(opts, site, &url, ip, false, 0).await.0,
            None => Probed::err(
                ProbeErrorKind::Failed,
                format!("{} makes no URL", clean(&opts.target.domain)),
            ),
        };
        HttpProbe {
            port,
            ip,
            tls: tls_port,
            path: "/".into(),
            response,
        }
    }))
    .await
}

async fn smtp_all(opts: &Options, site: &Site<'_>) -> Vec<SmtpProbe> {
    let mut jobs = Vec::new();
    for port in opts.mail_ports() {
        for ip in site.all() {
            jobs.push((port, ip));
        }
    }
    join_all(jobs.into_iter().map(|(port, ip)| async move {
        let sa = dial(site.detours, SocketAddr::new(ip, port));
        let answer = crate::probe::timed(
            opts.timeout,
            &format!("SMTP {sa}"),
            smtp::probe(sa, &opts.target.domain, site.tls, opts.timeout),
        )
        .await;
        SmtpProbe { port, ip, answer }
    }))
    .await
}

// ------------------------------------------------------------------------------- ACME

/// A token nobody configured: the answer shows what the CA would get for any challenge.
fn random_token() -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{nanos}-{}-{:p}", std::process::id(), &nanos);
    conn::hex(&Sha256::digest(seed.as_bytes()))[..32].to_string()
}

/// Addresses of a URL's host by family: the DNS facts for the domain, `resolve` for
/// other hosts.
async fn host_addrs(opts: &Options, url: &Url, site: &Site<'_>) -> Vec<IpAddr> {
    let host = url.host();
    if host == opts.target.domain {
        return site.all().collect();
    }
    resolve(opts, &host, url.port()).await.unwrap_or_default()
}

async fn acme(opts: &Options, site: &Site<'_>) -> Option<AcmeFacts> {
    if !opts.target.ports.contains(&80) || site.all().next().is_none() {
        return None;
    }
    let start = Url::site(
        false,
        &opts.target.domain,
        80,
        &format!("/.well-known/acme-challenge/{}", random_token()),
    )?;
    let mut facts = AcmeFacts {
        start: start.to_string(),
        hops: Vec::new(),
    };
    let mut queue = vec![start];
    let mut seen: Vec<String> = Vec::new();
    // Each round waits for at most one request per family; a long redirect chain still
    // ends within a few timeouts.
    let deadline = Instant::now() + opts.timeout * 2;
    while let Some(url) = queue.pop() {
        if Instant::now() >= deadline {
            break;
        }
        let key = url.to_string();
        if seen.contains(&key) || seen.len() >= ACME_MAX_URLS {
            continue;
        }
        seen.push(key.clone());
        let addrs = host_addrs(opts, &url, site).await;
        let hops = join_all(Family::BOTH.map(|family| {
            let ip = addrs.iter().copied().find(|i| Family::of(*i) == family);
            let url = &url;
            let key = key.clone();
            async move {
                let response = match ip {
                    Some(ip) => fetch(opts, site, url, ip, true, 0).await.0,
                    None => Probed::err(
                        ProbeErrorKind::NotRun,
                        format!("{} has no {} address", url.host(), family.name()),
                    ),
                };
                AcmeHop {
                    url: key,
                    family,
                    ip,
                    response,
                }
            }
        }))
        .await;
        for h in &hops {
            if let Some(loc) = h.response.value().and_then(|r| r.location.as_ref())
                && let Some(next) = url.join(loc)
            {
                queue.push(next);
            }
        }
        facts.hops.extend(hops);
    }
    Some(facts)
}

// -------------------------------------------------------------------------- redirects

/// The other names the site answers to, each looked up once (the domain itself and
/// repeats left out, at most `MAX_SITE_NAMES`), all at once.
async fn lookup_names(opts: &Options, names: Vec<String>) -> Vec<SiteName> {
    let mut wanted: Vec<String> = Vec::new();
    for n in names {
        if n != opts.target.domain.to_ascii_lowercase() && !wanted.contains(&n) {
            wanted.push(n);
        }
    }
    wanted.truncate(MAX_SITE_NAMES);
    join_all(wanted.into_iter().map(|name| async move {
        let addrs = crate::probe::timed(opts.timeout, &format!("resolving {name}"), async {
            resolve(opts, &name, 80).await
        })
        .await;
        SiteName {
            name: clean(&name),
            addrs,
        }
    }))
    .await
}

/// Every web port's home page, and port 80's ACME challenge path, followed over each
/// family on its own, all chains at once.
async fn redirect_all(opts: &Options, site: &Site<'_>) -> Vec<RedirectChain> {
    if site.all().next().is_none() {
        return Vec::new();
    }
    let mut starts: Vec<(u16, Url)> = Vec::new();
    for &port in &opts.target.ports {
        if crate::options::is_mail_port(port) {
            continue;
        }
        if let Some(u) = Url::site(is_tls_port(port), &opts.target.domain, port, "/") {
            starts.push((port, u));
        }
        if port == 80
            && let Some(u) = Url::site(
                false,
                &opts.target.domain,
                80,
                &format!("/.well-known/acme-challenge/{}", random_token()),
            )
        {
            starts.push((port, u));
        }
    }
    let jobs = starts
        .into_iter()
        .flat_map(|(port, url)| Family::BOTH.map(|family| (port, url.clone(), family)));
    join_all(jobs.map(|(port, start, family)| follow(opts, site, port, start, family))).await
}

/// Follow one chain over `family`: each hop at the first address of that family of its
/// host, up to `REDIRECT_MAX_HOPS` requests and, for starting new ones, two timeouts.
async fn follow(
    opts: &Options,
    site: &Site<'_>,
    port: u16,
    start: Url,
    family: Family,
) -> RedirectChain {
    let deadline = Instant::now() + opts.timeout * 2;
    let mut chain = RedirectChain {
        port,
        start: start.to_string(),
        family,
        hops: Vec::new(),
        cut: None,
    };
    let mut url = start;
    loop {
        if chain.hops.len() >= REDIRECT_MAX_HOPS {
            chain.cut = Some(format!("more than {REDIRECT_MAX_HOPS} requests"));
            break;
        }
        if Instant::now() >= deadline {
            chain.cut = Some(format!(
                "out of time after {}",
                humantime::format_duration(opts.timeout * 2)
            ));
            break;
        }
        let addrs = host_addrs(opts, &url, site).await;
        let ip = addrs.iter().copied().find(|i| Family::of(*i) == family);
        let response = match ip {
            Some(ip) => fetch(opts, site, &url, ip, true, 0).await.0,
            None => Probed::err(
                ProbeErrorKind::NotRun,
                format!("{} has no {} address", url.host(), family.name()),
            ),
        };
        let next = response
            .value()
            .filter(|r| (300..400).contains(&r.status))
            .and_then(|r| r.location.as_ref())
            .and_then(|loc| url.join(loc));
        chain.hops.push(RedirectHop {
            url: url.to_string(),
            ip,
            response,
        });
        let Some(next) = next else { break };
        if chain.hops.iter().any(|h| h.url == next.to_string()) {
            chain.cut = Some(format!("a redirect loop back to {next}"));
            break;
        }
        url = next;
    }
    chain
}

// -------------------------------------------------------------------------- resources

async fn resources(opts: &Options, site: &Site<'_>) -> Option<Probed<ResourceFacts>> {
    let port = if opts.target.ports.contains(&443) {
        443
    } else if opts.target.ports.contains(&80) {
        80
    } else {
        return None;
    };
    let t0 = Instant::now();
    let url = Url::site(port == 443, &opts.target.domain, port, "/")?;
    let ips: Vec<IpAddr> = [site.a.first(), site.aaaa.first()]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    if ips.is_empty() {
        return None;
    }
    let pages = join_all(ips.iter().map(|&ip| {
        let url = &url;
        async move { (ip, fetch(opts, site, url, ip, false, PAGE_KEEP).await) }
    }))
    .await;
    let mut fetched = Vec::new();
    let mut refs: Vec<String> = Vec::new();
    let mut sheets: Vec<(String, IpAddr)> = Vec::new();
    let mut last_err = None;
    for (ip, (r, body)) in pages {
        match r.result {
            Ok(resp) if resp.status == 200 => {
                fetched.push(format!("{url} over {} from {ip}", Family::of(ip).name()));
                let page = html::subresources(&String::from_utf8_lossy(&body));
                for r in page.refs {
                    if !refs.contains(&r) {
                        refs.push(r);
                    }
                }
                for s in page.stylesheets {
                    if !sheets.iter().any(|(x, _)| *x == s) {
                        sheets.push((s, ip));
                    }
                }
            }
            Ok(resp) => {
                last_err = Some(ProbeError::new(
                    ProbeErrorKind::Failed,
                    format!("{url} from {ip} answered HTTP {}", resp.status),
                ))
            }
            Err(e) => last_err = Some(e),
        }
    }
    if fetched.is_empty() {
        return Some(Probed {
            result: Err(last_err.unwrap_or_else(|| {
                ProbeError::new(ProbeErrorKind::Failed, "the home page could not be fetched")
            })),
            ms: t0.elapsed().as_millis() as u64,
        });
    }
    for r in linked_css(opts, site, &url, &sheets).await {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    let mut hosts: Vec<(String, String)> = Vec::new();
    for r in &refs {
        if let Some(h) = html::ref_host(r)
            && h != opts.target.domain
            && !hosts.iter().any(|(x, _)| *x == h)
        {
            hosts.push((h, r.clone()));
        }
    }
    hosts.truncate(MAX_RESOURCE_HOSTS);
    let out = join_all(hosts.into_iter().map(|(host, r)| async move {
        let literal = host.parse::<IpAddr>().ok();
        let (has_a, has_aaaa) = match literal {
            Some(ip) => (Some(ip.is_ipv4()), Some(ip.is_ipv6())),
            None => match resolve(opts, &host, 443).await {
                Ok(ips) => (
                    Some(ips.iter().any(|i| i.is_ipv4())),
                    Some(ips.iter().any(|i| i.is_ipv6())),
                ),
                Err(_) => (None, None),
            },
        };
        ResourceRef {
            url: clean(&r),
            host: clean(&host),
            has_a,
            has_aaaa,
            literal: literal.is_some(),
        }
    }))
    .await;
    Some(Probed {
        result: Ok(ResourceFacts {
            pages: fetched,
            refs: out,
        }),
        ms: t0.elapsed().as_millis() as u64,
    })
}

/// The `url()` references of the page's linked stylesheets, resolved against each
/// stylesheet's URL (that is what they are relative to). A stylesheet on the site is
/// fetched from the address its page came from, one elsewhere from the first address
/// the system resolver gives; each fetch is bounded like the page's, all at once.
async fn linked_css(
    opts: &Options,
    site: &Site<'_>,
    page: &Url,
    sheets: &[(String, IpAddr)],
) -> Vec<String> {
    let found = join_all(sheets.iter().map(|(href, page_ip)| async move {
        let sheet = page.join(href)?;
        let host = sheet.host();
        let ip = if host == opts.target.domain {
            *page_ip
        } else {
            *resolve(opts, &host, sheet.port()).await.ok()?.first()?
        };
        let (r, body) = fetch(opts, site, &sheet, ip, false, CSS_KEEP).await;
        if r.value()?.status != 200 {
            return None;
        }
        let urls = html::css_urls(&String::from_utf8_lossy(&body));
        Some(
            urls.iter()
                .filter_map(|u| sheet.join(u))
                .map(|u| u.to_string())
                .collect::<Vec<String>>(),
        )
    }))
    .await;
    found.into_iter().flatten().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wizard polls the engine on a tokio worker thread (2 MiB of stack): the ISP
    /// probes' future, which nests the others, must stay small. A helper that wraps
    /// every probe in one more async block once doubled it and overflowed that stack
    /// in debug builds (these tests' profile).
    #[test]
    fn the_probes_future_stays_small() {
        let opts = crate::checks::fixtures::options();
        let gather = gather(
            &opts,
            async { None },
            async { None },
            async { Vec::new() },
            None,
            None,
            None,
        );
        let size = std::mem::size_of_val(&gather);
        assert!(size < 128 * 1024, "the ISP probes' future is {size} bytes");
    }

    #[test]
    fn echo_url_choice_by_family() {
        let urls: Vec<Url> = [
            "http://198.51.100.10:8080/",
            "http://[2001:db8:2::10]:8080/",
        ]
        .iter()
        .filter_map(|s| Url::parse(s))
        .collect();
        assert_eq!(echo_url_for(&urls, Family::V4).unwrap().port(), 8080);
        assert!(
            echo_url_for(&urls, Family::V6)
                .unwrap()
                .literal()
                .unwrap()
                .is_ipv6()
        );
        let only4: Vec<Url> = vec![Url::parse("http://198.51.100.10/").unwrap()];
        assert!(echo_url_for(&only4, Family::V6).is_none());
        let named = vec![Url::parse("https://ifconfig.co/").unwrap()];
        assert_eq!(
            join_path(echo_url_for(&named, Family::V6).unwrap(), "/port/80").to_string(),
            "https://ifconfig.co/port/80"
        );
    }

    #[test]
    fn port_answers() {
        let a =
            parse_port_answer(br#"{"ip":"192.0.2.1","port":80,"reachable":true}"#, 200).unwrap();
        assert!(a.reachable);
        assert!(parse_port_answer(b"<html>", 200).is_err());
        let m = parse_port_answer(
            br#"{"ip":"::ffff:192.0.2.1","port":80,"reachable":false}"#,
            200,
        )
        .unwrap();
        assert_eq!(m.ip, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert!(parse_port_answer(b"{}", 500).is_err());
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_echo_answers(
            body in crate::testutil::inputs::input("echo", 20),
            status in proptest::sample::select(vec![200u16, 200, 500, 0]),
        ) {
            use crate::testutil::is_inert;
            match parse_echo_text(&body) {
                Ok(ip) => assert!(!matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())),
                Err(text) => assert!(is_inert(&text), "{text:?}"),
            }
            if let Err(e) = parse_port_answer(&body, status) {
                assert!(is_inert(&e.message), "{:?}", e.message);
            }
        }
    }
}
