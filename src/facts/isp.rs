//! Facts about what the internet sees (the ISP stage). Filled by `probe::isp`.
//!
//! Every network answer is kept per family and per address, so the checks can compare
//! IPv4 with IPv6 side by side without any I/O.

use super::{Probed, v6_flag};
use crate::model::Family;
use crate::net::nat64::Nat64Prefix;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// Bytes of an IP packet every internet path must carry (Ethernet's MTU), as the
/// full-size echo sends it.
pub const FULL_SIZE_PACKET: usize = 1500;

/// The echo data that makes a `FULL_SIZE_PACKET` on the wire (IP and ICMP headers off),
/// the number `ping -s` takes.
pub fn full_size_payload(family: Family) -> usize {
    FULL_SIZE_PACKET - family.pick(20, 40) - 8
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IspFacts {
    /// One entry per egress target address (`--egress`, or the built-in resolvers).
    pub egress: Vec<EgressProbe>,
    /// The echo service's `GET /`, once per family it could be asked over.
    pub echo: Vec<EchoProbe>,
    /// The echo service's `/port/N`, per family and served port.
    pub inbound: Vec<InboundProbe>,
    /// HTTP(S) to every A and AAAA address of the domain, per served web port.
    pub http: Vec<HttpProbe>,
    /// SMTP banner and EHLO per mail port and address.
    pub smtp: Vec<SmtpProbe>,
    /// The ACME HTTP-01 simulation: every URL of the redirect chain, over each family.
    pub acme: Option<AcmeFacts>,
    /// Subresources of the home page.
    pub resources: Option<Probed<ResourceFacts>>,
    /// IPv4-only destinations reached through NAT64: gathered only where NAT64 is in
    /// use (no IPv4 default route, or a resolver that synthesises AAAA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat64: Option<Nat64Facts>,
    /// The site's redirects (home page, ACME challenge path), followed per port and
    /// per family (absent from older snapshots).
    #[serde(default)]
    pub redirects: Vec<RedirectChain>,
    /// The other names the site answers to (web servers' configuration, the
    /// certificates' names) and their addresses (absent from older snapshots).
    #[serde(default)]
    pub site_names: Vec<SiteName>,
    /// The site's addresses on this host whose port a nat rule rewrites before routing:
    /// the probes dialed the rewritten destination, as outside clients reach it (absent
    /// from older snapshots, and when there is none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detours: Vec<Detour>,
}

/// Outside clients' connections to `site` are rewritten to `dialed` by `rule` in
/// prerouting (a REDIRECT of port 80 to 8080), which this host's own connections do not
/// pass: its probes dial `dialed` instead, or they would find what no client finds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detour {
    pub site: SocketAddr,
    pub dialed: SocketAddr,
    /// The rewriting rule, as the firewall findings name it.
    pub rule: String,
}

/// Where a probe of the site's `addr` connects: the detour's destination, if any.
pub fn dial(detours: &[Detour], addr: SocketAddr) -> SocketAddr {
    detours
        .iter()
        .find(|d| d.site == addr)
        .map_or(addr, |d| d.dialed)
}

/// Where the NAT64 prefix the probes used comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrefixSource {
    /// The resolver's AAAA answers for `ipv4only.arpa` (RFC 7050).
    Dns64,
    /// A router advertisement's PREF64 option (RFC 8781).
    Pref64,
    /// Neither names one: the well-known prefix 64:ff9b::/96, tried on the chance that a
    /// translator serves it.
    WellKnown,
}

/// A PREF64 option (RFC 8781) of a router advertisement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pref64 {
    pub prefix: Nat64Prefix,
    /// The router that advertised it (link-local) and the link it came on.
    pub router: IpAddr,
    pub dev: Option<String>,
    /// Seconds the prefix stays valid.
    pub lifetime_s: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nat64Facts {
    /// PREF64 options of the router advertisements that answered a router solicitation.
    pub pref64: Probed<Vec<Pref64>>,
    /// The prefix the destinations were synthesised with, and its source; `None` when
    /// no prefix was tried.
    pub prefix: Option<(Nat64Prefix, PrefixSource)>,
    /// One per IPv4-only destination.
    pub targets: Vec<Nat64Probe>,
}

