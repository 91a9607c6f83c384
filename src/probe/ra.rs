//! The NAT64 prefix routers advertise (PREF64, RFC 8781): one router solicitation on each
//! link that carries IPv6, then the advertisements that answer it, read from a raw
//! ICMPv6 socket.
//!
//! The solicitation is what the kernel itself sends when a link comes up: routers answer
//! with the advertisement they send every few minutes anyway, so the host's state after
//! it is what it would be at the next periodic one.

use crate::facts::isp::Pref64;
use crate::facts::{Link, ProbeError, ProbeErrorKind, Probed, Route};
use crate::model::Family;
use crate::parse::ra;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::{Duration, Instant};

/// Routers delay a solicited advertisement by up to 0.5 s, and by up to 3 s after one
/// they sent recently (RFC 4861 §6.2.6): the wait covers both, within `--timeout`.
const LONGEST_WAIT: Duration = Duration::from_millis(3500);
/// The largest advertisement read; the rest of a longer one is cut off (its options are
/// then refused whole).
const MAX_MESSAGE: usize = 1500;
/// Most links solicited.
const MAX_LINKS: usize = 8;

/// The links to solicit on: those of the IPv6 default routes, else every link that is up
/// and not loopback.
fn links_to_ask(links: &[Link], routes: &[Route]) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    for r in routes
        .iter()
        .filter(|r| r.family == Family::V6 && r.dst.is_none())
    {
        if let Some(l) = r
            .dev
            .as_ref()
            .and_then(|d| links.iter().find(|l| &l.name == d))
            && !out.iter().any(|(n, _)| n == &l.name)
        {
            out.push((l.name.clone(), l.index));
        }
    }
    if out.is_empty() {
        out = links
            .iter()
            .filter(|l| l.up && !l.loopback)
            .map(|l| (l.name.clone(), l.index))
            .collect();
    }
    out.truncate(MAX_LINKS);
    out
}

pub async fn pref64(links: &[Link], routes: &[Route], limit: Duration) -> Probed<Vec<Pref64>> {
    let asked = links_to_ask(links, routes);
    if asked.is_empty() {
        return Probed::err(
            ProbeErrorKind::NotRun,
            "no link to ask for router advertisements",
        );
    }
    let t0 = Instant::now();
    let wait = limit.min(LONGEST_WAIT);
    let result = tokio::task::spawn_blocking(move || solicit(&asked, wait))
        .await
        .unwrap_or_else(|e| {
            Err(ProbeError::new(
                ProbeErrorKind::Failed,
                format!("reading router advertisements: {e}"),
            ))
        });
    Probed {
        result,
        ms: t0.elapsed().as_millis() as u64,
    }
}

fn io_err(what: &str, e: &std::io::Error) -> ProbeError {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        return ProbeError::new(
            ProbeErrorKind::Permission,
            "reading router advertisements (PREF64) needs root or CAP_NET_RAW",
        );
    }
    super::io_error(what, e)
}

/// Solicit on every link, then collect advertisements until each link has answered or
/// `wait` is over. Blocking: run off the async threads.
fn solicit(asked: &[(String, u32)], wait: Duration) -> Result<Vec<Pref64>, ProbeError> {
    let sock = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))
        .map_err(|e| io_err("raw ICMPv6 socket", &e))?;
    // RFC 4861 §6.1.2: routers discard a solicitation whose hop limit is not 255.
    sock.set_multicast_hops_v6(255)
        .map_err(|e| io_err("raw ICMPv6 socket", &e))?;
    let all_routers: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
    let mut sent: Vec<u32> = Vec::new();
    let mut last_err = None;
    for (_, index) in asked {
        let to = SockAddr::from(SocketAddrV6::new(all_routers, 0, 0, *index));
        match sock
            .set_multicast_if_v6(*index)
            .and_then(|_| sock.send_to(&ra::router_solicitation(), &to))
        {
            Ok(_) => sent.push(*index),
            Err(e) => last_err = Some(io_err("router solicitation", &e)),
        }
    }
    if sent.is_empty() {
        return Err(last_err.unwrap_or_else(|| {
            ProbeError::new(ProbeErrorKind::Failed, "no router solicitation sent")
        }));
    }
    let deadline = Instant::now() + wait;
    let mut answered: Vec<u32> = Vec::new();
    let mut found: Vec<Pref64> = Vec::new();
    // A raw socket reads like any datagram socket; std's gives the source with its
    // scope (the link it came on) and needs no uninitialised buffer.
    let sock: std::net::UdpSocket = sock.into();
    let mut buf = [0u8; MAX_MESSAGE];
    while answered.len() < sent.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        sock.set_read_timeout(Some(left))
            .map_err(|e| io_err("raw ICMPv6 socket", &e))?;
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("reading router advertisements", &e)),
        };
        let Some(options) = ra::pref64_options(&buf[..n.min(MAX_MESSAGE)]) else {
            continue;
        };
        let std::net::SocketAddr::V6(src) = from else {
            continue;
        };
        let index = src.scope_id();
        if !sent.contains(&index) {
            continue;
        }
        if !answered.contains(&index) {
            answered.push(index);
        }
        let dev = asked
            .iter()
            .find(|(_, i)| *i == index)
            .map(|(n, _)| n.clone());
        for o in options {
            let p = Pref64 {
                prefix: o.prefix,
                router: std::net::IpAddr::V6(*src.ip()),
                dev: dev.clone(),
                lifetime_s: o.lifetime_s,
            };
            if !found.contains(&p) {
                found.push(p);
            }
        }
    }
    Ok(found)
}
