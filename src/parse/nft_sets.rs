//! nft's named sets of addresses (`{"set": {...}}` in `nft -j list ruleset`) into
//! [`AddrSet`], and the keys a rule looks them up with (`ip saddr`, `ip saddr . tcp
//! dport`). Pure; an element it cannot read is counted in `skipped`, never guessed.

use super::nft::{addr_items, port_of, protos, render_value, str_of};
use crate::facts::firewall::{AddrSet, SetField, SetKey, SetOrigin, SetVal};
use crate::model::Family;
use serde_json::Value;

/// The set as an [`AddrSet`] when one of its fields is an address; `None` for sets of
/// ports, interfaces and the like (the rules inline those).
pub(super) fn addr_set(s: &Value) -> Option<AddrSet> {
    let fields: Vec<SetField> = match s.get("type")? {
        Value::String(t) => vec![field(t)],
        Value::Array(ts) => ts.iter().map(|t| field(t.as_str().unwrap_or(""))).collect(),
        _ => return None,
    };
    if !fields.iter().any(|f| matches!(f, SetField::Addr(_))) {
        return None;
    }
    let raw = s.get("elem").and_then(Value::as_array);
    let mut elems = Vec::with_capacity(raw.map_or(0, Vec::len));
    let mut skipped = 0;
    for e in raw.into_iter().flatten() {
        match element(e, &fields) {
            Some(v) => elems.push(v),
            None => skipped += 1,
        }
    }
    Some(AddrSet {
        name: str_of(s, "name"),
        origin: SetOrigin::Nft,
        fields,
        elems,
        skipped,
        holes: Vec::new(),
    })
}

