//! The packet filter's verdict on one packet, walked as the kernel walks it. Pure.
//!
//! The packet takes the path the kernel sends it on. Every base chain of the packet's
//! family on the ingress and prerouting hooks runs in hook order, then priority order; in
//! the nat chains (which see only the first packet of a connection) the first DNAT or
//! REDIRECT that matches rewrites its destination and ends nat processing on that hook.
//! Then the routing decision: a destination that is one of the host's addresses (or an
//! unchanged one) is delivered through the input chains; any other goes through the
//! forward and postrouting chains, out of the interface of the route to it, if the host
//! forwards that family at all. A drop or reject in any base chain ends the walk, an
//! accept goes on to the next base chain, and the end of a base chain applies its policy.
//! Inside a chain, rules run in order with jump/goto/return. A match that cannot be
//! evaluated is assumed both ways: when both assumptions give the same answer the answer
//! stands (with the rule noted), otherwise the answer is [`Decision::Uncertain`] and names
//! the rule.
//!
//! [`Compiled::decide_connection`] follows an admitted TCP connection further: its later
//! packets (conntrack state established, the same rewritten path) and the SYN-ACK, which
//! leaves through output (local delivery) or forward (a container) with state
//! established; a filter that shuts either kills the connection.

use crate::facts::firewall::{
    AddrItem, AddrKind, AddrSet, Match, NatTo, Source, Table, TableFamily, Verdict, ct,
};
use crate::model::Family;
use std::collections::HashMap;
use std::net::IpAddr;

/// Bounds that keep a hostile or looping ruleset from running long.
const MAX_DEPTH: usize = 64;
const MAX_STEPS: usize = 500_000;
/// How many whole walks the both-ways assumptions may take.
const MAX_RUNS: usize = 32;

/// The first packet of what the filter is asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    pub family: Family,
    /// Layer-4 protocol number.
    pub l4: u8,
    pub dport: Option<u16>,
    pub icmp_type: Option<u8>,
    /// `None`: an arbitrary internet address (not in any specific list).
    pub saddr: Option<IpAddr>,
    pub daddr: IpAddr,
    pub daddr_kind: AddrKind,
    pub iif: String,
    /// Conntrack state bit (`ct::NEW`, `ct::UNTRACKED`, `ct::RELATED`).
    pub ct: u8,
    pub tcp_flags: u8,
    /// Hop limit on arrival: 255 for neighbour discovery; `None` for a packet from afar
    /// (anything below 255).
    pub hop_limit: Option<u8>,
    /// The output interface of a forwarded packet (`None` on the input path, or when
    /// the route is not known).
    pub oif: Option<String>,
    /// The packet is forwarded (then an unknown `oif` makes output-interface matches
    /// uncertain).
    pub forwarded: bool,
    /// Conntrack's record of a DNAT or REDIRECT that rewrote the connection's
    /// destination (`ct status dnat` then holds; `ct original`/`ct reply` read it).
    pub dnat: Option<Dnat>,
    /// The packet is the server's answer (the SYN-ACK). The other fields still describe
    /// the connection as the client opened it (`daddr`/`dport` the server's, `iif` the
    /// interface facing the client, `oif` the one facing a container): the walk reads a
    /// rule's source as the connection's destination and its output interface as the
    /// connection's input interface.
    pub reply: bool,
}

/// A rewritten destination as conntrack keeps it: where the client sent the connection
/// (the original tuple's destination) and where it goes (the reply tuple's source).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dnat {
    pub from: (IpAddr, Option<u16>),
    pub to: (IpAddr, Option<u16>),
}

impl Packet {
    /// A new TCP connection (SYN) from anywhere to `daddr:port` arriving on `iif`.
    pub fn tcp_syn(daddr: IpAddr, port: u16, iif: &str) -> Packet {
        Packet {
            family: Family::of(daddr),
            l4: 6,
            dport: Some(port),
            icmp_type: None,
            saddr: None,
            daddr,
            daddr_kind: AddrKind::Local,
            iif: iif.to_string(),
            ct: ct::NEW,
            tcp_flags: 0x02,
            hop_limit: None,
            oif: None,
            forwarded: false,
            dnat: None,
            reply: false,
        }
    }

    /// A later packet of an admitted connection to `daddr:port` (the handshake's ACK,
    /// then data): conntrack says established.
    pub fn tcp_established(daddr: IpAddr, port: u16, iif: &str) -> Packet {
        Packet {
            ct: ct::ESTABLISHED,
            tcp_flags: 0x10,
            ..Packet::tcp_syn(daddr, port, iif)
        }
    }

    /// An ICMPv6 message of `typ`: neighbour discovery (133-136) comes from a link-local
    /// neighbour, untracked; packet-too-big (2) from anywhere, related to a connection.
    pub fn icmpv6(typ: u8, host: IpAddr, iif: &str) -> Packet {
        let nd = (133..=137).contains(&typ);
        let (daddr, kind) = match (typ, host) {
            (133, _) => ("ff02::2".parse().ok(), AddrKind::Multicast),
            (134, _) => ("ff02::1".parse().ok(), AddrKind::Multicast),
            (135, IpAddr::V6(h)) => {
                let o = h.octets();
                let s = format!("ff02::1:ff{:02x}:{:02x}{:02x}", o[13], o[14], o[15]);
                (s.parse().ok(), AddrKind::Multicast)
            }
            _ => (Some(host), AddrKind::Local),
        };
        Packet {
            family: Family::V6,
            l4: 58,
            dport: None,
            icmp_type: Some(typ),
            saddr: if nd { "fe80::1".parse().ok() } else { None },
            daddr: daddr.unwrap_or(host),
            daddr_kind: kind,
            iif: iif.to_string(),
            ct: if nd { ct::UNTRACKED } else { ct::RELATED },
            tcp_flags: 0,
            hop_limit: nd.then_some(255),
            oif: None,
            forwarded: false,
            dnat: None,
            reply: false,
        }
    }

