//! The lab's DNS: the zone builder, and the two dnsmasq instances in `net` that serve it
//! (an authoritative server for `lab.example` on ns1/ns2, and a resolver with no upstream
//! but the lab's own zones), plus `dig` from a namespace.

use super::process::write_file;
use super::topology::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The well-known NAT64 prefix used by [`DnsZone::dns64`].
pub const NAT64_PREFIX: &str = "64:ff9b::";
/// TTL of the authoritative answers and the resolver's own records.
const TTL: u32 = 300;
/// Subnets whose reverse zones the authoritative server serves (and the resolver forwards
/// to it). PTR records come from the forward records inside these subnets.
const REVERSE_SUBNETS: [&str; 2] = ["203.0.113.0/24", "2001:db8:1::/64"];
/// The A records the resolver gives `ipv4only.arpa` (RFC 7050).
const IPV4ONLY_A: [&str; 2] = ["192.0.0.170", "192.0.0.171"];

/// The DNS data of a lab: what the authoritative server for `lab.example` serves and what
/// the resolver answers by itself. `DnsZone::default()` is the healthy setup; the builder
/// methods change it. Names are fully qualified, without the trailing dot.
#[derive(Clone, Debug)]
pub struct DnsZone {
    /// A and AAAA records of shop.lab.example (default 203.0.113.10, 2001:db8:1::10).
    shop_a: Vec<String>,
    shop_aaaa: Vec<String>,
    /// Whether ns1/ns2 have AAAA records.
    ns_aaaa: bool,
    /// Whether the authoritative server answers on its IPv6 addresses.
    auth_over_v6: bool,
    /// Addresses without a PTR record (NXDOMAIN in a served reverse zone).
    no_ptr: Vec<String>,
    /// Extra hosts `(name, A, AAAA)`, MX `(owner, exchange, preference)` and TXT
    /// `(owner, text)` records in the zone.
    hosts: Vec<(String, Option<String>, Option<String>)>,
    mx: Vec<(String, String, u16)>,
    txt: Vec<(String, String)>,
    /// The resolver pretends to be a DNS64 resolver with this prefix (a /96).
    dns64: Option<String>,
    /// `(name, address)`: the resolver answers this family of `name` itself
    /// (`--address=/name/address`), differing from the authoritative data; the other
    /// family is still forwarded.
    resolver_addresses: Vec<(String, String)>,
    /// ns1 is a server that answers by EDNS Client Subnet (tests/support/ecs_dns.py)
    /// instead of dnsmasq, withholding AAAA from clients in these networks.
    ecs_withhold_aaaa: Option<Vec<String>>,
    /// How long the ECS server holds each answer back (a distant server).
    ecs_delay_ms: u32,
}

