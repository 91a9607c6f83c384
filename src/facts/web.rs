//! What the web servers' configuration says, as the parsers (`parse::nginx`) read it.

use super::Place;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NginxConfig {
    /// Every file read, in the order first read.
    pub files: Vec<PathBuf>,
    /// `server` blocks inside `http`.
    pub servers: Vec<ServerBlock>,
    /// `server` blocks inside `stream` (TCP/UDP proxying); they have no `server_name`.
    pub stream_servers: Vec<ServerBlock>,
    /// Anything nginx itself would reject or that could not be read, with file:line.
    pub problems: Vec<String>,
    /// `proxy_pass` (and the other `*_pass`) targets and the `server` lines of
    /// `upstream` blocks (absent from older snapshots).
    #[serde(default)]
    pub proxy_targets: Vec<super::servers::ProxyTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerBlock {
    /// Where `server {` stands.
    #[serde(flatten)]
    pub at: Place,
    /// Line of the closing `}` (the last line read if the block is unterminated).
    pub close_line: usize,
    pub server_names: Vec<String>,
    pub listens: Vec<Listen>,
    /// No `listen` directive at all: nginx then listens on `*:80` (`*:8000` when not
    /// started as root), IPv4 only.
    pub implicit_listen: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listen {
    #[serde(flatten)]
    pub at: Place,
    /// The directive as written, control characters stripped.
    pub raw: String,
    pub addr: ListenAddr,
    /// 0 for unix sockets.
    pub port: u16,
    /// Explicit `ipv6only=on|off`; nginx's default is on.
    pub ipv6only: Option<bool>,
    pub ssl: bool,
    pub default_server: bool,
    /// HTTP/3 over UDP: a firewall must let UDP through, not just TCP.
    pub quic: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ListenAddr {
    /// `listen 80`, `*:80`, `0.0.0.0:80`.
    AnyV4,
    /// `[::]:80`.
    AnyV6,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// A host name, which nginx resolves at startup and listens on every address of.
    Host(String),
    Unix(String),
}

impl ListenAddr {
    /// Whether IPv4 clients can connect. nginx sets IPV6_V6ONLY on every IPv6 listening
    /// socket, on by default since 1.3.4, whatever `net.ipv6.bindv6only` says; only an
    /// explicit `ipv6only=off` lets an IPv6 socket take IPv4 (as v4-mapped) connections.
    /// A `Host` is unknown until resolved, so it answers false: resolve it first.
    pub fn accepts_ipv4(&self, ipv6only: Option<bool>) -> bool {
        match self {
            ListenAddr::AnyV4 | ListenAddr::V4(_) => true,
            ListenAddr::AnyV6 => ipv6only == Some(false),
            ListenAddr::V6(ip) => ip.to_ipv4_mapped().is_some() && ipv6only == Some(false),
            ListenAddr::Host(_) | ListenAddr::Unix(_) => false,
        }
    }

    /// Whether IPv6 clients can connect. A v4-mapped address is only reachable by IPv4
    /// clients. As for [`accepts_ipv4`](Self::accepts_ipv4), a `Host` answers false.
    pub fn accepts_ipv6(&self) -> bool {
        match self {
            ListenAddr::AnyV6 => true,
            ListenAddr::V6(ip) => ip.to_ipv4_mapped().is_none(),
            _ => false,
        }
    }
}
