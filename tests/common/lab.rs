//! A network-namespace test lab for dsdoctor.
//!
//! Every [`Lab`] builds three namespaces of its own:
//!
//! ```text
//!   srv (the server under diagnosis)        net (router, DNS)                    cli (a client outside)
//!   eth0 203.0.113.10/24 ---------- esrv 203.0.113.1/24         ecli 198.51.100.1/24 ---------- eth0 198.51.100.10/24
//!        2001:db8:1::10/64               2001:db8:1::1/64            2001:db8:2::1/64                2001:db8:2::10/64
//!                                   lo: 192.0.2.53, 2001:db8:53::53 (resolver, dnsmasq #1)
//!                                       192.0.2.54, 2001:db8:53::54 (ns1)  } authoritative for lab.example,
//!                                       192.0.2.55, 2001:db8:53::55 (ns2)  } dnsmasq #2
//! ```
//!
//! srv and cli route everything through net (forwarding on, for both families). srv's
//! `/etc/resolv.conf` (seen through `ip netns exec`) names the resolver 192.0.2.53.
//!
//! Rules kept here: nothing is added to the root namespace (no link, address, route, rule or
//! sysctl); traffic only goes to addresses inside the lab's namespaces; every process started
//! is recorded by pid and stopped by pid; namespaces are named `dsd-<pid>-<tag>-<n>-{srv,net,cli}`
//! so concurrent tests never collide; teardown runs from `Drop`, so it also happens when a
//! test panics half-way. When the lab cannot be built (not root, `ip netns` unusable, a tool
//! missing) the constructor panics with the reason: the tests fail, they never skip.

use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Addresses of the lab.
// ---------------------------------------------------------------------------------------

/// The domain under diagnosis.
pub const DOMAIN: &str = "shop.lab.example";
/// The zone the authoritative server serves.
pub const ZONE: &str = "lab.example";

pub const SRV_V4: &str = "203.0.113.10";
pub const SRV_V6: &str = "2001:db8:1::10";
pub const SRV_GW_V4: &str = "203.0.113.1";
pub const SRV_GW_V6: &str = "2001:db8:1::1";
pub const CLI_V4: &str = "198.51.100.10";
pub const CLI_V6: &str = "2001:db8:2::10";
pub const CLI_GW_V4: &str = "198.51.100.1";
pub const CLI_GW_V6: &str = "2001:db8:2::1";
pub const RESOLVER_V4: &str = "192.0.2.53";
pub const RESOLVER_V6: &str = "2001:db8:53::53";
pub const NS1_V4: &str = "192.0.2.54";
pub const NS1_V6: &str = "2001:db8:53::54";
pub const NS2_V4: &str = "192.0.2.55";
pub const NS2_V6: &str = "2001:db8:53::55";
/// The well-known NAT64 prefix used by [`DnsZone::dns64`].
pub const NAT64_PREFIX: &str = "64:ff9b::";

/// The prefixes `check_json` passes with `--assume-public`: the lab is built on
/// documentation prefixes, which dsdoctor must not treat as public by default.
pub const ASSUME_PUBLIC: [&str; 4] = [
    "203.0.113.0/24",
    "2001:db8::/32",
    "198.51.100.0/24",
    "192.0.2.0/24",
];

/// nginx `server` body that listens on both families (`[::]:80` is IPV6_V6ONLY in nginx).
pub const NGINX_LISTEN_DUAL: &str = "listen 80;\n    listen [::]:80;";
/// nginx `server` body that listens on IPv4 only: the classic cause of "IPv6 doesn't work".
pub const NGINX_LISTEN_V4_ONLY: &str = "listen 80;";
/// What the lab's nginx site answers on `/`.
pub const NGINX_BODY: &str = "shop.lab.example served by the dsdoctor lab nginx\n";

/// How long one helper command may run before the test fails.
const CMD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one dsdoctor run may take before the test fails.
const DSDOCTOR_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a started service may take to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Tools the lab (and the tests built on it) need on PATH.
const REQUIRED_TOOLS: [&str; 12] = [
    "ip",
    "ss",
    "sysctl",
    "kill",
    "dnsmasq",
    "nginx",
    "dig",
    "python3",
    "setpriv",
    "nft",
    "iptables",
    "ip6tables",
];
const INSTALL_HINT: &str = "apt-get update && apt-get install -y nginx-light dnsmasq-base \
    nftables iptables socat tmux dnsutils iproute2 python3 util-linux procps \
    (or run scripts/test.sh, which installs them)";

static LAB_COUNTER: AtomicUsize = AtomicUsize::new(0);

// ---------------------------------------------------------------------------------------
// Namespaces and users.
// ---------------------------------------------------------------------------------------

/// One of the lab's three network namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ns {
    /// The server under diagnosis (nginx, listeners, dsdoctor run here).
    Srv,
    /// The router with the resolver and the authoritative DNS server.
    Net,
    /// A client on the internet side.
    Cli,
}

/// Which user a command runs as inside a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunAs {
    Root,
    /// uid/gid 65534 without supplementary groups, via
    /// `setpriv --reuid=65534 --regid=65534 --clear-groups`: no capabilities.
    Nobody,
}

// ---------------------------------------------------------------------------------------
// DNS zone data.
// ---------------------------------------------------------------------------------------

/// The DNS data of a lab: what the authoritative server for `lab.example` serves and what
/// the resolver answers by itself. `DnsZone::default()` is the healthy setup; the builder
/// methods change it. Names are fully qualified, without the trailing dot.
#[derive(Clone, Debug)]
pub struct DnsZone {
    /// A records of shop.lab.example (default 203.0.113.10).
    pub shop_a: Vec<String>,
    /// AAAA records of shop.lab.example (default 2001:db8:1::10).
    pub shop_aaaa: Vec<String>,
    /// TTL of the authoritative answers and the resolver's own records.
    pub ttl: u32,
    /// Whether ns2.lab.example is listed as a second NS record.
    pub second_ns: bool,
    /// Whether ns1/ns2 have AAAA records.
    pub ns_aaaa: bool,
    /// Whether the authoritative server answers on its IPv4 addresses.
    pub auth_over_v4: bool,
    /// Whether the authoritative server answers on its IPv6 addresses.
    pub auth_over_v6: bool,
    /// Subnets whose reverse zones the authoritative server serves (and the resolver
    /// forwards to it). PTR records come from the forward records inside these subnets.
    pub reverse_subnets: Vec<String>,
    /// Explicit reverse entries `(address, Some(name) | None)`, applied before the others.
    pub ptr: Vec<(String, Option<String>)>,
    /// Extra hosts `(name, A, AAAA)` in the zone.
    pub hosts: Vec<(String, Option<String>, Option<String>)>,
    /// MX records `(owner, exchange, preference)`.
    pub mx: Vec<(String, String, u16)>,
    /// TXT records `(owner, text)`.
    pub txt: Vec<(String, String)>,
    /// CNAME records `(alias, target)`; the target must be a name the zone defines.
    pub cnames: Vec<(String, String)>,
    /// A records the resolver gives `ipv4only.arpa` (RFC 7050).
    pub ipv4only_a: Vec<String>,
    /// AAAA records the resolver gives `ipv4only.arpa` (only with DNS64).
    pub ipv4only_aaaa: Vec<String>,
    /// With `Some(prefix)`, the resolver pretends to be a DNS64 resolver: AAAA for
    /// ipv4only.arpa, and a synthesised AAAA for shop.lab.example when the zone has none.
    pub dns64_prefix: Option<String>,
    /// `(name, address)`: the resolver answers this family of `name` itself
    /// (`--address=/name/address`), differing from the authoritative data; the other
    /// family is still forwarded.
    pub resolver_addresses: Vec<(String, String)>,
    /// Raw extra lines for the authoritative dnsmasq's configuration file.
    pub auth_extra: Vec<String>,
    /// Raw extra lines for the resolver dnsmasq's configuration file.
    pub resolver_extra: Vec<String>,
}

