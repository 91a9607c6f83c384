//! The derived view: what several checks need from the facts, computed once per
//! evaluation (the compiled firewall, NAT64 prefixes, what blocks a family's path). Checks
//! read it instead of calling each other's stages.

use super::host;
use crate::facts::Facts;
use crate::firewall::{Compiled, HostNet, Packet};
use crate::model::{ByFamily, CheckId, Family};
use crate::net::nat64::{self, Nat64Prefix};
use crate::options::Options;
use std::net::IpAddr;

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
    pub nat64: Vec<Nat64Prefix>,
    /// The IPv6 filter drops "packet too big".
    pub ptb_blocked: bool,
    /// The public IPv4 address the echo service saw.
    pub seen_v4: Option<IpAddr>,
    /// Per family: the check that explains why nothing leaves this host over it.
    blockers: ByFamily<Option<CheckId>>,
}

impl<'a> View<'a> {
    pub fn new(f: &'a Facts) -> View<'a> {
        let compiled = f
            .firewall
            .value()
            .map(|fw| Compiled::with_ipsets(&fw.tables, &fw.ipsets).with_host(host_net(f)));
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

/// The host's addresses, routes and forwarding, for the walk's routing decision (a
/// DNAT to one of its own addresses is delivered locally, any other is forwarded).
pub fn host_net(f: &Facts) -> HostNet {
    let links = f.links();
    let local = links
        .iter()
        .flat_map(|l| l.addrs.iter().map(|a| a.ip))
        .collect();
    let iface_addrs = links
        .iter()
        .flat_map(|l| l.addrs.iter().map(move |a| (l.name.clone(), a.ip)))
        .collect();
    // Of the routes to one destination the kernel takes the lowest metric.
    let mut lowest: std::collections::HashMap<(Family, Option<ipnet::IpNet>), u32> =
        std::collections::HashMap::new();
    for r in f.routes.value().into_iter().flatten() {
        let m = lowest.entry((r.family, r.dst)).or_insert(u32::MAX);
        *m = (*m).min(r.metric.unwrap_or(0));
    }
    let best =
        |r: &&crate::facts::Route| lowest.get(&(r.family, r.dst)) == Some(&r.metric.unwrap_or(0));
    let routes = f
        .routes
        .value()
        .map(|rs| {
            rs.iter()
                .filter(best)
                .filter_map(|r| {
                    let dst = r.dst.unwrap_or_else(|| match r.family {
                        Family::V4 => ipnet::IpNet::V4(Default::default()),
                        Family::V6 => ipnet::IpNet::V6(Default::default()),
                    });
                    Some((dst, r.dev.clone()?))
                })
                .collect()
        })
        .unwrap_or_default();
    let sysctl = f.sysctl.value();
    let rp_filter = sysctl.map(|s| s.rp_filter.clone()).unwrap_or_default();
    let forwarding = (
        sysctl.and_then(|s| s.ip_forward).map(|v| v != 0),
        sysctl
            .and_then(|s| s.forwarding_v6.get("all"))
            .map(|v| *v != 0),
    );
    HostNet {
        local,
        routes,
        forwarding,
        iface_addrs,
        rp_filter,
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
    // Neighbour discovery also dies when this host cannot send its own.
    types.iter().any(|&t| {
        c.decide(&Packet::icmpv6(t, ip, &iif)).decision.shuts()
            || ((135..=136).contains(&t)
                && c.decide_sent(&Packet::icmpv6_sent(t, ip, &iif))
                    .decision
                    .shuts())
    })
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

/// NAT64 prefixes found in the AAAA answers for ipv4only.arpa (RFC 7050 §3).
fn nat64_prefixes(f: &Facts) -> Vec<Nat64Prefix> {
    nat64::prefixes_of_answers(f.dns.dns64.value().into_iter().flatten())
}

pub fn in_nat64(ip: IpAddr, prefixes: &[Nat64Prefix]) -> bool {
    prefixes.iter().any(|p| p.contains(ip))
}