    /// A neighbour discovery message this host sends out of `oif`: a solicitation (135)
    /// to the router's solicited-node group, the advertisement (136) that answers the
    /// router, a router solicitation (133) to all routers. In the walk's reply terms
    /// (the rules read `daddr` as the packet's source): `daddr` is this host's address,
    /// `saddr` where the message goes, `iif` the interface it leaves by.
    pub fn icmpv6_sent(typ: u8, host: IpAddr, oif: &str) -> Packet {
        let to = match typ {
            133 => "ff02::2",
            135 => "ff02::1:ff00:1",
            _ => "fe80::1",
        };
        Packet {
            icmp_type: Some(typ),
            saddr: to.parse().ok(),
            daddr: host,
            daddr_kind: AddrKind::Local,
            reply: true,
            ..Packet::icmpv6(136, host, oif)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Drop,
    Reject,
    Uncertain,
}

impl Decision {
    pub fn admits(self) -> bool {
        self == Decision::Accept
    }
    pub fn shuts(self) -> bool {
        matches!(self, Decision::Drop | Decision::Reject)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Drop => "drop",
            Decision::Reject => "reject",
            Decision::Uncertain => "uncertain",
        }
    }
}

/// Where a rule lives, for the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRef {
    pub source: Source,
    pub family: TableFamily,
    pub table: String,
    pub chain: String,
    /// nft handle or `*-save` line; `None` for a chain's policy.
    pub handle: Option<u64>,
    pub text: String,
}

impl RuleRef {
    pub fn tool(&self) -> &'static str {
        match (self.source, self.family) {
            (Source::Nft, _) => "nft",
            (Source::IptablesNft, TableFamily::Ip6) => "ip6tables",
            (Source::IptablesNft, _) => "iptables",
            (Source::IptablesLegacy, TableFamily::Ip6) => "ip6tables-legacy",
            (Source::IptablesLegacy, _) => "iptables-legacy",
        }
    }

    /// `nft inet filter input handle 7: tcp dport 80 drop`.
    pub fn describe(&self) -> String {
        let place = match self.source {
            Source::Nft => format!(
                "nft {} {} chain {}",
                self.family.as_str(),
                self.table,
                self.chain
            ),
            _ => format!("{} -t {} {}", self.tool(), self.table, self.chain),
        };
        match (self.handle, self.source) {
            (None, _) => format!("{place}: policy {}", self.text),
            (Some(h), Source::Nft) => format!("{place} handle {h}: {}", self.text),
            (Some(h), _) => format!("{place} (save line {h}): {}", self.text),
        }
    }
}

/// The walk's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub decision: Decision,
    /// The rule or policy that decided; `None` when no base chain saw the packet, or when
    /// every one accepted it (then `accepted_by` lists them).
    pub decided_by: Option<RuleRef>,
    /// Rules that accepted the packet in each base chain it passed.
    pub accepted_by: Vec<RuleRef>,
    /// The way the walk took: base chains, jumps, gotos, returns.
    pub path: Vec<String>,
    /// Rules whose matches could not be evaluated and that mattered (uncertain), or that
    /// were assumed both ways without changing the answer.
    pub unevaluated: Vec<RuleRef>,
    /// How many base chains the packet's family passes.
    pub base_chains: usize,
    /// The way through the host the packet took, and which packet of the connection
    /// decided.
    pub taken: Taken,
}

mod path;
pub use path::{HostNet, Leg, Taken, published_ports};

// ----- compiled form ---------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RuleId(usize, usize);

#[derive(Debug)]
enum CVerdict {
    Accept,
    Drop,
    Reject,
    Jump(usize),
    Goto(usize),
    Return,
    Continue,
    Notrack,
    Map(Vec<(usize, CVerdict)>),
    Dnat(NatTo),
    Redirect(Option<u16>),
    Snat,
    Unknown,
}

#[derive(Debug)]
struct CChain {
    table: usize,
    name: String,
    policy_drop: bool,
    rules: Vec<(Vec<usize>, CVerdict)>,
}

/// A base chain: its hook, priority, chain, table family, device
/// (netdev ingress), and whether it is a nat chain (first packets only).
#[derive(Debug)]
struct Base {
    hook: Hook,
    prio: i32,
    chain: usize,
    fam: TableFamily,
    dev: Option<String>,
    nat: bool,
}

/// A ruleset prepared for many packets: chains indexed, jumps resolved, matches pooled.
#[derive(Debug)]
pub struct Compiled<'a> {
    tables: &'a [Table],
    chains: Vec<CChain>,
    /// Index of the table chain and rule each compiled chain came from.
    origin: Vec<(usize, usize)>,
    matches: Vec<&'a Match>,
    /// Sorted by hook, priority, chain.
    bases: Vec<Base>,
    host: Option<HostNet>,
    /// Named address sets and the matches that look them up (`sets.rs`).
    sets: sets::Sets,
}

/// The netfilter hooks a packet can pass, in the order it passes them (`Ord` is that
/// order: the base chains are sorted by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Hook {
    Ingress,
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    /// Every hook with its name as nft and the parsed chains spell it.
    const NAMES: [(Hook, &'static str); 6] = [
        (Hook::Ingress, "ingress"),
        (Hook::Prerouting, "prerouting"),
        (Hook::Input, "input"),
        (Hook::Forward, "forward"),
        (Hook::Output, "output"),
        (Hook::Postrouting, "postrouting"),
    ];

    fn name(self) -> &'static str {
        Hook::NAMES
            .iter()
            .find(|(h, _)| *h == self)
            .map_or("", |(_, n)| n)
    }

    fn parse(name: &str) -> Option<Hook> {
        Hook::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(h, _)| *h)
    }
}

/// The walk's state across the base chains of one packet.
struct Run {
    path: Vec<String>,
    accepted_by: Vec<RuleRef>,
    steps: usize,
    n_bases: usize,
    nat: Option<(RuleRef, IpAddr, u16)>,
    /// The nat chains run (the packet's route is still to be decided).
    nat_on: bool,
    /// A `notrack` before conntrack left the packet untracked.
    notracked: bool,
}

/// How the base chains of one hook ended.
enum HookEnd {
    Pass,
    Shut(Decision, RuleRef),
}

