//! Facts about the packet filter (the firewall stage). Filled by `probe::firewall`.
//!
//! The rulesets are kept in one small typed form whatever tool they were read with
//! (`nft -j list ruleset`, `iptables-save`): tables of chains of rules, each rule a list of
//! matches and a verdict. `crate::firewall` walks them; the parsers in `crate::parse::nft`
//! and `crate::parse::iptables` build them. A match the parsers do not understand is kept
//! as [`Match::Unknown`] with its text, so the walk can say "uncertain" instead of guessing.

use crate::facts::ProbeError;
use crate::model::Family;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Where a ruleset was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `nft -j list ruleset`.
    Nft,
    /// `iptables-nft-save` / `ip6tables-nft-save`: the iptables view of nft tables that
    /// iptables-nft wrote (their extensions show as opaque `xt` in nft's JSON).
    IptablesNft,
    /// `iptables-legacy-save` / `ip6tables-legacy-save`: the old x_tables, which apply on
    /// top of nftables.
    IptablesLegacy,
}

/// A table's address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableFamily {
    Ip,
    Ip6,
    Inet,
    /// Ingress chains on a device: both families pass them first.
    Netdev,
    /// arp, bridge: not on the IP input path.
    Other,
}

impl TableFamily {
    /// The table family of one IP family's own tables (`ip`, `ip6`).
    pub fn of(family: Family) -> TableFamily {
        family.pick(TableFamily::Ip, TableFamily::Ip6)
    }

    pub fn applies(self, family: Family) -> bool {
        match self {
            TableFamily::Ip => family == Family::V4,
            TableFamily::Ip6 => family == Family::V6,
            TableFamily::Inet | TableFamily::Netdev => true,
            TableFamily::Other => false,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TableFamily::Ip => "ip",
            TableFamily::Ip6 => "ip6",
            TableFamily::Inet => "inet",
            TableFamily::Netdev => "netdev",
            TableFamily::Other => "other",
        }
    }
}

/// A parsed ruleset: one `nft` listing or one `*-save` output.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Ruleset {
    pub tables: Vec<Table>,
    /// What the parser skipped (first few), for the evidence.
    pub problems: Vec<String>,
}

impl Ruleset {
    pub fn rule_count(&self) -> usize {
        rule_count(&self.tables)
    }
}

fn rule_count(tables: &[Table]) -> usize {
    tables
        .iter()
        .flat_map(|t| &t.chains)
        .map(|c| c.rules.len())
        .sum()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub family: TableFamily,
    pub name: String,
    pub source: Source,
    pub chains: Vec<Chain>,
    /// The table's named sets that hold addresses (nft); rules name them in
    /// [`Match::Set`]. ipsets are global: [`FirewallFacts::ipsets`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<AddrSet>,
}

/// A base chain's attachment to a netfilter hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    /// `ingress`, `prerouting`, `input`, `forward`, `output`, `postrouting`.
    pub hook: String,
    pub priority: i32,
    /// `filter`, `nat`, `route`.
    pub kind: String,
    /// The policy: `Accept` or `Drop`.
    pub policy: Verdict,
    /// The device of a netdev ingress chain.
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    pub name: String,
    pub hook: Option<Hook>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// nft's rule handle, or the line number in the `*-save` output.
    pub handle: u64,
    /// The rule as the tool would print it (nft syntax, or the `-A` line).
    pub text: String,
    pub matches: Vec<Match>,
    pub verdict: Verdict,
}

/// What a rule does when all its matches hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accept,
    Drop,
    Reject,
    Jump(String),
    Goto(String),
    Return,
    /// No verdict (counter, log, mark): the next rule runs.
    Continue,
    /// `notrack` (nft) / `-j NOTRACK`, `-j CT --notrack`: the next rule runs, and from a
    /// chain before conntrack (prerouting below priority -200) the packet is untracked.
    Notrack,
    /// A verdict map: the first entry whose match holds decides; none holds → continue.
    Map(Vec<(Match, Verdict)>),
    /// `dnat to A[:P]` / `-j DNAT --to-destination A[:P]`: the connection's destination is
    /// rewritten (in a nat chain, for its first packet) and the nat chain ends.
    Dnat(NatTo),
    /// `redirect to :P` / `-j REDIRECT --to-ports P`: the destination becomes the
    /// address of the interface the packet came in on (local delivery), the port `P`.
    Redirect(Option<u16>),
    /// `snat`, `masquerade`, `-j SNAT`, `-j MASQUERADE`: the source is rewritten and the
    /// nat chain ends (it never changes whether the packet gets through).
    Snat,
    /// A verdict decided elsewhere (queue to userspace) or not understood.
    Unknown(String),
}

