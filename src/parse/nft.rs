//! `nft -j list ruleset` → [`Ruleset`]. Pure; never panics: whatever it does not
//! understand becomes [`Match::Unknown`] / [`Verdict::Unknown`] (so the walk says
//! "uncertain"), or a line in `problems`.

use crate::facts::firewall::{
    AddrItem, AddrKind, AddrSet, Chain, Hook, Match, NatTo, Rule, Ruleset, SetKey, Source, Table,
    TableFamily, Verdict, ct,
};
use crate::model::Family;
use ipnet::IpNet;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;

/// Most problems kept for the evidence.
const MAX_PROBLEMS: usize = 20;

/// The text is not nft's JSON at all (anything inside it that is not understood is a
/// problem line or an unknown match instead).
#[derive(Debug, thiserror::Error)]
pub enum NotNftJson {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no \"nftables\" array")]
    NoNftablesArray,
}

/// Parse nft's JSON.
pub fn parse(json: &str) -> Result<Ruleset, NotNftJson> {
    let v: Value = serde_json::from_str(json)?;
    let items = v
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or(NotNftJson::NoNftablesArray)?;
    let mut rs = Ruleset::default();
    let mut tables: Vec<Table> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    // Named sets and maps, per (family, table, name).
    let mut sets: HashMap<(String, String, String), Vec<Value>> = HashMap::new();
    // Named sets of addresses, kept whole (rules name them; the walk looks them up).
    let mut addr_sets: HashMap<(String, String, String), AddrSet> = HashMap::new();
    // Anonymous concatenations (`ip saddr . tcp dport { 192.0.2.1 . 22 }`), kept as sets
    // named by their text, per (family, table, name).
    let anonymous: Anonymous = Default::default();
    for it in items {
        if let Some(s) = it.get("set") {
            let key = (str_of(s, "family"), str_of(s, "table"), str_of(s, "name"));
            if let Some(set) = super::nft_sets::addr_set(s) {
                addr_sets.insert(key, set);
                continue;
            }
        }
        if let Some(s) = it.get("set").or_else(|| it.get("map")) {
            let key = (str_of(s, "family"), str_of(s, "table"), str_of(s, "name"));
            let elems = s
                .get("elem")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            sets.insert(key, elems);
        }
    }
    for it in items {
        if let Some(t) = it.get("table") {
            let fam = str_of(t, "family");
            let name = str_of(t, "name");
            index.insert((fam.clone(), name.clone()), tables.len());
            tables.push(Table {
                family: family(&fam),
                name,
                source: Source::Nft,
                chains: Vec::new(),
                sets: Vec::new(),
            });
        } else if let Some(c) = it.get("chain") {
            let key = (str_of(c, "family"), str_of(c, "table"));
            let Some(&ti) = index.get(&key) else {
                note(
                    &mut rs,
                    format!("chain of unknown table {} {}", key.0, key.1),
                );
                continue;
            };
            let hook = c.get("hook").and_then(Value::as_str).map(|h| Hook {
                hook: h.to_string(),
                priority: c
                    .get("prio")
                    .and_then(Value::as_i64)
                    .map(|p| p.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
                    .unwrap_or(0),
                kind: str_of(c, "type"),
                policy: match c.get("policy").and_then(Value::as_str) {
                    Some("drop") => Verdict::Drop,
                    _ => Verdict::Accept,
                },
                device: c.get("dev").and_then(Value::as_str).map(str::to_string),
            });
            tables[ti].chains.push(Chain {
                name: str_of(c, "name"),
                hook,
                rules: Vec::new(),
            });
        } else if let Some(r) = it.get("rule") {
            let fam = str_of(r, "family");
            let tname = str_of(r, "table");
            let Some(&ti) = index.get(&(fam.clone(), tname.clone())) else {
                note(&mut rs, format!("rule of unknown table {fam} {tname}"));
                continue;
            };
            let cname = str_of(r, "chain");
            let ctx = Ctx {
                sets: &sets,
                addr_sets: &addr_sets,
                anonymous: &anonymous,
                family: &fam,
                table: &tname,
            };
            let rule = parse_rule(r, &ctx);
            match tables[ti].chains.iter_mut().find(|c| c.name == cname) {
                Some(c) => c.rules.push(rule),
                None => note(&mut rs, format!("rule of unknown chain {cname}")),
            }
        }
    }
    // Each set goes to its table, in name order (the listing's order is a hash's), then
    // the anonymous concatenations in the rules' order.
    let mut named: Vec<_> = addr_sets.into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named.extend(anonymous.into_inner());
    for ((fam, table, _), set) in named {
        if let Some(&ti) = index.get(&(fam, table)) {
            tables[ti].sets.push(set);
        }
    }
    rs.tables = tables;
    Ok(rs)
}

fn note(rs: &mut Ruleset, s: String) {
    if rs.problems.len() < MAX_PROBLEMS {
        rs.problems.push(s);
    }
}

pub(super) fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn family(s: &str) -> TableFamily {
    match s {
        "ip" => TableFamily::Ip,
        "ip6" => TableFamily::Ip6,
        "inet" => TableFamily::Inet,
        "netdev" => TableFamily::Netdev,
        _ => TableFamily::Other,
    }
}

/// Anonymous concatenations found in the rules, per (family, table, name), filled while
/// the rules are parsed.
type Anonymous = std::cell::RefCell<Vec<((String, String, String), AddrSet)>>;

struct Ctx<'a> {
    sets: &'a HashMap<(String, String, String), Vec<Value>>,
    addr_sets: &'a HashMap<(String, String, String), AddrSet>,
    anonymous: &'a Anonymous,
    family: &'a str,
    table: &'a str,
}