impl<'a> Compiled<'a> {
    pub fn new(tables: &'a [Table]) -> Compiled<'a> {
        let mut chains = Vec::new();
        let mut origin = Vec::new();
        let mut matches: Vec<&'a Match> = Vec::new();
        let mut bases = Vec::new();
        for (ti, t) in tables.iter().enumerate() {
            let base_idx = chains.len();
            let names: HashMap<&str, usize> = t
                .chains
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.as_str(), base_idx + i))
                .collect();
            for (ci, c) in t.chains.iter().enumerate() {
                let mut rules = Vec::with_capacity(c.rules.len());
                for r in &c.rules {
                    let ids: Vec<usize> = r
                        .matches
                        .iter()
                        .map(|m| {
                            matches.push(m);
                            matches.len() - 1
                        })
                        .collect();
                    let mut pool = Vec::new();
                    let v = compile_verdict(&r.verdict, &names, &mut pool);
                    let v = attach_map_matches(v, pool, &mut matches);
                    rules.push((ids, v));
                }
                let policy_drop = c.hook.as_ref().is_some_and(|h| h.policy == Verdict::Drop);
                if let Some(h) = &c.hook
                    && let Some(o) = Hook::parse(&h.hook)
                {
                    bases.push(Base {
                        hook: o,
                        prio: h.priority,
                        chain: base_idx + ci,
                        fam: t.family,
                        dev: h.device.clone(),
                        nat: h.kind == "nat",
                    });
                }
                chains.push(CChain {
                    table: ti,
                    name: c.name.clone(),
                    policy_drop,
                    rules,
                });
                origin.push((ti, ci));
            }
        }
        bases.sort_by_key(|b| (b.hook, b.prio, b.chain));
        let mut c = Compiled {
            tables,
            chains,
            origin,
            matches,
            bases,
            host: None,
            sets: sets::Sets::default(),
        };
        c.sets = sets::Sets::resolve(&c, &[]);
        c
    }

    /// [`Compiled::new`] with the ipsets that iptables rules name (`-m set`); the nft
    /// sets come with their tables.
    pub fn with_ipsets(tables: &'a [Table], ipsets: &[AddrSet]) -> Compiled<'a> {
        let mut c = Compiled::new(tables);
        if !ipsets.is_empty() {
            c.sets = sets::Sets::resolve(&c, ipsets);
        }
        c
    }

    /// One match of the pool against the packet: a set lookup goes to its index.
    fn eval_at(&self, id: usize, p: &Packet) -> Tri {
        match self.matches[id] {
            Match::Set { neg, .. } => match self.sets.at.get(&id) {
                Some((si, keys)) => self.sets.index[*si].eval(keys, *neg, p),
                // A set that was not read (no ipset tool, no root): not evaluated.
                None => Tri::Maybe,
            },
            m => eval(m, p),
        }
    }

    /// The host's addresses, routes and forwarding, for the routing decision.
    pub fn with_host(mut self, host: HostNet) -> Compiled<'a> {
        self.host = Some(host);
        self
    }

    fn rule_ref(&self, chain: usize, rule: Option<usize>) -> RuleRef {
        let (ti, ci) = self.origin[chain];
        let t = &self.tables[ti];
        let c = &t.chains[ci];
        match rule.and_then(|r| c.rules.get(r)) {
            Some(r) => RuleRef {
                source: t.source,
                family: t.family,
                table: t.name.clone(),
                chain: c.name.clone(),
                handle: Some(r.handle),
                text: r.text.clone(),
            },
            None => RuleRef {
                source: t.source,
                family: t.family,
                table: t.name.clone(),
                chain: c.name.clone(),
                handle: None,
                text: if self.chains[chain].policy_drop {
                    "drop".into()
                } else {
                    "accept".into()
                },
            },
        }
    }

    fn chain_label(&self, chain: usize) -> String {
        let c = &self.chains[chain];
        let t = &self.tables[c.table];
        match t.source {
            Source::Nft => format!("{} {} {}", t.family.as_str(), t.name, c.name),
            _ => format!(
                "{} {} {}",
                self.rule_ref(chain, None).tool(),
                t.name,
                c.name
            ),
        }
    }

    /// Decide a packet this host sends, described in reply terms
    /// ([`Packet::icmpv6_sent`]): the output and postrouting chains.
    pub fn decide_sent(&self, pkt: &Packet) -> Outcome {
        self.decide_leg(pkt, Some((false, None)))
    }

    /// Decide the packet: its way in (input, or DNAT then forward), one packet.
    pub fn decide(&self, pkt: &Packet) -> Outcome {
        self.decide_leg(pkt, None)
    }

    /// Decide a new TCP connection: its SYN, then, when that is admitted, the client's
    /// later packets and the server's SYN-ACK on the path the SYN took. The first of
    /// those the filter shuts (or cannot decide) is the answer, its `taken.leg` saying
    /// which.
    pub fn decide_connection(&self, syn: &Packet) -> Outcome {
        let first = self.decide_leg(syn, None);
        if first.decision != Decision::Accept {
            return first;
        }
        let route = Some((first.taken.forward, first.taken.oif.clone()));
        // The rest of the connection as conntrack rewrites it: the destination of the
        // SYN's DNAT, state established (nat chains no longer see it).
        let mut later = syn.clone();
        if let Some((_, ip, port)) = &first.taken.nat {
            rewrite(&mut later, *ip, *port);
        }
        if first.taken.forward {
            later.daddr_kind = AddrKind::Unicast;
            later.oif = first.taken.oif.clone();
            later.forwarded = true;
        }
        later.ct = ct::ESTABLISHED;
        later.tcp_flags = 0x10;
        let reply = Packet {
            reply: true,
            tcp_flags: 0x12,
            ..later.clone()
        };
        for (pkt, leg) in [(later, Leg::Later), (reply, Leg::Reply)] {
            let mut o = self.decide_leg(&pkt, route.clone());
            if o.decision != Decision::Accept {
                o.taken.leg = leg;
                o.taken.nat = first.taken.nat.clone();
                o.taken.forward = first.taken.forward;
                o.taken.oif = first.taken.oif.clone();
                return o;
            }
        }
        first
    }

    /// The packet as the input chains alone judge it, as if no nat rule rewrote it:
    /// what the host's own rules (ufw's, say) believe of a port that a DNAT publishes.
    pub fn decide_input(&self, pkt: &Packet) -> Outcome {
        self.decide_leg(pkt, Some((false, None)))
    }

    /// One packet; `route`: the way an earlier packet of the connection took (forward,
    /// output interface), or `None` to decide it after prerouting.
    fn decide_leg(&self, pkt: &Packet, route: Option<(bool, Option<String>)>) -> Outcome {
        let mut assume: Vec<(RuleId, bool)> = Vec::new();
        let mut runs = 0usize;
        let mut unevaluated = Vec::new();
        let out = self.explore(pkt, &route, &mut assume, &mut runs, &mut unevaluated);
        let mut out = out.unwrap_or_else(|rid| Outcome {
            decision: Decision::Uncertain,
            decided_by: Some(self.rule_ref(rid.0, Some(rid.1))),
            accepted_by: Vec::new(),
            path: vec!["too many rules that cannot be evaluated".into()],
            unevaluated: Vec::new(),
            base_chains: 0,
            taken: Taken::default(),
        });
        for u in unevaluated {
            let r = self.rule_ref(u.0, Some(u.1));
            if !out.unevaluated.contains(&r) {
                out.unevaluated.push(r);
            }
        }
        out
    }

    /// Walk under assumptions; on an unevaluable rule, walk both ways.
    fn explore(
        &self,
        pkt: &Packet,
        route: &Option<(bool, Option<String>)>,
        assume: &mut Vec<(RuleId, bool)>,
        runs: &mut usize,
        seen: &mut Vec<RuleId>,
    ) -> Result<Outcome, RuleId> {
        *runs += 1;
        match self.walk(pkt, route, assume) {
            Ok(o) => Ok(o),
            Err(Need::Uncertain(rid, why)) => {
                let mut o = self.uncertain(rid, why);
                o.unevaluated.push(self.rule_ref(rid.0, Some(rid.1)));
                Ok(o)
            }
            Err(Need::Assume(rid)) => {
                if !seen.contains(&rid) {
                    seen.push(rid);
                }
                if *runs >= MAX_RUNS {
                    return Err(rid);
                }
                assume.push((rid, false));
                let no = self.explore(pkt, route, assume, runs, seen);
                assume.pop();
                let no = no?;
                assume.push((rid, true));
                let yes = self.explore(pkt, route, assume, runs, seen);
                assume.pop();
                let yes = yes?;
                // The same answer on the same path (a DNAT assumed may send it elsewhere).
                let same = ((no.decision == yes.decision)
                    || (no.decision.shuts() && yes.decision.shuts()))
                    && no.taken == yes.taken;
                if same && no.decision != Decision::Uncertain {
                    Ok(no)
                } else {
                    let mut o =
                        self.uncertain(rid, "a match that dsdoctor cannot evaluate decides");
                    o.path = no.path;
                    o.path.push(format!(
                        "if that rule matched: {}; if not: {}",
                        yes.decision.as_str(),
                        no.decision.as_str()
                    ));
                    o.unevaluated.push(self.rule_ref(rid.0, Some(rid.1)));
                    Ok(o)
                }
            }
        }
    }

    fn uncertain(&self, rid: RuleId, why: &str) -> Outcome {
        Outcome {
            decision: Decision::Uncertain,
            decided_by: Some(self.rule_ref(rid.0, Some(rid.1))),
            accepted_by: Vec::new(),
            path: vec![why.to_string()],
            unevaluated: Vec::new(),
            base_chains: 0,
            taken: Taken::default(),
        }
    }

    fn walk(
        &self,
        pkt: &Packet,
        route: &Option<(bool, Option<String>)>,
        assume: &[(RuleId, bool)],
    ) -> Result<Outcome, Need> {
        let mut run = Run {
            path: Vec::new(),
            accepted_by: Vec::new(),
            steps: 0,
            n_bases: 0,
            nat: None,
            nat_on: route.is_none(),
            notracked: false,
        };
        // The packet as the chains see it so far (a notrack or a DNAT changes it).
        let mut cur = pkt.clone();
        let pkt = &mut cur;
        let mut taken = Taken::default();
        let end = |run: Run, taken: Taken, decision: Decision, by: Option<RuleRef>| Outcome {
            decision,
            decided_by: by,
            accepted_by: run.accepted_by,
            path: run.path,
            unevaluated: Vec::new(),
            base_chains: run.n_bases,
            taken,
        };
        let before: &[Hook] = if pkt.reply && route.as_ref().is_some_and(|r| !r.0) {
            // A local server's answer starts on the output hook.
            &[]
        } else {
            &[Hook::Ingress, Hook::Prerouting]
        };
        for &h in before {
            if let HookEnd::Shut(d, r) = self.run_hook(h, pkt, assume, &mut run)? {
                taken.nat = run.nat.clone();
                return Ok(end(run, taken, d, Some(r)));
            }
        }
        taken.nat = run.nat.clone();
        // The routing decision; for IPv4 it checks the way back first (rp_filter).
        if route.is_none()
            && !pkt.reply
            && pkt.family == Family::V4
            && let Some(back) = self
                .host
                .as_ref()
                .and_then(|h| h.rp_strict_elsewhere(&pkt.iif, pkt.saddr))
        {
            run.path.push(format!(
                "reverse-path filter (strict): the route back leaves by {back}, not {}; the kernel drops it",
                pkt.iif
            ));
            taken.rp_filtered = Some(back);
            return Ok(end(run, taken, Decision::Drop, None));
        }
        let (forward, oif) = match route {
            Some(r) => r.clone(),
            None => {
                let local = match (&self.host, pkt.dnat.is_some()) {
                    (_, false) => true,
                    (Some(h), true) => h.is_local(pkt.daddr),
                    (None, true) => false,
                };
                if local {
                    (false, None)
                } else {
                    let oif = self.host.as_ref().and_then(|h| h.route(pkt.daddr));
                    (true, oif)
                }
            }
        };
        taken.forward = forward;
        taken.oif = oif.clone();
        let after: &[Hook] = match (forward, pkt.reply) {
            (false, false) => &[Hook::Input],
            (false, true) => &[Hook::Output, Hook::Postrouting],
            (true, _) => &[Hook::Forward, Hook::Postrouting],
        };
        if forward && route.is_none() {
            pkt.daddr_kind = AddrKind::Unicast;
            pkt.oif = oif.clone();
            pkt.forwarded = true;
            let sysctl = pkt
                .family
                .pick("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding");
            if self.host.as_ref().and_then(|h| h.forwards(pkt.family)) == Some(false) {
                run.path
                    .push(format!("not forwarded: {sysctl} is 0, the kernel drops it"));
                taken.not_forwarded = true;
                let by = run.nat.as_ref().map(|n| n.0.clone());
                return Ok(end(run, taken, Decision::Drop, by));
            }
            run.path.push(format!(
                "routed to {}: forward{}",
                crate::net::bracketed(pkt.daddr),
                oif.as_deref()
                    .map(|o| format!(" out of {o}"))
                    .unwrap_or_default()
            ));
        }
        for &h in after {
            if let HookEnd::Shut(d, r) = self.run_hook(h, pkt, assume, &mut run)? {
                return Ok(end(run, taken, d, Some(r)));
            }
        }
        Ok(end(run, taken, Decision::Accept, None))
    }

    /// Run the base chains of one hook on the packet.
    fn run_hook(
        &self,
        hook: Hook,
        pkt: &mut Packet,
        assume: &[(RuleId, bool)],
        run: &mut Run,
    ) -> Result<HookEnd, Need> {
        // Once a nat chain rewrote the connection, the hook's other nat chains are
        // skipped (the binding is made).
        let mut nat_done = false;
        // The device the packet really arrived on (the answer arrives where the
        // connection left).
        let arrived = if pkt.reply {
            pkt.oif.clone().unwrap_or_default()
        } else {
            pkt.iif.clone()
        };
        for b in self.bases.iter().filter(|b| b.hook == hook) {
            if !b.fam.applies(pkt.family) {
                continue;
            }
            if let Some(d) = &b.dev
                && d != &arrived
            {
                continue;
            }
            // nat chains see only a connection's first packet (not untracked ones).
            if b.nat && (pkt.ct != ct::NEW || nat_done || !run.nat_on) {
                continue;
            }
            let base = b.chain;
            let prio = b.prio;
            // Before conntrack (ingress, and priority below -200 on prerouting and
            // output) a packet has no conntrack entry yet: `ct state` reads `invalid`
            // (`untracked` once a notrack ran), whatever conntrack will decide (found by
            // the kernel oracle, seed 1234: a neighbour solicitation is not untracked
            // yet at priority -300). Conntrack's own state applies again after it.
            let before_ct = hook == Hook::Ingress
                || (matches!(hook, Hook::Prerouting | Hook::Output) && prio < -200);
            let tracked = pkt.ct;
            let routed = self.before_routing(hook, prio, pkt, run);
            if before_ct {
                pkt.ct = if run.notracked {
                    ct::UNTRACKED
                } else {
                    ct::INVALID
                };
            }
            run.n_bases += 1;
            let label = self.chain_label(base);
            run.path.push(format!(
                "{label} ({} priority {prio}{})",
                hook.name(),
                match (pkt.reply, pkt.ct) {
                    (true, _) => ", the SYN-ACK",
                    (false, ct::ESTABLISHED) => ", a later packet",
                    _ => "",
                }
            ));
            // Call stack of (chain, next rule).
            let mut stack: Vec<(usize, usize)> = vec![(base, 0)];
            let result: Flow = loop {
                let Some(&mut (chain, ref mut pos)) = stack.last_mut() else {
                    break Flow::Policy;
                };
                let c = &self.chains[chain];
                let Some((ids, verdict)) = c.rules.get(*pos) else {
                    stack.pop();
                    if stack.is_empty() {
                        break Flow::Policy;
                    }
                    run.path.push(format!("end of {} → back", c.name));
                    continue;
                };
                let rid = RuleId(chain, *pos);
                *pos += 1;
                run.steps += 1;
                if run.steps > MAX_STEPS {
                    return Err(Need::Uncertain(
                        rid,
                        "the walk took too many steps (a loop?)",
                    ));
                }
                let mut m = Tri::all(ids.iter().map(|&id| self.eval_at(id, pkt)));
                if m == Tri::Maybe {
                    if matches!(verdict, CVerdict::Continue) {
                        continue;
                    }
                    match assume.iter().find(|(r, _)| *r == rid) {
                        Some((_, true)) => m = Tri::Yes,
                        Some((_, false)) => m = Tri::No,
                        None => return Err(Need::Assume(rid)),
                    }
                }
                if m == Tri::No {
                    continue;
                }
                let mut v = verdict;
                if let CVerdict::Map(entries) = v {
                    let mut chosen = None;
                    for (mid, ev) in entries {
                        match self.eval_at(*mid, pkt) {
                            Tri::Yes => {
                                chosen = Some(ev);
                                break;
                            }
                            Tri::No => {}
                            Tri::Maybe => {
                                return Err(Need::Uncertain(
                                    rid,
                                    "a verdict map keyed on something dsdoctor cannot evaluate",
                                ));
                            }
                        }
                    }
                    match chosen {
                        Some(ev) => v = ev,
                        None => continue,
                    }
                }
                match v {
                    CVerdict::Accept => break Flow::Accept(rid),
                    CVerdict::Drop => break Flow::Drop(rid),
                    CVerdict::Reject => break Flow::Reject(rid),
                    CVerdict::Continue => {}
                    CVerdict::Notrack => {
                        // Before conntrack the packet is left untracked: `ct state new`
                        // no longer holds for it, here or later.
                        if before_ct {
                            run.notracked = true;
                            pkt.ct = ct::UNTRACKED;
                        }
                    }
                    CVerdict::Dnat(_) | CVerdict::Redirect(_) | CVerdict::Snat if !b.nat => {
                        // Outside a nat chain the kernel refuses nat statements; a
                        // recorded one is not followed.
                        return Err(Need::Uncertain(rid, "a nat target outside a nat chain"));
                    }
                    CVerdict::Dnat(to) => {
                        let r = self.rule_ref(chain, Some(rid.1));
                        let ip = to.addr.unwrap_or(pkt.daddr);
                        let port = to.port.or(pkt.dport).unwrap_or(0);
                        run.path
                            .push(format!("{}: DNAT to {}", r.describe(), to.describe()));
                        rewrite(pkt, ip, port);
                        run.nat = Some((r, ip, port));
                        break Flow::Nat;
                    }
                    CVerdict::Redirect(to) => {
                        let r = self.rule_ref(chain, Some(rid.1));
                        // The primary address of the arrival interface.
                        let ip = self
                            .host
                            .as_ref()
                            .and_then(|h| {
                                h.iface_addrs
                                    .iter()
                                    .find(|(n, a)| *n == pkt.iif && Family::of(*a) == pkt.family)
                                    .map(|(_, a)| *a)
                            })
                            .unwrap_or(pkt.daddr);
                        let port = to.or(pkt.dport).unwrap_or(0);
                        run.path
                            .push(format!("{}: REDIRECT to port {port}", r.describe()));
                        rewrite(pkt, ip, port);
                        pkt.daddr_kind = AddrKind::Local;
                        run.nat = Some((r, ip, port));
                        break Flow::Nat;
                    }
                    CVerdict::Snat => break Flow::Nat,
                    CVerdict::Return => {
                        stack.pop();
                        if stack.is_empty() {
                            break Flow::Policy;
                        }
                        run.path.push(format!(
                            "{}: return",
                            self.rule_ref(chain, Some(rid.1)).describe()
                        ));
                    }
                    CVerdict::Jump(t) | CVerdict::Goto(t) => {
                        let goto = matches!(v, CVerdict::Goto(_));
                        run.path.push(format!(
                            "{} → {}",
                            self.rule_ref(chain, Some(rid.1)).describe(),
                            self.chains[*t].name
                        ));
                        if goto {
                            stack.pop();
                        }
                        if stack.len() >= MAX_DEPTH {
                            return Err(Need::Uncertain(rid, "jumps nest too deep (a loop?)"));
                        }
                        stack.push((*t, 0));
                    }
                    CVerdict::Unknown | CVerdict::Map(_) => {
                        return Err(Need::Uncertain(
                            rid,
                            "a verdict that dsdoctor cannot follow (queue to userspace, or unresolved)",
                        ));
                    }
                }
            };
            if before_ct {
                pkt.ct = if run.notracked {
                    ct::UNTRACKED
                } else {
                    tracked
                };
            }
            if let Some(r) = routed {
                r.restore(pkt);
            }
            match result {
                Flow::Accept(rid) => {
                    run.accepted_by.push(self.rule_ref(rid.0, Some(rid.1)));
                }
                Flow::Nat => nat_done = true,
                Flow::Drop(rid) | Flow::Reject(rid) => {
                    let r = self.rule_ref(rid.0, Some(rid.1));
                    run.path.push(r.describe());
                    let d = if matches!(result, Flow::Drop(_)) {
                        Decision::Drop
                    } else {
                        Decision::Reject
                    };
                    return Ok(HookEnd::Shut(d, r));
                }
                Flow::Policy => {
                    let r = self.rule_ref(base, None);
                    if self.chains[base].policy_drop {
                        run.path.push(r.describe());
                        return Ok(HookEnd::Shut(Decision::Drop, r));
                    }
                    run.accepted_by.push(r);
                }
            }
        }
        Ok(HookEnd::Pass)
    }
}

