//! Derived views of the host's facts shared by several checks.

use super::subject::Subject;
use crate::facts::isp::PrefixSource;
use crate::facts::{AddrFacts, Facts, Link, Route};
use crate::model::{CheckId, Family, Finding};
use crate::net::nat64::Nat64Prefix;
use crate::net::reachable_by_clients;
use crate::options::Options;
use ipnet::IpNet;
use std::net::IpAddr;

/// The `skip` of a check whose family `--expect` leaves out, or `None` when it is wanted.
pub fn unexpected(o: &Options, s: Subject, family: Family) -> Option<Finding> {
    (!o.target.expect.wants(family)).then(|| {
        s.skip(format!(
            "the site is not meant to serve {} (--expect)",
            family.name()
        ))
    })
}

pub fn routes(f: &Facts) -> &[Route] {
    f.routes.value().map(|v| v.as_slice()).unwrap_or(&[])
}

pub fn default_routes(f: &Facts, family: Family) -> Vec<&Route> {
    routes(f)
        .iter()
        .filter(|r| r.family == family && r.dst.is_none())
        .collect()
}

/// Find where an address is assigned on this host (loopback included: a socket may bind it).
pub fn find_addr(f: &Facts, ip: IpAddr) -> Option<(&Link, &AddrFacts)> {
    f.links()
        .iter()
        .flat_map(|l| l.addrs.iter().map(move |a| (l, a)))
        .find(|(_, a)| a.ip == ip)
}

/// The interfaces that matter for a family: those carrying its default route, else every
/// non-loopback interface that is up.
pub fn relevant_ifaces(f: &Facts, family: Family) -> Vec<String> {
    let mut names: Vec<String> = default_routes(f, family)
        .iter()
        .filter_map(|r| r.dev.clone())
        .collect();
    if names.is_empty() {
        names = default_routes(f, family.other())
            .iter()
            .filter_map(|r| r.dev.clone())
            .collect();
    }
    if names.is_empty() {
        names = f
            .links()
            .iter()
            .filter(|l| !l.loopback && l.up)
            .map(|l| l.name.clone())
            .collect();
    }
    names.sort();
    names.dedup();
    names
}

/// How the kernel's IPv6 stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Ipv6State {
    /// No IPv6 in the kernel (`ipv6.disable=1` or not built).
    Absent,
    /// `disable_ipv6=1` on these keys (`all`, `default`, interface names).
    Disabled(Vec<String>),
    Enabled,
    /// The settings could not be read.
    Unknown,
}

pub fn ipv6_state(f: &Facts) -> Ipv6State {
    if !f.host.ipv6_kernel || f.host.ipv6_cmdline_disabled {
        return Ipv6State::Absent;
    }
    let Some(s) = f.sysctl.value() else {
        return Ipv6State::Unknown;
    };
    let mut keys: Vec<String> = Vec::new();
    for key in ["all".to_string()]
        .into_iter()
        .chain(relevant_ifaces(f, Family::V6))
    {
        if s.disable_ipv6.get(&key) == Some(&1) {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        Ipv6State::Enabled
    } else {
        Ipv6State::Disabled(keys)
    }
}

pub fn ipv6_off(f: &Facts) -> bool {
    matches!(ipv6_state(f), Ipv6State::Absent | Ipv6State::Disabled(_))
}

/// Global IPv6 addresses clients can reach and the kernel will use (not tentative or
/// dadfailed).
pub fn usable_global_v6<'a>(f: &'a Facts, assume: &[IpNet]) -> Vec<(&'a Link, &'a AddrFacts)> {
    f.addrs()
        .filter(|(_, a)| {
            a.ip.is_ipv6() && reachable_by_clients(a.ip, assume) && !a.tentative && !a.dadfailed
        })
        .collect()
}

/// A flag of a host address.
#[derive(Clone, Copy)]
pub enum AddrFlag {
    Tentative,
    Dadfailed,
    Deprecated,
    Temporary,
    Mngtmpaddr,
}

impl AddrFlag {
    /// The flag's name as `ip addr` shows it.
    fn name(self) -> &'static str {
        match self {
            AddrFlag::Tentative => "tentative",
            AddrFlag::Dadfailed => "dadfailed",
            AddrFlag::Deprecated => "deprecated",
            AddrFlag::Temporary => "temporary",
            AddrFlag::Mngtmpaddr => "mngtmpaddr",
        }
    }

    fn is_set(self, a: &AddrFacts) -> bool {
        match self {
            AddrFlag::Tentative => a.tentative,
            AddrFlag::Dadfailed => a.dadfailed,
            AddrFlag::Deprecated => a.deprecated,
            AddrFlag::Temporary => a.temporary,
            AddrFlag::Mngtmpaddr => a.mngtmpaddr,
        }
    }
}