/// Where a DNAT sends a connection. A range of addresses or ports keeps its first:
/// every address of a range serves the same published port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatTo {
    /// `None`: only the port changes (`dnat to :8080`).
    pub addr: Option<IpAddr>,
    /// `None`: the port stays.
    pub port: Option<u16>,
}

impl NatTo {
    /// `172.17.0.2:80`, `[fd00::2]:80`, `172.17.0.2`, `:80`.
    pub fn describe(&self) -> String {
        match (self.addr, self.port) {
            (Some(a), Some(p)) => format!("{}:{p}", crate::net::bracketed(a)),
            (Some(a), None) => a.to_string(),
            (None, Some(p)) => format!(":{p}"),
            (None, None) => "(unchanged)".into(),
        }
    }

    /// `A`, `A:P`, `[A6]:P`, `A-B:P-Q` (iptables `--to-destination`, the first of a range
    /// kept); `None` when it is none of these.
    pub fn parse(s: &str) -> Option<NatTo> {
        let s = s.trim();
        let first_port = |p: &str| -> Option<u16> { p.split('-').next()?.trim().parse().ok() };
        let first_addr = |a: &str| -> Option<IpAddr> { a.split('-').next()?.trim().parse().ok() };
        if let Some(rest) = s.strip_prefix('[') {
            let (a, tail) = rest.split_once(']')?;
            let port = match tail.strip_prefix(':') {
                Some(p) => Some(first_port(p)?),
                None if tail.is_empty() => None,
                None => return None,
            };
            return Some(NatTo {
                addr: Some(first_addr(a)?),
                port,
            });
        }
        if let Some(p) = s.strip_prefix(':') {
            return Some(NatTo {
                addr: None,
                port: Some(first_port(p)?),
            });
        }
        // A bare IPv6 address has colons of its own; an IPv4 one has at most one.
        if s.matches(':').count() == 1 {
            let (a, p) = s.split_once(':')?;
            return Some(NatTo {
                addr: Some(first_addr(a)?),
                port: Some(first_port(p)?),
            });
        }
        Some(NatTo {
            addr: Some(first_addr(s)?),
            port: None,
        })
    }
}

/// Conntrack states, as a bit set.
pub mod ct {
    pub const INVALID: u8 = 1;
    pub const ESTABLISHED: u8 = 2;
    pub const RELATED: u8 = 4;
    pub const NEW: u8 = 8;
    pub const UNTRACKED: u8 = 16;

    pub fn from_name(s: &str) -> Option<u8> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "invalid" => INVALID,
            "established" => ESTABLISHED,
            "related" => RELATED,
            "new" => NEW,
            "untracked" => UNTRACKED,
            _ => return None,
        })
    }
}

/// Kinds of destination/source address (`fib daddr type`, `-m addrtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddrKind {
    Local,
    Unicast,
    Broadcast,
    Multicast,
    Anycast,
    Other,
}

impl AddrKind {
    pub fn from_name(s: &str) -> AddrKind {
        match s.trim().to_ascii_lowercase().as_str() {
            "local" => AddrKind::Local,
            "unicast" => AddrKind::Unicast,
            "broadcast" => AddrKind::Broadcast,
            "multicast" => AddrKind::Multicast,
            "anycast" => AddrKind::Anycast,
            _ => AddrKind::Other,
        }
    }
}

/// A set of addresses: prefixes and ranges.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddrItem {
    Net(IpNet),
    Range(IpAddr, IpAddr),
}