impl Compiled<'_> {
    /// A later packet of a connection is walked with the destination and route its
    /// SYN was given, but a chain before routing sees it as it arrives: no output
    /// interface yet, and, before the nat hook's priority (-100, where conntrack applies
    /// the DNAT binding to every packet of the connection), the destination the client
    /// addressed (found by the kernel oracle, docker28-ip6tables: Docker 28's raw
    /// `-d CONTAINER ! -i docker0 -j DROP` never sees a published port's later packets
    /// addressed to the container). Sets that view for the chain at `prio` and returns
    /// what to put back after it.
    fn before_routing(&self, hook: Hook, prio: i32, pkt: &mut Packet, run: &Run) -> Option<Routed> {
        if run.nat_on || pkt.reply || !matches!(hook, Hook::Ingress | Hook::Prerouting) {
            return None;
        }
        let routed = Routed {
            daddr: pkt.daddr,
            dport: pkt.dport,
            daddr_kind: pkt.daddr_kind,
            oif: pkt.oif.take(),
            forwarded: pkt.forwarded,
        };
        pkt.forwarded = false;
        if let Some(Dnat {
            from: (ip, port), ..
        }) = pkt.dnat
            && (hook == Hook::Ingress || prio < NAT_DST_PRIO)
        {
            pkt.daddr = ip;
            pkt.dport = port;
            // The walk's connections are addressed to the host.
            pkt.daddr_kind = match &self.host {
                Some(h) if !h.is_local(ip) => AddrKind::Unicast,
                _ => AddrKind::Local,
            };
        }
        Some(routed)
    }
}

