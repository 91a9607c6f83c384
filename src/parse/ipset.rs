//! `ipset save` (the restore format: `create NAME TYPE OPTIONS`, `add NAME ELEMENT
//! OPTIONS`) → [`AddrSet`]s. Pure; never panics. A set type whose fields are not
//! addresses, ports or protocols keeps its other fields as [`SetField::Other`] (the walk
//! says "uncertain" for them); an element it cannot read is counted, not guessed.

use crate::facts::firewall::{AddrItem, AddrSet, SetField, SetOrigin, SetVal};
use crate::model::Family;
use crate::parse::nft::proto_num;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// Most elements kept over all sets (a geo list of a few countries is ~100,000 networks).
pub const MAX_ELEMENTS: usize = 2_000_000;
/// Most sets kept.
pub const MAX_SETS: usize = 4096;

/// Parse `ipset save`. `list:set` sets become the union of their members.
pub fn parse(text: &str) -> Vec<AddrSet> {
    let mut sets: Vec<AddrSet> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // list:set members, resolved at the end.
    let mut lists: Vec<(usize, Vec<String>)> = Vec::new();
    let mut total = 0usize;
    for line in text.lines() {
        let toks: Vec<&str> = line.split_whitespace().collect();
        match toks.as_slice() {
            ["create", name, typ, opts @ ..] => {
                if sets.len() >= MAX_SETS || index.contains_key(*name) {
                    continue;
                }
                let family = match opts.windows(2).find(|w| w[0] == "family") {
                    Some(w) if w[1] == "inet6" => Family::V6,
                    _ => Family::V4,
                };
                let fields = fields_of(typ, family);
                if *typ == "list:set" {
                    lists.push((sets.len(), Vec::new()));
                }
                index.insert(name.to_string(), sets.len());
                sets.push(AddrSet {
                    name: name.to_string(),
                    origin: SetOrigin::Ipset,
                    fields,
                    elems: Vec::new(),
                    skipped: 0,
                    holes: Vec::new(),
                });
            }
            ["add", name, elem, opts @ ..] => {
                let Some(&i) = index.get(*name) else { continue };
                if let Some((_, members)) = lists.iter_mut().find(|(li, _)| *li == i) {
                    members.push(elem.to_string());
                    continue;
                }
                let set = &mut sets[i];
                if total >= MAX_ELEMENTS {
                    set.skipped += 1;
                    continue;
                }
                match element(elem, &set.fields) {
                    // `nomatch` carves the element out of wider ones.
                    Some(v) if opts.contains(&"nomatch") => {
                        set.holes.push(v);
                        total += 1;
                    }
                    Some(v) => {
                        set.elems.push(v);
                        total += 1;
                    }
                    None => set.skipped += 1,
                }
            }
            _ => {}
        }
    }
    // A list:set matches when any member does: its elements are its members' (one
    // level; a list inside a list is not allowed by ipset).
    for (li, members) in lists {
        let mut fields = None;
        let mut elems = Vec::new();
        let mut skipped = 0;
        for m in members {
            let Some(&mi) = index.get(&m) else { continue };
            let member = &sets[mi];
            if fields.get_or_insert_with(|| member.fields.clone()) != &member.fields {
                skipped += member.elems.len();
                continue;
            }
            elems.extend(member.elems.iter().cloned());
            // A member's holes carve only its own elements, which the union cannot
            // say: they are left out and counted.
            skipped += member.skipped + member.holes.len();
        }
        let set = &mut sets[li];
        set.fields = fields.unwrap_or_default();
        set.elems = elems;
        set.skipped = skipped;
    }
    sets
}

/// The fields of a set type: `hash:ip` → one address; `hash:ip,port` → address and port;
/// `bitmap:port` → port; `hash:net,iface` → address and another.
fn fields_of(typ: &str, family: Family) -> Vec<SetField> {
    let dims = typ.split_once(':').map_or("", |(_, d)| d);
    dims.split(',')
        .map(|d| match d {
            "ip" | "net" => SetField::Addr(family),
            "port" => SetField::Port,
            other => SetField::Other(other.to_string()),
        })
        .collect()
}

