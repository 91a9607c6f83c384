//! The NAT64 path (`isp.nat64`): IPv4-only destinations reached over IPv6 at the
//! addresses a DNS64 resolver would give them.
//!
//! It runs only where NAT64 is in use: the host has no IPv4 default route, or its
//! resolver synthesises AAAA. The prefix is the resolver's (RFC 7050), else a router's
//! PREF64 (RFC 8781), else the well-known 64:ff9b::/96 on the chance that a translator
//! serves it. The destinations are the IPv4 `--egress` targets and the echo service; the
//! echo service also gets a request larger than a full-size packet, which crosses the
//! translator only when path MTU discovery works through it.

use super::conn::{Tls, connect};
use super::http::{self, Url};
use super::{DEFAULT_ECHO_URL, DEFAULT_EGRESS, parse_echo_text, resolve};
use crate::facts::isp::{FULL_SIZE_PACKET, Nat64Facts, Nat64Probe, PrefixSource};
use crate::facts::{Link, ProbeError, ProbeErrorKind, Probed, Route};
use crate::model::Family;
use crate::net::nat64::{self, Nat64Prefix};
use crate::options::Options;
use crate::sanitize::clean;
use futures::future::join_all;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::time::Instant;

/// Most IPv4 destinations tried.
const MAX_TARGETS: usize = 8;

/// Whether NAT64 is in use: no IPv4 default route (`routes` read), or DNS64 answers.
pub fn in_use(routes: Option<&Vec<Route>>, dns64: &[Ipv6Addr]) -> bool {
    let no_v4_default =
        routes.is_some_and(|r| !r.iter().any(|r| r.family == Family::V4 && r.dst.is_none()));
    no_v4_default || !dns64.is_empty()
}

/// An IPv4 destination and what names it.
struct Dest {
    v4: SocketAddr,
    via: Vec<String>,
    echo: Option<Url>,
}

fn add(dests: &mut Vec<Dest>, v4: SocketAddr, via: String, echo: Option<Url>) {
    if let Some(d) = dests.iter_mut().find(|d| d.v4 == v4) {
        d.via.push(via);
        if d.echo.is_none() {
            d.echo = echo;
        }
    } else if dests.len() < MAX_TARGETS {
        dests.push(Dest {
            v4,
            via: vec![via],
            echo,
        });
    }
}

/// The IPv4 address of `host`: a literal, an A record, or the one embedded in an AAAA the
/// resolver synthesised with `prefix`.
async fn ipv4_of(
    host: &str,
    port: u16,
    prefix: Option<Nat64Prefix>,
    opts: &Options,
) -> Option<Ipv4Addr> {
    let ips = resolve(opts, host, port).await.ok()?;
    ips.iter()
        .find_map(|ip| match ip {
            IpAddr::V4(v4) => Some(*v4),
            IpAddr::V6(_) => None,
        })
        .or_else(|| {
            let p = prefix?;
            ips.iter().find_map(|ip| match ip {
                IpAddr::V6(v6) if p.contains(*ip) => p.extract(*v6),
                _ => None,
            })
        })
}

