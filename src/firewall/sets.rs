//! Named address sets in the walk: nft sets of a rule's table and ipsets, each indexed
//! once per compiled ruleset as sorted, merged address intervals (binary search: a
//! 100,000-element ban list costs ~17 comparisons per lookup). Concatenations
//! (`ip saddr . tcp dport @s`) are grouped by their other fields, each group holding its
//! own intervals. Also what the firewall checks ask about sets: which source sets a
//! family's rules consult, a member address of each, which sets hold an address.

use super::{Compiled, Packet, Tri, covers_all, tri};
use crate::facts::firewall::{
    AddrItem, AddrSet, Match, SetField, SetKey, SetOrigin, SetVal, Source, Table,
};
use crate::model::Family;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// What one field of the lookup key reads from the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    Saddr,
    Daddr,
    Sport,
    Dport,
    L4proto,
    Unknown,
}

/// One set, ready for lookups.
#[derive(Debug)]
pub(super) struct SetIndex {
    pub(super) name: String,
    /// `nft inet f2b-table` or `ipset`.
    pub(super) place: String,
    pub(super) origin: SetOrigin,
    family: Option<Family>,
    fields: Vec<SetField>,
    /// The field that holds the (first) address, indexed by intervals.
    addr_at: Option<usize>,
    groups: Vec<Group>,
    pub(super) elements: usize,
}

/// Elements that agree on every field but the address one.
#[derive(Debug)]
struct Group {
    rest: Vec<SetVal>,
    /// Sorted, merged, inclusive; `nomatch` holes carved out.
    spans: Vec<(u128, u128)>,
    /// The elements span the whole family, holes aside.
    whole: bool,
}

/// A source set a family's rules look up, for the checks.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSet {
    pub name: String,
    /// `nft inet f2b-table` or `ipset`.
    pub place: String,
    pub ipset: bool,
    pub elements: usize,
    /// Addresses the set holds (saturating).
    pub addresses: u128,
    /// An address in the set (the middle of its first interval).
    pub member: Option<IpAddr>,
}

fn bits(ip: IpAddr) -> (Family, u128) {
    match ip {
        IpAddr::V4(v) => (Family::V4, u128::from(u32::from(v))),
        IpAddr::V6(v) => (Family::V6, u128::from(v)),
    }
}

fn span(item: &AddrItem, family: Family) -> Option<(u128, u128)> {
    let (a, b) = match item {
        AddrItem::Net(n) => (n.network(), n.broadcast()),
        AddrItem::Range(a, b) => (*a, *b),
    };
    let ((fa, a), (fb, b)) = (bits(a), bits(b));
    (fa == family && fb == family && a <= b).then_some((a, b))
}

