//! What the configuration of the servers other than nginx says about the sockets they
//! open: Apache httpd, HAProxy, Caddy, systemd socket units, and the hints application
//! runtimes carry on their command line and in their environment. The parsers in
//! `parse` produce these; every address carries what it means for each family, as that
//! server binds it, and the file and line it was written at.

use super::Place;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// A host a server sends requests on to (nginx `proxy_pass` or an `upstream`'s
/// `server`, Apache `ProxyPass` or `BalancerMember`, HAProxy `server`): the server
/// breaks when that host cannot be reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyTarget {
    #[serde(flatten)]
    pub at: Place,
    /// The directive, as the server spells it (`proxy_pass`, `ProxyPass`, `server`).
    pub directive: String,
    /// The target as written, control characters stripped, bounded.
    pub raw: String,
    pub host: TargetHost,
}

/// The host part of a proxy target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetHost {
    /// A literal address, which no DNS64 can rewrite.
    Ip(IpAddr),
    /// A host name, or the name of an `upstream`/balancer the server defines itself.
    Name(String),
}

/// An address a server is told to listen on, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindAddr {
    /// No address (`Listen 80`, `ListenStream=80`, Caddy's `:80`): every local address,
    /// in whichever families the server opens sockets for.
    Unspecified,
    /// `0.0.0.0` included.
    V4(Ipv4Addr),
    /// `::` included.
    V6(Ipv6Addr),
    /// A host name, resolved by the server when it starts.
    Host(String),
    /// A unix socket, an inherited file descriptor, or anything else that is not IP.
    Other(String),
}

impl From<IpAddr> for BindAddr {
    fn from(ip: IpAddr) -> BindAddr {
        match ip {
            IpAddr::V4(ip) => BindAddr::V4(ip),
            IpAddr::V6(ip) => BindAddr::V6(ip),
        }
    }
}

/// Which families of clients can connect to a configured address, as this server binds
/// it. Decided from the configuration alone; where the server leaves the answer to the
/// kernel or to its build, the variant says on what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Families {
    Ipv4,
    Ipv6,
    Both,
    /// An IPv6 wildcard socket whose IPV6_V6ONLY the server leaves to the kernel's
    /// `net.ipv6.bindv6only` (0, the default: both families; 1: IPv6 only).
    BothUnlessBindv6only,
    /// Apache's IPv6 sockets: IPV6_V6ONLY is off on a build with IPv4-mapped addresses
    /// (`--enable-v4-mapped`, configure's default on Linux and Debian's build), so `[::]`
    /// takes both families; on other builds IPv6 only.
    BothIfV4Mapped,
    /// A host name: the families of the addresses it resolves to at startup.
    OfResolvedName,
    /// Not an IP socket.
    NotIp,
}

/// An address a server binds, with its ports and which families of clients can connect
/// to it as that server binds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// As written.
    pub raw: String,
    /// The socket type written before the address, without its separator: HAProxy's
    /// `ipv4@`, `quic4@`, `unix@`, Caddy's `tcp4/`, `udp/`.
    pub prefix: Option<String>,
    pub addr: BindAddr,
    /// `None` where no port is written (an Apache `<VirtualHost>` address then matches
    /// every port, a Caddy `bind` address takes the site's) and for sockets that are not
    /// IP.
    pub ports: Option<Ports>,
    pub families: Families,
}

/// One port, or a range written `first-last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    pub first: u16,
    pub last: u16,
}

impl Ports {
    pub fn one(port: u16) -> Ports {
        Ports {
            first: port,
            last: port,
        }
    }
}

/// A value as written (variables substituted, control characters stripped), and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Written {
    pub value: String,
    #[serde(flatten)]
    pub at: Place,
}

/// A section the directive stands in whose condition dsdoctor cannot always decide
/// (`<IfModule>`, `<IfDefine>`, HAProxy's `.if`): the directive is read as if the
/// condition held, and the condition is kept here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(flatten)]
    pub at: Place,
    /// As written: `IfModule ssl_module`, `IfDefine !SSL`, `.if defined(X)`.
    pub text: String,
    /// Whether it holds, where the configuration and the command line tell: `IfDefine`
    /// from `-D` and `Define`, `IfModule` true once a `LoadModule` for it was read
    /// (a module not loaded may still be compiled in, so that stays unknown).
    pub holds: Option<bool>,
}