async fn destinations(opts: &Options, prefix: Option<Nat64Prefix>) -> Vec<Dest> {
    let mut dests = Vec::new();
    let egress: Vec<String> = if opts.egress.is_empty() {
        DEFAULT_EGRESS.iter().map(|s| s.to_string()).collect()
    } else {
        opts.egress.clone()
    };
    let echo: Vec<String> = if opts.echo_urls.is_empty() {
        vec![DEFAULT_ECHO_URL.to_string()]
    } else {
        opts.echo_urls.clone()
    };
    // The echo service first: it is the destination that gets the full-size request.
    for url in echo.iter().filter_map(|u| Url::parse(u)) {
        let v4 = match url.literal() {
            Some(IpAddr::V4(v4)) => Some(v4),
            Some(IpAddr::V6(_)) => None,
            None => ipv4_of(&url.host(), url.port(), prefix, opts).await,
        };
        if let Some(v4) = v4 {
            let via = format!("echo service {}", clean(&url.to_string()));
            add(
                &mut dests,
                SocketAddr::new(IpAddr::V4(v4), url.port()),
                via,
                Some(url),
            );
        }
    }
    for t in egress {
        let v4 = if let Ok(sa) = t.parse::<SocketAddr>() {
            match sa.ip() {
                IpAddr::V4(_) => Some(sa),
                IpAddr::V6(_) => None,
            }
        } else if let Some((host, port)) = t.rsplit_once(':') {
            let port: u16 = port.parse().unwrap_or(443);
            ipv4_of(host, port, prefix, opts)
                .await
                .map(|v4| SocketAddr::new(IpAddr::V4(v4), port))
        } else {
            None
        };
        if let Some(sa) = v4 {
            add(&mut dests, sa, format!("--egress {}", clean(&t)), None);
        }
    }
    dests
}

pub async fn gather(
    opts: &Options,
    tls: &Tls,
    dns64: &[Ipv6Addr],
    links: Option<&Vec<Link>>,
    routes: Option<&Vec<Route>>,
) -> Option<Nat64Facts> {
    if !in_use(routes, dns64) {
        return None;
    }
    let pref64 = super::super::ra::pref64(
        links.map(Vec::as_slice).unwrap_or_default(),
        routes.map(Vec::as_slice).unwrap_or_default(),
        opts.timeout,
    )
    .await;
    let prefix = nat64::prefixes_of_answers(dns64)
        .first()
        .map(|p| (*p, PrefixSource::Dns64))
        .or_else(|| {
            pref64
                .value()
                .and_then(|v| v.first())
                .map(|p| (p.prefix, PrefixSource::Pref64))
        })
        .unwrap_or((nat64::WELL_KNOWN, PrefixSource::WellKnown));
    let dests = destinations(opts, Some(prefix.0)).await;
    let probes = dests.into_iter().map(|d| probe(opts, tls, prefix.0, d));
    let targets = join_all(probes).await;
    Some(Nat64Facts {
        pref64,
        prefix: Some(prefix),
        targets,
    })
}

async fn probe(opts: &Options, tls: &Tls, prefix: Nat64Prefix, d: Dest) -> Nat64Probe {
    let v4 = match d.v4.ip() {
        IpAddr::V4(v4) => v4,
        // `destinations` keeps IPv4 addresses only.
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    let synthesised = SocketAddr::new(IpAddr::V6(prefix.synthesise(v4)), d.v4.port());
    let tcp = async {
        let t0 = Instant::now();
        let r = connect(synthesised, t0 + opts.timeout).await;
        Probed {
            result: r.map(|_| t0.elapsed().as_secs_f64() * 1000.0),
            ms: t0.elapsed().as_millis() as u64,
        }
    };
    let full = async {
        let url = d.echo.as_ref()?;
        let req = http::Request {
            addr: synthesised,
            url,
            tls: Some(tls),
            any_cert: false,
            accept: "text/plain",
            limit: opts.timeout,
            keep: 256,
            // Twice a full-size packet: TCP fills segments to the path's MSS, so the
            // request crosses the translator only when "packet too big" comes back.
            pad: 2 * FULL_SIZE_PACKET,
        };
        let what = format!("a {}-byte request to {synthesised}", 2 * FULL_SIZE_PACKET);
        Some(
            crate::probe::timed(opts.timeout, &what, async {
                let f = http::get(&req).await?;
                parse_echo_text(&f.body).map_err(|text| {
                    ProbeError::new(
                        ProbeErrorKind::Failed,
                        format!(
                            "echo service answered HTTP {} without an address: {text:?}",
                            f.response.status
                        ),
                    )
                })
            })
            .await,
        )
    };
    let (tcp_ms, full_size) = tokio::join!(tcp, full);
    Nat64Probe {
        via: d.via,
        v4: d.v4,
        synthesised,
        tcp_ms,
        full_size,
    }
}
