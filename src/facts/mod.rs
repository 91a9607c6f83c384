//! Typed facts gathered by the probes. Checks read only these, so a set of facts can be
//! built by hand in unit tests (or recorded and replayed) without touching the system.

pub mod containers;
pub mod deps;
pub mod firewall;
pub mod isp;
pub mod mail;
pub mod netconf;
pub mod regions;
pub mod servers;
pub mod web;

use crate::model::Family;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use web::NginxConfig;

/// A `Family` as the snapshot format has always written it: the boolean `v6` flag
/// (`#[serde(rename = "v6", with = "v6_flag")]`), so recorded snapshots keep reading
/// and new ones read in older builds.
pub mod v6_flag {
    use crate::model::Family;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(family: &Family, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(family.is_v6())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Family, D::Error> {
        bool::deserialize(d).map(Family::from_v6)
    }
}

/// Why a probe produced no fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeErrorKind {
    /// Needs root or a capability this run lacks.
    Permission,
    /// A tool, file or kernel feature is absent.
    Missing,
    Timeout,
    /// No route to the peer (ENETUNREACH, EHOSTUNREACH): the host cannot send there.
    Unreachable,
    /// The peer answered with a reset or ICMP port unreachable (ECONNREFUSED).
    Refused,
    /// The probe was not run: `--offline`, or a prerequisite is absent.
    NotRun,
    Failed,
}

/// Recorded in the facts (and so in snapshots) with its kind, which decides between a
/// check's `skip` (permission, not run) and `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ProbeError {
    pub kind: ProbeErrorKind,
    pub message: String,
}

impl ProbeError {
    pub fn new(kind: ProbeErrorKind, message: impl Into<String>) -> Self {
        ProbeError {
            kind,
            message: message.into(),
        }
    }
}

/// A probe's outcome with how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probed<T> {
    pub result: Result<T, ProbeError>,
    pub ms: u64,
}

impl<T> Probed<T> {
    pub fn ok(value: T) -> Self {
        Probed {
            result: Ok(value),
            ms: 0,
        }
    }
    pub fn err(kind: ProbeErrorKind, message: impl Into<String>) -> Self {
        Probed {
            result: Err(ProbeError::new(kind, message)),
            ms: 0,
        }
    }
    pub fn value(&self) -> Option<&T> {
        self.result.as_ref().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub hostname: String,
    pub kernel: String,
    pub euid: u32,
    /// `/proc/sys/net/ipv6` exists: the kernel has IPv6 at all.
    pub ipv6_kernel: bool,
    /// `ipv6.disable=1` on the kernel command line.
    pub ipv6_cmdline_disabled: bool,
    /// `ID` from /etc/os-release, to tailor fix commands.
    pub os_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddrFacts {
    pub ip: IpAddr,
    pub prefix_len: u8,
    pub tentative: bool,
    pub dadfailed: bool,
    pub deprecated: bool,
    /// No lifetime: added by hand or by a static configuration (`ip` shows the others
    /// as `dynamic`: SLAAC, DHCPv6).
    pub permanent: bool,
    /// IFA_F_MANAGETEMPADDR: the SLAAC address temporary addresses derive from
    /// (absent from older snapshots).
    #[serde(default)]
    pub mngtmpaddr: bool,
    /// IFA_F_TEMPORARY: a privacy address (absent from older snapshots).
    #[serde(default)]
    pub temporary: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub up: bool,
    pub loopback: bool,
    pub addrs: Vec<AddrFacts>,
    /// The link's MTU (absent from older snapshots).
    #[serde(default)]
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    #[serde(rename = "v6", with = "v6_flag")]
    pub family: Family,
    /// `None` for a default route.
    pub dst: Option<ipnet::IpNet>,
    pub gateway: Option<IpAddr>,
    pub dev: Option<String>,
    pub metric: Option<u32>,
    /// `kernel`, `boot`, `static`, `ra`, `dhcp`, or the number.
    pub protocol: String,
    /// The gateways of a multipath route's other hops (`gateway` is the first's); absent
    /// from older snapshots and written only when there are some.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_gateways: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    pub ip: IpAddr,
    pub dev: String,
    /// `reachable`, `stale`, `delay`, `probe`, `failed`, `incomplete`, `permanent`, `noarp`.
    pub state: String,
    pub lladdr: Option<String>,
    /// The neighbour said it is a router (NTF_ROUTER, learned from its advertisements):
    /// a gateway a fix can name. Absent from older snapshots.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub router: bool,
}

/// Kernel settings that decide the IPv6 stack's behaviour, keyed by `all`, `default`
/// and interface names.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Sysctls {
    pub disable_ipv6: BTreeMap<String, i64>,
    pub forwarding_v6: BTreeMap<String, i64>,
    pub accept_ra: BTreeMap<String, i64>,
    pub bindv6only: Option<i64>,
    pub ip_forward: Option<i64>,
    /// IPv4 reverse-path filtering (`net.ipv4.conf.*.rp_filter`: 0 off, 1 strict, 2
    /// loose); absent from older snapshots.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rp_filter: BTreeMap<String, i64>,
}

/// Where something is written in a configuration file. Flattened into the facts that
/// carry it: the snapshot keeps `file` and `line` as fields of their own.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Place {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
}