/// The priority of the nat hook on prerouting (`NF_IP_PRI_NAT_DST`, nft's `dstnat`).
const NAT_DST_PRIO: i32 = -100;

/// A later packet's destination and route, set aside while a chain before routing
/// sees it ([`Compiled::before_routing`]).
struct Routed {
    daddr: IpAddr,
    dport: Option<u16>,
    daddr_kind: AddrKind,
    oif: Option<String>,
    forwarded: bool,
}

impl Routed {
    fn restore(self, pkt: &mut Packet) {
        pkt.daddr = self.daddr;
        pkt.dport = self.dport;
        pkt.daddr_kind = self.daddr_kind;
        pkt.oif = self.oif;
        pkt.forwarded = self.forwarded;
    }
}

/// The connection's destination after a DNAT or REDIRECT.
fn rewrite(pkt: &mut Packet, ip: IpAddr, port: u16) {
    // A second rewrite keeps where the client sent the connection.
    let from = pkt.dnat.map_or((pkt.daddr, pkt.dport), |d| d.from);
    pkt.daddr = ip;
    if pkt.dport.is_some() {
        pkt.dport = Some(port);
    }
    pkt.dnat = Some(Dnat {
        from,
        to: (pkt.daddr, pkt.dport),
    });
}

enum Need {
    Assume(RuleId),
    Uncertain(RuleId, &'static str),
}

enum Flow {
    Accept(RuleId),
    Drop(RuleId),
    Reject(RuleId),
    /// A nat target: the nat chain ends, the packet goes on.
    Nat,
    /// The base chain ended (or returned): its policy applies.
    Policy,
}

/// Verdict maps keep their key matches in a side pool until the rule's matches are
/// pooled; `pool` holds them in order, and `attach_map_matches` swaps in pooled indices.
fn compile_verdict<'a>(
    v: &'a Verdict,
    names: &HashMap<&str, usize>,
    pool: &mut Vec<&'a Match>,
) -> CVerdict {
    match v {
        Verdict::Accept => CVerdict::Accept,
        Verdict::Drop => CVerdict::Drop,
        Verdict::Reject => CVerdict::Reject,
        Verdict::Return => CVerdict::Return,
        Verdict::Continue => CVerdict::Continue,
        Verdict::Notrack => CVerdict::Notrack,
        Verdict::Jump(n) => names
            .get(n.as_str())
            .map(|&i| CVerdict::Jump(i))
            .unwrap_or(CVerdict::Unknown),
        Verdict::Goto(n) => names
            .get(n.as_str())
            .map(|&i| CVerdict::Goto(i))
            .unwrap_or(CVerdict::Unknown),
        Verdict::Map(entries) => CVerdict::Map(
            entries
                .iter()
                .map(|(m, ev)| {
                    pool.push(m);
                    (pool.len() - 1, compile_verdict(ev, names, &mut Vec::new()))
                })
                .collect(),
        ),
        Verdict::Dnat(to) => CVerdict::Dnat(to.clone()),
        Verdict::Redirect(p) => CVerdict::Redirect(*p),
        Verdict::Snat => CVerdict::Snat,
        Verdict::Unknown(_) => CVerdict::Unknown,
    }
}

