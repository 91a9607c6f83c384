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
