//! The packet filter's verdict on one packet, walked as the kernel walks it. Pure.
//!
//! Every base chain on the ingress, prerouting and input hooks of the packet's family
//! runs in hook order, then priority order: a drop or reject in any ends the walk, an
//! accept goes on to the next base chain, and the end of a base chain applies its policy.
//! Inside a chain, rules run in order with jump/goto/return. A match that cannot be
//! evaluated is assumed both ways: when both assumptions give the same answer the answer
//! stands (with the rule noted), otherwise the answer is [`Decision::Uncertain`] and names
//! the rule.

use crate::facts::firewall::{
    AddrItem, AddrKind, AddrSet, Match, Source, Table, TableFamily, Verdict, ct,
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
}

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
    Unknown,
}

#[derive(Debug)]
struct CChain {
    table: usize,
    name: String,
    policy_drop: bool,
    rules: Vec<(Vec<usize>, CVerdict)>,
}

/// A ruleset prepared for many packets: chains indexed, jumps resolved, matches pooled.
#[derive(Debug)]
pub struct Compiled<'a> {
    tables: &'a [Table],
    chains: Vec<CChain>,
    /// Index of the table chain and rule each compiled chain came from.
    origin: Vec<(usize, usize)>,
    matches: Vec<&'a Match>,
    /// (hook order, priority, chain), sorted.
    bases: Vec<(u8, i32, usize, TableFamily, Option<String>)>,
    /// Named address sets and the matches that look them up (`sets.rs`).
    sets: sets::Sets,
}