/// One condition of a rule. `neg` inverts it (`!=`, `!`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "m")]
pub enum Match {
    /// Layer 3: `meta nfproto ipv6`, or `ip`/`ip6` payload in an inet table.
    Nfproto {
        #[serde(rename = "v6", with = "crate::facts::v6_flag")]
        family: Family,
        neg: bool,
    },
    /// Layer 4 protocol numbers (`meta l4proto`, `-p`).
    L4proto {
        protos: Vec<u8>,
        neg: bool,
    },
    /// Destination or source port ranges; `proto` is the protocol the match implies
    /// (`tcp dport` holds only for TCP).
    Port {
        dst: bool,
        proto: Option<u8>,
        ranges: Vec<(u16, u16)>,
        neg: bool,
    },
    Addr {
        dst: bool,
        #[serde(rename = "v6", with = "crate::facts::v6_flag")]
        family: Family,
        items: Vec<AddrItem>,
        neg: bool,
    },
    /// Interface names (`iifname`, `-i`; a trailing `*` or `+` is a prefix).
    Iface {
        input: bool,
        names: Vec<String>,
        neg: bool,
    },
    CtState {
        states: u8,
        neg: bool,
    },
    /// `ct status dnat` and friends: a new connection from outside has none.
    CtStatus {
        names: Vec<String>,
        neg: bool,
    },
    /// An address of the connection's conntrack tuples (`--ctorigdst`, `ct original ip
    /// daddr`): `reply_dir` picks the reply tuple, `dst` its destination. The original
    /// tuple is the connection as the client opened it, before a DNAT; the reply
    /// tuple is the server's answer, after it. `family` is `None` when the rule does not
    /// say (iptables: the table's family).
    CtAddr {
        reply_dir: bool,
        dst: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        family: Option<Family>,
        items: Vec<AddrItem>,
        neg: bool,
    },
    /// A port of the connection's conntrack tuples (`--ctorigdstport`, what the
    /// DOCKER-USER fix writes; `ct original proto-dst`).
    CtPort {
        reply_dir: bool,
        dst: bool,
        ranges: Vec<(u16, u16)>,
        neg: bool,
    },
    /// `--ctdir REPLY`, `ct direction reply`: the packet travels the reply way.
    CtDir {
        reply: bool,
        neg: bool,
    },
    IcmpType {
        #[serde(rename = "v6", with = "crate::facts::v6_flag")]
        family: Family,
        types: Vec<u8>,
        neg: bool,
    },
    /// `(tcp flags & mask) == value`.
    TcpFlags {
        mask: u8,
        value: u8,
        neg: bool,
    },
    AddrType {
        dst: bool,
        kinds: Vec<AddrKind>,
        neg: bool,
    },
    /// Reverse-path filter: `fib saddr . iif oif missing`, `-m rpfilter --invert`:
    /// holds when the source would not be routed back out the input interface.
    RpfMissing {
        neg: bool,
    },
    /// Hop limit / TTL compared with `value` (`op`: `eq`, `lt`, `gt`): neighbour
    /// discovery always arrives with 255, a packet from the internet never does.
    HopLimit {
        op: String,
        value: u8,
        neg: bool,
    },
    /// An IPv6 extension header or IPv4 fragment (`-m rt`, `-m frag`, `-f`): the first
    /// packet of a connection has none.
    ExtHeader {
        name: String,
        neg: bool,
    },
    /// `limit rate`: holds under normal load.
    Limit,
    /// `-m recent --rcheck/--update` and nft meters: the first connection is not in the list.
    RecentSeen {
        neg: bool,
    },
    /// The packet's fields (`keys`, in the set's field order) looked up in a named set:
    /// an nft set of the rule's table (`ip saddr @ban`, `ip saddr . tcp dport @allow`),
    /// or an ipset (`-m set --match-set NAME src`). Kept by name so the evidence names
    /// the set; the walk looks the elements up in the set.
    Set {
        name: String,
        keys: Vec<SetKey>,
        neg: bool,
    },
    /// Something the parsers do not evaluate, with its text.
    Unknown(String),
}