impl Default for DnsZone {
    fn default() -> Self {
        DnsZone {
            shop_a: vec![SRV_V4.to_string()],
            shop_aaaa: vec![SRV_V6.to_string()],
            ttl: 300,
            second_ns: true,
            ns_aaaa: true,
            auth_over_v4: true,
            auth_over_v6: true,
            reverse_subnets: vec!["203.0.113.0/24".to_string(), "2001:db8:1::/64".to_string()],
            ptr: Vec::new(),
            hosts: Vec::new(),
            mx: Vec::new(),
            txt: Vec::new(),
            cnames: Vec::new(),
            ipv4only_a: vec!["192.0.0.170".to_string(), "192.0.0.171".to_string()],
            ipv4only_aaaa: Vec::new(),
            dns64_prefix: None,
            resolver_addresses: Vec::new(),
            auth_extra: Vec::new(),
            resolver_extra: Vec::new(),
        }
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl DnsZone {
    /// The healthy zone (same as `default()`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Replace shop.lab.example's A records (empty: no A record).
    pub fn shop_a(mut self, addrs: &[&str]) -> Self {
        self.shop_a = strings(addrs);
        self
    }
    /// Replace shop.lab.example's AAAA records (empty: no AAAA record).
    pub fn shop_aaaa(mut self, addrs: &[&str]) -> Self {
        self.shop_aaaa = strings(addrs);
        self
    }
    pub fn no_shop_a(self) -> Self {
        self.shop_a(&[])
    }
    pub fn no_shop_aaaa(self) -> Self {
        self.shop_aaaa(&[])
    }
    pub fn ttl(mut self, ttl: u32) -> Self {
        self.ttl = ttl;
        self
    }
    /// Only ns1.lab.example in the NS set (ns2 still answers on its addresses).
    pub fn single_nameserver(mut self) -> Self {
        self.second_ns = false;
        self
    }
    /// ns1/ns2 get no AAAA records.
    pub fn nameservers_without_aaaa(mut self) -> Self {
        self.ns_aaaa = false;
        self
    }
    /// Whether the authoritative server answers on its IPv6 addresses (default yes).
    pub fn auth_over_ipv6(mut self, on: bool) -> Self {
        self.auth_over_v6 = on;
        self
    }
    /// Whether the authoritative server answers on its IPv4 addresses (default yes).
    pub fn auth_over_ipv4(mut self, on: bool) -> Self {
        self.auth_over_v4 = on;
        self
    }
    /// Replace the subnets whose reverse zones are served (IPv4 /8, /16 or /24; IPv6 a
    /// multiple of 4). Empty: no reverse zone at all (PTR queries are refused).
    pub fn reverse_subnets(mut self, subnets: &[&str]) -> Self {
        self.reverse_subnets = strings(subnets);
        self
    }
    /// Make `addr` (inside a reverse subnet) point at `name`. Limitation of dnsmasq's
    /// authoritative mode: a PTR can only come from a forward record, so `name` also gets
    /// an A/AAAA record for `addr`.
    pub fn ptr(mut self, addr: &str, name: &str) -> Self {
        self.ptr.push((addr.to_string(), Some(name.to_string())));
        self
    }
    /// Give `addr` no PTR record (NXDOMAIN in a served reverse zone), even when a host of
    /// the zone has that address.
    pub fn no_ptr(mut self, addr: &str) -> Self {
        self.ptr.push((addr.to_string(), None));
        self
    }
    /// Add a host to the zone.
    pub fn host(mut self, name: &str, a: Option<&str>, aaaa: Option<&str>) -> Self {
        self.hosts.push((
            name.to_string(),
            a.map(str::to_string),
            aaaa.map(str::to_string),
        ));
        self
    }
    /// Add an MX record `owner MX preference exchange`.
    pub fn mx(mut self, owner: &str, exchange: &str, preference: u16) -> Self {
        self.mx
            .push((owner.to_string(), exchange.to_string(), preference));
        self
    }
    pub fn txt(mut self, owner: &str, text: &str) -> Self {
        self.txt.push((owner.to_string(), text.to_string()));
        self
    }
    pub fn cname(mut self, alias: &str, target: &str) -> Self {
        self.cnames.push((alias.to_string(), target.to_string()));
        self
    }
    /// The resolver answers `name`'s A or AAAA (by the address's family) with `addr` itself,
    /// unlike the authoritative server (a stale or hijacked resolver).
    pub fn resolver_address(mut self, name: &str, addr: &str) -> Self {
        self.resolver_addresses
            .push((name.to_string(), addr.to_string()));
        self
    }
    /// The resolver acts as a DNS64 resolver with the well-known prefix 64:ff9b::/96.
    pub fn dns64(self) -> Self {
        self.dns64_prefix(NAT64_PREFIX)
    }
    /// The resolver acts as a DNS64 resolver with a /96 `prefix` ("64:ff9b::"):
    /// ipv4only.arpa gets AAAA records, and shop.lab.example gets a synthesised AAAA when
    /// the zone has none. (dnsmasq cannot synthesise; the lab writes the records.)
    pub fn dns64_prefix(mut self, prefix: &str) -> Self {
        self.ipv4only_aaaa = self.ipv4only_a.iter().map(|a| nat64(prefix, a)).collect();
        self.dns64_prefix = Some(prefix.to_string());
        self
    }
    /// A raw line for the authoritative server's dnsmasq configuration.
    pub fn auth_option(mut self, line: &str) -> Self {
        self.auth_extra.push(line.to_string());
        self
    }
    /// A raw line for the resolver's dnsmasq configuration.
    pub fn resolver_option(mut self, line: &str) -> Self {
        self.resolver_extra.push(line.to_string());
        self
    }

    fn auth_addrs(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.auth_over_v4 {
            v.extend([NS1_V4, NS2_V4]);
        }
        if self.auth_over_v6 {
            v.extend([NS1_V6, NS2_V6]);
        }
        v
    }

    /// The authoritative dnsmasq's configuration file.
    ///
    /// What works with dnsmasq 2.90 (found by trying):
    /// * `--auth-zone=lab.example,SUBNETS` serves A/AAAA only when they are inside SUBNETS,
    ///   and PTR only from forward records (host-record) inside the zone; `--ptr-record` is
    ///   ignored in authoritative mode. A zone without subnets serves every address but no
    ///   reverse zone. So the zone is declared twice: once with the reverse subnets and once
    ///   without. dnsmasq keeps auth zones in reverse order of declaration, so the
    ///   subnet-less one (declared last) is found first for forward names (no address
    ///   filter), while PTR queries find the one whose subnet matches.
    /// * Only the first host-record of an address creates its PTR: explicit `ptr`/`no_ptr`
    ///   entries are written first (`no_ptr` uses a name outside the zone, which the
    ///   authoritative code refuses to give as PTR, so the answer is NXDOMAIN).
    /// * NS = `auth-server` name (ns1) + `auth-sec-servers` (ns2). Reverse zones list ns1
    ///   only (dnsmasq leaves secondaries out of reverse zones).
    fn auth_conf(&self, dir: &Path) -> String {
        let addrs = self.auth_addrs();
        let mut c = String::new();
        let mut line = |s: String| {
            c.push_str(&s);
            c.push('\n');
        };
        line("# dsdoctor lab: authoritative server for lab.example (ns1 + ns2)".into());
        line("keep-in-foreground".into());
        line("no-resolv".into());
        line("no-hosts".into());
        line("no-poll".into());
        line("bind-interfaces".into());
        line(format!("listen-address={}", addrs.join(",")));
        line(format!("pid-file={}", dir.join("dns-auth.pid").display()));
        line(format!(
            "log-facility={}",
            dir.join("dns-auth.log").display()
        ));
        line("log-queries".into());
        line(format!("auth-server=ns1.{ZONE},{}", addrs.join(",")));
        if !self.reverse_subnets.is_empty() {
            line(format!(
                "auth-zone={ZONE},{}",
                self.reverse_subnets.join(",")
            ));
        }
        line(format!("auth-zone={ZONE}"));
        line(format!(
            "auth-soa=2026112301,hostmaster.{ZONE},1200,180,1209600"
        ));
        line(format!("auth-ttl={}", self.ttl));
        if self.second_ns {
            line(format!("auth-sec-servers=ns2.{ZONE}"));
        }
        for (addr, name) in &self.ptr {
            match name {
                Some(n) => line(format!("host-record={n},{addr}")),
                None => line(format!("host-record=no-ptr.invalid,{addr}")),
            }
        }
        for (ns, v4, v6) in [("ns1", NS1_V4, NS1_V6), ("ns2", NS2_V4, NS2_V6)] {
            line(format!("host-record={ns}.{ZONE},{v4}"));
            if self.ns_aaaa {
                line(format!("host-record={ns}.{ZONE},{v6}"));
            }
        }
        for a in self.shop_a.iter().chain(self.shop_aaaa.iter()) {
            line(format!("host-record={DOMAIN},{a}"));
        }
        for (name, a, aaaa) in &self.hosts {
            for addr in a.iter().chain(aaaa.iter()) {
                line(format!("host-record={name},{addr}"));
            }
        }
        for (owner, exchange, pref) in &self.mx {
            line(format!("mx-host={owner},{exchange},{pref}"));
        }
        for (owner, text) in &self.txt {
            line(format!("txt-record={owner},\"{text}\""));
        }
        for (alias, target) in &self.cnames {
            line(format!("cname={alias},{target}"));
        }
        for l in &self.auth_extra {
            line(l.clone());
        }
        c
    }

    /// The resolver dnsmasq's configuration file: no upstream; lab.example and the
    /// reverse zones are forwarded to the authoritative server; ipv4only.arpa is answered
    /// locally (`local=/ipv4only.arpa/` makes its AAAA a NODATA answer instead of REFUSED).
    /// Anything else is REFUSED (no upstream), as from a resolver cut off the internet.
    fn resolver_conf(&self, dir: &Path) -> String {
        let mut upstream: Vec<&str> = Vec::new();
        if self.auth_over_v4 {
            upstream.extend([NS1_V4, NS2_V4]);
        }
        if self.auth_over_v6 {
            upstream.extend([NS1_V6, NS2_V6]);
        }
        let mut zones = vec![ZONE.to_string()];
        zones.extend(self.reverse_subnets.iter().map(|s| reverse_zone(s)));

        let mut c = String::new();
        let mut line = |s: String| {
            c.push_str(&s);
            c.push('\n');
        };
        line("# dsdoctor lab: recursive resolver (no upstream but the lab's own zones)".into());
        line("keep-in-foreground".into());
        line("no-resolv".into());
        line("no-hosts".into());
        line("no-poll".into());
        line("bind-interfaces".into());
        line(format!("listen-address={RESOLVER_V4},{RESOLVER_V6}"));
        line(format!(
            "pid-file={}",
            dir.join("dns-resolver.pid").display()
        ));
        line(format!(
            "log-facility={}",
            dir.join("dns-resolver.log").display()
        ));
        line("log-queries".into());
        line(format!("local-ttl={}", self.ttl));
        for z in &zones {
            for u in &upstream {
                line(format!("server=/{z}/{u}"));
            }
        }
        line("local=/ipv4only.arpa/".into());
        for a in self.ipv4only_a.iter().chain(self.ipv4only_aaaa.iter()) {
            line(format!("host-record=ipv4only.arpa,{a}"));
        }
        // A DNS64 resolver synthesises AAAA only for names without one.
        let synthesise = self
            .dns64_prefix
            .as_ref()
            .filter(|_| self.shop_aaaa.is_empty());
        if let Some(prefix) = synthesise {
            for a in &self.shop_a {
                line(format!("address=/{DOMAIN}/{}", nat64(prefix, a)));
            }
        }
        for (name, addr) in &self.resolver_addresses {
            line(format!("address=/{name}/{addr}"));
        }
        for l in &self.resolver_extra {
            line(l.clone());
        }
        c
    }
}

/// `prefix` (a /96, e.g. "64:ff9b::") with the IPv4 address `v4` embedded (RFC 6052).
pub fn nat64(prefix: &str, v4: &str) -> String {
    let p: Ipv6Addr = prefix
        .trim_end_matches("/96")
        .parse()
        .unwrap_or_else(|e| panic!("bad NAT64 prefix {prefix:?}: {e}"));
    let a: Ipv4Addr = v4
        .parse()
        .unwrap_or_else(|e| panic!("bad IPv4 address {v4:?}: {e}"));
    let mut o = p.octets();
    o[12..].copy_from_slice(&a.octets());
    Ipv6Addr::from(o).to_string()
}

/// The reverse zone name of a subnet: "203.0.113.0/24" -> "113.0.203.in-addr.arpa",
/// "2001:db8:1::/64" -> "0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa".
pub fn reverse_zone(subnet: &str) -> String {
    let (addr, len) = subnet
        .split_once('/')
        .unwrap_or_else(|| panic!("subnet {subnet:?} needs a prefix length"));
    let len: usize = len
        .parse()
        .unwrap_or_else(|e| panic!("bad prefix length in {subnet:?}: {e}"));
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        assert!(
            matches!(len, 8 | 16 | 24),
            "IPv4 reverse subnets must be /8, /16 or /24: {subnet}"
        );
        let o = v4.octets();
        let mut parts: Vec<String> = o[..len / 8].iter().map(|b| b.to_string()).collect();
        parts.reverse();
        format!("{}.in-addr.arpa", parts.join("."))
    } else {
        let v6: Ipv6Addr = addr
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {subnet:?}: {e}"));
        assert!(
            (len & 3) == 0 && len > 0 && len <= 128,
            "IPv6 reverse subnets must be a multiple of 4 bits: {subnet}"
        );
        let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
        let mut nibbles: Vec<String> = hex[..len / 4].chars().map(|c| c.to_string()).collect();
        nibbles.reverse();
        format!("{}.ip6.arpa", nibbles.join("."))
    }
}

// ---------------------------------------------------------------------------------------
// The lab.
// ---------------------------------------------------------------------------------------

/// A background process the lab started and will stop.
struct Proc {
    label: String,
    child: Child,
}

/// Three namespaces, the DNS servers, and whatever the test starts in them. Dropping the
/// lab tears everything down.
pub struct Lab {
    tag: String,
    srv: String,
    net: String,
    cli: String,
    /// Namespaces actually created (teardown deletes these).
    created: Vec<String>,
    /// `/etc/netns/<name>` directories created.
    etc_dirs: Vec<PathBuf>,
    dir: Option<tempfile::TempDir>,
    dir_path: PathBuf,
    procs: Vec<Proc>,
    zone: DnsZone,
    torn_down: bool,
}

impl Lab {
    /// A healthy lab: namespaces, links, addresses, routes, DNS with the default zone.
    /// `tag` names the test (letters, digits, dashes; it appears in namespace names).
    pub fn new(tag: &str) -> Lab {
        Lab::with_zone(tag, DnsZone::default())
    }