fn attach_map_matches<'a>(
    v: CVerdict,
    pool: Vec<&'a Match>,
    matches: &mut Vec<&'a Match>,
) -> CVerdict {
    match v {
        CVerdict::Map(entries) => {
            let base = matches.len();
            matches.extend(pool);
            CVerdict::Map(entries.into_iter().map(|(i, ev)| (base + i, ev)).collect())
        }
        other => other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    /// Whether all of `parts` hold: no as soon as one does not (the rest are not
    /// evaluated), maybe when one is unknown and none fails.
    fn all(parts: impl IntoIterator<Item = Tri>) -> Tri {
        let mut out = Tri::Yes;
        for t in parts {
            match t {
                Tri::No => return Tri::No,
                Tri::Maybe => out = Tri::Maybe,
                Tri::Yes => {}
            }
        }
        out
    }
}

fn tri(b: bool, neg: bool) -> Tri {
    if b != neg { Tri::Yes } else { Tri::No }
}

fn in_items(ip: IpAddr, items: &[AddrItem]) -> bool {
    items.iter().any(|i| match i {
        AddrItem::Net(n) => n.contains(&ip),
        AddrItem::Range(a, b) => match (ip, a, b) {
            (IpAddr::V4(x), IpAddr::V4(a), IpAddr::V4(b)) => a <= &x && &x <= b,
            (IpAddr::V6(x), IpAddr::V6(a), IpAddr::V6(b)) => a <= &x && &x <= b,
            _ => false,
        },
    })
}

/// Whether the items together hold every address of `family`: `0.0.0.0/0`, the range
/// `0.0.0.0-255.255.255.255` (nft -j prints a range so), or halves and pieces that join up.
fn covers_all(items: &[AddrItem], family: Family) -> bool {
    let bits = |ip: IpAddr| -> Option<u128> {
        match (ip, family) {
            (IpAddr::V4(v4), Family::V4) => Some(u128::from(u32::from(v4))),
            (IpAddr::V6(v6), Family::V6) => Some(u128::from(v6)),
            _ => None,
        }
    };
    let top: u128 = family.pick(u128::from(u32::MAX), u128::MAX);
    let mut spans: Vec<(u128, u128)> = items
        .iter()
        .filter_map(|i| match i {
            AddrItem::Net(n) => Some((bits(n.network())?, bits(n.broadcast())?)),
            AddrItem::Range(a, b) => Some((bits(*a)?, bits(*b)?)),
        })
        .filter(|(a, b)| a <= b)
        .collect();
    spans.sort_unstable();
    // The first address not yet covered; `None` once the top is covered.
    let mut next: Option<u128> = Some(0);
    for (a, b) in spans {
        let Some(n) = next else { break };
        if a > n {
            return false;
        }
        if b >= n {
            next = if b >= top { None } else { Some(b + 1) };
        }
    }
    next.is_none()
}

fn iface_match(pattern: &str, name: &str) -> bool {
    match pattern
        .strip_suffix('*')
        .or_else(|| pattern.strip_suffix('+'))
    {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

fn eval(m: &Match, p: &Packet) -> Tri {
    match m {
        Match::Nfproto { family, neg } => tri(*family == p.family, *neg),
        Match::L4proto { protos, neg } => tri(protos.contains(&p.l4), *neg),
        Match::Port {
            dst,
            proto,
            ranges,
            neg,
        } => {
            let ported = matches!(p.l4, 6 | 17 | 132 | 33 | 136);
            if proto.is_some_and(|x| x != p.l4) {
                // The match implies its protocol: it never holds for another one.
                return Tri::No;
            }
            if !ported {
                // `th dport` (no protocol) reads the transport header's bytes 2-3 whatever
                // the protocol: the checksum of an ICMP message, which nobody can know.
                return if proto.is_none() { Tri::Maybe } else { Tri::No };
            }
            // In the server's answer the rule's source is the connection's destination.
            if *dst != p.reply {
                let Some(port) = p.dport else { return Tri::No };
                tri(port_in(ranges, port), *neg)
            } else {
                tri(ephemeral_in(ranges), *neg)
            }
        }
        Match::Addr {
            dst,
            family,
            items,
            neg,
        } => {
            if *family != p.family {
                return Tri::No;
            }
            if *dst != p.reply {
                tri(in_items(p.daddr, items), *neg)
            } else {
                tri(client_in(items, p), *neg)
            }
        }
        Match::Iface { input, names, neg } => {
            if *input == p.reply {
                // The output interface: none on the input path.
                let Some(oif) = &p.oif else {
                    // Forwarded out of an interface the host's routes did not tell.
                    return if p.forwarded {
                        Tri::Maybe
                    } else {
                        tri(false, *neg)
                    };
                };
                return tri(names.iter().any(|n| iface_match(n, oif)), *neg);
            }
            tri(names.iter().any(|n| iface_match(n, &p.iif)), *neg)
        }
        Match::CtState { states, neg } => tri(states & p.ct != 0, *neg),
        Match::CtStatus { names, neg } => {
            tri(p.dnat.is_some() && names.iter().any(|n| n == "dnat"), *neg)
        }
        Match::CtAddr { .. } | Match::CtPort { .. } | Match::CtDir { .. } => ct_tuple(m, p),
        Match::IcmpType { family, types, neg } => {
            let want = family.pick(1, 58);
            if p.l4 != want {
                return Tri::No;
            }
            match p.icmp_type {
                Some(t) => tri(types.contains(&t), *neg),
                None => Tri::No,
            }
        }
        Match::TcpFlags { mask, value, neg } => {
            if p.l4 != 6 {
                return Tri::No;
            }
            tri(p.tcp_flags & mask == *value, *neg)
        }
        Match::AddrType { dst, kinds, neg } => {
            let holds = if *dst != p.reply {
                kinds.iter().any(|k| match p.daddr_kind {
                    AddrKind::Local => matches!(k, AddrKind::Local | AddrKind::Unicast),
                    other => *k == other,
                })
            } else {
                kinds.contains(&AddrKind::Unicast)
            };
            tri(holds, *neg)
        }
        Match::RpfMissing { neg } => tri(false, *neg),
        Match::HopLimit { op, value, neg } => match (p.hop_limit, op.as_str()) {
            (Some(h), "eq") => tri(h == *value, *neg),
            (Some(h), "lt") => tri(h < *value, *neg),
            (Some(h), "gt") => tri(h > *value, *neg),
            // From afar: certainly below 255, otherwise unknown.
            (None, "eq") if *value == 255 => tri(false, *neg),
            (None, "gt") if *value >= 254 => tri(false, *neg),
            (None, "lt") if *value == 255 => tri(true, *neg),
            _ => Tri::Maybe,
        },
        Match::ExtHeader { neg, .. } => tri(false, *neg),
        Match::Limit => Tri::Yes,
        Match::RecentSeen { neg } => tri(false, *neg),
        // Looked up by `Compiled::eval_at`; here only when its set is unknown.
        Match::Set { .. } | Match::Unknown(_) => Tri::Maybe,
    }
}

/// The client's address in `items`: a known source, or an arbitrary one (in them only
/// when they span the packet's family).
fn client_in(items: &[AddrItem], p: &Packet) -> bool {
    match p.saddr {
        Some(s) => in_items(s, items),
        None => covers_all(items, p.family),
    }
}

/// An arbitrary client's ephemeral port: in `ranges` only when they span every
/// ephemeral port.
fn ephemeral_in(ranges: &[(u16, u16)]) -> bool {
    ranges.iter().any(|(a, b)| *a <= 1024 && *b == 65535)
}

fn port_in(ranges: &[(u16, u16)], port: u16) -> bool {
    ranges.iter().any(|(a, b)| *a <= port && port <= *b)
}

/// A match on the connection's conntrack tuples. The original tuple runs from the
/// client to the destination it addressed (before any DNAT), the reply tuple from where
/// the DNAT sent it back to the client (masquerade and SNAT never change the answer, so
/// the client stays the client); both hold for every packet of the connection, the
/// SYN-ACK too. Before conntrack (raw priority, ingress) there is no entry and nothing
/// about it matches, negated or not.
fn ct_tuple(m: &Match, p: &Packet) -> Tri {
    if p.ct & (ct::INVALID | ct::UNTRACKED) != 0 {
        return Tri::No;
    }
    let here = (p.daddr, p.dport);
    let (orig_dst, reply_src) = p.dnat.map_or((here, here), |d| (d.from, d.to));
    match m {
        Match::CtDir { reply, neg } => tri(*reply == p.reply, *neg),
        Match::CtAddr {
            reply_dir,
            dst,
            family,
            items,
            neg,
        } => {
            if family.is_some_and(|f| f != p.family) {
                return Tri::No;
            }
            if dst == reply_dir {
                // The original source or the reply's destination: the client.
                return tri(client_in(items, p), *neg);
            }
            let server = if *reply_dir { reply_src.0 } else { orig_dst.0 };
            tri(in_items(server, items), *neg)
        }
        Match::CtPort {
            reply_dir,
            dst,
            ranges,
            neg,
        } => {
            if dst == reply_dir {
                // The client's ephemeral port, as for a source port match.
                return tri(ephemeral_in(ranges), *neg);
            }
            let port = if *reply_dir { reply_src.1 } else { orig_dst.1 };
            let Some(port) = port else { return Tri::No };
            tri(port_in(ranges, port), *neg)
        }
        _ => Tri::Maybe,
    }
}

/// Decide one packet against tables (compiling them first).
#[cfg(test)]
pub fn decide(tables: &[Table], pkt: &Packet) -> Outcome {
    Compiled::new(tables).decide(pkt)
}

mod sets;
pub use sets::SourceSet;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod recorded;
#[cfg(test)]
mod tests;