fn element(text: &str, fields: &[SetField]) -> Option<Vec<SetVal>> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() != fields.len() {
        return None;
    }
    parts
        .into_iter()
        .zip(fields)
        .map(|(p, f)| match f {
            SetField::Addr(fam) => addr(p, *fam).map(SetVal::Addr),
            SetField::Port => port(p),
            SetField::Proto => proto_num(p).map(SetVal::Proto),
            SetField::Other(_) => Some(SetVal::Other(crate::sanitize::clean(p))),
        })
        .collect()
}

/// `192.0.2.1`, `10.0.0.0/8`, `10.0.0.1-10.0.0.9`, of the set's family.
fn addr(s: &str, family: Family) -> Option<AddrItem> {
    let item = if let Some((a, b)) = s.split_once('-') {
        let (a, b): (IpAddr, IpAddr) = (a.parse().ok()?, b.parse().ok()?);
        (Family::of(b) == family).then_some(AddrItem::Range(a, b))?
    } else if s.contains('/') {
        AddrItem::Net(s.parse::<IpNet>().ok()?.trunc())
    } else {
        AddrItem::Net(IpNet::from(s.parse::<IpAddr>().ok()?))
    };
    let first = match &item {
        AddrItem::Net(n) => n.addr(),
        AddrItem::Range(a, _) => *a,
    };
    (Family::of(first) == family).then_some(item)
}

/// `22`, `tcp:22`, `udp:53`, `tcp:8000-8080`; ICMP types (`icmp:ping`) are not ports.
fn port(s: &str) -> Option<SetVal> {
    let (proto, ports) = match s.split_once(':') {
        Some((p, rest)) => (Some(proto_num(p)?), rest),
        None => (Some(6), s),
    };
    if matches!(proto, Some(1 | 58)) {
        return Some(SetVal::Other(crate::sanitize::clean(s)));
    }
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
        None => {
            let p = ports.parse().ok()?;
            (p, p)
        }
    };
    Some(SetVal::Port { proto, lo, hi })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::inputs;

    const SAVE: &str = include_str!("../../tests/fixtures/firewall/ipset.save");

    #[test]
    fn reads_the_restore_format() {
        let sets = parse(SAVE);
        let by = |n: &str| sets.iter().find(|s| s.name == n).unwrap();
        let ban = by("f2b-sshd");
        assert_eq!(ban.fields, [SetField::Addr(Family::V4)]);
        assert_eq!(ban.elems.len(), 3);
        let office = by("office6");
        assert_eq!(office.fields, [SetField::Addr(Family::V6)]);
        assert!(
            matches!(office.elems[0][0], SetVal::Addr(AddrItem::Net(n)) if n.prefix_len() == 48)
        );
        let pairs = by("ssh-pairs");
        assert_eq!(
            pairs.elems[0][1],
            SetVal::Port {
                proto: Some(6),
                lo: 22,
                hi: 22
            }
        );
        // A wrong-family element is counted, not kept; a nomatch one is a hole.
        assert_eq!(by("geo").skipped, 1);
        assert_eq!(by("geo").holes.len(), 1);
        // A list:set cannot carve its members' holes into the union: counted.
        assert_eq!(by("blocklists").skipped, 1 + 1);
        let all = by("blocklists");
        assert_eq!(all.elems.len(), ban.elems.len() + by("geo").elems.len());
    }

    proptest::proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_ipset_save_never_panics(text in inputs::input_text("ipset", 64)) {
            for s in parse(&text) {
                for e in s.elems.iter().chain(&s.holes) {
                    assert_eq!(e.len(), s.fields.len());
                }
            }
        }
    }
}