impl Ctx<'_> {
    /// The named set of addresses a `"@name"` reference means in this table.
    fn addr_set(&self, right: &Value) -> Option<&AddrSet> {
        let name = right.as_str()?.strip_prefix('@')?;
        self.addr_sets.get(&(
            self.family.to_string(),
            self.table.to_string(),
            name.to_string(),
        ))
    }

    /// Elements of a set reference (`"@name"`), or of an anonymous `{"set": [...]}`, or
    /// the single value itself.
    fn elements(&self, right: &Value) -> Option<Vec<Value>> {
        if let Some(name) = right.as_str().and_then(|s| s.strip_prefix('@')) {
            return self
                .sets
                .get(&(
                    self.family.to_string(),
                    self.table.to_string(),
                    name.to_string(),
                ))
                .cloned();
        }
        if let Some(s) = right.get("set") {
            return Some(match s {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            });
        }
        Some(vec![right.clone()])
    }
}

fn parse_rule(r: &Value, ctx: &Ctx) -> Rule {
    let handle = r.get("handle").and_then(Value::as_u64).unwrap_or(0);
    let exprs = r
        .get("expr")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut matches = Vec::new();
    let mut verdict = Verdict::Continue;
    let mut text: Vec<String> = Vec::new();
    for e in &exprs {
        text.push(render_stmt(e));
        if let Some(m) = e.get("match") {
            let parsed = parse_match(m, ctx);
            if matches!(parsed, Match::Set { .. }) {
                // `tcp dport . ip saddr @s` holds only for TCP over IPv4, whatever the
                // operator: nft adds the protocols as dependencies of the lookup.
                let left = m.get("left").cloned().unwrap_or(Value::Null);
                matches.extend(super::nft_sets::key_parts(&left).filter_map(payload_dependency));
            }
            if matches!(parsed, Match::Unknown(_))
                && let Some(dep) = m.get("left").and_then(payload_dependency)
            {
                // nft lists a payload's protocol dependency inside the payload
                // (`meta l4proto icmp` vanishes into `icmp checksum`): the field
                // is unknown, but it never holds for another protocol.
                matches.push(dep);
            }
            matches.push(parsed);
            continue;
        }
        if let Some(v) = verdict_of(e, ctx) {
            // `reject with icmpv6 ...` in an inet table: nft folds the rule's
            // `meta nfproto ipv6` into the reject when it lists it, so the reject's type
            // is all that says the rule never sees IPv4 (and `icmp` IPv6).
            let family = match e
                .get("reject")
                .and_then(|r| r.get("type"))
                .and_then(Value::as_str)
            {
                Some("icmp") => Some(Family::V4),
                Some("icmpv6") => Some(Family::V6),
                _ => None,
            };
            if let Some(family) = family {
                matches.push(Match::Nfproto { family, neg: false });
            }
            // `reject with tcp reset` needs `meta l4proto tcp`, which nft folds into
            // the reject when it lists it (found by the kernel oracle, seed 77): the
            // rule never holds for another protocol.
            if e.get("reject")
                .and_then(|r| r.get("type"))
                .and_then(Value::as_str)
                == Some("tcp reset")
            {
                matches.push(Match::L4proto {
                    protos: vec![6],
                    neg: false,
                });
            }
            verdict = v;
            continue;
        }
        let Some(obj) = e.as_object() else {
            matches.push(Match::Unknown(render_stmt(e)));
            continue;
        };
        let key = obj.keys().next().map(String::as_str).unwrap_or("");
        if key == "notrack" && verdict == Verdict::Continue {
            verdict = Verdict::Notrack;
            continue;
        }
        match key {
            // Statements without a verdict: the rule goes on.
            "counter" | "log" | "mangle" | "meta" | "ct" | "comment" | "notrack" | "flow"
            | "tproxy" | "synproxy" | "quota" | "ct helper" | "ct timeout" | "ct expectation"
            | "secmark" | "dup" | "fwd" => {
                if key == "quota" {
                    matches.push(Match::Unknown(render_stmt(e)));
                }
            }
            "limit" => matches.push(Match::Limit),
            // Dynamic set updates (meters, `add @set ...`): the update itself never
            // stops a packet.
            "set" | "add" | "update" => {}
            "xt" => matches.push(Match::Unknown(format!(
                "iptables extension {} (written by iptables-nft)",
                obj.get("xt")
                    .and_then(|x| x.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?")
            ))),
            _ => matches.push(Match::Unknown(render_stmt(e))),
        }
    }
    let mut text = text.join(" ");
    if let Some(c) = r.get("comment").and_then(Value::as_str) {
        text.push_str(&format!(" comment \"{c}\""));
    }
    Rule {
        handle,
        text: text.trim().to_string(),
        matches,
        verdict,
    }
}

fn verdict_of(e: &Value, ctx: &Ctx) -> Option<Verdict> {
    let obj = e.as_object()?;
    let (k, v) = obj.iter().next()?;
    Some(match k.as_str() {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "reject" => Verdict::Reject,
        "return" => Verdict::Return,
        "continue" => Verdict::Continue,
        "jump" => Verdict::Jump(str_of(v, "target")),
        "goto" => Verdict::Goto(str_of(v, "target")),
        "queue" => Verdict::Unknown("queue to userspace".into()),
        "dnat" => nat_verdict(v, false),
        "redirect" => nat_verdict(v, true),
        "snat" | "masquerade" => Verdict::Snat,
        "tproxy" => Verdict::Unknown(format!(
            "{k}: the connection is redirected and filtered elsewhere"
        )),
        "vmap" => {
            let key = v.get("key").cloned().unwrap_or(Value::Null);
            let data = v.get("data").cloned().unwrap_or(Value::Null);
            let Some(elems) = ctx.elements(&data) else {
                return Some(Verdict::Unknown(format!(
                    "verdict map {}",
                    render_value(&data)
                )));
            };
            let mut entries = Vec::new();
            for el in elems {
                let (k2, v2) = match &el {
                    Value::Array(pair) if pair.len() == 2 => (pair[0].clone(), pair[1].clone()),
                    _ => {
                        return Some(Verdict::Unknown(format!(
                            "verdict map {}",
                            render_value(&el)
                        )));
                    }
                };
                let m = match_parts(&key, "==", &k2, ctx);
                let verdict =
                    verdict_of(&v2, ctx).unwrap_or_else(|| Verdict::Unknown(render_value(&v2)));
                entries.push((m, verdict));
            }
            Verdict::Map(entries)
        }
        _ => return None,
    })
}

/// `{"dnat": {"family": "ip", "addr": "172.17.0.2", "port": 80}}`, `{"redirect": {"port":
/// 80}}` (`null` without a port). The first of a range is kept. A DNAT of one family in an
/// inet table does nothing to the other's packets: it becomes a map keyed on the family.
fn nat_verdict(v: &Value, redirect: bool) -> Verdict {
    let unknown = || {
        Verdict::Unknown(format!(
            "{} {}: a target dsdoctor does not read",
            if redirect { "redirect" } else { "dnat" },
            render_value(v)
        ))
    };
    let first = |x: &Value| -> Value {
        match x.get("range").and_then(Value::as_array) {
            Some(r) => r.first().cloned().unwrap_or(Value::Null),
            None => x.clone(),
        }
    };
    let port = match v.get("port").map(first) {
        None => None,
        Some(p) => match p.as_u64().and_then(|p| u16::try_from(p).ok()) {
            Some(p) => Some(p),
            None => return unknown(),
        },
    };
    if redirect {
        return Verdict::Redirect(port);
    }
    let addr = match v.get("addr").map(first) {
        None => None,
        Some(a) => match a.as_str().and_then(|a| a.parse::<IpAddr>().ok()) {
            Some(a) => Some(a),
            None => return unknown(),
        },
    };
    if addr.is_none() && port.is_none() {
        return unknown();
    }
    let family = match v.get("family").and_then(Value::as_str) {
        Some("ip") => Some(Family::V4),
        Some("ip6") => Some(Family::V6),
        _ => addr.map(Family::of),
    };
    let dnat = Verdict::Dnat(NatTo { addr, port });
    match family {
        Some(family) => Verdict::Map(vec![(Match::Nfproto { family, neg: false }, dnat)]),
        None => dnat,
    }
}

fn parse_match(m: &Value, ctx: &Ctx) -> Match {
    let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
    let left = m.get("left").cloned().unwrap_or(Value::Null);
    let right = m.get("right").cloned().unwrap_or(Value::Null);
    match_parts(&left, op, &right, ctx)
}

/// Build the match `left op right`.
fn match_parts(left: &Value, op: &str, right: &Value, ctx: &Ctx) -> Match {
    let unknown = || {
        Match::Unknown(format!(
            "{} {op} {}",
            render_value(left),
            render_value(right)
        ))
    };
    let neg = match op {
        "==" | "in" => false,
        "!=" => true,
        _ => return unknown(),
    };
    // A named set of addresses is looked up whole, by name (it may hold 100,000
    // elements, and the evidence names it).
    if let Some(set) = ctx.addr_set(right) {
        let keys: Vec<SetKey> = super::nft_sets::key_parts(left)
            .map(super::nft_sets::set_key)
            .collect();
        if keys.len() == set.fields.len() {
            return Match::Set {
                name: set.name.clone(),
                keys,
                neg,
            };
        }
        return unknown();
    }
    if left.get("concat").is_some()
        && let Some(set) = super::nft_sets::anonymous(left, right)
    {
        let keys: Vec<SetKey> = super::nft_sets::key_parts(left)
            .map(super::nft_sets::set_key)
            .collect();
        let name = set.name.clone();
        let key = (ctx.family.to_string(), ctx.table.to_string(), name.clone());
        let mut anon = ctx.anonymous.borrow_mut();
        if !anon.iter().any(|(k, _)| *k == key) {
            anon.push((key, set));
        }
        return Match::Set { name, keys, neg };
    }
    let Some(elems) = ctx.elements(right) else {
        return unknown();
    };
    // `tcp flags & (syn | ack) == syn`
    if let Some(and) = left.get("&").and_then(Value::as_array) {
        if and.len() == 2
            && is_payload(&and[0], "tcp", "flags")
            && let (Some(mask), Some(val)) = (tcp_flags(&and[1]), elems.first().and_then(tcp_flags))
        {
            return Match::TcpFlags {
                mask,
                value: val,
                neg,
            };
        }
        return unknown();
    }
    if let Some(meta) = left.get("meta") {
        let key = str_of(meta, "key");
        return match key.as_str() {
            "l4proto" => match protos(&elems) {
                Some(p) => Match::L4proto { protos: p, neg },
                None => unknown(),
            },
            "nfproto" | "protocol" => {
                let fams: Vec<String> = elems
                    .iter()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect();
                match fams.as_slice() {
                    [f] if f == "ipv6" || f == "ip6" => Match::Nfproto {
                        family: Family::V6,
                        neg,
                    },
                    [f] if f == "ipv4" || f == "ip" => Match::Nfproto {
                        family: Family::V4,
                        neg,
                    },
                    _ => unknown(),
                }
            }
            "iifname" | "oifname" | "iif" | "oif" => {
                let names: Option<Vec<String>> = elems
                    .iter()
                    .map(|e| e.as_str().map(str::to_string))
                    .collect();
                match names {
                    Some(n) => Match::Iface {
                        input: key.starts_with('i'),
                        names: n,
                        neg,
                    },
                    None => unknown(),
                }
            }
            "pkttype" => {
                let kinds: Vec<AddrKind> = elems
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| match s {
                        "host" => AddrKind::Local,
                        other => AddrKind::from_name(other),
                    })
                    .collect();
                if kinds.is_empty() {
                    unknown()
                } else {
                    Match::AddrType {
                        dst: true,
                        kinds,
                        neg,
                    }
                }
            }
            _ => unknown(),
        };
    }
    if let Some(p) = left.get("payload") {
        let proto = str_of(p, "protocol");
        let field = str_of(p, "field");
        return match (proto.as_str(), field.as_str()) {
            ("tcp" | "udp" | "sctp" | "dccp" | "udplite" | "th", "dport" | "sport") => {
                match port_ranges(&elems) {
                    Some(r) => Match::Port {
                        dst: field == "dport",
                        proto: proto_num(&proto),
                        ranges: r,
                        neg,
                    },
                    None => unknown(),
                }
            }
            ("ip" | "ip6", "saddr" | "daddr") => match addr_items(&elems) {
                Some(items) => Match::Addr {
                    dst: field == "daddr",
                    family: Family::from_v6(proto == "ip6"),
                    items,
                    neg,
                },
                None => unknown(),
            },
            ("ip6", "hoplimit") | ("ip", "ttl") => match elems.as_slice() {
                [Value::Number(n)] => match n.as_u64().and_then(|n| u8::try_from(n).ok()) {
                    Some(value) => Match::HopLimit {
                        op: "eq".into(),
                        value,
                        neg,
                    },
                    None => unknown(),
                },
                _ => unknown(),
            },
            ("ip", "protocol") | ("ip6", "nexthdr") => match protos(&elems) {
                Some(p) => Match::L4proto { protos: p, neg },
                None => unknown(),
            },
            ("icmp" | "icmpv6", "type") => {
                match icmp_types(&elems, Family::from_v6(proto == "icmpv6")) {
                    Some(t) => Match::IcmpType {
                        family: Family::from_v6(proto == "icmpv6"),
                        types: t,
                        neg,
                    },
                    None => unknown(),
                }
            }
            ("tcp", "flags") => match elems.first().and_then(tcp_flags) {
                // `tcp flags syn` (op in) = any of; `== syn` exact.
                Some(v) if op == "in" => Match::TcpFlags {
                    mask: v,
                    value: v,
                    neg,
                },
                Some(v) => Match::TcpFlags {
                    mask: 0xff,
                    value: v,
                    neg,
                },
                None => unknown(),
            },
            _ => unknown(),
        };
    }
    if let Some(c) = left.get("ct") {
        let key = str_of(c, "key");
        let names: Vec<String> = elems.iter().flat_map(flag_names).collect();
        return match key.as_str() {
            "state" => {
                let mut states = 0u8;
                for n in &names {
                    match ct::from_name(n) {
                        Some(b) => states |= b,
                        None => return unknown(),
                    }
                }
                // `ct state != established,related` (a bitwise or, without braces) is
                // compared whole: nft emits `cmp neq 0x06`. A packet has exactly one
                // state, so a value of two or more states never equals it, and `!=`
                // then holds for every packet. (`ct state established,related` without
                // an operator, and `{ ... }`, test any of them.)
                let whole = matches!(right.get("|"), Some(Value::Array(_)));
                if whole && states.count_ones() > 1 {
                    states = 0;
                }
                if names.is_empty() {
                    unknown()
                } else {
                    Match::CtState { states, neg }
                }
            }
            "status" if !names.is_empty() => Match::CtStatus { names, neg },
            "direction" => match names.as_slice() {
                [d] if d == "original" || d == "reply" => Match::CtDir {
                    reply: d == "reply",
                    neg,
                },
                _ => unknown(),
            },
            _ => ct_tuple(c, &key, &elems, neg).unwrap_or_else(unknown),
        };
    }
    if let Some(f) = left.get("fib") {
        let result = str_of(f, "result");
        let flags: Vec<&str> = f
            .get("flags")
            .map(|fl| match fl {
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                Value::String(s) => vec![s.as_str()],
                _ => Vec::new(),
            })
            .unwrap_or_default();
        if result == "type" && (flags.contains(&"daddr") || flags.contains(&"saddr")) {
            let kinds: Vec<AddrKind> = elems
                .iter()
                .filter_map(Value::as_str)
                .map(AddrKind::from_name)
                .collect();
            if !kinds.is_empty() {
                return Match::AddrType {
                    dst: flags.contains(&"daddr"),
                    kinds,
                    neg,
                };
            }
        }
        if (result == "oif" || result == "oifname")
            && flags.contains(&"saddr")
            && elems.first().and_then(Value::as_bool) == Some(false)
        {
            // `fib saddr . iif oif missing`: JSON says `== false`.
            return Match::RpfMissing { neg };
        }
        return unknown();
    }
    unknown()
}

