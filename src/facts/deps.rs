//! What this host's services need from the network beyond the site itself, for
//! `address.ipv4_dependencies`: the hosts file, the outbound TCP connections and the
//! package sources (the web servers' proxy targets are in the web facts, the name
//! servers in the DNS facts).

use super::{Place, Probed};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ipv4Deps {
    /// `/etc/hosts`, one entry per line that maps an address.
    pub hosts: Probed<Vec<HostsEntry>>,
    /// Established TCP connections this host opened to other hosts.
    pub connections: Probed<Connections>,
    /// apt's sources and what the resolver says of their hosts.
    pub package_sources: Probed<Vec<PackageSource>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostsEntry {
    #[serde(flatten)]
    pub at: Place,
    pub ip: IpAddr,
    /// The canonical name and its aliases, lower case.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Connections {
    pub list: Vec<Connection>,
    /// Connections left out beyond the bound the probe keeps.
    pub omitted: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub local: SocketAddr,
    /// The peer; an IPv4 peer of an IPv6 socket is written as IPv4.
    pub peer: SocketAddr,
    /// The socket is IPv6 with a v4-mapped peer (`::ffff:a.b.c.d`).
    pub mapped: bool,
    pub pid: Option<u32>,
    pub process: Option<String>,
}

/// One URI of an apt source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageSource {
    #[serde(flatten)]
    pub at: Place,
    pub uri: String,
    /// The URI's host, lower case; a literal address is kept as written.
    pub host: String,
    /// The host's AAAA records (none looked up for a literal address).
    pub aaaa: Probed<Vec<Ipv6Addr>>,
}

/// Why this host counts as one without IPv4, or `None` while it has both an IPv4
/// address outside loopback and an IPv4 default route. Either one missing is enough:
/// without the address nothing IPv4 leaves, and without the route nothing IPv4
/// leaves the local network, which is all an IPv6-only host's services can reach
/// anyway (a host kept on a private IPv4 LAN alone still counts: its LAN peers are
/// named as dependencies, as they are what IPv4's removal would break).
pub fn without_ipv4(links: &[super::Link], routes: &[super::Route]) -> Option<&'static str> {
    let v4_addr = links
        .iter()
        .filter(|l| !l.loopback)
        .flat_map(|l| &l.addrs)
        .any(|a| a.ip.is_ipv4() && !a.ip.is_loopback());
    if !v4_addr {
        return Some("no IPv4 address outside loopback");
    }
    let v4_default = routes
        .iter()
        .any(|r| r.family == crate::model::Family::V4 && r.dst.is_none());
    (!v4_default).then_some("no IPv4 default route")
}
