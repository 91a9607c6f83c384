//! Property tests: the parsers and the walk never panic, whatever they are fed. Inputs
//! are the recorded fixtures mutated byte-wise and structurally, and rulesets built from
//! random tokens (with jump loops); proptest shrinks a failure and records it under
//! proptest-regressions/.

use super::*;
use crate::facts::firewall::Source;
use crate::parse::{iptables, nft};
use serde_json::Value;

use crate::testutil::{fuzz_data, inputs};
use proptest::prelude::*;
use proptest::sample::Index;

const NFT_FIXTURES: [&str; 7] = [
    include_str!("../../tests/fixtures/firewall/dnat.nft.json"),
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

/// A host with a container bridge, so DNATs are routed and forwarded.
fn host() -> HostNet {
    HostNet {
        local: vec![
            "203.0.113.10".parse().unwrap(),
            "172.17.0.1".parse().unwrap(),
        ],
        routes: vec![
            ("0.0.0.0/0".parse().unwrap(), "eth0".into()),
            ("172.17.0.0/16".parse().unwrap(), "docker0".into()),
            ("::/0".parse().unwrap(), "eth0".into()),
        ],
        forwarding: (Some(true), None),
        iface_addrs: vec![("eth0".into(), "203.0.113.10".parse().unwrap())],
        rp_filter: [("all".to_string(), 1)].into(),
    }
}

fn walk_all(tables: &[Table]) {
    let c = Compiled::new(tables);
    let with_host = Compiled::new(tables).with_host(host());
    for p in packets() {
        for o in [
            with_host.decide_connection(&p),
            with_host.decide_input(&p),
            c.decide_connection(&p),
        ] {
            if o.decision != Decision::Accept {
                assert!(o.decided_by.is_some(), "{o:#?}");
            }
            let _ = o.taken.describe();
        }
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

/// A JSON value built from the nft vocabulary, nested at most four deep.
fn random_value() -> impl Strategy<Value = Value> {
    let words = fuzz_data("nft.words");
    let leaf = prop_oneof![
        Just(Value::Null),
        (-70_000i64..70_000).prop_map(Value::from),
        proptest::sample::select(words.clone()).prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
    ];
    leaf.prop_recursive(4, 32, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(words.clone()), inner), 1..=3)
                .prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
        ]
    })
}

/// Replace the node that `path` leads to (a child picked per step; the path may end
/// early, at a leaf, or after 8 steps) with `new`.
fn mutate_tree(v: &mut Value, path: &[Index], new: Value) {
    let child = match (v, path.split_first()) {
        (Value::Array(a), Some((i, rest))) if !a.is_empty() => Some((i.get_mut(a), rest)),
        (Value::Object(m), Some((i, rest))) if !m.is_empty() => {
            let n = i.index(m.len());
            m.values_mut().nth(n).map(|x| (x, rest))
        }
        (v, _) => {
            *v = new;
            return;
        }
    };
    if let Some((c, rest)) = child {
        mutate_tree(c, rest, new);
    }
}

/// An nft fixture with byte mutations, or with one to six of its nodes replaced.
fn nft_input() -> impl Strategy<Value = String> {
    let edits = proptest::collection::vec(
        (
            proptest::collection::vec(any::<Index>(), 0..=8),
            random_value(),
        ),
        1..=6,
    );
    prop_oneof![
        inputs::mutated_text(NFT_FIXTURES.to_vec()),
        (proptest::sample::select(NFT_FIXTURES.to_vec()), edits).prop_map(|(base, edits)| {
            let mut v: Value = serde_json::from_str(base).unwrap();
            for (path, new) in edits {
                mutate_tree(&mut v, &path, new);
            }
            v.to_string()
        }),
    ]
}

/// A ruleset of up to 12 rules of random tokens over three chains that may jump to
/// each other (loops included), with or without its COMMIT.
fn token_ruleset() -> impl Strategy<Value = String> {
    let vocab = fuzz_data("iptables.vocab");
    let rule = (
        proptest::sample::select(vec!["INPUT", "PREROUTING", "c1", "c2"]),
        proptest::collection::vec(proptest::sample::select(vocab), 0..10),
    );
    (
        proptest::collection::vec(rule, 0..12),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(rules, commit, nat)| {
            let mut t = String::from("*filter\n:INPUT DROP [0:0]\n:c1 - [0:0]\n:c2 - [0:0]\n");
            // Half the time the same rules in a nat table's prerouting (DNAT and friends).
            if nat {
                t = String::from("*nat\n:PREROUTING ACCEPT [0:0]\n:c1 - [0:0]\n:c2 - [0:0]\n");
            }
            for (chain, words) in rules {
                t.push_str(&format!("-A {chain}"));
                for w in words {
                    t.push(' ');
                    t.push_str(w);
                }
                t.push('\n');
            }
            if commit {
                t.push_str("COMMIT\n");
            }
            t
        })
}

proptest! {
    #![proptest_config(inputs::config())]

    #[test]
    fn fuzz_nft_parser_and_walk_survive_mutations(text in nft_input()) {
        if let Ok(rs) = nft::parse(&text) {
            walk_all(&rs.tables);
        }
    }

    #[test]
    fn fuzz_iptables_parser_and_walk_survive_mutations_and_token_soup(
        v6 in any::<bool>(),
        text in prop_oneof![
            1 => inputs::mutated_text(SAVE_FIXTURES.to_vec()),
            2 => token_ruleset(),
        ],
    ) {
        let rs = iptables::parse(&text, Family::from_v6(v6), Source::IptablesLegacy);
        walk_all(&rs.tables);
    }
}