impl Place {
    pub fn new(file: &Path, line: usize) -> Place {
        Place {
            file: file.to_path_buf(),
            line,
        }
    }
}

/// `file:line`, as evidence and messages name a place.
impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One assignment in a sysctl configuration file (`parse::sysctl_conf` reads them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SysctlSetting {
    /// Normalised to dots (`net.ipv6.conf.all.disable_ipv6`); a dot inside a name, as
    /// in VLAN interface `eth0.100`, is written `/` (`net.ipv6.conf.eth0/100.forwarding`),
    /// as sysctl(8) does. May be a glob.
    pub key: String,
    /// As written, trimmed; empty for an exclusion.
    pub value: String,
    #[serde(flatten)]
    pub at: Place,
    /// Written `-key = value`: a failure to set it is not an error.
    pub ignore_failure: bool,
    /// Written `-key` with no `=`: not an assignment, it only keeps globs off this key.
    pub exclude: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    pub ip: IpAddr,
    pub port: u16,
    /// IPV6_V6ONLY as the kernel reports it (`None` for IPv4 sockets).
    pub v6only: Option<bool>,
    pub uid: u32,
    pub inode: u32,
    pub pid: Option<u32>,
    pub process: Option<String>,
}

impl Listener {
    /// Whether connections of a family reach this socket: `[::]` with IPV6_V6ONLY off
    /// takes IPv4 too.
    pub fn accepts(&self, family: Family) -> bool {
        match (family, self.ip) {
            (Family::V4, IpAddr::V4(_)) => true,
            (Family::V4, IpAddr::V6(v6)) => v6.is_unspecified() && self.v6only == Some(false),
            (Family::V6, ip) => ip.is_ipv6(),
        }
    }
    pub fn is_wildcard(&self) -> bool {
        self.ip.is_unspecified()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NginxInstance {
    pub pid: u32,
    pub config_path: String,
    pub config: Result<NginxConfig, String>,
}

/// The servers seen running in the diagnosed network namespace and what their
/// configuration says. The fields after `others` are absent from older snapshots.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WebServers {
    pub nginx: Vec<NginxInstance>,
    /// Web servers other than nginx seen running (name, pid); Apache, HAProxy and
    /// Caddy among them also have their configuration below.
    pub others: Vec<(String, u32)>,
    #[serde(default)]
    pub apache: Vec<servers::ApacheInstance>,
    #[serde(default)]
    pub haproxy: Vec<servers::HaproxyInstance>,
    #[serde(default)]
    pub caddy: Vec<servers::CaddyInstance>,
    /// `None`: not gathered (an older snapshot).
    #[serde(default)]
    pub socket_units: Option<servers::SocketUnits>,
    /// Hints of the runtimes among the owners of listening sockets; `None`: not
    /// gathered (an older snapshot, or the listening sockets were not known).
    #[serde(default)]
    pub runtimes: Option<Vec<servers::RuntimeHints>>,
}

impl WebServers {
    /// The host names the running web servers answer to, each with where it is written
    /// (`nginx server_name (FILE:LINE)`): nginx `server_name`s of server blocks that
    /// listen on `port` (or on any port when `None`), Apache `ServerName`s and
    /// `ServerAlias`es. Wildcards, regular expressions, variables, address literals and
    /// catch-alls (`_`, `localhost`) name no one host and are left out.
    pub fn site_names(&self, port: Option<u16>) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut add = |raw: &str, at: &Place, what: &str| {
            if let Some(name) = host_name_of(raw)
                && !out.iter().any(|(n, _)| *n == name)
            {
                out.push((name, format!("{what} ({}:{})", at.file.display(), at.line)));
            }
        };
        for n in &self.nginx {
            let Ok(config) = &n.config else { continue };
            for b in &config.servers {
                let on_port = port.is_none_or(|p| {
                    b.listens.iter().any(|l| l.port == p) || (b.implicit_listen && p == 80)
                });
                if on_port {
                    for name in &b.server_names {
                        add(name, &b.at, "nginx server_name");
                    }
                }
            }
        }
        for a in &self.apache {
            let Ok(config) = &a.config else { continue };
            let main = config.server_name.iter();
            for w in main.chain(config.vhosts.iter().flat_map(|v| v.server_name.iter())) {
                add(&w.value, &w.at, "Apache ServerName");
            }
            for w in config.vhosts.iter().flat_map(|v| v.aliases.iter()) {
                add(&w.value, &w.at, "Apache ServerAlias");
            }
        }
        out
    }
}

/// The host name a `server_name`/`ServerName` value names (`https://www.example:443`
/// and `.example` as nginx's "the name and its subdomains" included), lowercased;
/// `None` for what names no single host.
pub fn host_name_of(raw: &str) -> Option<String> {
    let s = raw.trim().trim_end_matches('.');
    let s = s.split_once("://").map(|(_, rest)| rest).unwrap_or(s);
    let s = s
        .split(['/', ':'])
        .next()
        .unwrap_or(s)
        .trim_start_matches('.');
    let plain = !s.is_empty()
        && s.contains('.')
        && s.parse::<IpAddr>().is_err()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    plain.then(|| s.to_ascii_lowercase())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordIp {
    pub ip: IpAddr,
    pub ttl: u32,
}

/// What a DNS server said about one name and type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DnsAnswer {
    Records {
        records: Vec<RecordIp>,
        /// Records of the answer left out because it was longer than the probe keeps
        /// (absent in snapshots of older versions and when nothing was cut).
        #[serde(default, skip_serializing_if = "is_zero")]
        omitted: usize,
    },
    /// The name exists but has no record of this type.
    NoData,
    NxDomain,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl DnsAnswer {
    pub fn ips(&self) -> Vec<IpAddr> {
        match self {
            DnsAnswer::Records { records, .. } => records.iter().map(|r| r.ip).collect(),
            _ => Vec::new(),
        }
    }
    pub fn describe(&self) -> String {
        match self {
            DnsAnswer::Records { records, .. } => records
                .iter()
                .map(|r| r.ip.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            DnsAnswer::NoData => "no records".into(),
            DnsAnswer::NxDomain => "NXDOMAIN".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerRole {
    /// A resolver from resolv.conf or `--resolver`.
    Resolver,
    /// One of the zone's authoritative name servers, asked directly.
    Authoritative,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerAnswers {
    pub server: SocketAddr,
    pub role: ServerRole,
    /// The NS host name for authoritative servers.
    pub name: Option<String>,
    pub a: Probed<DnsAnswer>,
    pub aaaa: Probed<DnsAnswer>,
}

impl ServerAnswers {
    /// The server's A (IPv4) or AAAA (IPv6) answer.
    pub fn answer(&self, family: Family) -> &Probed<DnsAnswer> {
        family.pick(&self.a, &self.aaaa)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NsHost {
    pub name: String,
    pub a: Vec<Ipv4Addr>,
    pub aaaa: Vec<Ipv6Addr>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneFacts {
    pub name: String,
    pub nameservers: Vec<NsHost>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MxHost {
    pub preference: u16,
    pub name: String,
    pub a: Vec<Ipv4Addr>,
    pub aaaa: Vec<Ipv6Addr>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PtrFacts {
    pub ip: IpAddr,
    pub names: Probed<Vec<String>>,
    /// Forward lookups of each PTR name (A or AAAA matching the address family).
    pub forward: Vec<(String, Vec<IpAddr>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsFacts {
    /// The resolvers consulted, and where they came from (`resolv.conf` or `--resolver`).
    pub resolvers: Vec<SocketAddr>,
    pub resolver_source: String,
    pub a: Probed<DnsAnswer>,
    pub aaaa: Probed<DnsAnswer>,
    /// Every configured resolver and every authoritative server, asked one by one.
    pub servers: Vec<ServerAnswers>,
    pub zone: Probed<ZoneFacts>,
    /// MX hosts, only gathered when a mail port is served.
    pub mx: Option<Probed<Vec<MxHost>>>,
    pub ptr: Vec<PtrFacts>,
    /// AAAA records of `ipv4only.arpa` (RFC 7050); any answer means DNS64.
    pub dns64: Probed<Vec<Ipv6Addr>>,
    /// The zone's authoritative servers asked as if by clients in each region
    /// (`dns.geo`); `None` when the zone was not found, and in snapshots of older
    /// versions, which did not ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Vec<GeoQuery>>,
}

/// One authoritative server asked for the domain's A and AAAA as a resolver serving
/// clients of one region asks: with an EDNS Client Subnet option (RFC 7871).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoQuery {
    pub server: SocketAddr,
    /// The NS host name.
    pub name: String,
    /// The region whose clients were named (`Europe`); `None` for the query without a
    /// client subnet, which every answer is compared with.
    pub region: Option<String>,
    /// The client network sent; `None` without one.
    pub subnet: Option<ipnet::IpNet>,
    pub a: Probed<GeoAnswer>,
    pub aaaa: Probed<GeoAnswer>,
}

impl GeoQuery {
    /// The A (IPv4) or AAAA (IPv6) answer.
    pub fn answer(&self, family: Family) -> &Probed<GeoAnswer> {
        family.pick(&self.a, &self.aaaa)
    }
}

/// An answer to a query with or without a client subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoAnswer {
    pub answer: DnsAnswer,
    /// The scope prefix length of the client subnet option the server echoed (RFC 7871
    /// 7.2.1: how much of the client's address the answer depends on; 0: not at all).
    /// `None` when the answer carried no such option (the server ignores it).
    pub scope: Option<u8>,
}

impl DnsFacts {
    /// The resolver's A (IPv4) or AAAA (IPv6) answer.
    pub fn answer(&self, family: Family) -> &Probed<DnsAnswer> {
        family.pick(&self.a, &self.aaaa)
    }

    /// The addresses of that answer; none when the lookup failed.
    pub fn ips(&self, family: Family) -> Vec<IpAddr> {
        self.answer(family)
            .value()
            .map(DnsAnswer::ips)
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayPing {
    pub gateway: IpAddr,
    pub dev: Option<String>,
    /// Round-trip time in milliseconds.
    pub rtt_ms: Probed<f64>,
}

/// Everything the probes found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub host: HostFacts,
    pub links: Probed<Vec<Link>>,
    pub routes: Probed<Vec<Route>>,
    pub neighbours: Probed<Vec<Neighbour>>,
    pub sysctl: Probed<Sysctls>,
    /// Every assignment in the sysctl configuration files, in application order.
    pub sysctl_files: Probed<Vec<SysctlSetting>>,
    pub listeners: Probed<Vec<Listener>>,
    pub web: Probed<WebServers>,
    pub dns: DnsFacts,
    pub gateway_pings: Vec<GatewayPing>,
    pub firewall: Probed<firewall::FirewallFacts>,
    pub isp: Probed<isp::IspFacts>,
    /// The network configuration the host boots with; `None` in snapshots of older
    /// versions, which did not gather it.
    #[serde(default)]
    pub boot_network: Option<Probed<netconf::BootNetwork>>,
    /// What the host's services need beyond the site (`address.ipv4_dependencies`);
    /// `None` in snapshots of older versions, which did not gather it.
    #[serde(default)]
    pub ipv4_deps: Option<Probed<deps::Ipv4Deps>>,
    /// Outgoing mail (`address.mail_source`, `dns.spf`, `dns.blocklists`,
    /// `isp.mail_egress`); `None` in snapshots of older versions, which did not gather it.
    #[serde(default)]
    pub mail: Option<Probed<mail::MailFacts>>,
    /// What vantage points of the measurement network saw (`isp.regions`); `None` in
    /// snapshots of older versions, which did not ask.
    #[serde(default)]
    pub regions: Option<Probed<regions::RegionsFacts>>,
    /// Container runtimes, their published ports and the sockets inside the
    /// containers (`listener.*`); `None` in snapshots of older versions.
    #[serde(default)]
    pub containers: Option<Probed<containers::ContainerFacts>>,
}

impl Facts {
    /// The host's links (none when they could not be read).
    pub fn links(&self) -> &[Link] {
        self.links.value().map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Every (link, address) pair on a non-loopback link.
    pub fn addrs(&self) -> impl Iterator<Item = (&Link, &AddrFacts)> {
        self.links()
            .iter()
            .filter(|l| !l.loopback)
            .flat_map(|l| l.addrs.iter().map(move |a| (l, a)))
    }
}

/// One probe group's result, as it arrives.
#[derive(Debug, Clone)]
pub enum FactPart {
    Netlink {
        links: Probed<Vec<Link>>,
        routes: Probed<Vec<Route>>,
        neighbours: Probed<Vec<Neighbour>>,
    },
    Sysctl(Probed<Sysctls>),
    SysctlFiles(Probed<Vec<SysctlSetting>>),
    Listeners(Probed<Vec<Listener>>),
    Web(Probed<WebServers>),
    Dns(Box<DnsFacts>),
    Pings(Vec<GatewayPing>),
    Firewall(Probed<firewall::FirewallFacts>),
    Isp(Probed<isp::IspFacts>),
    /// `None` replays a snapshot that has no boot network.
    BootNetwork(Option<Probed<netconf::BootNetwork>>),
    /// `None` replays a snapshot that has no IPv4 dependencies.
    Ipv4Deps(Option<Probed<deps::Ipv4Deps>>),
    /// `None` replays a snapshot that has no mail facts.
    Mail(Option<Probed<mail::MailFacts>>),
    /// Sent again after every poll round while the measurements run (`complete` false);
    /// `None` replays a snapshot that has none.
    Regions(Option<Probed<regions::RegionsFacts>>),
    /// `None` replays a snapshot that has no container facts.
    Containers(Option<Probed<containers::ContainerFacts>>),
}

impl Facts {
    /// The facts as the parts a live run would have sent (replay feeds the wizard so).
    pub fn parts(&self) -> Vec<FactPart> {
        vec![
            FactPart::Netlink {
                links: self.links.clone(),
                routes: self.routes.clone(),
                neighbours: self.neighbours.clone(),
            },
            FactPart::Sysctl(self.sysctl.clone()),
            FactPart::SysctlFiles(self.sysctl_files.clone()),
            FactPart::Listeners(self.listeners.clone()),
            FactPart::Web(self.web.clone()),
            FactPart::Containers(self.containers.clone()),
            FactPart::Dns(Box::new(self.dns.clone())),
            FactPart::Pings(self.gateway_pings.clone()),
            FactPart::Firewall(self.firewall.clone()),
            FactPart::Isp(self.isp.clone()),
            FactPart::BootNetwork(self.boot_network.clone()),
            FactPart::Ipv4Deps(self.ipv4_deps.clone()),
            FactPart::Mail(self.mail.clone()),
            FactPart::Regions(self.regions.clone()),
        ]
    }
}

/// Which probe group a fact part comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartKind {
    Netlink,
    Sysctl,
    SysctlFiles,
    Listeners,
    Web,
    Dns,
    Pings,
    Firewall,
    Isp,
    BootNetwork,
    Ipv4Deps,
    Mail,
    Regions,
    Containers,
}

impl PartKind {
    pub const ALL: [PartKind; 14] = [
        PartKind::Netlink,
        PartKind::Sysctl,
        PartKind::SysctlFiles,
        PartKind::Listeners,
        PartKind::Web,
        PartKind::Dns,
        PartKind::Pings,
        PartKind::Firewall,
        PartKind::Isp,
        PartKind::BootNetwork,
        PartKind::Ipv4Deps,
        PartKind::Mail,
        PartKind::Regions,
        PartKind::Containers,
    ];
}

impl FactPart {
    pub fn kind(&self) -> PartKind {
        match self {
            FactPart::Netlink { .. } => PartKind::Netlink,
            FactPart::Sysctl(_) => PartKind::Sysctl,
            FactPart::SysctlFiles(_) => PartKind::SysctlFiles,
            FactPart::Listeners(_) => PartKind::Listeners,
            FactPart::Web(_) => PartKind::Web,
            FactPart::Dns(_) => PartKind::Dns,
            FactPart::Pings(_) => PartKind::Pings,
            FactPart::Firewall(_) => PartKind::Firewall,
            FactPart::Isp(_) => PartKind::Isp,
            FactPart::BootNetwork(_) => PartKind::BootNetwork,
            FactPart::Ipv4Deps(_) => PartKind::Ipv4Deps,
            FactPart::Mail(_) => PartKind::Mail,
            FactPart::Regions(_) => PartKind::Regions,
            FactPart::Containers(_) => PartKind::Containers,
        }
    }

    /// Whether this is the part's last word in its run: a measurement still streaming
    /// in is not.
    pub fn is_final(&self) -> bool {
        match self {
            FactPart::Regions(Some(p)) => p.value().is_none_or(|r| r.complete),
            _ => true,
        }
    }
}

/// Facts being gathered: parts arrive one by one.
#[derive(Debug, Clone)]
pub struct PartialFacts {
    facts: Facts,
}

impl PartialFacts {
    /// Every part starts as "not run yet", so a stage evaluated early can never mistake
    /// a missing fact for a healthy one.
    pub fn new(host: HostFacts) -> Self {
        fn pending<T>() -> Probed<T> {
            Probed::err(ProbeErrorKind::NotRun, "still being gathered")
        }
        PartialFacts {
            facts: Facts {
                host,
                links: pending(),
                routes: pending(),
                neighbours: pending(),
                sysctl: pending(),
                sysctl_files: pending(),
                listeners: pending(),
                web: pending(),
                dns: DnsFacts {
                    resolvers: Vec::new(),
                    resolver_source: String::new(),
                    a: pending(),
                    aaaa: pending(),
                    servers: Vec::new(),
                    zone: pending(),
                    mx: None,
                    ptr: Vec::new(),
                    dns64: pending(),
                    geo: None,
                },
                gateway_pings: Vec::new(),
                firewall: pending(),
                isp: pending(),
                boot_network: Some(pending()),
                ipv4_deps: Some(pending()),
                mail: Some(pending()),
                regions: Some(pending()),
                containers: Some(pending()),
            },
        }
    }

    /// Start from complete facts, to replace some of their parts.
    pub fn from_facts(facts: Facts) -> Self {
        PartialFacts { facts }
    }

    pub fn apply(&mut self, part: FactPart) {
        let f = &mut self.facts;
        match part {
            FactPart::Netlink {
                links,
                routes,
                neighbours,
            } => {
                f.links = links;
                f.routes = routes;
                f.neighbours = neighbours;
            }
            FactPart::Sysctl(s) => f.sysctl = s,
            FactPart::SysctlFiles(s) => f.sysctl_files = s,
            FactPart::Listeners(l) => f.listeners = l,
            FactPart::Web(w) => f.web = w,
            FactPart::Dns(d) => f.dns = *d,
            FactPart::Pings(p) => f.gateway_pings = p,
            FactPart::Firewall(p) => f.firewall = p,
            FactPart::Isp(p) => f.isp = p,
            FactPart::BootNetwork(p) => f.boot_network = p,
            FactPart::Ipv4Deps(p) => f.ipv4_deps = p,
            FactPart::Mail(p) => f.mail = p,
            FactPart::Regions(p) => f.regions = p,
            FactPart::Containers(p) => f.containers = p,
        }
    }

    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    pub fn into_facts(self) -> Facts {
        self.facts
    }
}

#[cfg(test)]
mod tests;