// ------------------------------------------------------------------------------------
// Apache httpd

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApacheInstance {
    pub pid: u32,
    /// How the server root and configuration file were found (the command line's `-d`
    /// and `-f`, or the defaults of the binary's layout).
    pub how: String,
    pub config: Result<ApacheConfig, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ApacheConfig {
    /// The main configuration file.
    pub main: PathBuf,
    /// `ServerRoot` in effect at the end (relative paths are taken from it).
    pub server_root: PathBuf,
    /// Every file read, in the order first read.
    pub files: Vec<PathBuf>,
    pub listens: Vec<ApacheListen>,
    /// In configuration order: for an address and port, the first matching virtual
    /// host is the default one, which serves every name no other one claims.
    pub vhosts: Vec<VirtualHost>,
    /// `NameVirtualHost` lines: without effect since 2.4 (Apache warns), but they tell
    /// what the author meant.
    pub name_virtual_hosts: Vec<Written>,
    /// `ServerName` of the main server, which virtual hosts without one inherit.
    pub server_name: Option<Written>,
    /// Names defined by `-D` and `Define`, at the end of the read.
    pub defines: Vec<String>,
    /// Modules named by `LoadModule`.
    pub modules: Vec<String>,
    /// `${VAR}` references to variables defined nowhere: Apache keeps them literally.
    pub undefined_vars: Vec<String>,
    /// Anything Apache itself would reject or that could not be read, with file:line.
    pub problems: Vec<String>,
    /// `ProxyPass`, `ProxyPassMatch` and `BalancerMember` targets (absent from older
    /// snapshots).
    #[serde(default)]
    pub proxy_targets: Vec<ProxyTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApacheListen {
    #[serde(flatten)]
    pub at: Place,
    /// The directive as written, variables substituted, control characters stripped.
    pub raw: String,
    /// Its address: one port, always written.
    pub endpoint: Endpoint,
    /// The optional protocol argument (`https`).
    pub protocol: Option<String>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualHost {
    /// Where `<VirtualHost ...>` stands.
    #[serde(flatten)]
    pub at: Place,
    /// Line of `</VirtualHost>` (the last line read if unterminated).
    pub close_line: usize,
    pub addrs: Vec<VhostAddr>,
    pub server_name: Option<Written>,
    pub aliases: Vec<Written>,
    /// `SSLEngine on` inside it.
    pub ssl: bool,
    /// `SSLCertificateFile`, as written.
    pub certificate: Option<String>,
    pub conditions: Vec<Condition>,
}

/// One address of `<VirtualHost addr:port ...>`: the connections it matches are those
/// made to that local address (any address for `*` and `_default_`, `Unspecified`) and
/// port (every port for `:*` or none), from the families the endpoint names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VhostAddr {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// Written `_default_`.
    pub default: bool,
}

// ------------------------------------------------------------------------------------
// HAProxy

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaproxyInstance {
    pub pid: u32,
    /// The `-f` arguments, files or directories, in order.
    pub config_paths: Vec<String>,
    pub config: Result<HaproxyConfig, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HaproxyConfig {
    pub files: Vec<PathBuf>,
    /// `defaults`, `frontend`, `listen` and `backend` sections, in order.
    pub sections: Vec<HaproxySection>,
    pub problems: Vec<String>,
    /// `server` lines of `backend` and `listen` sections (absent from older snapshots).
    #[serde(default)]
    pub proxy_targets: Vec<ProxyTarget>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HaproxySectionKind {
    Defaults,
    Frontend,
    Listen,
    Backend,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaproxySection {
    pub kind: HaproxySectionKind,
    /// `None` for an unnamed `defaults`.
    pub name: Option<String>,
    #[serde(flatten)]
    pub at: Place,
    /// Line of the section's last directive.
    pub last_line: usize,
    /// `mode http` / `mode tcp`, as written in the section.
    pub mode: Option<String>,
    pub binds: Vec<HaproxyBind>,
    pub default_backend: Option<UseBackend>,
    pub use_backends: Vec<UseBackend>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaproxyBind {
    #[serde(flatten)]
    pub at: Place,
    pub raw: String,
    /// The comma-separated addresses of the line; the options apply to each.
    pub endpoints: Vec<Endpoint>,
    /// `v4v6`: an IPv6 socket that also takes IPv4.
    pub v4v6: bool,
    /// `v6only`.
    pub v6only: bool,
    pub ssl: bool,
    /// `crt` arguments: certificate files or directories.
    pub crt: Vec<String>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UseBackend {
    pub backend: String,
    /// The `if`/`unless` condition of `use_backend`, as written.
    pub condition: Option<String>,
    #[serde(flatten)]
    pub at: Place,
}

// ------------------------------------------------------------------------------------
// Caddy

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaddyInstance {
    pub pid: u32,
    /// `--config`, or the default `Caddyfile` in the working directory; `None` when
    /// the process names no configuration (`caddy run` with config from the API).
    pub config_path: Option<String>,
    /// `--adapter`, or `caddyfile` when the file name says so.
    pub adapter: Option<String>,
    /// The Caddyfile as written, when the configuration is one.
    pub caddyfile: Option<Result<Caddyfile, String>>,
    /// The JSON configuration file as written, when `--config` names one.
    pub file_json: Option<Result<CaddyJson, String>>,
    /// The JSON configuration the admin endpoint reports: what runs. `None` when the
    /// admin endpoint is off or not on loopback.
    pub running: Option<Result<CaddyJson, String>>,
    /// Where the admin endpoint was asked (`localhost:2019` by default).
    pub admin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Caddyfile {
    pub files: Vec<PathBuf>,
    pub global: CaddyGlobal,
    pub sites: Vec<CaddySite>,
    pub problems: Vec<String>,
}

/// What the Caddyfile's global options and the JSON configuration both set: the admin
/// endpoint, and the ports of the sites that name none.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaddySettings {
    /// `admin off`; in JSON `admin.disabled`.
    pub admin_off: bool,
    /// `admin ADDRESS`; in JSON `admin.listen`.
    pub admin: Option<String>,
    /// `http_port`; in JSON `apps.http.http_port`.
    pub http_port: Option<u16>,
    pub https_port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaddyGlobal {
    #[serde(flatten)]
    pub settings: CaddySettings,
    /// `auto_https off | disable_redirects | ...`.
    pub auto_https: Option<String>,
    /// `default_bind` addresses, used by sites without `bind`.
    pub default_bind: Vec<CaddyBind>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaddySite {
    #[serde(flatten)]
    pub at: Place,
    /// Line of the closing `}` (the site's last line when written without braces).
    pub close_line: usize,
    pub addresses: Vec<SiteAddress>,
    /// `bind` directives; none means every address in both families, or `default_bind`.
    pub binds: Vec<CaddyBind>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteAddress {
    pub raw: String,
    /// `http` or `https` when written.
    pub scheme: Option<String>,
    /// The host the site answers for (empty: every host).
    pub host: String,
    /// The port as written.
    pub port: Option<u16>,
    /// The port Caddy serves it on: the written one, else 80 for `http://`, else the
    /// HTTPS port (443 unless `https_port`); Caddy then also redirects HTTP to it.
    pub serving_port: u16,
}

/// A `bind` directive (or `default_bind`): one or more addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaddyBind {
    #[serde(flatten)]
    pub at: Place,
    pub raw: String,
    /// Caddy network addresses (`tcp4/0.0.0.0`, `[::]:443`, `unix//run/x.sock`); the
    /// prefix is the network, `tcp` when none is written.
    pub addrs: Vec<Endpoint>,
}

/// The parts of Caddy's JSON configuration that decide sockets and sites.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaddyJson {
    pub servers: Vec<CaddyServer>,
    #[serde(flatten)]
    pub settings: CaddySettings,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaddyServer {
    /// The key under `apps.http.servers` (`srv0`).
    pub name: String,
    pub listen: Vec<Endpoint>,
    /// Every `host` matcher of its routes, subroutes included, in order.
    pub hosts: Vec<String>,
    /// `automatic_https.disable`.
    pub auto_https_disabled: bool,
    /// `automatic_https.disable_redirects`.
    pub redirects_disabled: bool,
}

// ------------------------------------------------------------------------------------
// systemd socket units

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SocketUnits {
    /// The unit directories searched, highest priority first.
    pub dirs: Vec<PathBuf>,
    pub units: Vec<SocketUnit>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketUnit {
    /// `ssh.socket`.
    pub name: String,
    /// The unit file in effect (the first in the search path).
    pub file: PathBuf,
    /// Drop-ins applied after it, in order (`NAME.socket.d/*.conf`).
    pub dropins: Vec<PathBuf>,
    /// Linked to `/dev/null` or empty: never started.
    pub masked: bool,
    /// Named in a `*.wants/` or `*.requires/` directory of the unit directories.
    pub enabled: bool,
    /// `ListenStream=` after every reset by an empty assignment.
    pub listens: Vec<UnitListen>,
    /// The last `BindIPv6Only=`; none means `default`.
    pub bind_ipv6_only: Option<Written>,
    /// `Service=`, when the socket activates a service of another name.
    pub service: Option<String>,
    /// `Accept=yes`: one service instance per connection.
    pub accept: bool,
}

/// A `ListenStream=` value, its families with the unit's final `BindIPv6Only=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitListen {
    #[serde(flatten)]
    pub at: Place,
    #[serde(flatten)]
    pub endpoint: Endpoint,
}

// ------------------------------------------------------------------------------------
// Application runtimes

/// What a process's command line and environment say about the addresses it binds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeHints {
    pub pid: u32,
    pub runtime: Runtime,
    /// The program and its script or module (`node server.js`, `gunicorn app:app`):
    /// how it was started, without the rest of the command line.
    pub command: String,
    pub hints: Vec<RuntimeHint>,
    /// `/proc/PID/environ` could not be read (another user's process, without root).
    pub environ_unreadable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    Java,
    Node,
    Gunicorn,
    Uvicorn,
    Python,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintSource {
    Cmdline,
    Environ,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeHint {
    pub source: HintSource,
    /// The setting: `-Djava.net.preferIPv4Stack`, `HOST`, `--bind`.
    pub key: String,
    pub value: String,
    /// As written (`--bind=0.0.0.0:8000`, `HOST=0.0.0.0`).
    pub text: String,
    /// The families the setting confines the runtime to, where it decides them
    /// (`preferIPv4Stack=true`, an IPv4 address to bind); `None` where the socket
    /// options the runtime sets decide (read those from the socket itself).
    pub families: Option<Families>,
}
