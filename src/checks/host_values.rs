//! Values for fix commands, taken from this host's facts: the interface to name, the
//! gateway to route through, the address to add. A fix is concrete only where one of
//! these is known; otherwise it says where the value is found, as an instruction.

use super::host;
use crate::facts::Facts;
use crate::model::Family;
use std::net::IpAddr;

/// The interface a fix for `family` names: the one its default route (or the other
/// family's) leaves through, else the only up non-loopback link, else any non-loopback
/// link. `None` on a host with loopback only.
pub fn iface(f: &Facts, family: Family) -> Option<String> {
    host::relevant_ifaces(f, family)
        .into_iter()
        .next()
        .or_else(|| {
            f.links()
                .iter()
                .find(|l| !l.loopback)
                .map(|l| l.name.clone())
        })
}

/// A gateway of `family` for `iface`, and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Gateway {
    pub ip: IpAddr,
    /// "declared in /etc/netplan/50.yaml line 12", "router seen on ens3".
    pub source: String,
}

/// A gateway this host knows of although no default route uses it: declared in the boot
/// network configuration, or (IPv6) a router that announced itself on the link.
pub fn gateway(f: &Facts, family: Family, iface: &str) -> Option<Gateway> {
    let declared = f
        .boot_network
        .as_ref()
        .and_then(|b| b.value())
        .into_iter()
        .flat_map(|b| &b.systems)
        .filter(|s| s.in_charge)
        .flat_map(|s| &s.interfaces)
        .flat_map(|i| &i.routes)
        .find(|r| r.dst.is_none() && r.gateway.is_some_and(|g| Family::of(g) == family));
    if let Some(r) = declared {
        let ip = r.gateway?;
        return Some(Gateway {
            ip,
            source: format!(
                "declared in {} line {} but not in use",
                r.at.file.display(),
                r.at.line
            ),
        });
    }
    f.neighbours
        .value()
        .into_iter()
        .flatten()
        .find(|n| n.router && n.dev == iface && Family::of(n.ip) == family)
        .map(|n| Gateway {
            ip: n.ip,
            source: format!("a router seen on {iface}"),
        })
}

/// The first host address of the subnet of this host's first IPv4 address on `iface`:
/// where many providers put the gateway, offered as a hint, never as the value.
pub fn first_in_subnet(f: &Facts, iface: &str) -> Option<IpAddr> {
    f.links()
        .iter()
        .filter(|l| l.name == iface)
        .flat_map(|l| &l.addrs)
        .find(|a| a.ip.is_ipv4() && a.prefix_len < 31)
        .and_then(|a| ipnet::IpNet::new(a.ip, a.prefix_len).ok())
        .and_then(|n| n.hosts().next())
}

/// A global IPv6 address this host should have: one the boot network configuration
/// declares for it, with its prefix length.
pub fn declared_v6(f: &Facts, assume_public: &[ipnet::IpNet]) -> Option<(ipnet::IpNet, String)> {
    f.boot_network
        .as_ref()
        .and_then(|b| b.value())
        .into_iter()
        .flat_map(|b| &b.systems)
        .flat_map(|s| &s.interfaces)
        .flat_map(|i| i.addresses.iter().map(move |a| (i, a)))
        .find(|(_, a)| {
            a.net.addr().is_ipv6() && crate::net::reachable_by_clients(a.net.addr(), assume_public)
        })
        .map(|(i, a)| (a.net, i.name.clone()))
}