impl Default for DnsZone {
    fn default() -> Self {
        DnsZone {
            shop_a: vec![SRV_V4.to_string()],
            shop_aaaa: vec![SRV_V6.to_string()],
            ns_aaaa: true,
            auth_over_v6: true,
            no_ptr: Vec::new(),
            hosts: Vec::new(),
            mx: Vec::new(),
            txt: Vec::new(),
            dns64: None,
            resolver_addresses: Vec::new(),
            ecs_withhold_aaaa: None,
            ecs_delay_ms: 0,
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
    pub fn no_shop_aaaa(self) -> Self {
        self.shop_aaaa(&[])
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
    /// Give `addr` no PTR record (NXDOMAIN in a served reverse zone), even when a host of
    /// the zone has that address.
    pub fn no_ptr(mut self, addr: &str) -> Self {
        self.no_ptr.push(addr.to_string());
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
    /// The resolver answers `name`'s A or AAAA (by the address's family) with `addr` itself,
    /// unlike the authoritative server (a stale or hijacked resolver).
    pub fn resolver_address(mut self, name: &str, addr: &str) -> Self {
        self.resolver_addresses
            .push((name.to_string(), addr.to_string()));
        self
    }
    /// The resolver acts as a DNS64 resolver with the well-known prefix 64:ff9b::/96:
    /// ipv4only.arpa gets AAAA records, and shop.lab.example gets a synthesised AAAA when
    /// the zone has none. (dnsmasq cannot synthesise; the lab writes the records.)
    pub fn dns64(self) -> Self {
        self.dns64_at(NAT64_PREFIX)
    }
    /// The same with another prefix (a /96, e.g. the lab translator's
    /// `LAB_NAT64_PREFIX`).
    pub fn dns64_at(mut self, prefix: &str) -> Self {
        self.dns64 = Some(prefix.to_string());
        self
    }

    /// ns1 answers by EDNS Client Subnet, as a geo-DNS provider does: clients in the
    /// `withheld` networks get no AAAA; every answer to a query with a client subnet
    /// echoes it with a scope (empty: the same answer everywhere). ns2 stays dnsmasq,
    /// which ignores the option.
    pub fn ecs_on_ns1(mut self, withheld: &[&str]) -> Self {
        self.ecs_withhold_aaaa = Some(strings(withheld));
        self
    }

    /// The ECS server answers `ms` late, as a server that far away does (the bench).
    pub fn ecs_delay_ms(mut self, ms: u32) -> Self {
        self.ecs_delay_ms = ms;
        self
    }

    /// The addresses the dnsmasq authoritative server answers on: all of the zone's
    /// server addresses, but ns1's when ns1 is the ECS server.
    fn dnsmasq_auth_addrs(&self) -> Vec<&'static str> {
        let ecs = self.ecs_withhold_aaaa.is_some();
        self.auth_addrs()
            .into_iter()
            .filter(|a| !(ecs && (*a == NS1_V4 || *a == NS1_V6)))
            .collect()
    }

    /// ns1's addresses the ECS server answers on.
    fn ecs_addrs(&self) -> Vec<&'static str> {
        self.auth_addrs()
            .into_iter()
            .filter(|a| *a == NS1_V4 || *a == NS1_V6)
            .collect()
    }

    /// The zone as the ECS server reads it (JSON).
    fn ecs_zone_json(&self, withheld: &[String]) -> String {
        let mut hosts = serde_json::Map::new();
        for (ns, v4, v6) in [("ns1", NS1_V4, NS1_V6), ("ns2", NS2_V4, NS2_V6)] {
            let aaaa: Vec<&str> = if self.ns_aaaa { vec![v6] } else { Vec::new() };
            hosts.insert(
                format!("{ns}.{ZONE}"),
                serde_json::json!({"A": [v4], "AAAA": aaaa}),
            );
        }
        hosts.insert(
            DOMAIN.to_string(),
            serde_json::json!({"A": self.shop_a, "AAAA": self.shop_aaaa}),
        );
        for (name, a, aaaa) in &self.hosts {
            hosts.insert(name.clone(), serde_json::json!({"A": a.iter().collect::<Vec<_>>(), "AAAA": aaaa.iter().collect::<Vec<_>>()}));
        }
        serde_json::json!({
            "zone": ZONE,
            "ns": [format!("ns1.{ZONE}"), format!("ns2.{ZONE}")],
            "hosts": hosts,
            "withhold_aaaa": withheld,
            "delay_ms": self.ecs_delay_ms,
        })
        .to_string()
    }

    /// The addresses the authoritative server answers on.
    fn auth_addrs(&self) -> Vec<&'static str> {
        let mut v = vec![NS1_V4, NS2_V4];
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
    /// * Only the first host-record of an address creates its PTR: `no_ptr` entries are
    ///   written first, with a name outside the zone, which the authoritative code refuses
    ///   to give as PTR, so the answer is NXDOMAIN.
    /// * NS = `auth-server` name (ns1) + `auth-sec-servers` (ns2). Reverse zones list ns1
    ///   only (dnsmasq leaves secondaries out of reverse zones).
    fn auth_conf(&self, dir: &Path) -> String {
        let addrs = self.dnsmasq_auth_addrs().join(",");
        let mut c = Conf::dnsmasq(dir, "dns-auth", &addrs, "authoritative for lab.example");
        c.line(format!("auth-server=ns1.{ZONE},{addrs}"));
        c.line(format!("auth-zone={ZONE},{}", REVERSE_SUBNETS.join(",")));
        c.line(format!("auth-zone={ZONE}"));
        c.line(format!(
            "auth-soa=2026112301,hostmaster.{ZONE},1200,180,1209600"
        ));
        c.line(format!("auth-ttl={TTL}"));
        c.line(format!("auth-sec-servers=ns2.{ZONE}"));
        for addr in &self.no_ptr {
            c.line(format!("host-record=no-ptr.invalid,{addr}"));
        }
        for (ns, v4, v6) in [("ns1", NS1_V4, NS1_V6), ("ns2", NS2_V4, NS2_V6)] {
            c.line(format!("host-record={ns}.{ZONE},{v4}"));
            if self.ns_aaaa {
                c.line(format!("host-record={ns}.{ZONE},{v6}"));
            }
        }
        for a in self.shop_a.iter().chain(self.shop_aaaa.iter()) {
            c.line(format!("host-record={DOMAIN},{a}"));
        }
        for (name, a, aaaa) in &self.hosts {
            for addr in a.iter().chain(aaaa.iter()) {
                c.line(format!("host-record={name},{addr}"));
            }
        }
        for (owner, exchange, pref) in &self.mx {
            c.line(format!("mx-host={owner},{exchange},{pref}"));
        }
        for (owner, text) in &self.txt {
            c.line(format!("txt-record={owner},\"{text}\""));
        }
        c.0
    }

    /// The resolver dnsmasq's configuration file: no upstream; lab.example and the
    /// reverse zones are forwarded to the authoritative server; ipv4only.arpa is answered
    /// locally (`local=/ipv4only.arpa/` makes its AAAA a NODATA answer instead of REFUSED).
    /// Anything else is REFUSED (no upstream), as from a resolver cut off the internet.
    fn resolver_conf(&self, dir: &Path) -> String {
        let listen = format!("{RESOLVER_V4},{RESOLVER_V6}");
        let mut c = Conf::dnsmasq(dir, "dns-resolver", &listen, "resolver (no upstream)");
        c.line(format!("local-ttl={TTL}"));
        let zones = std::iter::once(ZONE.to_string()).chain(REVERSE_SUBNETS.map(reverse_zone));
        for z in zones {
            for u in self.auth_addrs() {
                c.line(format!("server=/{z}/{u}"));
            }
        }
        c.line("local=/ipv4only.arpa/");
        for a in IPV4ONLY_A {
            c.line(format!("host-record=ipv4only.arpa,{a}"));
            if let Some(prefix) = &self.dns64 {
                c.line(format!("host-record=ipv4only.arpa,{}", nat64(prefix, a)));
            }
        }
        // A DNS64 resolver synthesises AAAA only for names without one.
        if let Some(prefix) = self.dns64.as_ref().filter(|_| self.shop_aaaa.is_empty()) {
            for a in &self.shop_a {
                c.line(format!("address=/{DOMAIN}/{}", nat64(prefix, a)));
            }
        }
        for (name, addr) in &self.resolver_addresses {
            c.line(format!("address=/{name}/{addr}"));
        }
        c.0
    }
}

/// A dnsmasq configuration file, line by line.
struct Conf(String);

impl Conf {
    /// The lines both instances share: in the foreground, nothing from the host
    /// (`resolv.conf`, `/etc/hosts`), bound to `listen` only, logging every query to
    /// `<dir>/<label>.log`; `what` heads the file.
    fn dnsmasq(dir: &Path, label: &str, listen: &str, what: &str) -> Conf {
        let d = dir.display();
        Conf(format!(
            "# dsdoctor lab: {what}
keep-in-foreground
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address={listen}
pid-file={d}/{label}.pid
log-facility={d}/{label}.log
log-queries
"
        ))
    }

    fn line(&mut self, line: impl AsRef<str>) {
        self.0.push_str(line.as_ref());
        self.0.push('\n');
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

/// "addr:port" as ss prints it ("[v6]:port" for IPv6).
fn sock_str(addr: &str, port: u16) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

impl Lab {
    /// Start both dnsmasq instances in `net` with the lab's zone; each is ready when it
    /// listens on all its addresses.
    pub(super) fn start_dns(&mut self) {
        let dir = self.dir().to_path_buf();
        let auth = (
            "dns-auth",
            self.zone.auth_conf(&dir),
            self.zone.dnsmasq_auth_addrs(),
        );
        let resolver = (
            "dns-resolver",
            self.zone.resolver_conf(&dir),
            vec![RESOLVER_V4, RESOLVER_V6],
        );
        for (label, conf, addrs) in [auth, resolver] {
            let path = dir.join(format!("{label}.conf"));
            write_file(&path, &conf);
            let conf_arg = format!("--conf-file={}", path.display());
            self.spawn(Ns::Net, label, &["dnsmasq", &conf_arg]);
            let want: Vec<String> = addrs.iter().map(|a| sock_str(a, 53)).collect();
            self.wait_ready(label, |lab| {
                let out = lab.exec_ok(Ns::Net, &["ss", "-Hlun"]);
                let socks: Vec<&str> = out
                    .lines()
                    .filter_map(|l| l.split_whitespace().nth(3))
                    .collect();
                if want.iter().all(|a| socks.contains(&a.as_str())) {
                    Ok(())
                } else {
                    Err(format!("does not listen on {want:?}; listening: {socks:?}"))
                }
            });
        }
        if let Some(withheld) = self.zone.ecs_withhold_aaaa.clone() {
            let zone = dir.join("ecs-zone.json");
            write_file(&zone, &self.zone.ecs_zone_json(&withheld));
            let addrs = self.zone.ecs_addrs().join(",");
            let zone_s = zone.display().to_string();
            self.start_support(Ns::Net, "dns-ecs", "ecs_dns.py", &[&addrs, &zone_s]);
        }
    }

    /// Replace the DNS data: both dnsmasq instances are restarted with the new zone (their
    /// caches go with them).
    pub fn set_zone(&mut self, zone: DnsZone) {
        self.stop("dns-resolver");
        self.stop("dns-auth");
        if self.zone.ecs_withhold_aaaa.is_some() {
            self.stop("dns-ecs");
        }
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
}