    /// A lab whose DNS serves `zone`.
    pub fn with_zone(tag: &str, zone: DnsZone) -> Lab {
        preflight();
        let clean: String = tag
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(24)
            .collect();
        let n = LAB_COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = format!("dsd-{}-{}-{}", std::process::id(), clean, n);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{base}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("lab {base}: cannot create a temporary directory: {e}"));
        let dir_path = dir.path().to_path_buf();
        // World-readable: dsdoctor run as nobody must be able to read nginx's configuration.
        fs::set_permissions(&dir_path, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("lab {base}: chmod {}: {e}", dir_path.display()));

        // The struct exists from here on, so a panic further down still tears down.
        let mut lab = Lab {
            tag: clean,
            srv: format!("{base}-srv"),
            net: format!("{base}-net"),
            cli: format!("{base}-cli"),
            created: Vec::new(),
            etc_dirs: Vec::new(),
            dir: Some(dir),
            dir_path,
            procs: Vec::new(),
            zone: zone.clone(),
            torn_down: false,
        };
        lab.build_network();
        lab.write_resolv_conf();
        lab.start_dns();
        // The ISP stage's echo service and egress target, so no probe leaves the lab.
        lab.start_echo();
        lab
    }

    // ----- names and paths -------------------------------------------------------------