/// The protocol a payload field implies: `icmp checksum` holds only for ICMP, `ip dscp`
/// only for IPv4. `th` (any transport header) implies none.
pub(super) fn payload_dependency(left: &Value) -> Option<Match> {
    let p = left.get("payload")?;
    let proto = str_of(p, "protocol");
    match proto.as_str() {
        "ip" => Some(Match::Nfproto {
            family: Family::V4,
            neg: false,
        }),
        "ip6" => Some(Match::Nfproto {
            family: Family::V6,
            neg: false,
        }),
        "th" => None,
        other => proto_num(other).map(|n| Match::L4proto {
            protos: vec![n],
            neg: false,
        }),
    }
}

/// A field of the connection's conntrack tuples: `ct original ip daddr`, `ct reply ip6
/// saddr`, `ct original proto-dst`. nft -j names the address key with its family
/// (`"ip daddr"`).
fn ct_tuple(c: &Value, key: &str, elems: &[Value], neg: bool) -> Option<Match> {
    let reply_dir = match str_of(c, "dir").as_str() {
        "original" => false,
        "reply" => true,
        _ => return None,
    };
    let (fam, field) = match key.split_once(' ') {
        Some((f, field)) => (Some(f), field),
        None => (None, key),
    };
    match field {
        "saddr" | "daddr" => Some(Match::CtAddr {
            reply_dir,
            dst: field == "daddr",
            family: match fam {
                Some("ip") => Some(Family::V4),
                Some("ip6") => Some(Family::V6),
                _ => None,
            },
            items: addr_items(elems)?,
            neg,
        }),
        "proto-src" | "proto-dst" => Some(Match::CtPort {
            reply_dir,
            dst: field == "proto-dst",
            ranges: port_ranges(elems)?,
            neg,
        }),
        _ => None,
    }
}

