//! Fuzz tests: the parsers and the walk never panic, whatever they are fed. Inputs are
//! the recorded fixtures mutated byte-wise and structurally, and rulesets built from
//! random tokens (with jump loops), from a fixed-seed generator so failures reproduce.

use super::*;
use crate::facts::firewall::Source;
use crate::parse::{iptables, nft};
use serde_json::Value;

use crate::testutil::{Rng, fuzz_data, fuzz_iters};

const NFT_FIXTURES: [&str; 6] = [
    include_str!("../../tests/fixtures/firewall/nft-strict.json"),
    include_str!("../../tests/fixtures/firewall/ufw.nft.json"),
    include_str!("../../tests/fixtures/firewall/firewalld.nft.json"),
    include_str!("../../tests/fixtures/firewall/docker.nft.json"),
    include_str!("../../tests/fixtures/firewall/fail2ban.nft.json"),
    include_str!("../../tests/fixtures/firewall/iptables-nft.nft.json"),
];

const SAVE_FIXTURES: [&str; 4] = [
    include_str!("../../tests/fixtures/firewall/ufw.v4.save"),
    include_str!("../../tests/fixtures/firewall/ufw.v6.save"),
    include_str!("../../tests/fixtures/firewall/docker.v4.save"),
    include_str!("../../tests/fixtures/firewall/iptables-nft.v6.save"),
];

fn packets() -> Vec<Packet> {
    let v4: IpAddr = "203.0.113.10".parse().unwrap();
    let v6: IpAddr = "2001:db8:1::10".parse().unwrap();
    let mut p = vec![
        Packet::tcp_syn(v4, 80, "eth0"),
        Packet::tcp_syn(v6, 443, "eth0"),
        Packet::tcp_syn(v6, 22, "lo"),
    ];
    for t in [2, 133, 135, 136] {
        p.push(Packet::icmpv6(t, v6, "eth0"));
    }
    p
}

fn walk_all(tables: &[Table]) {
    let c = Compiled::new(tables);
    for p in packets() {
        let o = c.decide(&p);
        // Every answer carries its evidence.
        if o.decision != Decision::Accept {
            assert!(o.decided_by.is_some(), "{o:#?}");
        }
        for r in o.decided_by.iter().chain(&o.accepted_by) {
            let _ = r.describe();
        }
    }
}

fn mutate_bytes(rng: &mut Rng, s: &str) -> String {
    rng.mutate(s)
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let words = fuzz_data("nft.words");
    match rng.below(if depth > 3 { 4 } else { 7 }) {
        0 => Value::Null,
        1 => Value::from(rng.next() as i64 % 70000),
        2 => Value::from(rng.pick(&words)),
        3 => Value::Bool(rng.below(2) == 0),
        4 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..1 + rng.below(3) {
                m.insert(rng.pick(&words).to_string(), random_value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// Replace a random node of the JSON tree by a random value.
fn mutate_tree(rng: &mut Rng, v: &mut Value, depth: usize) {
    let here = rng.below(4) == 0 || depth > 8;
    match v {
        Value::Array(a) if !a.is_empty() && !here => {
            let i = rng.below(a.len());
            mutate_tree(rng, &mut a[i], depth + 1);
        }
        Value::Object(m) if !m.is_empty() && !here => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = &keys[rng.below(keys.len())];
            if let Some(x) = m.get_mut(k) {
                mutate_tree(rng, x, depth + 1);
            }
        }
        _ => *v = random_value(rng, depth),
    }
}

#[test]
fn nft_parser_and_walk_survive_mutations() {
    let mut rng = Rng::seeded(0x5eed_f00d_dead_beef);
    for round in 0..fuzz_iters() {
        let base = NFT_FIXTURES[round % NFT_FIXTURES.len()];
        let text = if round % 2 == 0 {
            mutate_bytes(&mut rng, base)
        } else {
            let mut v: Value = serde_json::from_str(base).unwrap();
            for _ in 0..1 + rng.below(6) {
                mutate_tree(&mut rng, &mut v, 0);
            }
            v.to_string()
        };
        if let Ok(rs) = nft::parse(&text) {
            walk_all(&rs.tables);
        }
    }
}

#[test]
fn iptables_parser_and_walk_survive_mutations_and_token_soup() {
    let mut rng = Rng::seeded(0x0123_4567_89ab_cdef);
    let vocab = fuzz_data("iptables.vocab");
    for round in 0..fuzz_iters() {
        let family = Family::from_v6(round % 2 == 1);
        let text = if round % 3 == 0 {
            mutate_bytes(&mut rng, SAVE_FIXTURES[round % SAVE_FIXTURES.len()])
        } else {
            let mut t = String::from("*filter\n:INPUT DROP [0:0]\n:c1 - [0:0]\n:c2 - [0:0]\n");
            for _ in 0..rng.below(12) {
                let chain = rng.pick(&["INPUT", "c1", "c2"]);
                t.push_str(&format!("-A {chain}"));
                for _ in 0..rng.below(10) {
                    t.push(' ');
                    t.push_str(rng.pick(&vocab));
                }
                t.push('\n');
            }
            if rng.below(2) == 0 {
                t.push_str("COMMIT\n");
            }
            t
        };
        let rs = iptables::parse(&text, family, Source::IptablesLegacy);
        walk_all(&rs.tables);
    }
}