/// The names of the flags of `which` that `a` has, in the order of `which` (each
/// finding names the flags that matter to its question).
pub fn flag_names(a: &AddrFacts, which: &[AddrFlag]) -> Vec<&'static str> {
    which
        .iter()
        .filter(|f| f.is_set(a))
        .map(|f| f.name())
        .collect()
}

/// An address with the flags that keep the kernel from using it.
pub fn describe_addr(l: &Link, a: &AddrFacts) -> String {
    use AddrFlag::*;
    let flags = flag_names(a, &[Tentative, Dadfailed, Deprecated]);
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    };
    format!("{}/{} on {}{}", a.ip, a.prefix_len, l.name, flags)
}

/// Evidence lines listing the host's addresses of one family.
pub fn addr_evidence(f: &Facts, family: Family) -> Vec<String> {
    let lines: Vec<String> = f
        .addrs()
        .filter(|(_, a)| Family::of(a.ip) == family)
        .map(|(l, a)| format!("host has {}", describe_addr(l, a)))
        .collect();
    if lines.is_empty() {
        vec![format!(
            "host has no {} address outside loopback",
            family.name()
        )]
    } else {
        lines
    }
}

pub fn route_line(r: &Route) -> String {
    let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
    let dev = r
        .dev
        .as_ref()
        .map(|d| format!(" dev {d}"))
        .unwrap_or_default();
    let metric = r.metric.map(|m| format!(" metric {m}")).unwrap_or_default();
    format!(
        "{} default{via}{dev} proto {}{metric}",
        r.family.name(),
        r.protocol
    )
}

/// A neighbour entry that says the link layer works (or is being refreshed).
pub fn neighbour_ok(state: &str) -> bool {
    matches!(
        state,
        "reachable" | "stale" | "delay" | "probe" | "permanent" | "noarp"
    )
}

/// The gateway of the first default route did not answer echo and has no working
/// neighbour entry: nothing leaves by that route.
pub fn gateway_dead(f: &Facts, family: Family) -> bool {
    let Some(gw) = default_routes(f, family).first().and_then(|r| r.gateway) else {
        return false;
    };
    let ping_failed = f.gateway_pings.iter().any(|p| {
        p.gateway == gw
            && p.rtt_ms.result.as_ref().is_err_and(|e| {
                !matches!(
                    e.kind,
                    crate::facts::ProbeErrorKind::Permission | crate::facts::ProbeErrorKind::NotRun
                )
            })
    });
    let neigh_ok = f
        .neighbours
        .value()
        .into_iter()
        .flatten()
        .any(|n| n.ip == gw && neighbour_ok(&n.state));
    ping_failed && !neigh_ok
}

/// The finding that explains why nothing can be sent over a family from this host, if
/// any: probes over that family that failed are then its consequence, not findings.
pub fn path_blocker(f: &Facts, family: Family, nd_blocked: bool) -> Option<CheckId> {
    let v6 = family.is_v6();
    if v6 && ipv6_off(f) {
        return Some(CheckId::AddressIpv6Enabled);
    }
    if v6 && nd_blocked {
        return Some(CheckId::FirewallIcmpv6);
    }
    if default_routes(f, family).is_empty() {
        return Some(family.pick(CheckId::RouteIpv4Default, CheckId::RouteIpv6Default));
    }
    if gateway_dead(f, family) {
        return Some(family.pick(CheckId::RouteIpv4Gateway, CheckId::RouteIpv6Gateway));
    }
    None
}

/// How the NAT64 path stands, for the checks that depend on it
/// (`address.ipv4_dependencies`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nat64State {
    /// Connections through the prefix reached IPv4-only destinations.
    Works(Nat64Prefix),
    /// A prefix is known (DNS64 or PREF64) and nothing behind it answered.
    Broken(Nat64Prefix),
    /// Not examined, or no prefix known.
    Unknown,
}

pub fn nat64_state(f: &Facts) -> Nat64State {
    let Some(n) = f.isp.value().and_then(|i| i.nat64.as_ref()) else {
        return Nat64State::Unknown;
    };
    let Some((prefix, source)) = n.prefix else {
        return Nat64State::Unknown;
    };
    if n.targets.iter().any(|t| t.tcp_ms.value().is_some()) {
        Nat64State::Works(prefix)
    } else if source != PrefixSource::WellKnown && !n.targets.is_empty() {
        Nat64State::Broken(prefix)
    } else {
        Nat64State::Unknown
    }
}