/// The flag names of a ct state/status value: `"new"`, `["established", "related"]`,
/// `"established,related"`, or the bitwise-or nft -j prints for
/// `ct state != established,related`: `{"|": ["established", "related"]}`.
fn flag_names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().flat_map(flag_names).collect(),
        Value::String(s) => s.split(',').map(str::to_string).collect(),
        Value::Object(o) => o.get("|").map(flag_names).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn is_payload(v: &Value, proto: &str, field: &str) -> bool {
    v.get("payload")
        .is_some_and(|p| str_of(p, "protocol") == proto && str_of(p, "field") == field)
}

pub(crate) fn proto_num(s: &str) -> Option<u8> {
    Some(match s.to_ascii_lowercase().as_str() {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "ipv6-icmp" | "icmpv6" | "icmp6" => 58,
        "sctp" => 132,
        "udplite" => 136,
        "dccp" => 33,
        "th" => return None,
        n => return n.parse().ok(),
    })
}

pub(super) fn protos(elems: &[Value]) -> Option<Vec<u8>> {
    elems
        .iter()
        .map(|e| match e {
            Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
            Value::String(s) => proto_num(s),
            _ => None,
        })
        .collect()
}

pub(super) fn port_of(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        // nft -j prints the ports of a `ct ... proto-dst` set untyped:
        // `"0x1bb [invalid type]"`.
        Value::String(s) => service_port(s).or_else(|| {
            let hex = s.strip_suffix(" [invalid type]")?.strip_prefix("0x")?;
            u16::from_str_radix(hex, 16).ok()
        }),
        _ => None,
    }
}