fn hook_order(h: &str) -> Option<u8> {
    match h {
        "ingress" => Some(0),
        "prerouting" => Some(1),
        "input" => Some(2),
        _ => None,
    }
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
                    && let Some(o) = hook_order(&h.hook)
                {
                    bases.push((o, h.priority, base_idx + ci, t.family, h.device.clone()));
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
        bases.sort_by_key(|b| (b.0, b.1, b.2));
        let mut c = Compiled {
            tables,
            chains,
            origin,
            matches,
            bases,
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

    /// Decide the packet.
    pub fn decide(&self, pkt: &Packet) -> Outcome {
        let mut assume: Vec<(RuleId, bool)> = Vec::new();
        let mut runs = 0usize;
        let mut unevaluated = Vec::new();
        let out = self.explore(pkt, &mut assume, &mut runs, &mut unevaluated);
        let mut out = out.unwrap_or_else(|rid| Outcome {
            decision: Decision::Uncertain,
            decided_by: Some(self.rule_ref(rid.0, Some(rid.1))),
            accepted_by: Vec::new(),
            path: vec!["too many rules that cannot be evaluated".into()],
            unevaluated: Vec::new(),
            base_chains: 0,
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
        assume: &mut Vec<(RuleId, bool)>,
        runs: &mut usize,
        seen: &mut Vec<RuleId>,
    ) -> Result<Outcome, RuleId> {
        *runs += 1;
        match self.walk(pkt, assume) {
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
                let no = self.explore(pkt, assume, runs, seen);
                assume.pop();
                let no = no?;
                assume.push((rid, true));
                let yes = self.explore(pkt, assume, runs, seen);
                assume.pop();
                let yes = yes?;
                let same =
                    (no.decision == yes.decision) || (no.decision.shuts() && yes.decision.shuts());
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
        }
    }

    fn walk(&self, pkt: &Packet, assume: &[(RuleId, bool)]) -> Result<Outcome, Need> {
        let mut path = Vec::new();
        let mut accepted_by = Vec::new();
        let mut steps = 0usize;
        let mut n_bases = 0usize;
        // The packet as the chains see it so far (a notrack changes its state).
        let mut cur = pkt.clone();
        let pkt = &mut cur;
        for &(hook, prio, base, fam, ref dev) in &self.bases {
            if !fam.applies(pkt.family) {
                continue;
            }
            if let Some(d) = dev
                && d != &pkt.iif
            {
                continue;
            }
            n_bases += 1;
            let label = self.chain_label(base);
            path.push(format!("{label} (priority {prio})"));
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
                    path.push(format!("end of {} → back", c.name));
                    continue;
                };
                let rid = RuleId(chain, *pos);
                *pos += 1;
                steps += 1;
                if steps > MAX_STEPS {
                    return Err(Need::Uncertain(
                        rid,
                        "the walk took too many steps (a loop?)",
                    ));
                }
                let mut m = Tri::Yes;
                for &id in ids {
                    match self.eval_at(id, pkt) {
                        Tri::No => {
                            m = Tri::No;
                            break;
                        }
                        Tri::Maybe => m = Tri::Maybe,
                        Tri::Yes => {}
                    }
                }
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
                        // Before conntrack (priority -200 on prerouting) the packet is
                        // left untracked: `ct state new` no longer holds for it.
                        if hook == 1 && prio < -200 && pkt.ct & (ct::NEW | ct::UNTRACKED) != 0 {
                            pkt.ct = ct::UNTRACKED;
                        }
                    }
                    CVerdict::Return => {
                        stack.pop();
                        if stack.is_empty() {
                            break Flow::Policy;
                        }
                        path.push(format!(
                            "{}: return",
                            self.rule_ref(chain, Some(rid.1)).describe()
                        ));
                    }
                    CVerdict::Jump(t) | CVerdict::Goto(t) => {
                        let goto = matches!(v, CVerdict::Goto(_));
                        path.push(format!(
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
            match result {
                Flow::Accept(rid) => {
                    accepted_by.push(self.rule_ref(rid.0, Some(rid.1)));
                }
                Flow::Drop(rid) | Flow::Reject(rid) => {
                    let r = self.rule_ref(rid.0, Some(rid.1));
                    path.push(r.describe());
                    return Ok(Outcome {
                        decision: if matches!(result, Flow::Drop(_)) {
                            Decision::Drop
                        } else {
                            Decision::Reject
                        },
                        decided_by: Some(r),
                        accepted_by,
                        path,
                        unevaluated: Vec::new(),
                        base_chains: n_bases,
                    });
                }
                Flow::Policy => {
                    let r = self.rule_ref(base, None);
                    if self.chains[base].policy_drop {
                        path.push(r.describe());
                        return Ok(Outcome {
                            decision: Decision::Drop,
                            decided_by: Some(r),
                            accepted_by,
                            path,
                            unevaluated: Vec::new(),
                            base_chains: n_bases,
                        });
                    }
                    accepted_by.push(r);
                }
            }
        }
        Ok(Outcome {
            decision: Decision::Accept,
            decided_by: None,
            accepted_by,
            path,
            unevaluated: Vec::new(),
            base_chains: n_bases,
        })
    }
}

enum Need {
    Assume(RuleId),
    Uncertain(RuleId, &'static str),
}

enum Flow {
    Accept(RuleId),
    Drop(RuleId),
    Reject(RuleId),
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
            if *dst {
                let Some(port) = p.dport else { return Tri::No };
                tri(ranges.iter().any(|(a, b)| *a <= port && port <= *b), *neg)
            } else {
                // An arbitrary client's ephemeral port: in the list only if the list
                // spans every ephemeral port.
                let all = ranges.iter().any(|(a, b)| *a <= 1024 && *b == 65535);
                tri(all, *neg)
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
            if *dst {
                tri(in_items(p.daddr, items), *neg)
            } else {
                match p.saddr {
                    Some(s) => tri(in_items(s, items), *neg),
                    None => tri(covers_all(items, *family), *neg),
                }
            }
        }
        Match::Iface { input, names, neg } => {
            if !*input {
                // Output interface on the input path: none.
                return tri(false, *neg);
            }
            tri(names.iter().any(|n| iface_match(n, &p.iif)), *neg)
        }
        Match::CtState { states, neg } => tri(states & p.ct != 0, *neg),
        Match::CtStatus { neg, .. } => tri(false, *neg),
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
            let holds = if *dst {
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