/// An anonymous set looked up with a concatenation (`ip saddr . tcp dport { 192.0.2.1
/// . 22 }`) as an [`AddrSet`] named by its text; `None` when no part is an address.
pub(super) fn anonymous(left: &Value, right: &Value) -> Option<AddrSet> {
    let items = right.get("set")?;
    let fields: Vec<SetField> = key_parts(left)
        .map(|part| match (set_key(part), part.get("payload")) {
            (SetKey::Saddr | SetKey::Daddr, Some(p)) => {
                SetField::Addr(Family::from_v6(str_of(p, "protocol") == "ip6"))
            }
            (SetKey::Dport | SetKey::Sport, _) => SetField::Port,
            (SetKey::L4proto, _) => SetField::Proto,
            _ => SetField::Other(render_value(part)),
        })
        .collect();
    if !fields.iter().any(|f| matches!(f, SetField::Addr(_))) {
        return None;
    }
    let list: Vec<&Value> = match items {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let mut elems = Vec::with_capacity(list.len());
    let mut skipped = 0;
    for e in list {
        match element(e, &fields) {
            Some(v) => elems.push(v),
            None => skipped += 1,
        }
    }
    let mut name = render_value(right);
    if name.chars().count() > 64 {
        name = format!("{}… }}", name.chars().take(60).collect::<String>());
    }
    Some(AddrSet {
        name,
        origin: SetOrigin::Nft,
        fields,
        elems,
        skipped,
        holes: Vec::new(),
    })
}

fn field(t: &str) -> SetField {
    match t {
        "ipv4_addr" => SetField::Addr(Family::V4),
        "ipv6_addr" => SetField::Addr(Family::V6),
        "inet_service" => SetField::Port,
        "inet_proto" => SetField::Proto,
        other => SetField::Other(other.to_string()),
    }
}

/// One element: `"192.0.2.1"`, `{"prefix": ...}`, `{"range": [...]}`, `{"concat": [...]}`,
/// each possibly wrapped in `{"elem": {"val": ..., "timeout": ...}}`.
fn element(e: &Value, fields: &[SetField]) -> Option<Vec<SetVal>> {
    if let Some(inner) = e.get("elem") {
        return element(inner.get("val")?, fields);
    }
    let parts: Vec<&Value> = match (e.get("concat").and_then(Value::as_array), fields.len()) {
        (Some(c), n) if c.len() == n => c.iter().collect(),
        (None, 1) => vec![e],
        _ => return None,
    };
    parts
        .into_iter()
        .zip(fields)
        .map(|(v, f)| value(v, f))
        .collect()
}

fn value(v: &Value, f: &SetField) -> Option<SetVal> {
    match f {
        SetField::Addr(fam) => {
            let item = addr_items(std::slice::from_ref(v))?.into_iter().next()?;
            let ok = match &item {
                crate::facts::firewall::AddrItem::Net(n) => Family::of(n.addr()) == *fam,
                crate::facts::firewall::AddrItem::Range(a, b) => {
                    Family::of(*a) == *fam && Family::of(*b) == *fam
                }
            };
            ok.then_some(SetVal::Addr(item))
        }
        SetField::Port => {
            let (lo, hi) = match v.get("range").and_then(Value::as_array) {
                Some(r) if r.len() == 2 => (port_of(&r[0])?, port_of(&r[1])?),
                Some(_) => return None,
                None => {
                    let p = port_of(v)?;
                    (p, p)
                }
            };
            Some(SetVal::Port {
                proto: None,
                lo,
                hi,
            })
        }
        SetField::Proto => protos(std::slice::from_ref(v))?
            .first()
            .copied()
            .map(SetVal::Proto),
        SetField::Other(_) => Some(SetVal::Other(render_value(v))),
    }
}

/// The parts of a lookup's key: `ip saddr . tcp dport` → two parts, `ip saddr` → one.
pub(super) fn key_parts(left: &Value) -> impl Iterator<Item = &Value> {
    let parts: Vec<&Value> = match left.get("concat").and_then(Value::as_array) {
        Some(c) => c.iter().collect(),
        None => vec![left],
    };
    parts.into_iter()
}

/// What the packet puts into one part of the key.
pub(super) fn set_key(part: &Value) -> SetKey {
    if let Some(p) = part.get("payload") {
        let (proto, field) = (str_of(p, "protocol"), str_of(p, "field"));
        return match (proto.as_str(), field.as_str()) {
            ("ip" | "ip6", "saddr") => SetKey::Saddr,
            ("ip" | "ip6", "daddr") => SetKey::Daddr,
            ("tcp" | "udp" | "sctp" | "dccp" | "udplite" | "th", "dport") => SetKey::Dport,
            ("tcp" | "udp" | "sctp" | "dccp" | "udplite" | "th", "sport") => SetKey::Sport,
            _ => SetKey::Other(render_value(part)),
        };
    }
    if part
        .get("meta")
        .is_some_and(|m| str_of(m, "key") == "l4proto")
    {
        return SetKey::L4proto;
    }
    SetKey::Other(render_value(part))
}

#[cfg(test)]
mod tests {
    use super::super::nft::parse;
    use crate::facts::firewall::{AddrItem, Match, SetField, SetKey, SetVal};
    use crate::model::Family;

    /// A fail2ban set with timeouts, an interval set in prefix and range form, and a
    /// concatenation of source address and port: each kept by name with its elements,
    /// and the rules look them up by name.
    #[test]
    fn named_sets_are_kept_whole_and_named_by_the_rules() {
        let j = r#"{"nftables":[
          {"table":{"family":"inet","name":"t","handle":1}},
          {"set":{"family":"inet","name":"ban","table":"t","type":"ipv4_addr","flags":["timeout"],"elem":[{"elem":{"val":"192.0.2.7","timeout":600,"expires":500}},"198.51.100.9"]}},
          {"set":{"family":"inet","name":"office","table":"t","type":"ipv6_addr","flags":["interval"],"elem":[{"prefix":{"addr":"2001:db8:a::","len":48}},{"range":["2001:db8:b::1","2001:db8:b::9"]}]}},
          {"set":{"family":"inet","name":"pairs","table":"t","type":["ipv4_addr","inet_service"],"flags":["interval"],"elem":[{"concat":["192.0.2.1",22]},{"concat":[{"prefix":{"addr":"10.0.0.0","len":8}},{"range":[8000,8080]}]},{"concat":["bogus",1]}]}},
          {"chain":{"family":"inet","table":"t","name":"c","handle":1,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
          {"rule":{"family":"inet","table":"t","chain":"c","handle":2,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"@ban"}},{"drop":null}]}},
          {"rule":{"family":"inet","table":"t","chain":"c","handle":3,"expr":[{"match":{"op":"!=","left":{"payload":{"protocol":"ip6","field":"saddr"}},"right":"@office"}},{"drop":null}]}},
          {"rule":{"family":"inet","table":"t","chain":"c","handle":4,"expr":[{"match":{"op":"==","left":{"concat":[{"payload":{"protocol":"ip","field":"saddr"}},{"payload":{"protocol":"tcp","field":"dport"}}]},"right":"@pairs"}},{"accept":null}]}}
        ]}"#;
        let rs = parse(j).unwrap();
        let t = &rs.tables[0];
        let names: Vec<&str> = t.sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["ban", "office", "pairs"]);
        assert_eq!(t.sets[0].elems.len(), 2);
        assert_eq!(t.sets[1].fields, [SetField::Addr(Family::V6)]);
        assert!(matches!(
            &t.sets[1].elems[1][0],
            SetVal::Addr(AddrItem::Range(..))
        ));
        assert_eq!(t.sets[2].elems.len(), 2);
        assert_eq!(t.sets[2].skipped, 1);
        assert_eq!(
            t.sets[2].elems[1][1],
            SetVal::Port {
                proto: None,
                lo: 8000,
                hi: 8080
            }
        );
        let r = &t.chains[0].rules;
        assert_eq!(
            r[0].matches.last(),
            Some(&Match::Set {
                name: "ban".into(),
                keys: vec![SetKey::Saddr],
                neg: false
            })
        );
        assert!(matches!(
            r[1].matches.last(),
            Some(Match::Set { neg: true, .. })
        ));
        // The concatenation's parts imply IPv4 and TCP.
        assert!(r[2].matches.contains(&Match::L4proto {
            protos: vec![6],
            neg: false
        }));
        assert!(
            matches!(r[2].matches.last(), Some(Match::Set { keys, .. }) if keys == &[SetKey::Saddr, SetKey::Dport])
        );
        assert_eq!(r[0].text, "ip saddr @ban drop");
    }

    /// An anonymous concatenation becomes a set named by its text, looked up like a named
    /// one.
    #[test]
    fn anonymous_concatenations_are_sets_too() {
        let j = r#"{"nftables":[
          {"table":{"family":"inet","name":"t","handle":1}},
          {"chain":{"family":"inet","table":"t","name":"c","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
          {"rule":{"family":"inet","table":"t","chain":"c","handle":2,"expr":[{"match":{"op":"==","left":{"concat":[{"payload":{"protocol":"ip6","field":"saddr"}},{"payload":{"protocol":"tcp","field":"dport"}}]},"right":{"set":[{"concat":[{"prefix":{"addr":"2001:db8:a::","len":48}},22]},{"concat":["2001:db8:b::1",{"range":[8000,8080]}]}]}}},{"accept":null}]}}
        ]}"#;
        let rs = parse(j).unwrap();
        let t = &rs.tables[0];
        assert_eq!(t.sets.len(), 1);
        assert_eq!(
            t.sets[0].fields,
            [SetField::Addr(Family::V6), SetField::Port]
        );
        assert_eq!(t.sets[0].elems.len(), 2);
        assert!(
            t.sets[0].name.starts_with("{ 2001:db8:a::/48 . 22"),
            "{}",
            t.sets[0].name
        );
        let c = crate::firewall::Compiled::new(&rs.tables);
        let host: std::net::IpAddr = "2001:db8:1::10".parse().unwrap();
        let ssh = crate::firewall::Packet::tcp_syn(host, 22, "eth0");
        assert!(!c.decide(&ssh).decision.admits());
        let office = crate::firewall::Packet {
            saddr: Some("2001:db8:a::5".parse().unwrap()),
            ..ssh
        };
        assert!(c.decide(&office).decision.admits());
    }
}