/// Well-known service names nft prints for ports.
pub(crate) fn service_port(s: &str) -> Option<u16> {
    Some(match s {
        "ssh" => 22,
        "smtp" => 25,
        "domain" => 53,
        "http" => 80,
        "https" => 443,
        "submission" => 587,
        "submissions" | "smtps" => 465,
        "imap" | "imap2" => 143,
        "imaps" => 993,
        "pop3" => 110,
        "pop3s" => 995,
        "ftp" => 21,
        "telnet" => 23,
        "ntp" => 123,
        "mysql" => 3306,
        "postgresql" => 5432,
        "http-alt" | "webcache" => 8080,
        "dhcpv6-client" => 546,
        "dhcpv6-server" => 547,
        "bootps" => 67,
        "bootpc" => 68,
        "mdns" => 5353,
        "rdp" | "ms-wbt-server" => 3389,
        n => return n.parse().ok(),
    })
}

fn port_ranges(elems: &[Value]) -> Option<Vec<(u16, u16)>> {
    elems
        .iter()
        .map(|e| {
            if let Some(r) = e.get("range").and_then(Value::as_array) {
                if r.len() == 2 {
                    return Some((port_of(&r[0])?, port_of(&r[1])?));
                }
                return None;
            }
            if let Some(inner) = e.get("elem") {
                return port_ranges(&[inner.get("val").cloned().unwrap_or(Value::Null)])
                    .and_then(|v| v.first().copied());
            }
            let p = port_of(e)?;
            Some((p, p))
        })
        .collect()
}

pub(super) fn addr_items(elems: &[Value]) -> Option<Vec<AddrItem>> {
    elems
        .iter()
        .map(|e| {
            if let Some(p) = e.get("prefix") {
                let a: IpAddr = p.get("addr")?.as_str()?.parse().ok()?;
                let len = u8::try_from(p.get("len")?.as_u64()?).ok()?;
                return IpNet::new(a, len).ok().map(AddrItem::Net);
            }
            if let Some(r) = e.get("range").and_then(Value::as_array) {
                if r.len() == 2 {
                    let a: IpAddr = r[0].as_str()?.parse().ok()?;
                    let b: IpAddr = r[1].as_str()?.parse().ok()?;
                    return Some(AddrItem::Range(a, b));
                }
                return None;
            }
            if let Some(inner) = e.get("elem") {
                return addr_items(&[inner.get("val").cloned().unwrap_or(Value::Null)])
                    .and_then(|v| v.into_iter().next());
            }
            let a: IpAddr = e.as_str()?.parse().ok()?;
            Some(AddrItem::Net(IpNet::from(a)))
        })
        .collect()
}

/// ICMP/ICMPv6 type names nft uses.
pub(crate) fn icmp_type_num(s: &str, family: Family) -> Option<u8> {
    let n = if family.is_v6() {
        match s {
            "destination-unreachable" => 1,
            "packet-too-big" => 2,
            "time-exceeded" => 3,
            "parameter-problem" => 4,
            "echo-request" => 128,
            "echo-reply" => 129,
            "mld-listener-query" => 130,
            "mld-listener-report" => 131,
            "mld-listener-done" | "mld-listener-reduction" => 132,
            "nd-router-solicit" | "router-solicitation" => 133,
            "nd-router-advert" | "router-advertisement" => 134,
            "nd-neighbor-solicit" | "neighbour-solicitation" | "neighbor-solicitation" => 135,
            "nd-neighbor-advert" | "neighbour-advertisement" | "neighbor-advertisement" => 136,
            "nd-redirect" | "redirect" => 137,
            "router-renumbering" => 138,
            "ind-neighbor-solicit" => 141,
            "ind-neighbor-advert" => 142,
            "mld2-listener-report" => 143,
            _ => return s.parse().ok(),
        }
    } else {
        match s {
            "echo-reply" => 0,
            "destination-unreachable" => 3,
            "source-quench" => 4,
            "redirect" => 5,
            "echo-request" => 8,
            "router-advertisement" => 9,
            "router-solicitation" => 10,
            "time-exceeded" => 11,
            "parameter-problem" => 12,
            "timestamp-request" => 13,
            "timestamp-reply" => 14,
            "info-request" => 15,
            "info-reply" => 16,
            "address-mask-request" => 17,
            "address-mask-reply" => 18,
            _ => return s.parse().ok(),
        }
    };
    Some(n)
}

