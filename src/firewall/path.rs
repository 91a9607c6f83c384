//! The way a packet takes through the host, as the walk reports it ([`Taken`], [`Leg`]),
//! what the walk needs to know of the host to route it ([`HostNet`]), and the ports that
//! DNAT rules publish. Pure.

use super::RuleRef;
use crate::facts::firewall::{Match, Table, Verdict};
use crate::model::Family;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Where the packet went: input or forward, after which DNAT.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Taken {
    /// Forwarded (to a container or another host) rather than delivered locally.
    pub forward: bool,
    /// The output interface of a forwarded packet (the route to the new destination),
    /// when the host's routes are known.
    pub oif: Option<String>,
    /// The nat rule that rewrote the destination, and the destination it wrote.
    pub nat: Option<(RuleRef, IpAddr, u16)>,
    /// The host does not forward the family (`net.ipv4.ip_forward`,
    /// `net.ipv6.conf.all.forwarding` is 0): the rewritten packet is dropped.
    pub not_forwarded: bool,
    /// Strict reverse-path filtering dropped the packet: the route back to its source
    /// leaves by this interface, not the one it arrived on.
    pub rp_filtered: Option<String>,
    /// Which packet of the connection the decision is about.
    pub leg: Leg,
}

impl Taken {
    /// `prerouting DNAT to 172.17.0.2:80 (rule), then forward out of docker0`.
    pub fn describe(&self) -> String {
        let nat = self.nat.as_ref().map(|(r, ip, port)| {
            format!(
                "prerouting DNAT to {}:{port} ({})",
                crate::net::bracketed(*ip),
                r.describe()
            )
        });
        let way = if self.forward {
            match &self.oif {
                Some(o) => format!("forward out of {o}"),
                None => "forward".to_string(),
            }
        } else {
            "input (local delivery)".to_string()
        };
        match nat {
            Some(n) => format!("{n}, then {way}"),
            None => way,
        }
    }
}

/// The packet of a connection a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Leg {
    /// The first packet (SYN).
    #[default]
    Syn,
    /// The client's later packets (the handshake's ACK, data): state established.
    Later,
    /// The server's SYN-ACK: state established, through output or forward.
    Reply,
}

/// What the walk knows of the host besides its rules: its addresses (a destination among
/// them is delivered locally), its routes (the interface a forwarded packet leaves by),
/// and whether it forwards each family. Without it a rewritten destination counts as
/// forwarded, out of an unknown interface.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostNet {
    /// Every address of the host (loopback included).
    pub local: Vec<IpAddr>,
    /// (destination, output interface); a default route is `0.0.0.0/0` / `::/0`.
    pub routes: Vec<(IpNet, String)>,
    /// Per family (v4, v6): forwarding on, off, or unknown (`None`, taken as on).
    pub forwarding: (Option<bool>, Option<bool>),
    /// The first address of each interface per family, for REDIRECT.
    pub iface_addrs: Vec<(String, IpAddr)>,
    /// IPv4 reverse-path filtering per interface and `all` (0 off, 1 strict, 2 loose).
    pub rp_filter: BTreeMap<String, i64>,
}

impl HostNet {
    pub(super) fn is_local(&self, ip: IpAddr) -> bool {
        ip.is_loopback() || self.local.contains(&ip)
    }

    /// The output interface of the longest matching route.
    pub(super) fn route(&self, ip: IpAddr) -> Option<String> {
        self.routes
            .iter()
            .filter(|(n, _)| n.contains(&ip))
            .max_by_key(|(n, _)| n.prefix_len())
            .map(|(_, d)| d.clone())
    }

    /// Strict reverse-path filtering drops an IPv4 packet from `saddr` (`None`: an
    /// arbitrary internet address) arriving on `iif` when the route back to it leaves by
    /// another interface: the interface the route back takes, then. The mode is the
    /// higher of `all` and the interface's own, as the kernel takes it. No route back at
    /// all (loose mode drops then too) is the route stage's finding, not this one's.
    pub(super) fn rp_strict_elsewhere(&self, iif: &str, saddr: Option<IpAddr>) -> Option<String> {
        let mode = |k: &str| self.rp_filter.get(k).copied().unwrap_or(0);
        if mode("all").max(mode(iif)) != 1 {
            return None;
        }
        let back = match saddr {
            Some(s) => self.route(s),
            None => self
                .routes
                .iter()
                .find(|(n, _)| n.prefix_len() == 0 && matches!(n, IpNet::V4(_)))
                .map(|(_, d)| d.clone()),
        }?;
        (back != iif).then_some(back)
    }

    pub(super) fn forwards(&self, family: Family) -> Option<bool> {
        family.pick(self.forwarding.0, self.forwarding.1)
    }
}

/// The destination ports that DNAT rules publish (a rule's `dport` of 16 ports or
/// fewer), sorted: the ports whose connections may bypass the input chains.
pub fn published_ports(tables: &[Table]) -> Vec<u16> {
    fn is_dnat(v: &Verdict) -> bool {
        match v {
            Verdict::Dnat(_) => true,
            Verdict::Map(e) => e.iter().any(|(_, v)| is_dnat(v)),
            _ => false,
        }
    }
    let mut out = std::collections::BTreeSet::new();
    let rules = tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .filter(|r| is_dnat(&r.verdict));
    for r in rules {
        for m in &r.matches {
            if let Match::Port {
                dst: true,
                ranges,
                neg: false,
                ..
            } = m
            {
                for &(a, b) in ranges {
                    if b >= a && b - a < 16 {
                        out.extend(a..=b);
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}