/// What the packet contributes to a set lookup, per field of the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetKey {
    Saddr,
    Daddr,
    Sport,
    Dport,
    L4proto,
    /// ipset's `src`/`dst` flag: the source or destination address or port, as the
    /// set's field at that place says.
    Src,
    Dst,
    /// Anything else (`meta mark`, `iifname`): not known for a packet from afar.
    Other(String),
}

/// What one field of a set's elements holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetField {
    Addr(Family),
    /// A port (nft `inet_service`; ipset's `port` with its protocol).
    Port,
    /// A layer-4 protocol (`inet_proto`).
    Proto,
    /// A type the walk does not evaluate (`mark`, `ifname`).
    Other(String),
}

/// One field's value in an element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetVal {
    Addr(AddrItem),
    /// Port range; `proto` is ipset's `tcp:80` protocol (`None`: any).
    Port {
        proto: Option<u8>,
        lo: u16,
        hi: u16,
    },
    Proto(u8),
    Other(String),
}

/// Where a set lives, for the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetOrigin {
    Nft,
    Ipset,
}

/// A named set whose elements hold addresses: an nft set or map's keys, or an ipset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddrSet {
    pub name: String,
    pub origin: SetOrigin,
    /// The fields of each element, in order (`ipv4_addr . inet_service`).
    pub fields: Vec<SetField>,
    /// Each element: one value per field.
    pub elems: Vec<Vec<SetVal>>,
    /// Elements the parser could not read (left out of `elems`).
    #[serde(default)]
    pub skipped: usize,
    /// ipset's `nomatch` elements: exceptions carved out of wider elements of a
    /// `hash:net` set, the most specific element deciding. Absent from older snapshots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holes: Vec<Vec<SetVal>>,
}

impl AddrSet {
    /// The first address field's family: which packets the set can match.
    pub fn family(&self) -> Option<Family> {
        self.fields.iter().find_map(|f| match f {
            SetField::Addr(fam) => Some(*fam),
            _ => None,
        })
    }
}

/// The admin's own SSH session, from `SSH_CONNECTION` (client ip, client port, server
/// ip, server port), parsed strictly by `parse::ssh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshSession {
    pub client: IpAddr,
    pub client_port: u16,
    pub server: IpAddr,
    pub server_port: u16,
}

/// Which firewall front-ends manage the rules, as seen in the ruleset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Nft,
    IptablesNft,
    IptablesLegacy,
    Firewalld,
    Ufw,
    Docker,
    Fail2ban,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Nft => "nftables",
            Backend::IptablesNft => "iptables-nft",
            Backend::IptablesLegacy => "iptables-legacy",
            Backend::Firewalld => "firewalld",
            Backend::Ufw => "ufw",
            Backend::Docker => "docker",
            Backend::Fail2ban => "fail2ban",
        }
    }
}

/// A tool the probe ran, or would have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolRun {
    /// The command line.
    pub command: String,
    pub result: Result<usize, ProbeError>,
}

/// The packet filter as the kernel runs it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FirewallFacts {
    /// Every table that hooks into IPv4/IPv6, whatever tool it was read with. Tables
    /// that iptables-nft wrote come from `iptables-nft-save` when nft's JSON shows them
    /// with opaque `xt` expressions.
    pub tables: Vec<Table>,
    /// The front-ends seen.
    pub backends: Vec<Backend>,
    /// Commands run and what they gave (bytes read, or the error).
    pub tools: Vec<ToolRun>,
    /// Parser notes (skipped statements).
    pub problems: Vec<String>,
    /// A source that could not be read while others were: legacy tables unreadable, say.
    pub partial: Vec<String>,
    /// ipsets (`ipset save`), which iptables rules name in `-m set --match-set`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipsets: Vec<AddrSet>,
    /// The SSH session dsdoctor runs in (`SSH_CONNECTION`), when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshSession>,
}

impl FirewallFacts {
    pub fn has(&self, b: Backend) -> bool {
        self.backends.contains(&b)
    }
    pub fn rule_count(&self) -> usize {
        rule_count(&self.tables)
    }
}