fn icmp_types(elems: &[Value], family: Family) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for e in elems {
        match e {
            Value::Number(n) => out.push(u8::try_from(n.as_u64()?).ok()?),
            Value::String(s) => out.push(icmp_type_num(s, family)?),
            _ => {
                let r = e.get("range")?.as_array()?;
                let lo = icmp_types(&r[..1.min(r.len())], family)?;
                let hi = icmp_types(r.get(1..2)?, family)?;
                let (lo, hi) = (*lo.first()?, *hi.first()?);
                out.extend(lo..=hi);
            }
        }
    }
    Some(out)
}

fn tcp_flag_bit(s: &str) -> Option<u8> {
    Some(match s {
        "fin" => 0x01,
        "syn" => 0x02,
        "rst" => 0x04,
        "psh" => 0x08,
        "ack" => 0x10,
        "urg" => 0x20,
        "ecn" => 0x40,
        "cwr" => 0x80,
        _ => return None,
    })
}

fn tcp_flags(v: &Value) -> Option<u8> {
    match v {
        Value::String(s) => s
            .split([',', '|'])
            .map(|p| tcp_flag_bit(p.trim()))
            .sum::<Option<u8>>(),
        Value::Number(n) => u8::try_from(n.as_u64()?).ok(),
        Value::Array(a) => a
            .iter()
            .map(tcp_flags)
            .try_fold(0u8, |acc, b| Some(acc | b?)),
        _ => {
            if let Some(or) = v.get("|").and_then(Value::as_array) {
                return or
                    .iter()
                    .map(tcp_flags)
                    .try_fold(0u8, |acc, b| Some(acc | b?));
            }
            None
        }
    }
}

// ----- rendering back to nft syntax (for the evidence) -------------------------------

pub(super) fn render_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => {
            if *b {
                "exists".into()
            } else {
                "missing".into()
            }
        }
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(render_value).collect::<Vec<_>>().join(", "),
        Value::Object(o) => {
            let Some((k, inner)) = o.iter().next() else {
                return String::new();
            };
            match k.as_str() {
                "payload" => format!("{} {}", str_of(inner, "protocol"), str_of(inner, "field")),
                "meta" => format!("meta {}", str_of(inner, "key")),
                "ct" => format!("ct {}", str_of(inner, "key")),
                "fib" => format!(
                    "fib {} {}",
                    render_value(inner.get("flags").unwrap_or(&Value::Null)).replace(", ", " . "),
                    str_of(inner, "result")
                ),
                "set" => format!("{{ {} }}", render_value(inner)),
                "prefix" => format!(
                    "{}/{}",
                    str_of(inner, "addr"),
                    render_value(inner.get("len").unwrap_or(&Value::Null))
                ),
                "range" => match inner.as_array() {
                    Some(r) if r.len() == 2 => {
                        format!("{}-{}", render_value(&r[0]), render_value(&r[1]))
                    }
                    _ => "range".into(),
                },
                "elem" => render_value(inner.get("val").unwrap_or(&Value::Null)),
                "&" | "|" => match inner.as_array() {
                    Some(r) if r.len() == 2 => {
                        format!("{} {k} {}", render_value(&r[0]), render_value(&r[1]))
                    }
                    _ => k.clone(),
                },
                "concat" => render_value(inner).replace(", ", " . "),
                other => other.to_string(),
            }
        }
    }
}

fn render_stmt(e: &Value) -> String {
    let Some(obj) = e.as_object() else {
        return render_value(e);
    };
    let Some((k, v)) = obj.iter().next() else {
        return String::new();
    };
    match k.as_str() {
        "match" => {
            let op = v.get("op").and_then(Value::as_str).unwrap_or("==");
            let l = render_value(v.get("left").unwrap_or(&Value::Null));
            let r = render_value(v.get("right").unwrap_or(&Value::Null));
            match op {
                "==" | "in" => format!("{l} {r}"),
                other => format!("{l} {other} {r}"),
            }
        }
        "accept" | "drop" | "return" | "continue" | "counter" | "notrack" => k.clone(),
        "reject" => match v.get("type").and_then(Value::as_str) {
            Some(t) => format!(
                "reject with {t} {}",
                render_value(v.get("expr").unwrap_or(&Value::Null))
            )
            .trim()
            .to_string(),
            None => "reject".into(),
        },
        "jump" | "goto" => format!("{k} {}", str_of(v, "target")),
        "log" => "log".into(),
        "limit" => format!(
            "limit rate {}/{}",
            render_value(v.get("rate").unwrap_or(&Value::Null)),
            str_of(v, "per")
        ),
        "vmap" => format!(
            "{} vmap {}",
            render_value(v.get("key").unwrap_or(&Value::Null)),
            render_vmap(v.get("data").unwrap_or(&Value::Null))
        ),
        "xt" => format!("xt {} {}", str_of(v, "type"), str_of(v, "name")),
        // `dnat ip to 172.17.0.2:80`, `redirect to :80`: the target is the evidence.
        "dnat" | "snat" | "redirect" => {
            let fam = v
                .get("family")
                .and_then(Value::as_str)
                .map(|f| format!(" {f}"))
                .unwrap_or_default();
            let addr = v.get("addr").map(render_value);
            let port = v.get("port").map(render_value);
            let to = match (addr, port) {
                (Some(a), Some(p)) if a.contains(':') => format!(" to [{a}]:{p}"),
                (Some(a), Some(p)) => format!(" to {a}:{p}"),
                (Some(a), None) => format!(" to {a}"),
                (None, Some(p)) => format!(" to :{p}"),
                (None, None) => String::new(),
            };
            format!("{k}{fam}{to}")
        }
        other => other.to_string(),
    }
}