fn merge(mut spans: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    spans.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The addresses of `elems` less those of `holes` (ipset's `nomatch`), the most specific
/// element deciding as in a `hash:net` lookup: applied widest first, each narrower one
/// overrides what the wider ones said of its addresses.
fn carve(elems: Vec<(u128, u128)>, holes: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    if holes.is_empty() {
        return merge(elems);
    }
    let mut all: Vec<((u128, u128), bool)> = elems
        .into_iter()
        .map(|s| (s, true))
        .chain(holes.into_iter().map(|s| (s, false)))
        .collect();
    all.sort_by_key(|((a, b), _)| std::cmp::Reverse(b - a));
    // Disjoint intervals by start (so their ends rise too).
    let mut set: BTreeMap<u128, u128> = BTreeMap::new();
    for ((a, b), add) in all {
        let overlapping: Vec<(u128, u128)> = set
            .range(..=b)
            .rev()
            .take_while(|(_, e)| **e >= a)
            .map(|(s, e)| (*s, *e))
            .collect();
        for (s, e) in overlapping {
            set.remove(&s);
            if s < a {
                set.insert(s, a - 1);
            }
            if e > b {
                set.insert(b + 1, e);
            }
        }
        if add {
            set.insert(a, b);
        }
    }
    merge(set.into_iter().collect())
}

/// What sorted, merged `spans` leave out of `0..=top`.
fn gaps(spans: &[(u128, u128)], top: u128) -> Vec<(u128, u128)> {
    let mut out = Vec::new();
    let mut next = Some(0u128);
    for &(a, b) in spans {
        if let Some(n) = next
            && a > n
        {
            out.push((n, a - 1));
        }
        next = b.checked_add(1);
    }
    if let Some(n) = next
        && n <= top
    {
        out.push((n, top));
    }
    out
}

fn holds(spans: &[(u128, u128)], x: u128) -> bool {
    let i = spans.partition_point(|s| s.0 <= x);
    i > 0 && spans[i - 1].1 >= x
}

fn top(family: Family) -> u128 {
    family.pick(u128::from(u32::MAX), u128::MAX)
}

impl SetIndex {
    fn new(set: &AddrSet, place: String) -> SetIndex {
        let family = set.family();
        let addr_at = set
            .fields
            .iter()
            .position(|f| matches!(f, SetField::Addr(_)));
        // Per group: the elements' spans, and the `nomatch` holes' spans.
        let mut by_rest: HashMap<Vec<SetVal>, [Vec<(u128, u128)>; 2]> = HashMap::new();
        for (e, hole) in set
            .elems
            .iter()
            .map(|e| (e, 0))
            .chain(set.holes.iter().map(|e| (e, 1)))
        {
            let mut rest = e.clone();
            let sp = match (addr_at, family) {
                (Some(i), Some(fam)) if i < rest.len() => match rest.remove(i) {
                    SetVal::Addr(item) => span(&item, fam),
                    _ => None,
                },
                _ => Some((0, 0)),
            };
            if let Some(sp) = sp {
                by_rest.entry(rest).or_default()[hole].push(sp);
            }
        }
        let mut groups: Vec<Group> = by_rest
            .into_iter()
            .filter(|(_, [elems, _])| !elems.is_empty())
            .map(|(rest, [elems, holes])| {
                let spans_all = |spans: &[(u128, u128)]| {
                    family.is_some_and(|fam| spans.first() == Some(&(0, top(fam))))
                };
                // Holes aside: the elements alone, merged again only when holes exist.
                let whole = (!holes.is_empty()).then(|| spans_all(&merge(elems.clone())));
                let spans = carve(elems, holes);
                Group {
                    rest,
                    whole: whole.unwrap_or_else(|| spans_all(&spans)),
                    spans,
                }
            })
            .collect();
        // Largest first: the usual lookup is decided by the big group.
        groups.sort_by_key(|g| std::cmp::Reverse(g.spans.len()));
        SetIndex {
            name: set.name.clone(),
            place,
            origin: set.origin,
            family,
            fields: set.fields.clone(),
            addr_at,
            groups,
            elements: set.elems.len(),
        }
    }

    /// The key each field reads, from the rule's keys (ipset's `src`/`dst` take the
    /// field's kind); `None` when they do not fit the set.
    fn keys(&self, keys: &[SetKey]) -> Option<Vec<Key>> {
        if keys.len() != self.fields.len() {
            return None;
        }
        Some(
            keys.iter()
                .zip(&self.fields)
                .map(|(k, f)| match (k, f) {
                    (SetKey::Saddr, _) => Key::Saddr,
                    (SetKey::Daddr, _) => Key::Daddr,
                    (SetKey::Sport, _) => Key::Sport,
                    (SetKey::Dport, _) => Key::Dport,
                    (SetKey::L4proto, _) => Key::L4proto,
                    (SetKey::Src, SetField::Addr(_)) => Key::Saddr,
                    (SetKey::Dst, SetField::Addr(_)) => Key::Daddr,
                    (SetKey::Src, SetField::Port) => Key::Sport,
                    (SetKey::Dst, SetField::Port) => Key::Dport,
                    _ => Key::Unknown,
                })
                .collect(),
        )
    }

    /// The lookup for the packet, before the rule's negation; `None`: the set's family
    /// is not the packet's (nft's `ip saddr` dependency: never holds, negated or not).
    fn lookup(&self, keys: &[Key], p: &Packet) -> Option<Tri> {
        if let Some(fam) = self.family
            && fam != p.family
        {
            return None;
        }
        let addr_key = self.addr_at.and_then(|i| keys.get(i)).copied();
        let addr: Option<Option<u128>> = match addr_key {
            Some(Key::Saddr) => Some(p.saddr.map(|s| bits(s).1)),
            Some(Key::Daddr) => Some(Some(bits(p.daddr).1)),
            _ => None,
        };
        let rest_keys: Vec<Key> = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != self.addr_at)
            .map(|(_, k)| *k)
            .collect();
        let mut out = Tri::No;
        for g in &self.groups {
            let mut t = Tri::all(
                g.rest
                    .iter()
                    .zip(&rest_keys)
                    .map(|(v, k)| rest_field(v, *k, p)),
            );
            if t == Tri::No {
                continue;
            }
            let a = match (addr, self.family) {
                (Some(Some(x)), _) => holds(&g.spans, x),
                // An arbitrary internet source: in the set only if it spans the family
                // (a `nomatch` hole is a list of specific addresses, which it is not in).
                (Some(None), Some(_)) => g.whole,
                _ => {
                    t = Tri::Maybe;
                    true
                }
            };
            if !a {
                continue;
            }
            if t == Tri::Yes {
                return Some(Tri::Yes);
            }
            out = Tri::Maybe;
        }
        Some(out)
    }

    pub(super) fn eval(&self, keys: &[Key], neg: bool, p: &Packet) -> Tri {
        match self.lookup(keys, p) {
            None => Tri::No,
            Some(Tri::Maybe) => Tri::Maybe,
            Some(t) => tri(t == Tri::Yes, neg),
        }
    }

    /// Whether the set holds `ip` in any element (whatever the other fields).
    fn has(&self, ip: IpAddr) -> bool {
        let (fam, x) = bits(ip);
        self.family == Some(fam) && self.groups.iter().any(|g| holds(&g.spans, x))
    }

    fn summary(&self) -> SourceSet {
        let mut addresses: u128 = 0;
        let mut member = None;
        if let Some(fam) = self.family {
            let mut all: Vec<(u128, u128)> =
                self.groups.iter().flat_map(|g| g.spans.clone()).collect();
            all = merge(all);
            for (a, b) in &all {
                addresses = addresses.saturating_add((b - a).saturating_add(1));
            }
            member = all.first().map(|(a, b)| {
                let mid = a + (b - a) / 2;
                match fam {
                    Family::V4 => IpAddr::from(std::net::Ipv4Addr::from(mid as u32)),
                    Family::V6 => IpAddr::from(std::net::Ipv6Addr::from(mid)),
                }
            });
        }
        SourceSet {
            name: self.name.clone(),
            place: self.place.clone(),
            ipset: self.origin == SetOrigin::Ipset,
            elements: self.elements,
            addresses,
            member,
        }
    }
}

fn rest_field(v: &SetVal, k: Key, p: &Packet) -> Tri {
    match (v, k) {
        (SetVal::Port { proto, lo, hi }, Key::Dport) => {
            if proto.is_some_and(|x| x != p.l4) {
                return Tri::No;
            }
            match p.dport {
                Some(port) => tri(*lo <= port && port <= *hi, false),
                None => Tri::No,
            }
        }
        (SetVal::Port { proto, lo, hi }, Key::Sport) => {
            if proto.is_some_and(|x| x != p.l4) {
                return Tri::No;
            }
            // An arbitrary client's ephemeral port (as `Match::Port` reads it).
            tri(*lo <= 1024 && *hi == 65535, false)
        }
        (SetVal::Proto(x), Key::L4proto) => tri(*x == p.l4, false),
        _ => Tri::Maybe,
    }
}

/// The sets of a compiled ruleset and the matches that look them up.
#[derive(Debug, Default)]
pub(super) struct Sets {
    pub(super) index: Vec<SetIndex>,
    /// Match id → (set, keys).
    pub(super) at: HashMap<usize, (usize, Vec<Key>)>,
    /// Per family (V4, V6): every source address that some source match (an address
    /// match or a set lookup) holds while an arbitrary source is not in it. An address
    /// outside these is decided exactly as an arbitrary source: every match that reads
    /// the source gives both the same answer.
    special: [Vec<(u128, u128)>; 2],
}

impl Sets {
    /// Index every set a rule of `tables` names: the table's own (nft) or an ipset.
    pub(super) fn resolve(c: &Compiled, ipsets: &[AddrSet]) -> Sets {
        let mut sets = Sets::default();
        let mut seen: HashMap<(Option<usize>, &str), Option<usize>> = HashMap::new();
        for chain in &c.chains {
            let t: &Table = &c.tables[chain.table];
            for (ids, _) in &chain.rules {
                for &id in ids {
                    let Match::Set { name, keys, .. } = c.matches[id] else {
                        continue;
                    };
                    let nft = t.source == Source::Nft;
                    let key = (nft.then_some(chain.table), name.as_str());
                    let slot = *seen.entry(key).or_insert_with(|| {
                        let (set, place) = if nft {
                            (
                                t.sets.iter().find(|s| &s.name == name)?,
                                format!("nft {} {}", t.family.as_str(), t.name),
                            )
                        } else {
                            (ipsets.iter().find(|s| &s.name == name)?, "ipset".into())
                        };
                        sets.index.push(SetIndex::new(set, place));
                        Some(sets.index.len() - 1)
                    });
                    if let Some(si) = slot
                        && let Some(k) = sets.index[si].keys(keys)
                    {
                        sets.at.insert(id, (si, k));
                    }
                }
            }
        }
        sets.special = [Family::V4, Family::V6].map(|fam| special(c, &sets, fam));
        sets
    }
}

/// The source addresses of `family` that some source match treats otherwise than an
/// arbitrary source (see [`Sets::special`]).
fn special(c: &Compiled, sets: &Sets, family: Family) -> Vec<(u128, u128)> {
    let mut spans = Vec::new();
    for m in &c.matches {
        if let Match::Addr {
            dst: false,
            family: f,
            items,
            ..
        } = m
            && *f == family
            && !covers_all(items, family)
        {
            spans.extend(items.iter().filter_map(|i| span(i, family)));
        }
    }
    let mut seen = Vec::new();
    for (si, keys) in sets.at.values() {
        let s = &sets.index[*si];
        if !keys.contains(&Key::Saddr) || s.family != Some(family) || seen.contains(si) {
            continue;
        }
        seen.push(*si);
        if s.groups.iter().any(|g| g.whole) {
            // The arbitrary source is in the set: only its `nomatch` holes differ.
            for g in s.groups.iter().filter(|g| g.whole) {
                spans.extend(gaps(&g.spans, top(family)));
            }
        } else {
            spans.extend(s.groups.iter().flat_map(|g| g.spans.iter().copied()));
        }
    }
    merge(spans)
}

impl Compiled<'_> {
    /// Whether a packet from `ip` may be decided otherwise than one from an arbitrary
    /// internet source: `false` means certainly not (no source match holds `ip`), so
    /// asking about it needs no walk.
    pub fn may_differ(&self, ip: IpAddr) -> bool {
        let (fam, x) = bits(ip);
        holds(&self.sets.special[usize::from(fam.is_v6())], x)
    }

    /// The sets the rules look the packet's source up in, for `family`.
    pub fn source_sets(&self, family: Family) -> Vec<SourceSet> {
        self.source_sets_where(|set| set.family == Some(family))
    }

    /// The source sets that hold `ip`.
    pub fn sets_holding(&self, ip: IpAddr) -> Vec<SourceSet> {
        self.source_sets_where(|set| set.has(ip))
    }

    /// Each set that rules look the packet's source up in and that passes `keep`, once.
    fn source_sets_where(&self, keep: impl Fn(&SetIndex) -> bool) -> Vec<SourceSet> {
        let mut ids: Vec<usize> = self
            .sets
            .at
            .values()
            .filter(|(_, k)| k.contains(&Key::Saddr))
            .map(|(si, _)| *si)
            .filter(|si| keep(&self.sets.index[*si]))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .map(|si| self.sets.index[si].summary())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::Decision;
    use crate::parse::{ipset, iptables, nft};

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn from(p: Packet, saddr: &str) -> Packet {
        Packet {
            saddr: Some(v4(saddr)),
            ..p
        }
    }

    const SETS_NFT: &str = r#"{"nftables":[
      {"table":{"family":"inet","name":"t","handle":1}},
      {"set":{"family":"inet","name":"ban","table":"t","type":"ipv4_addr","flags":["interval"],"elem":["192.0.2.7",{"prefix":{"addr":"198.51.100.0","len":24}},{"range":["203.0.113.1","203.0.113.9"]}]}},
      {"set":{"family":"inet","name":"everyone","table":"t","type":"ipv4_addr","flags":["interval"],"elem":[{"range":["0.0.0.0","255.255.255.255"]}]}},
      {"set":{"family":"inet","name":"pairs","table":"t","type":["ipv4_addr","inet_service"],"flags":["interval"],"elem":[{"concat":["192.0.2.1",22]},{"concat":[{"prefix":{"addr":"10.0.0.0","len":8}},{"range":[8000,8080]}]}]}},
      {"chain":{"family":"inet","table":"t","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
      {"rule":{"family":"inet","table":"t","chain":"input","handle":2,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"@ban"}},{"drop":null}]}},
      {"rule":{"family":"inet","table":"t","chain":"input","handle":3,"expr":[{"match":{"op":"==","left":{"concat":[{"payload":{"protocol":"ip","field":"saddr"}},{"payload":{"protocol":"tcp","field":"dport"}}]},"right":"@pairs"}},{"accept":null}]}},
      {"rule":{"family":"inet","table":"t","chain":"input","handle":4,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":80}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"@everyone"}},{"accept":null}]}}
    ]}"#;

    /// Members, intervals, ranges and concatenations decide as the kernel would; an
    /// arbitrary source is in no ban list but in the range form of everyone.
    #[test]
    fn nft_sets_are_looked_up() {
        let rs = nft::parse(SETS_NFT).unwrap();
        let c = Compiled::new(&rs.tables);
        let host = v4("203.0.113.200");
        let web = Packet::tcp_syn(host, 80, "eth0");
        let d = |p: &Packet| c.decide(p).decision;
        assert_eq!(d(&web), Decision::Accept, "the range form of everyone");
        assert_eq!(d(&from(web.clone(), "192.0.2.7")), Decision::Drop);
        assert_eq!(d(&from(web.clone(), "198.51.100.200")), Decision::Drop);
        assert_eq!(d(&from(web.clone(), "203.0.113.9")), Decision::Drop);
        assert_eq!(d(&from(web.clone(), "203.0.113.10")), Decision::Accept);
        let ssh = Packet::tcp_syn(host, 22, "eth0");
        assert_eq!(d(&ssh), Decision::Drop);
        assert_eq!(d(&from(ssh.clone(), "192.0.2.1")), Decision::Accept);
        let alt = Packet::tcp_syn(host, 8080, "eth0");
        assert_eq!(d(&from(alt.clone(), "10.9.8.7")), Decision::Accept);
        assert_eq!(d(&from(alt, "11.9.8.7")), Decision::Drop);
        // IPv6 packets never match `ip saddr` sets.
        let v6 = Packet::tcp_syn("2001:db8::1".parse().unwrap(), 80, "eth0");
        assert_eq!(d(&v6), Decision::Drop);
        let names: Vec<String> = c
            .source_sets(Family::V4)
            .iter()
            .map(|s| s.name.clone())
            .collect();
        assert_eq!(names, ["ban", "pairs", "everyone"]);
        let ban = &c.source_sets(Family::V4)[0];
        assert_eq!((ban.elements, ban.addresses), (3, 1 + 256 + 9));
        assert!(c.may_differ(v4("203.0.113.5")));
        assert!(!c.may_differ(v4("203.0.113.10")));
        let holding: Vec<String> = c
            .sets_holding(v4("198.51.100.1"))
            .into_iter()
            .map(|s| format!("{} {}", s.place, s.name))
            .collect();
        assert_eq!(holding, ["nft inet t ban", "nft inet t everyone"]);
    }

    /// `-m set --match-set` against the ipsets read by `ipset save`; a set not read
    /// leaves the rule unevaluated (uncertain), never guessed.
    #[test]
    fn ipsets_are_looked_up() {
        let save = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m set --match-set f2b-sshd src -j REJECT\n-A INPUT -p tcp -m set --match-set ssh-pairs src,dst -j ACCEPT\n-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n";
        let rs = iptables::parse(save, Family::V4, Source::IptablesNft);
        let sets = ipset::parse(include_str!("../../tests/fixtures/firewall/ipset.save"));
        let c = Compiled::with_ipsets(&rs.tables, &sets);
        let host = v4("203.0.113.200");
        let ssh = Packet::tcp_syn(host, 22, "eth0");
        let d = |p: &Packet| c.decide(p).decision;
        assert_eq!(d(&ssh), Decision::Drop);
        assert_eq!(d(&from(ssh.clone(), "198.51.100.77")), Decision::Reject);
        assert_eq!(d(&from(ssh.clone(), "192.0.2.1")), Decision::Accept);
        assert_eq!(d(&Packet::tcp_syn(host, 80, "eth0")), Decision::Accept);
        let unread = Compiled::new(&rs.tables);
        assert_eq!(
            unread.decide(&Packet::tcp_syn(host, 80, "eth0")).decision,
            Decision::Uncertain
        );
    }

    /// ipset's `nomatch`: the most specific element decides (a /16 carved out of a /8,
    /// a /24 put back inside it); an arbitrary source is in a set whose elements span
    /// the family, its holes being specific addresses it is not among.
    #[test]
    fn nomatch_holes_are_carved_out() {
        let sets = ipset::parse(
            "create nets hash:net family inet\n\
             add nets 0.0.0.0/1\nadd nets 128.0.0.0/1\n\
             add nets 198.51.100.0/24 nomatch\nadd nets 198.51.100.128/26\n\
             create office hash:net family inet\nadd office 10.0.0.0/8\n\
             add office 10.1.0.0/16 nomatch\nadd office 10.1.2.0/24\n",
        );
        let save = "*filter\n:INPUT DROP [0:0]\n\
            -A INPUT -p tcp --dport 22 -m set --match-set office src -j ACCEPT\n\
            -A INPUT -p tcp --dport 80 -m set --match-set nets src -j ACCEPT\nCOMMIT\n";
        let rs = iptables::parse(save, Family::V4, Source::IptablesNft);
        let c = Compiled::with_ipsets(&rs.tables, &sets);
        let host = v4("203.0.113.200");
        let d = |port: u16, from_ip: &str| {
            c.decide(&from(Packet::tcp_syn(host, port, "eth0"), from_ip))
                .decision
        };
        assert_eq!(d(22, "10.2.0.1"), Decision::Accept);
        assert_eq!(d(22, "10.1.5.5"), Decision::Drop);
        assert_eq!(d(22, "10.1.2.3"), Decision::Accept);
        assert_eq!(d(80, "198.51.100.10"), Decision::Drop);
        assert_eq!(d(80, "198.51.100.130"), Decision::Accept);
        assert_eq!(d(80, "192.0.2.1"), Decision::Accept);
        let arbitrary = c.decide(&Packet::tcp_syn(host, 80, "eth0"));
        assert_eq!(arbitrary.decision, Decision::Accept, "{arbitrary:#?}");
        assert_eq!(
            carve(vec![(0, 99)], vec![(10, 19), (50, 50)]),
            [(0, 9), (20, 49), (51, 99)]
        );
        assert_eq!(
            gaps(&[(0, 9), (20, 49), (51, 99)], 99),
            [(10, 19), (50, 50)]
        );
        assert_eq!(gaps(&[(5, 9)], 20), [(0, 4), (10, 20)]);
        // The client in the hole is decided otherwise than the arbitrary source.
        assert!(c.may_differ(v4("198.51.100.10")));
        assert!(!c.may_differ(v4("198.51.100.130")));
    }

    /// 100,000 elements: one lookup is a binary search.
    #[test]
    fn large_sets_index_once() {
        let elems: Vec<String> = (0..100_000u32)
            .map(|i| format!("\"{}\"", std::net::Ipv4Addr::from(0x0a00_0000 + i * 3)))
            .collect();
        let j = SETS_NFT.replace(
            r#""elem":["192.0.2.7","#,
            &format!(r#""elem":[{},"#, elems.join(",")),
        );
        let rs = nft::parse(&j).unwrap();
        let c = Compiled::new(&rs.tables);
        let web = Packet::tcp_syn(v4("203.0.113.200"), 80, "eth0");
        assert_eq!(
            c.decide(&from(web.clone(), "10.0.0.3")).decision,
            Decision::Drop
        );
        assert_eq!(c.decide(&from(web, "10.0.0.4")).decision, Decision::Accept);
    }

    proptest::proptest! {
        /// The merged intervals answer as a scan of the elements would.
        #[test]
        fn merged_intervals_agree_with_a_scan(
            items in proptest::collection::vec((proptest::num::u32::ANY, 0u8..=32, proptest::bool::ANY, 0u32..5000), 0..60),
            probes in proptest::collection::vec(proptest::num::u32::ANY, 1..40),
        ) {
            let items: Vec<AddrItem> = items
                .into_iter()
                .map(|(a, len, range, width)| {
                    let ip = IpAddr::from(std::net::Ipv4Addr::from(a));
                    if range {
                        let b = IpAddr::from(std::net::Ipv4Addr::from(a.saturating_add(width)));
                        AddrItem::Range(ip, b)
                    } else {
                        AddrItem::Net(ipnet::IpNet::new(ip, len).unwrap().trunc())
                    }
                })
                .collect();
            let spans = merge(items.iter().filter_map(|i| span(i, Family::V4)).collect());
            for w in spans.windows(2) {
                proptest::prop_assert!(w[0].1 < w[1].0);
            }
            for x in probes.into_iter().chain(spans.iter().map(|s| s.1 as u32)) {
                let ip = IpAddr::from(std::net::Ipv4Addr::from(x));
                let scan = items.iter().any(|i| match i {
                    AddrItem::Net(n) => n.contains(&ip),
                    AddrItem::Range(a, b) => *a <= ip && ip <= *b,
                });
                proptest::prop_assert_eq!(holds(&spans, u128::from(x)), scan);
            }
        }
    }
}