    /// The namespace's name (for `ip -n NAME`, `ip netns exec NAME`).
    pub fn ns(&self, ns: Ns) -> &str {
        match ns {
            Ns::Srv => &self.srv,
            Ns::Net => &self.net,
            Ns::Cli => &self.cli,
        }
    }

    /// All three namespace names.
    pub fn namespaces(&self) -> [String; 3] {
        [self.srv.clone(), self.net.clone(), self.cli.clone()]
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The lab's temporary directory (configs, logs, pid files).
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    /// The DNS data currently served.
    pub fn zone(&self) -> &DnsZone {
        &self.zone
    }

    /// `/etc/netns/<srv>`: files here appear under `/etc` for commands run in srv.
    pub fn srv_etc_dir(&self) -> PathBuf {
        Path::new("/etc/netns").join(&self.srv)
    }

    // ----- building ----------------------------------------------------------------------

    fn build_network(&mut self) {
        for name in [self.srv.clone(), self.net.clone(), self.cli.clone()] {
            let out = run_timeout(
                cmd("ip", &["netns", "add", &name]),
                CMD_TIMEOUT,
                "ip netns add",
            );
            if !out.status.success() {
                panic!(
                    "lab: `ip netns add {name}` failed ({}): {}\nThe lab needs root and a \
                     kernel with network namespaces.",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            self.created.push(name);
        }
        let (srv, net, cli) = (self.srv.clone(), self.net.clone(), self.cli.clone());
        // veth pairs created directly inside the namespaces.
        self.must(cmd(
            "ip",
            &[
                "-n", &srv, "link", "add", "eth0", "type", "veth", "peer", "name", "esrv", "netns",
                &net,
            ],
        ));
        self.must(cmd(
            "ip",
            &[
                "-n", &cli, "link", "add", "eth0", "type", "veth", "peer", "name", "ecli", "netns",
                &net,
            ],
        ));
        // Sysctls only inside the lab's own router and client: forwarding on net, and no
        // DAD on the router's and client's links (their link-local addresses are usable at
        // once). srv keeps the defaults: DAD there is a subject of dsdoctor's checks.
        self.must(ns_cmd(
            &net,
            &[
                "sysctl",
                "-q",
                "-w",
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
                "net.ipv6.conf.esrv.accept_dad=0",
                "net.ipv6.conf.ecli.accept_dad=0",
            ],
        ));
        self.must(ns_cmd(
            &cli,
            &["sysctl", "-q", "-w", "net.ipv6.conf.eth0.accept_dad=0"],
        ));
        self.ip_batch(
            &net,
            &format!(
                "link set lo up
addr add {RESOLVER_V4}/32 dev lo
addr add {NS1_V4}/32 dev lo
addr add {NS2_V4}/32 dev lo
addr add {RESOLVER_V6}/128 dev lo nodad
addr add {NS1_V6}/128 dev lo nodad
addr add {NS2_V6}/128 dev lo nodad
addr add {SRV_GW_V4}/24 dev esrv
addr add {SRV_GW_V6}/64 dev esrv nodad
addr add {CLI_GW_V4}/24 dev ecli
addr add {CLI_GW_V6}/64 dev ecli nodad
link set esrv up
link set ecli up
"
            ),
        );
        self.ip_batch(
            &srv,
            &format!(
                "link set lo up
addr add {SRV_V4}/24 dev eth0
addr add {SRV_V6}/64 dev eth0 nodad
link set eth0 up
route add default via {SRV_GW_V4}
route add default via {SRV_GW_V6}
"
            ),
        );
        self.ip_batch(
            &cli,
            &format!(
                "link set lo up
addr add {CLI_V4}/24 dev eth0
addr add {CLI_V6}/64 dev eth0 nodad
link set eth0 up
route add default via {CLI_GW_V4}
route add default via {CLI_GW_V6}
"
            ),
        );
    }

    fn write_resolv_conf(&mut self) {
        self.write_srv_etc("resolv.conf", &format!("nameserver {RESOLVER_V4}\n"));
    }

    /// Write `/etc/netns/<srv>/<rel>` (directories created as needed, world-readable):
    /// commands run in srv with `ip netns exec` see it as `/etc/<rel>`. Only the first
    /// path component is bind-mounted by `ip netns exec`, so a file in a subdirectory
    /// (e.g. `sysctl.d/99-x.conf`) hides the whole real directory.
    pub fn write_srv_etc(&mut self, rel: &str, contents: &str) -> PathBuf {
        assert!(
            !rel.starts_with('/') && !rel.contains(".."),
            "write_srv_etc: {rel:?} must be relative to /etc"
        );
        let etc = self.srv_etc_dir();
        if !self.etc_dirs.contains(&etc) {
            fs::create_dir_all(&etc)
                .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", etc.display()));
            self.etc_dirs.push(etc.clone());
        }
        let path = etc.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", parent.display()));
            let _ = fs::set_permissions(parent, fs::Permissions::from_mode(0o755));
        }
        fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("lab: cannot write {}: {e}", path.display()));
        let _ = fs::set_permissions(&path, fs::Permissions::from_mode(0o644));
        path
    }

    /// A file in srv's `/etc/sysctl.d/` (e.g. `("99-no-ipv6.conf", "net.ipv6.conf.all.disable_ipv6 = 1\n")`).
    pub fn write_srv_sysctl_d(&mut self, name: &str, contents: &str) -> PathBuf {
        self.write_srv_etc(&format!("sysctl.d/{name}"), contents)
    }

    /// srv's `/etc/sysctl.conf`.
    pub fn write_srv_sysctl_conf(&mut self, contents: &str) -> PathBuf {
        self.write_srv_etc("sysctl.conf", contents)
    }

    // ----- DNS -----------------------------------------------------------------------------

    fn start_dns(&mut self) {
        let dir = self.dir_path.clone();
        let auth_conf = dir.join("dns-auth.conf");
        let res_conf = dir.join("dns-resolver.conf");
        write_file(&auth_conf, &self.zone.auth_conf(&dir));
        write_file(&res_conf, &self.zone.resolver_conf(&dir));

        let auth_addrs: Vec<String> = self
            .zone
            .auth_addrs()
            .iter()
            .map(|a| sock_str(a, 53))
            .collect();
        let res_addrs = vec![sock_str(RESOLVER_V4, 53), sock_str(RESOLVER_V6, 53)];
        let net = self.net.clone();
        for (label, conf, addrs) in [
            ("dns-auth", &auth_conf, auth_addrs),
            ("dns-resolver", &res_conf, res_addrs),
        ] {
            let conf_arg = format!("--conf-file={}", conf.display());
            let pid = self.spawn_logged(Ns::Net, label, &["dnsmasq", &conf_arg]);
            let deadline = Instant::now() + READY_TIMEOUT;
            loop {
                self.assert_alive(label);
                let listening = listening_sockets(&net, "-Hlun");
                if addrs.iter().all(|a| listening.contains(a)) {
                    break;
                }
                if Instant::now() > deadline {
                    panic!(
                        "lab: dnsmasq {label} (pid {pid}) does not listen on {addrs:?} after \
                         {READY_TIMEOUT:?}; listening: {listening:?}\n{}",
                        self.logs_of(label)
                    );
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Replace the DNS data: both dnsmasq instances are restarted with the new zone (their
    /// caches go with them).
    pub fn set_zone(&mut self, zone: DnsZone) {
        self.stop("dns-resolver");
        self.stop("dns-auth");
        self.zone = zone;
        self.start_dns();
    }

    /// `dig` run in `ns` with `args`; the output lines (trimmed, non-empty).
    /// Use `+short` etc. as needed; `+time=1 +tries=2` are added.
    pub fn dig(&self, ns: Ns, args: &[&str]) -> Vec<String> {
        let mut full = vec!["dig", "+time=1", "+tries=2"];
        full.extend_from_slice(args);
        let out = self.exec(ns, &full);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "dig {args:?} in {ns:?} failed ({}): {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `dig +short` in `ns`, answers sorted.
    pub fn dig_short(&self, ns: Ns, args: &[&str]) -> Vec<String> {
        let mut full = vec!["+short"];
        full.extend_from_slice(args);
        let mut v = self.dig(ns, &full);
        v.sort();
        v
    }

    // ----- running commands ----------------------------------------------------------------

    /// Run `args` in `ns` as root (`ip netns exec`), waiting at most 30 s. Never panics on
    /// a non-zero exit: look at the returned `Output`.
    pub fn exec(&self, ns: Ns, args: &[&str]) -> Output {
        self.exec_as(ns, RunAs::Root, args)
    }

    /// Run `args` in `ns` as the given user.
    pub fn exec_as(&self, ns: Ns, user: RunAs, args: &[&str]) -> Output {
        let c = self.ns_command(ns, user, args);
        run_timeout(c, CMD_TIMEOUT, &format!("{args:?} in {ns:?}"))
    }

    /// Like `exec`, but panics with stderr when the command fails; returns stdout.
    pub fn exec_ok(&self, ns: Ns, args: &[&str]) -> String {
        let out = self.exec(ns, args);
        assert!(
            out.status.success(),
            "{args:?} in {ns:?} ({}) failed ({}): stdout: {}\nstderr: {}",
            self.ns(ns),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn ns_command(&self, ns: Ns, user: RunAs, args: &[&str]) -> Command {
        let mut full: Vec<&str> = vec!["netns", "exec", self.ns(ns)];
        if user == RunAs::Nobody {
            full.extend([
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
            ]);
        }
        full.extend_from_slice(args);
        cmd("ip", &full)
    }

    /// Start `args` in the background in `ns`, recorded under `label` (stdout/stderr go to
    /// `<dir>/<label>.out`); stopped at teardown or by `stop(label)`. Returns the pid.
    pub fn spawn(&mut self, ns: Ns, label: &str, args: &[&str]) -> u32 {
        self.spawn_logged(ns, label, args)
    }

    fn spawn_logged(&mut self, ns: Ns, label: &str, args: &[&str]) -> u32 {
        assert!(
            !self.procs.iter().any(|p| p.label == label),
            "lab: a process labelled {label:?} is already running"
        );
        let log_path = self.dir_path.join(format!("{label}.out"));
        let log = fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", log_path.display()));
        let log2 = log.try_clone().expect("clone log file handle");
        let mut c = self.ns_command(ns, RunAs::Root, args);
        c.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2));
        // `ip netns exec` execs the command in place, so this pid is the command's own.
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("lab: cannot start {args:?} in {ns:?}: {e}"));
        let pid = child.id();
        self.procs.push(Proc {
            label: label.to_string(),
            child,
        });
        pid
    }

    /// The pid of the running process recorded under `label`.
    pub fn pid_of(&self, label: &str) -> Option<u32> {
        self.procs
            .iter()
            .find(|p| p.label == label)
            .map(|p| p.child.id())
    }

    /// Whether the process recorded under `label` is still running.
    pub fn is_running(&mut self, label: &str) -> bool {
        match self.procs.iter_mut().find(|p| p.label == label) {
            Some(p) => matches!(p.child.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn assert_alive(&mut self, label: &str) {
        let status = match self.procs.iter_mut().find(|p| p.label == label) {
            Some(p) => p.child.try_wait().ok().flatten(),
            None => panic!("lab: no process labelled {label:?}"),
        };
        if let Some(st) = status {
            panic!("lab: {label} exited early ({st})\n{}", self.logs_of(label));
        }
    }

    /// The output and log files of a labelled process, for failure messages.
    pub fn logs_of(&self, label: &str) -> String {
        let mut s = String::new();
        for name in [
            format!("{label}.out"),
            format!("{label}.log"),
            "nginx/error.log".to_string(),
        ] {
            if name.starts_with("nginx/") && label != "nginx" {
                continue;
            }
            let p = self.dir_path.join(&name);
            if let Ok(text) = fs::read_to_string(&p) {
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                s.push_str(&format!("--- {} (last lines) ---\n", p.display()));
                for l in tail.iter().rev() {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        s
    }

    /// Stop the process recorded under `label` (SIGTERM, then SIGKILL after 3 s).
    pub fn stop(&mut self, label: &str) {
        if let Some(i) = self.procs.iter().position(|p| p.label == label) {
            let mut p = self.procs.remove(i);
            stop_child(&mut p.child);
        }
    }

    // ----- nginx ---------------------------------------------------------------------------

    /// Path of nginx's main configuration (`-c`).
    pub fn nginx_conf_path(&self) -> PathBuf {
        self.dir_path.join("nginx/nginx.conf")
    }

    /// Path of the site file the main configuration includes (`sites/*.conf`).
    pub fn nginx_site_path(&self) -> PathBuf {
        self.dir_path.join("nginx/sites/shop.conf")
    }

    /// The site file for a `server` whose listen directives are `server_body`
    /// (e.g. [`NGINX_LISTEN_DUAL`]).
    pub fn nginx_site(server_body: &str) -> String {
        format!(
            "# shop.lab.example (written by the dsdoctor test lab)\nserver {{\n    {server_body}\n    server_name {DOMAIN};\n\n    location / {{\n        return 200 \"{}\";\n    }}\n}}\n",
            NGINX_BODY.replace('\n', "\\n")
        )
    }

    fn write_nginx_files(&self, site: &str) {
        let n = self.dir_path.join("nginx");
        for d in ["", "sites", "tmp", "logs"] {
            let p = n.join(d);
            fs::create_dir_all(&p)
                .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", p.display()));
            let _ = fs::set_permissions(&p, fs::Permissions::from_mode(0o755));
        }
        let nd = n.display();
        let main = format!(
            "# dsdoctor lab nginx main configuration (generated)\n\
             worker_processes 1;\n\
             pid {nd}/nginx.pid;\n\
             error_log {nd}/error.log notice;\n\
             \n\
             events {{\n    worker_connections 128;\n}}\n\
             \n\
             http {{\n\
             \x20   default_type text/plain;\n\
             \x20   access_log {nd}/logs/access.log;\n\
             \x20   client_body_temp_path {nd}/tmp/body;\n\
             \x20   proxy_temp_path {nd}/tmp/proxy;\n\
             \x20   fastcgi_temp_path {nd}/tmp/fastcgi;\n\
             \x20   uwsgi_temp_path {nd}/tmp/uwsgi;\n\
             \x20   scgi_temp_path {nd}/tmp/scgi;\n\
             \n\
             \x20   include {nd}/sites/*.conf;\n\
             }}\n"
        );
        write_file(&self.nginx_conf_path(), &main);
        write_file(&self.nginx_site_path(), site);
    }

    fn nginx_worker_starts(&self) -> (usize, Vec<String>) {
        let log = fs::read_to_string(self.dir_path.join("nginx/error.log")).unwrap_or_default();
        let starts = log.matches("start worker process").count();
        let emerg = log
            .lines()
            .filter(|l| l.contains("[emerg]") || l.contains("[alert]"))
            .map(str::to_string)
            .collect();
        (starts, emerg)
    }

    /// Start nginx in srv with a `server` whose listen directives are `server_body`
    /// (e.g. `"listen 80;"` or [`NGINX_LISTEN_DUAL`]); waits until its workers run (all its
    /// sockets are open by then). Returns the master's pid.
    pub fn start_nginx(&mut self, server_body: &str) -> u32 {
        self.start_nginx_raw(&Self::nginx_site(server_body))
    }

    /// Start nginx in srv with `site` as the whole content of `sites/shop.conf`.
    pub fn start_nginx_raw(&mut self, site: &str) -> u32 {
        assert!(self.pid_of("nginx").is_none(), "lab: nginx already runs");
        self.write_nginx_files(site);
        let n = self.dir_path.join("nginx");
        let prefix = format!("{}/", n.display());
        let err = format!("{}/error.log", n.display());
        let conf = self.nginx_conf_path().display().to_string();
        let _ = fs::remove_file(&err);
        let pid = self.spawn_logged(
            Ns::Srv,
            "nginx",
            &[
                "nginx",
                "-p",
                &prefix,
                "-e",
                &err,
                "-c",
                &conf,
                "-g",
                "daemon off;",
            ],
        );
        self.wait_nginx_workers(0, &[]);
        pid
    }

    /// Rewrite the site (listen directives `server_body`) and reload nginx (SIGHUP to the
    /// recorded master); waits until new workers run and the old ones are gone.
    pub fn reload_nginx(&mut self, server_body: &str) {
        self.reload_nginx_raw(&Self::nginx_site(server_body))
    }

    /// Rewrite `sites/shop.conf` with `site` and reload nginx.
    pub fn reload_nginx_raw(&mut self, site: &str) {
        let master = self
            .pid_of("nginx")
            .expect("lab: reload_nginx needs a running nginx (start_nginx first)");
        self.write_nginx_files(site);
        let old_workers = children_of(master);
        let (before, old_emerg) = self.nginx_worker_starts();
        signal(master, "HUP");
        self.wait_nginx_workers(before, &old_emerg);
        let deadline = Instant::now() + READY_TIMEOUT;
        while old_workers.iter().any(|p| process_alive(*p)) {
            if Instant::now() > deadline {
                panic!("lab: old nginx workers {old_workers:?} still run 10 s after reload");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_nginx_workers(&mut self, before: usize, old_emerg: &[String]) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.assert_alive("nginx");
            let (starts, emerg) = self.nginx_worker_starts();
            if starts > before {
                break;
            }
            let new_emerg: Vec<&String> = emerg.iter().filter(|l| !old_emerg.contains(l)).collect();
            if !new_emerg.is_empty() {
                panic!(
                    "lab: nginx rejected its configuration: {new_emerg:?}\n{}",
                    self.logs_of("nginx")
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "lab: nginx workers did not start within {READY_TIMEOUT:?}\n{}",
                    self.logs_of("nginx")
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop nginx (SIGTERM to the master, which stops its workers).
    pub fn stop_nginx(&mut self) {
        self.stop("nginx");
    }

    // ----- a TCP listener ----------------------------------------------------------------

    /// Start "a service on port N" in srv: a small python3 TCP listener bound to `addr`
    /// (`"0.0.0.0"`, `"::"`, `"203.0.113.10"`, ...). For IPv6 addresses `v6only` sets
    /// IPV6_V6ONLY explicitly (`None`: the kernel default, net.ipv6.bindv6only). It answers
    /// an HTTP request with 200 and `body`, anything else (or silence for 0.5 s) with
    /// `body`. Returns its pid; label `listener-<addr>-<port>`.
    pub fn start_listener(
        &mut self,
        addr: &str,
        port: u16,
        v6only: Option<bool>,
        body: &str,
    ) -> u32 {
        self.start_listener_in(Ns::Srv, addr, port, v6only, body)
    }

    /// Like `start_listener`, in any namespace.
    pub fn start_listener_in(
        &mut self,
        ns: Ns,
        addr: &str,
        port: u16,
        v6only: Option<bool>,
        body: &str,
    ) -> u32 {
        let label = format!("listener-{:?}-{}-{}", ns, addr.replace(':', "_"), port).to_lowercase();
        let ready = self.dir_path.join(format!("{label}.ready"));
        let _ = fs::remove_file(&ready);
        let v6 = match v6only {
            None => "default",
            Some(true) => "1",
            Some(false) => "0",
        };
        let port_s = port.to_string();
        let ready_s = ready.display().to_string();
        let py = python();
        let pid = self.spawn_logged(
            ns,
            &label,
            &[
                py.as_str(),
                "-c",
                LISTENER_PY,
                addr,
                &port_s,
                v6,
                &ready_s,
                body,
            ],
        );
        let deadline = Instant::now() + READY_TIMEOUT;
        while !ready.exists() {
            self.assert_alive(&label);
            if Instant::now() > deadline {
                panic!("lab: listener {label} not ready\n{}", self.logs_of(&label));
            }
            thread::sleep(Duration::from_millis(10));
        }
        pid
    }

    // ----- probing from a namespace -------------------------------------------------------------

    /// `GET /` to `addr:port` from `ns` (python3, 2 s timeout): the whole response, or
    /// the error (e.g. "ConnectionRefusedError: ...").
    pub fn http_get(&self, ns: Ns, addr: &str, port: u16) -> Result<String, String> {
        let out = self.exec(
            ns,
            &[
                python().as_str(),
                "-c",
                HTTP_GET_PY,
                addr,
                &port.to_string(),
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "{}{}",
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Whether a TCP connection from `ns` to `addr:port` is accepted within 2 s.
    pub fn tcp_connects(&self, ns: Ns, addr: &str, port: u16) -> bool {
        let out = self.exec(
            ns,
            &[python().as_str(), "-c", CONNECT_PY, addr, &port.to_string()],
        );
        out.status.success()
    }

    /// Listening TCP sockets in `ns` as `ss -Hltne` prints them (one line each).
    pub fn ss_listen(&self, ns: Ns) -> Vec<String> {
        self.exec_ok(ns, &["ss", "-Hltne"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    // ----- dsdoctor ---------------------------------------------------------------------------

    /// Run dsdoctor in srv as root: (exit code, stdout, stderr).
    pub fn run_dsdoctor(&self, args: &[&str]) -> (i32, String, String) {
        self.run_dsdoctor_as(RunAs::Root, args)
    }

    /// Run dsdoctor in srv as `user`: (exit code, stdout, stderr). Panics if it runs longer
    /// than 120 s or dies from a signal.
    pub fn run_dsdoctor_as(&self, user: RunAs, args: &[&str]) -> (i32, String, String) {
        let bin = env!("CARGO_BIN_EXE_dsdoctor");
        let mut full = vec![bin];
        full.extend_from_slice(args);
        let mut c = self.ns_command(Ns::Srv, user, &full);
        c.env("NO_COLOR", "1");
        let out = run_timeout(c, DSDOCTOR_TIMEOUT, &format!("dsdoctor {args:?}"));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let code = out.status.code().unwrap_or_else(|| {
            panic!(
                "dsdoctor {args:?} was killed by a signal ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
                out.status
            )
        });
        (code, stdout, stderr)
    }

    /// The standard arguments of `check_json` followed by `extra`.
    pub fn check_args(extra: &[&str]) -> Vec<String> {
        let mut a = strings(&["check", DOMAIN, "--format", "json", "--timeout", "2s"]);
        for p in ASSUME_PUBLIC {
            a.push("--assume-public".into());
            a.push(p.into());
        }
        // The ISP stage asks the lab's own echo service (tests/common/isp.rs), never the
        // internet's, unless the test names its own.
        if !extra
            .iter()
            .any(|e| e.starts_with("--echo-url") || e.starts_with("--egress"))
        {
            a.extend(super::isp::lab_isp_args());
        }
        let sets_port = extra.iter().any(|e| {
            *e == "-p"
                || *e == "--port"
                || e.starts_with("--port=")
                || (e.starts_with("-p") && e.len() > 2 && !e.starts_with("--"))
        });
        if !sets_port {
            a.push("-p".into());
            a.push("80".into());
        }
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    /// `dsdoctor check shop.lab.example --format json --timeout 2s --assume-public ...
    /// -p 80 <extra>` in srv as root (`-p 80` is left out when `extra` sets the ports):
    /// (exit code, report). Panics with the output when stdout is not JSON.
    pub fn check_json(&self, extra: &[&str]) -> (i32, Value) {
        self.check_json_as(RunAs::Root, extra)
    }

    /// `check_json` as `user` (`RunAs::Nobody` for an unprivileged run).
    pub fn check_json_as(&self, user: RunAs, extra: &[&str]) -> (i32, Value) {
        let args = Self::check_args(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = self.run_dsdoctor_as(user, &refs);
        let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "dsdoctor {args:?} did not print JSON ({e}); exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
            )
        });
        (code, v)
    }

    // ----- teardown ----------------------------------------------------------------------------

    /// Tear the lab down now; returns what could not be cleaned (empty when all went
    /// well). `Drop` calls this too; calling it twice is harmless.
    pub fn teardown(&mut self) -> Vec<String> {
        if self.torn_down {
            return Vec::new();
        }
        self.torn_down = true;
        let mut errors = Vec::new();
        // 1. The processes we started, newest first, by pid.
        while let Some(mut p) = self.procs.pop() {
            stop_child(&mut p.child);
        }
        // 2. Anything still inside our namespaces descends from those (nginx workers of a
        //    master that had to be SIGKILLed): kill by pid, found by namespace name.
        for ns in &self.created {
            let out = run_timeout(
                cmd("ip", &["netns", "pids", ns]),
                CMD_TIMEOUT,
                "ip netns pids",
            );
            let pids: Vec<u32> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            for pid in &pids {
                signal(*pid, "KILL");
            }
            let deadline = Instant::now() + Duration::from_secs(3);
            while pids.iter().any(|p| process_alive(*p)) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(20));
            }
        }
        // 3. The namespaces (their veths go with them).
        for ns in self.created.drain(..) {
            let out = run_timeout(
                cmd("ip", &["netns", "del", &ns]),
                CMD_TIMEOUT,
                "ip netns del",
            );
            if !out.status.success() {
                errors.push(format!(
                    "ip netns del {ns}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        // 4. /etc/netns/<name> directories.
        for d in self.etc_dirs.drain(..) {
            match fs::remove_dir_all(&d) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    errors.push(format!("remove {}: {e}", d.display()));
                }
                _ => {}
            }
        }
        // 5. The temporary directory.
        if let Some(dir) = self.dir.take() {
            if std::env::var_os("DSD_LAB_KEEP").is_some() {
                let kept = dir.keep();
                eprintln!("lab {}: kept {} (DSD_LAB_KEEP)", self.srv, kept.display());
            } else if let Err(e) = dir.close() {
                errors.push(format!("remove {}: {e}", self.dir_path.display()));
            }
        }
        errors
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let errors = self.teardown();
        if !errors.is_empty() {
            let msg = format!("lab teardown left things behind: {errors:#?}");
            if thread::panicking() {
                eprintln!("{msg}");
            } else {
                panic!("{msg}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Assertions over the JSON report.
// ---------------------------------------------------------------------------------------

/// The check `id` (with `port`, or `port: null` for `None`); panics listing the checks
/// present when it is missing.
pub fn find_check<'a>(v: &'a Value, id: &str, port: Option<u16>) -> &'a Value {
    let checks = v["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("report has no `checks` array:\n{v:#}"));
    checks
        .iter()
        .find(|c| {
            c["id"] == id
                && match port {
                    None => c["port"].is_null(),
                    Some(p) => c["port"].as_u64() == Some(u64::from(p)),
                }
        })
        .unwrap_or_else(|| {
            let present: Vec<String> = checks
                .iter()
                .map(|c| match c["port"].as_u64() {
                    Some(p) => format!("{}:{p}", c["id"].as_str().unwrap_or("?")),
                    None => c["id"].as_str().unwrap_or("?").to_string(),
                })
                .collect();
            panic!("check {id} (port {port:?}) not in the report; present: {present:?}")
        })
}

/// The status (`pass`, `warn`, `fail`, `skip`, `error`) of check `id` at `port`.
pub fn check_status(v: &Value, id: &str, port: Option<u16>) -> String {
    let c = find_check(v, id, port);
    c["status"]
        .as_str()
        .unwrap_or_else(|| panic!("check {id} has no string status: {c:#}"))
        .to_string()
}

/// The summary of check `id` at `port`.
pub fn check_summary(v: &Value, id: &str, port: Option<u16>) -> String {
    find_check(v, id, port)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The whole check entry, pretty-printed (for assertion messages).
pub fn check_dump(v: &Value, id: &str, port: Option<u16>) -> String {
    format!("{:#}", find_check(v, id, port))
}

/// Every check that is neither pass nor skip, and the verdict (for assertion messages).
pub fn problems(v: &Value) -> String {
    let mut s = String::new();
    for c in v["checks"].as_array().into_iter().flatten() {
        let st = c["status"].as_str().unwrap_or("?");
        if st != "pass" && st != "skip" {
            let port = c["port"]
                .as_u64()
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            s.push_str(&format!(
                "  [{st}] {}{port}: {}\n",
                c["id"].as_str().unwrap_or("?"),
                c["summary"].as_str().unwrap_or("")
            ));
        }
    }
    s.push_str(&format!("  verdict: {}\n", v["verdict"]));
    s
}

/// Check `id` at `port` has status `want`.
pub fn assert_check(v: &Value, id: &str, port: Option<u16>, want: &str) {
    let got = check_status(v, id, port);
    assert_eq!(
        got,
        want,
        "{id} (port {port:?}) is {got}, expected {want}:\n{}\nall problems:\n{}",
        check_dump(v, id, port),
        problems(v)
    );
}

/// The verdict's `check` (None when `null`).
pub fn verdict_check(v: &Value) -> Option<String> {
    v["verdict"]["check"].as_str().map(str::to_string)
}

/// The verdict's `stage` (None when `null`).
pub fn verdict_stage(v: &Value) -> Option<String> {
    v["verdict"]["stage"].as_str().map(str::to_string)
}

/// The verdict's status.
pub fn verdict_status(v: &Value) -> String {
    v["verdict"]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("report has no verdict status:\n{v:#}"))
        .to_string()
}

/// The status of stage `id` in `stages`.
pub fn stage_status(v: &Value, id: &str) -> String {
    let stages = v["stages"]
        .as_array()
        .unwrap_or_else(|| panic!("report has no `stages` array:\n{v:#}"));
    stages
        .iter()
        .find(|s| s["id"] == id)
        .and_then(|s| s["status"].as_str())
        .unwrap_or_else(|| panic!("stage {id} not in the report: {stages:?}"))
        .to_string()
}

/// `id` or `id:port` of every check, in report order.
pub fn check_ids(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| match c["port"].as_u64() {
                    Some(p) => format!("{}:{p}", c["id"].as_str().unwrap_or("?")),
                    None => c["id"].as_str().unwrap_or("?").to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------

/// Panics unless the lab can be built: root, and every tool it needs on PATH.
pub fn preflight() {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or("?");
    assert!(
        euid == "0",
        "the dsdoctor network lab needs root (it creates network namespaces); running as \
         euid {euid}. Run the tests as root (CI does)."
    );
    let missing: Vec<&str> = REQUIRED_TOOLS
        .iter()
        .copied()
        .filter(|t| find_in_path(t).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "the dsdoctor network lab needs {missing:?}, not found on PATH. Install: {INSTALL_HINT}"
    );
}

fn find_in_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}

/// The system python3 (not a pyenv shim: quicker, and its pid is the process's own).
fn python() -> String {
    if Path::new("/usr/bin/python3").is_file() {
        "/usr/bin/python3".to_string()
    } else {
        "python3".to_string()
    }
}

fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

fn ns_cmd(ns: &str, args: &[&str]) -> Command {
    let mut full = vec!["netns", "exec", ns];
    full.extend_from_slice(args);
    cmd("ip", &full)
}

impl Lab {
    fn must(&self, c: Command) {
        let what = format!("{c:?}");
        let out = run_timeout(c, CMD_TIMEOUT, &what);
        if !out.status.success() {
            panic!(
                "lab {}: {what} failed ({}): {}",
                self.srv,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }

    fn ip_batch(&self, ns: &str, batch: &str) {
        let path = self.dir_path.join(format!("ip-batch-{ns}.txt"));
        write_file(&path, batch);
        let p = path.display().to_string();
        self.must(cmd("ip", &["-n", ns, "-batch", &p]));
    }
}

/// Run `c` with stdin closed and output captured; panics if it cannot start or runs past
/// `timeout` (it is killed then).
fn run_timeout(mut c: Command, timeout: Duration, what: &str) -> Output {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let mut so = child.stdout.take().expect("stdout pipe");
    let mut se = child.stderr.take().expect("stderr pipe");
    let t_out = thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t_err = thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + timeout;
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => {}
            Err(e) => panic!("waiting for {what}: {e}"),
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {timeout:?} (killed)");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// SIGTERM, wait up to 3 s, then SIGKILL; always reaps.
fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    signal(child.id(), "TERM");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Send SIG`name` to one pid (through kill(1): no libc dependency).
fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether `pid` exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start())
                .unwrap_or("");
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Pids whose parent is `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut v = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(child) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Ok(stat) = fs::read_to_string(format!("/proc/{child}/stat")) {
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<u32>().ok());
                if ppid == Some(pid) {
                    v.push(child);
                }
            }
        }
    }
    v
}

fn write_file(path: &Path, contents: &str) {
    fs::write(path, contents)
        .unwrap_or_else(|e| panic!("lab: cannot write {}: {e}", path.display()));
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o644));
}

/// "addr:port" as ss prints it ("[v6]:port" for IPv6).
fn sock_str(addr: &str, port: u16) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

/// Local addresses of the sockets `ss <flags>` lists in namespace `ns`.
fn listening_sockets(ns: &str, flags: &str) -> Vec<String> {
    let out = run_timeout(ns_cmd(ns, &["ss", flags]), CMD_TIMEOUT, "ss");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
        .collect()
}

/// The "service on port N": argv = addr port v6only(default|0|1) ready-file body.
const LISTENER_PY: &str = r#"
import socket, sys
addr, port, v6only, ready, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if fam == socket.AF_INET6 and v6only != 'default':
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
s.bind((addr, port))
s.listen(64)
open(ready, 'w').close()
payload = body.encode()
while True:
    c, peer = s.accept()
    try:
        c.settimeout(0.5)
        data = b''
        try:
            while b'\r\n\r\n' not in data and b'\n\n' not in data and len(data) < 65536:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        method = data.split(b' ', 1)[0]
        if method in (b'GET', b'HEAD', b'POST', b'PUT', b'OPTIONS'):
            head = b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' % len(payload)
            c.sendall(head if method == b'HEAD' else head + payload)
        else:
            c.sendall(payload)
    except OSError:
        pass
    finally:
        c.close()
"#;

/// argv = addr port; prints the raw HTTP/1.0 response to GET /.
const HTTP_GET_PY: &str = r#"
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
try:
    s = socket.create_connection((addr, port), timeout=2)
    s.sendall(b'GET / HTTP/1.0\r\nHost: shop.lab.example\r\nUser-Agent: dsdoctor-lab\r\n\r\n')
    data = b''
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    sys.stdout.write(data.decode('utf-8', 'replace'))
except Exception as e:
    sys.stdout.write('%s: %s' % (type(e).__name__, e))
    sys.exit(1)
"#;

/// argv = addr port; exit 0 when the connection is accepted.
const CONNECT_PY: &str = r#"
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except Exception as e:
    print('%s: %s' % (type(e).__name__, e))
    sys.exit(1)
"#;
