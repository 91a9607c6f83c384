//! What this host's outgoing mail looks like to receivers, for `address.mail_source`,
//! `dns.spf`, `dns.blocklists` and `isp.mail_egress`: the MTA and its settings, the
//! source address per family, the DNS data SPF evaluation read, the blocklist answers
//! and the port-25 connections to receivers.

use super::{Place, Probed, PtrFacts};
use crate::model::Family;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailFacts {
    /// The MTAs seen running in the diagnosed network namespace.
    pub mtas: Vec<Mta>,
    /// Per family, the address mail to receivers leaves from (none for a family the
    /// MTA does not use or the kernel has no route for: the entry says why).
    pub sources: Vec<MailSource>,
    /// PTR and forward lookups of each source address (and of the host's other global
    /// addresses, which a fix may bind to instead).
    pub ptr: Vec<PtrFacts>,
    /// Every DNS answer SPF evaluation read, so the check evaluates again from the
    /// facts alone (a replay included).
    pub spf_dns: Vec<SpfLookup>,
    /// The blocklist zones consulted and their answers.
    pub blocklists: Vec<DnsblProbe>,
    /// Outbound port 25 to receivers, per target and family.
    pub egress: Vec<MailEgressProbe>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MtaKind {
    Postfix,
    Exim,
}

impl MtaKind {
    pub fn name(self) -> &'static str {
        match self {
            MtaKind::Postfix => "Postfix",
            MtaKind::Exim => "Exim",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mta {
    pub kind: MtaKind,
    pub pid: u32,
    /// The settings that decide the sending address, read from its configuration; an
    /// error when it could not be read (the kernel's choice is shown then).
    pub settings: Result<MtaSettings, String>,
}

/// The MTA settings that override the kernel's choice of source address.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MtaSettings {
    /// The configuration file read (Postfix `main.cf`).
    pub file: String,
    /// The families the MTA uses (`inet_protocols`); both when unset.
    pub families: Vec<Family>,
    /// Where the families were set, when they were.
    pub families_at: Option<Place>,
    /// `smtp_bind_address` / `smtp_bind_address6` (Exim: the smtp transport's
    /// `interface`).
    pub bind_v4: Option<Setting>,
    pub bind_v6: Option<Setting>,
    /// `smtp_address_preference`: `any`, `ipv4` or `ipv6`.
    pub preference: Option<Setting>,
    /// The name the MTA sends in HELO/EHLO (`smtp_helo_name`, else `myhostname`).
    pub helo: Option<Setting>,
}

/// One setting as written, with its file and line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    pub name: String,
    pub value: String,
    #[serde(flatten)]
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailSource {
    #[serde(rename = "v6", with = "super::v6_flag")]
    pub family: Family,
    /// The receiver address the kernel was asked about (RTM_GETROUTE, no packet sent).
    pub towards: IpAddr,
    /// What the receiver is: an MX host of the domain, or a receiver's name.
    pub towards_name: String,
    /// The source the kernel picks for that route.
    pub kernel: Probed<IpAddr>,
}

/// One DNS question SPF evaluation asked, with its answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "name")]
pub enum SpfQuery {
    Txt(String),
    A(String),
    Aaaa(String),
    Mx(String),
}

impl SpfQuery {
    pub fn name(&self) -> &str {
        match self {
            SpfQuery::Txt(n) | SpfQuery::A(n) | SpfQuery::Aaaa(n) | SpfQuery::Mx(n) => n,
        }
    }
}

impl std::fmt::Display for SpfQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = match self {
            SpfQuery::Txt(_) => "TXT",
            SpfQuery::A(_) => "A",
            SpfQuery::Aaaa(_) => "AAAA",
            SpfQuery::Mx(_) => "MX",
        };
        write!(f, "{t} {}", self.name())
    }
}

/// A DNS answer as SPF needs it; NXDOMAIN and no data are both empty (RFC 7208 4.4
/// counts them as void lookups alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum SpfAnswer {
    /// TXT records, the strings of each joined.
    Txt(Vec<String>),
    Ips(Vec<IpAddr>),
    /// MX exchange names.
    Names(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpfLookup {
    pub query: SpfQuery,
    pub answer: Probed<SpfAnswer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsblProbe {
    pub zone: String,
    /// The address looked up (an IPv6 /64 as its network address).
    pub ip: IpAddr,
    /// The IPv6 lookup is of the /64 the address is in.
    pub per_64: bool,
    /// The name asked (`4.3.2.1.zen.spamhaus.org`).
    pub query: String,
    /// The A records of that name: none means not listed.
    pub answer: Probed<Vec<Ipv4Addr>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailEgressProbe {
    /// As given (`--mail-egress`) or from the defaults.
    pub target: String,
    #[serde(rename = "v6", with = "super::v6_flag")]
    pub family: Family,
    /// `None` when the name has no address of this family.
    pub addr: Option<SocketAddr>,
    /// The receiver's greeting, line by line.
    pub banner: Probed<Vec<String>>,
}

/// How the address mail leaves from over one family is decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sending<'a> {
    /// The MTA does not use this family (`inet_protocols`, written here if anywhere).
    Off(&'a MtaSettings),
    /// The MTA binds to this address (`smtp_bind_address6`).
    Bound(&'a Setting, IpAddr),
    /// The MTA's bind setting is not an address.
    BadBind(&'a Setting),
    /// The kernel's choice towards a receiver.
    Kernel(&'a MailSource, IpAddr),
    /// No source: no route to any receiver of the family, or the lookup failed.
    Nothing(Option<&'a MailSource>),
}

impl Sending<'_> {
    /// The address mail leaves from, when there is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Sending::Bound(_, ip) | Sending::Kernel(_, ip) => Some(*ip),
            _ => None,
        }
    }
}

impl MailFacts {
    /// The settings of the first MTA whose configuration was read.
    pub fn settings(&self) -> Option<&MtaSettings> {
        self.mtas.iter().find_map(|m| m.settings.as_ref().ok())
    }

    /// The address mail leaves from over `family`: the MTA's settings override the
    /// kernel's choice.
    pub fn sending(&self, family: Family) -> Sending<'_> {
        if let Some(s) = self.settings() {
            if !s.families.contains(&family) {
                return Sending::Off(s);
            }
            if let Some(b) = family.pick(&s.bind_v4, &s.bind_v6) {
                return match b.value.parse::<IpAddr>() {
                    Ok(ip) if Family::of(ip) == family => Sending::Bound(b, ip),
                    _ => Sending::BadBind(b),
                };
            }
        }
        let src = self.sources.iter().find(|s| s.family == family);
        match src.and_then(|s| s.kernel.value().map(|ip| (s, *ip))) {
            Some((s, ip)) => Sending::Kernel(s, ip),
            None => Sending::Nothing(src),
        }
    }

    /// The HELO name the MTA sends, when known.
    pub fn helo(&self) -> Option<&str> {
        self.settings()
            .and_then(|s| s.helo.as_ref())
            .map(|h| h.value.as_str())
    }
}
