//! The derived view: what several checks need from the facts, computed once per
//! evaluation (the compiled firewall, NAT64 prefixes, what blocks a family's path). Checks
//! read it instead of calling each other's stages.

use super::host;
use crate::facts::Facts;
use crate::firewall::{Compiled, Packet};
use crate::model::{ByFamily, CheckId, Family};
use crate::options::Options;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Everything a check may read: the facts, the options and the derived view.
pub struct Ctx<'a> {
    pub facts: &'a Facts,
    pub opts: &'a Options,
    pub view: View<'a>,
}

impl<'a> Ctx<'a> {
    pub fn new(facts: &'a Facts, opts: &'a Options) -> Ctx<'a> {
        Ctx {
            facts,
            opts,
            view: View::new(facts),
        }
    }
}

pub struct View<'a> {
    /// The packet filter's rules, compiled for the walk (`None` when unreadable).
    pub compiled: Option<Compiled<'a>>,
    /// NAT64 prefixes from the resolver's answers for `ipv4only.arpa`.
    pub nat64: Vec<Ipv6Net96>,
    /// The IPv6 filter drops "packet too big".
    pub ptb_blocked: bool,
    /// The public IPv4 address the echo service saw.
    pub seen_v4: Option<IpAddr>,
    /// Per family: the check that explains why nothing leaves this host over it.
    blockers: ByFamily<Option<CheckId>>,
}

impl<'a> View<'a> {
    pub fn new(f: &'a Facts) -> View<'a> {
        let compiled = f.firewall.value().map(|fw| Compiled::new(&fw.tables));
        let nd_blocked = icmpv6_shut(f, compiled.as_ref(), &[135, 136]);
        let seen_v4 = f
            .isp
            .value()
            .and_then(|i| i.echo.iter().find(|e| e.family == Family::V4))
            .and_then(|e| e.seen.value().copied());
        View {
            ptb_blocked: icmpv6_shut(f, compiled.as_ref(), &[2]),
            nat64: nat64_prefixes(f),
            seen_v4,
            blockers: ByFamily::new(|fam| host::path_blocker(f, fam, nd_blocked)),
            compiled,
        }
    }

    /// The finding that explains why nothing can be sent over a family from this host:
    /// probes over that family that failed are its consequence.
    pub fn blocker(&self, fam: Family) -> Option<CheckId> {
        *self.blockers.get(fam)
    }
}

fn icmpv6_shut(f: &Facts, c: Option<&Compiled>, types: &[u8]) -> bool {
    let (Some(fw), Some(c)) = (f.firewall.value(), c) else {
        return false;
    };
    if fw.tables.is_empty() {
        return false;
    }
    let ip = f
        .addrs()
        .find(|(_, a)| a.ip.is_ipv6() && !a.ip.is_loopback())
        .map(|(l, a)| (a.ip, l.name.clone()));
    let Some((ip, iif)) = ip else {
        return false;
    };
    types
        .iter()
        .any(|&t| c.decide(&Packet::icmpv6(t, ip, &iif)).decision.shuts())
}

/// The public IPv4 of the NAT in front of this host when the echo service reached every
/// served port through it (the port forwarding works); `None` when unknown or not so.
pub fn nat_forward_confirmed(c: &Ctx) -> Option<IpAddr> {
    let (f, o) = (c.facts, c.opts);
    let isp = f.isp.value()?;
    let seen = c.view.seen_v4?;
    if host::find_addr(f, seen).is_some() || o.target.ports.is_empty() {
        return None;
    }
    let all = o.target.ports.iter().all(|port| {
        isp.inbound.iter().any(|p| {
            p.family == Family::V4
                && p.port == *port
                && p.answer.value().is_some_and(|a| a.reachable)
        })
    });
    all.then_some(seen)
}

/// A NAT64 prefix as its first 96 bits; the other RFC 6052 lengths are matched by
/// `nat64_prefixes` and stored with their length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ipv6Net96 {
    pub prefix: Ipv6Addr,
    pub len: u8,
}

/// RFC 6052 positions of the embedded IPv4 address for each prefix length.
fn embedded_v4(ip: Ipv6Addr, len: u8) -> Option<Ipv4Addr> {
    let b = ip.octets();
    let v = match len {
        32 => [b[4], b[5], b[6], b[7]],
        40 => [b[5], b[6], b[7], b[9]],
        48 => [b[6], b[7], b[9], b[10]],
        56 => [b[7], b[9], b[10], b[11]],
        64 => [b[9], b[10], b[11], b[12]],
        96 => [b[12], b[13], b[14], b[15]],
        _ => return None,
    };
    Some(Ipv4Addr::from(v))
}

fn mask(ip: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(ip);
    let m = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    Ipv6Addr::from(bits & m)
}

/// NAT64 prefixes found in the AAAA answers for ipv4only.arpa (RFC 7050 §3).
fn nat64_prefixes(f: &Facts) -> Vec<Ipv6Net96> {
    let wka = [Ipv4Addr::new(192, 0, 0, 170), Ipv4Addr::new(192, 0, 0, 171)];
    let mut out: Vec<Ipv6Net96> = Vec::new();
    for ip in f.dns.dns64.value().into_iter().flatten() {
        for len in [96u8, 64, 56, 48, 40, 32] {
            if embedded_v4(*ip, len).is_some_and(|v4| wka.contains(&v4)) {
                let p = Ipv6Net96 {
                    prefix: mask(*ip, len),
                    len,
                };
                if !out.contains(&p) {
                    out.push(p);
                }
                break;
            }
        }
    }
    out
}

pub fn in_nat64(ip: IpAddr, prefixes: &[Ipv6Net96]) -> bool {
    match ip {
        IpAddr::V6(v6) => prefixes.iter().any(|p| mask(v6, p.len) == p.prefix),
        _ => false,
    }
}