fn render_vmap(data: &Value) -> String {
    if let Some(items) = data.get("set").and_then(Value::as_array) {
        let parts: Vec<String> = items
            .iter()
            .map(|p| match p.as_array() {
                Some(pair) if pair.len() == 2 => {
                    format!("{} : {}", render_value(&pair[0]), render_stmt(&pair[1]))
                }
                _ => render_value(p),
            })
            .collect();
        return format!("{{ {} }}", parts.join(", "));
    }
    render_value(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every nat statement nft 1.0.6 prints (tests/fixtures/firewall/record.sh dnat).
    #[test]
    fn parses_dnat_redirect_and_masquerade_as_nft_prints_them() {
        let rs = parse(include_str!("../../tests/fixtures/firewall/dnat.nft.json")).unwrap();
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        let verdicts = |table: &str, chain: &str| -> Vec<Verdict> {
            rs.tables
                .iter()
                .filter(|t| t.name == table)
                .flat_map(|t| &t.chains)
                .filter(|c| c.name == chain)
                .flat_map(|c| c.rules.iter().map(|r| r.verdict.clone()))
                .collect()
        };
        let to = |a: Option<&str>, p: Option<u16>| NatTo {
            addr: a.map(|a| a.parse().unwrap()),
            port: p,
        };
        // `dnat ip to ...` / `dnat ip6 to ...`: a dnat for one family only.
        let dnat = |family: Family, n: NatTo| {
            Verdict::Map(vec![(
                Match::Nfproto { family, neg: false },
                Verdict::Dnat(n),
            )])
        };
        let v4 = |n: NatTo| dnat(Family::V4, n);
        let v6 = |n: NatTo| dnat(Family::V6, n);
        assert_eq!(
            verdicts("nat", "pre"),
            vec![
                v4(to(Some("172.17.0.2"), Some(80))),
                v4(to(Some("172.17.0.2"), None)),
                Verdict::Redirect(Some(80)),
                Verdict::Redirect(None),
                // A range keeps its first address and port.
                v4(to(Some("172.17.0.2"), Some(80))),
            ]
        );
        assert_eq!(verdicts("nat", "post"), vec![Verdict::Snat, Verdict::Snat]);
        assert_eq!(
            verdicts("nat6", "pre"),
            vec![
                v4(to(Some("172.17.0.2"), Some(80))),
                v6(to(Some("fd00::2"), Some(80))),
                v6(to(Some("fd00::2"), None)),
            ]
        );
        // The matches before the statement stay matches.
        let pre = &rs.tables[0].chains[0].rules[0];
        assert!(
            matches!(&pre.matches[..], [Match::Port { dst: true, .. }]),
            "{pre:?}"
        );
    }

    /// conntrack's tuples as nft 1.0.6 lists them (`nft -j` of `ct original ip daddr
    /// 192.0.2.1`, `ct reply ip6 saddr 2001:db8::/64`, `ct original proto-dst { 80,
    /// 443-450 }` with its untyped ports, `ct direction reply`).
    #[test]
    fn parses_conntrack_tuples_as_nft_lists_them() {
        let rule = |expr: &str| -> Match {
            let j = format!(
                r#"{{"nftables":[{{"table":{{"family":"inet","name":"t","handle":1}}}},
                {{"chain":{{"family":"inet","table":"t","name":"c","handle":1,"type":"filter","hook":"forward","prio":0,"policy":"accept"}}}},
                {{"rule":{{"family":"inet","table":"t","chain":"c","handle":2,"expr":[{expr},{{"drop":null}}]}}}}]}}"#
            );
            let rs = parse(&j).unwrap();
            rs.tables[0].chains[0].rules[0].matches[0].clone()
        };
        let net = |s: &str| AddrItem::Net(s.parse().unwrap());
        assert_eq!(
            rule(
                r#"{"match":{"op":"==","left":{"ct":{"key":"ip daddr","dir":"original"}},"right":"192.0.2.1"}}"#
            ),
            Match::CtAddr {
                reply_dir: false,
                dst: true,
                family: Some(Family::V4),
                items: vec![net("192.0.2.1/32")],
                neg: false
            }
        );
        assert_eq!(
            rule(
                r#"{"match":{"op":"!=","left":{"ct":{"key":"ip6 saddr","dir":"reply"}},"right":{"prefix":{"addr":"2001:db8::","len":64}}}}"#
            ),
            Match::CtAddr {
                reply_dir: true,
                dst: false,
                family: Some(Family::V6),
                items: vec![net("2001:db8::/64")],
                neg: true
            }
        );
        assert_eq!(
            rule(
                r#"{"match":{"op":"==","left":{"ct":{"key":"proto-dst","dir":"original"}},"right":{"set":["0x50 [invalid type]",{"range":["0x1bb [invalid type]","0x1c2 [invalid type]"]}]}}}"#
            ),
            Match::CtPort {
                reply_dir: false,
                dst: true,
                ranges: vec![(80, 80), (443, 450)],
                neg: false
            }
        );
        assert_eq!(
            rule(r#"{"match":{"op":"==","left":{"ct":{"key":"direction"}},"right":"reply"}}"#),
            Match::CtDir {
                reply: true,
                neg: false
            }
        );
        // A tuple field it does not know, or no direction, stays unknown.
        for expr in [
            r#"{"match":{"op":"==","left":{"ct":{"key":"zone","dir":"original"}},"right":1}}"#,
            r#"{"match":{"op":"==","left":{"ct":{"key":"proto-dst"}},"right":80}}"#,
            r#"{"match":{"op":"==","left":{"ct":{"key":"proto-dst","dir":"original"}},"right":"0xzz [invalid type]"}}"#,
        ] {
            assert!(matches!(rule(expr), Match::Unknown(_)), "{expr}");
        }
    }

    #[test]
    fn a_nat_target_it_cannot_read_is_unknown() {
        for v in [
            serde_json::json!({"addr": {"map": {"key": "x"}}}),
            serde_json::json!({"port": "http-alt"}),
            serde_json::json!({}),
        ] {
            assert!(matches!(nat_verdict(&v, false), Verdict::Unknown(_)), "{v}");
        }
    }

    #[test]
    fn parses_inet_table_with_sets_and_vmap() {
        let j = r#"{"nftables":[{"metainfo":{}},
          {"table":{"family":"inet","name":"filter","handle":1}},
          {"set":{"family":"inet","name":"web","table":"filter","type":"inet_service","handle":3,"elem":[80,443,{"range":[8000,8080]}]}},
          {"chain":{"family":"inet","table":"filter","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
          {"rule":{"family":"inet","table":"filter","chain":"input","handle":4,"expr":[{"vmap":{"key":{"ct":{"key":"state"}},"data":{"set":[["established",{"accept":null}],["invalid",{"drop":null}]]}}}]}},
          {"rule":{"family":"inet","table":"filter","chain":"input","handle":5,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":"@web"}},{"accept":null}]}},
          {"rule":{"family":"inet","table":"filter","chain":"input","handle":6,"expr":[{"match":{"op":"!=","left":{"payload":{"protocol":"ip6","field":"saddr"}},"right":{"prefix":{"addr":"2001:db8::","len":32}}}},{"drop":null}]}}
        ]}"#;
        let rs = parse(j).unwrap();
        let t = &rs.tables[0];
        assert_eq!(t.family, TableFamily::Inet);
        let c = &t.chains[0];
        assert_eq!(c.hook.as_ref().unwrap().policy, Verdict::Drop);
        assert!(matches!(c.rules[0].verdict, Verdict::Map(ref e) if e.len() == 2));
        assert_eq!(
            c.rules[1].matches[0],
            Match::Port {
                dst: true,
                proto: Some(6),
                ranges: vec![(80, 80), (443, 443), (8000, 8080)],
                neg: false
            }
        );
        assert!(matches!(
            c.rules[2].matches[0],
            Match::Addr {
                neg: true,
                family: Family::V6,
                ..
            }
        ));
        assert_eq!(c.rules[1].text, "tcp dport @web accept");
        assert!(rs.problems.is_empty());
    }

    /// `ct state != established,related` as nft -j prints it (a bitwise or) was an
    /// unknown match, so a ruleset that sends new connections to a chain with it made
    /// every port `warn` while the kernel decided (found by the lab's kernel oracle).
    /// nft 1.0.6 compiles it to `cmp neq 0x06`: the state compared whole, which no single
    /// state equals, so it holds for every packet (the oracle saw the kernel admit new
    /// connections through `ct state != new,untracked accept`).
    #[test]
    fn ct_state_negated_list_is_compared_whole() {
        let j = r#"{"nftables":[
          {"table":{"family":"ip6","name":"t","handle":1}},
          {"chain":{"family":"ip6","table":"t","name":"c","handle":1,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
          {"rule":{"family":"ip6","table":"t","chain":"c","handle":2,"expr":[{"match":{"op":"!=","left":{"ct":{"key":"state"}},"right":{"|":["established","related"]}}},{"drop":null}]}}
        ]}"#;
        let rs = parse(j).unwrap();
        assert_eq!(
            rs.tables[0].chains[0].rules[0].matches[0],
            Match::CtState {
                states: 0,
                neg: true
            }
        );
        // One state in the or: compared whole it is plain `!= new`.
        let one = parse(&j.replace(r#"["established","related"]"#, r#"["new"]"#)).unwrap();
        assert_eq!(
            one.tables[0].chains[0].rules[0].matches[0],
            Match::CtState {
                states: ct::NEW,
                neg: true
            }
        );
        assert_eq!(
            rs.tables[0].chains[0].rules[0].text,
            "ct state != established | related drop"
        );
    }

    /// nft listed `meta l4proto icmp meta l4proto { tcp, udp } th dport { 53, 3306 }` as
    /// `meta l4proto { tcp, udp } icmp checksum { 53, 3306 }` (the icmp dependency folded
    /// into the payload): the unknown field still implies ICMP, so a TCP packet never
    /// matches (the kernel oracle saw every port `warn` for it).
    #[test]
    fn unknown_payload_field_keeps_its_protocol() {
        let j = r#"{"nftables":[
          {"table":{"family":"inet","name":"t","handle":1}},
          {"chain":{"family":"inet","table":"t","name":"c","handle":1,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
          {"rule":{"family":"inet","table":"t","chain":"c","handle":2,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"icmp","field":"checksum"}},"right":{"set":[53,3306]}}},{"drop":null}]}}
        ]}"#;
        let rs = parse(j).unwrap();
        let m = &rs.tables[0].chains[0].rules[0].matches;
        assert_eq!(
            m[0],
            Match::L4proto {
                protos: vec![1],
                neg: false
            }
        );
        assert!(matches!(m[1], Match::Unknown(_)));
    }

    /// `tcp dport 80 meta nfproto ipv6 reject` in an inet table is listed as
    /// `tcp dport 80 reject with icmpv6 type port-unreachable`: the reject's type keeps
    /// the rule to IPv6 (the kernel oracle saw an IPv4 port reported rejected that the
    /// kernel admitted).
    #[test]
    fn reject_with_icmpv6_keeps_the_rule_to_ipv6() {
        let j = r#"{"nftables":[
          {"table":{"family":"inet","name":"t","handle":1}},
          {"chain":{"family":"inet","table":"t","name":"c","handle":1,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
          {"rule":{"family":"inet","table":"t","chain":"c","handle":2,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":80}},{"reject":{"type":"icmpv6","expr":"port-unreachable"}}]}}
        ]}"#;
        let rs = parse(j).unwrap();
        let r = &rs.tables[0].chains[0].rules[0];
        assert_eq!(r.verdict, Verdict::Reject);
        assert!(r.matches.contains(&Match::Nfproto {
            family: Family::V6,
            neg: false
        }));
        assert_eq!(r.text, "tcp dport 80 reject with icmpv6 port-unreachable");
    }

    #[test]
    fn rejects_non_nft_json() {
        assert!(parse("{}").is_err());
        assert!(parse("nope").is_err());
        assert!(parse(r#"{"nftables": 3}"#).is_err());
    }
}