/// An IPv4 destination reached over IPv6 at its synthesised address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nat64Probe {
    /// What names this destination: `echo service http://…`, `--egress 1.1.1.1:443`.
    pub via: Vec<String>,
    pub v4: SocketAddr,
    pub synthesised: SocketAddr,
    /// TCP connect to the synthesised address, in milliseconds.
    pub tcp_ms: Probed<f64>,
    /// For the echo service: a request larger than a full-size packet (the path's MTU
    /// through the translator), answered; the address it saw (the translator's IPv4).
    pub full_size: Option<Probed<IpAddr>>,
}

/// One redirect chain followed over one family only: every hop asked at an address of
/// that family, as a client with only that family would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedirectChain {
    pub port: u16,
    /// The first URL (`http://DOMAIN/`, the ACME challenge path).
    pub start: String,
    #[serde(rename = "v6", with = "v6_flag")]
    pub family: Family,
    pub hops: Vec<RedirectHop>,
    /// Why the chain was not followed to its end (a loop, too many redirects, out of
    /// time), if it was not.
    pub cut: Option<String>,
}

/// One request of a chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedirectHop {
    pub url: String,
    /// The address asked; `None` when the URL's host has none of the chain's family
    /// (a name without AAAA, a literal of the other family).
    pub ip: Option<IpAddr>,
    pub response: Probed<HttpResponse>,
}

/// A name the site answers to, other than the domain, and its addresses (the system
/// resolver's answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteName {
    pub name: String,
    pub addrs: Probed<Vec<IpAddr>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EgressProbe {
    /// As given (`1.1.1.1:443`, `host:443`).
    pub target: String,
    /// The address tried; `None` when the name did not resolve.
    pub addr: Option<SocketAddr>,
    #[serde(rename = "v6", with = "v6_flag")]
    pub family: Family,
    /// TCP connect latency in milliseconds.
    pub tcp_ms: Probed<f64>,
    /// ICMP echo round trip in milliseconds.
    pub icmp_ms: Probed<f64>,
    /// The same with 1500-byte packets: lost while small ones pass when path MTU
    /// discovery is broken on the way.
    #[serde(default = "not_recorded")]
    pub full_size_icmp_ms: Probed<f64>,
}

/// A fact older snapshots do not hold.
fn not_recorded() -> Probed<f64> {
    Probed::err(
        super::ProbeErrorKind::NotRun,
        "not recorded (the snapshot is from an older dsdoctor)",
    )
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EchoProbe {
    #[serde(rename = "v6", with = "v6_flag")]
    pub family: Family,
    pub url: String,
    /// The address the echo service saw this host connect from.
    pub seen: Probed<IpAddr>,
    /// The echo service's own address, which this host connected to: its `/port/N`
    /// connect-back comes from there (echoip dials from the host it runs on), so that is
    /// the source the host's filter sees for `isp.inbound_*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundAnswer {
    /// The address the echo service connected back to.
    pub ip: IpAddr,
    pub reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundProbe {
    #[serde(rename = "v6", with = "v6_flag")]
    pub family: Family,
    pub port: u16,
    pub url: String,
    pub answer: Probed<InboundAnswer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertInfo {
    /// DNS names of the subject alternative name extension.
    pub names: Vec<String>,
    /// `notAfter`, as `YYYY-MM-DD HH:MM:SS UTC`.
    pub not_after: Option<String>,
    /// SHA-256 of the leaf certificate (hex).
    pub sha256: String,
    /// The chain as the system's roots validated it: the subject of each certificate
    /// from the leaf's issuer up to the trust anchor. Empty when nothing was validated
    /// (the ACME simulation accepts any certificate, as the CA does) and in snapshots
    /// from before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
}

/// The HTTP protocol a response came over: what ALPN negotiated over TLS, HTTP/1.1 for
/// plain HTTP (dsdoctor offers h2 only through ALPN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpProtocol {
    #[serde(rename = "http/1.1")]
    Http1,
    #[serde(rename = "h2")]
    H2,
}

impl HttpProtocol {
    /// The ALPN name (`h2`, `http/1.1`), as admins see it in `curl -v` and server logs.
    pub fn name(self) -> &'static str {
        match self {
            HttpProtocol::Http1 => "http/1.1",
            HttpProtocol::H2 => "h2",
        }
    }
}

/// One HTTP response, bounded: the body is hashed, never kept whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    /// `Location` of a redirect (cleaned).
    pub location: Option<String>,
    pub server: Option<String>,
    /// Body bytes read (up to the bound).
    pub body_len: u64,
    /// The body was longer than the bound, or did not end in time.
    pub body_truncated: bool,
    /// SHA-256 of the bytes read (hex).
    pub body_sha256: String,
    /// The content's fingerprint, volatile words (nonces, timestamps) left out: the
    /// smallest hashes of its word shingles (`probe::isp::sketch`); empty for a body
    /// without words and in snapshots from before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_sketch: Vec<u64>,
    /// The validated server certificate (HTTPS only).
    pub cert: Option<CertInfo>,
    /// The protocol of the exchange; `None` in snapshots from before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<HttpProtocol>,
}

/// Most hashes a content sketch keeps.
pub const SKETCH_KEEP: usize = 128;

/// How alike two contents are, from their sketches (sorted): the estimated Jaccard
/// similarity of their word-shingle sets, 0 to 1. Sketches shorter than `SKETCH_KEEP`
/// hold every shingle, so two of them are compared exactly; otherwise the `k` smallest
/// hashes of the union (k the shorter sketch's length) are a random sample of it, and
/// the share of them in both sketches estimates the similarity. `None` when neither
/// has any word to compare.
pub fn sketch_similarity(a: &[u64], b: &[u64]) -> Option<f64> {
    if a.is_empty() && b.is_empty() {
        return None;
    }
    let mut union: Vec<u64> = a.iter().chain(b).copied().collect();
    union.sort_unstable();
    union.dedup();
    let k = if a.len() < SKETCH_KEEP && b.len() < SKETCH_KEEP {
        union.len()
    } else {
        a.len().min(b.len())
    };
    let sample = &union[..k.min(union.len())];
    if sample.is_empty() {
        return Some(0.0);
    }
    let both = sample
        .iter()
        .filter(|h| a.binary_search(h).is_ok() && b.binary_search(h).is_ok())
        .count();
    Some(both as f64 / sample.len() as f64)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpProbe {
    pub port: u16,
    pub ip: IpAddr,
    pub tls: bool,
    pub path: String,
    pub response: Probed<HttpResponse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmtpAnswer {
    /// The greeting's lines (`220 ...`), cleaned.
    pub banner: Vec<String>,
    /// The EHLO answer's lines (`250-...`), cleaned.
    pub ehlo: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmtpProbe {
    pub port: u16,
    pub ip: IpAddr,
    pub answer: Probed<SmtpAnswer>,
}

/// One request of the ACME simulation: `url` asked over one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcmeHop {
    pub url: String,
    #[serde(rename = "v6", with = "v6_flag")]
    pub family: Family,
    /// The address asked; `None` when the host has no address of this family.
    pub ip: Option<IpAddr>,
    pub response: Probed<HttpResponse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcmeFacts {
    /// The first URL (`http://DOMAIN/.well-known/acme-challenge/<random>`).
    pub start: String,
    pub hops: Vec<AcmeHop>,
}

impl AcmeFacts {
    pub fn hop(&self, url: &str, family: Family) -> Option<&AcmeHop> {
        self.hops
            .iter()
            .find(|h| h.url == url && h.family == family)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRef {
    /// The reference as written in the page (cleaned, bounded).
    pub url: String,
    pub host: String,
    /// Names resolved: whether the host has A / AAAA (`None`: lookup failed). IP
    /// literals are answered from the literal.
    pub has_a: Option<bool>,
    pub has_aaaa: Option<bool>,
    pub literal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceFacts {
    /// The pages fetched (`http://DOMAIN/` over IPv4 from 203.0.113.10, ...).
    pub pages: Vec<String>,
    /// Subresources on other hosts (same-host references are reachable like the page).
    pub refs: Vec<ResourceRef>,
}
