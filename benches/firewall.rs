//! Speed of the firewall stage's decision: every listening port, both families, plus the
//! ICMPv6 types, against a 10,000-rule ruleset (target: under 50 ms).
//!
//! `cargo bench --bench firewall`. Under `cargo test` it only says how to run it.
//!
//! The ruleset is nft JSON as `nft -j list ruleset` prints it: an inet table whose input
//! chain (policy drop) jumps through fail2ban-style ban chains of single addresses and
//! per-interface chains before the port accepts at the very end, so a new connection walks
//! all 10,000 rules before it is decided.

#[path = "support/mod.rs"]
mod support;

use dualstack_doctor::{Compiled, Packet, parse_nft};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use support::{Timing, time_runs};

const RULES: usize = 10_000;
const RUNS: usize = 30;

fn rule(chain: &str, handle: usize, expr: String) -> String {
    format!(
        r#"{{"rule":{{"family":"inet","table":"big","chain":"{chain}","handle":{handle},"expr":[{expr}]}}}}"#
    )
}

/// nft JSON with `RULES` rules.
fn ruleset(ports: &[u16]) -> String {
    let mut items = vec![
        r#"{"metainfo":{"version":"1.0.6","json_schema_version":1}}"#.to_string(),
        r#"{"table":{"family":"inet","name":"big","handle":1}}"#.to_string(),
        r#"{"chain":{"family":"inet","table":"big","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}}"#.to_string(),
    ];
    let chains = 20;
    let mut n = 0;
    let mut h = 10;
    let per_chain = (RULES - 2 * chains - ports.len() - 2) / chains;
    for c in 0..chains {
        let name = format!("bans{c}");
        items.push(format!(
            r#"{{"chain":{{"family":"inet","table":"big","name":"{name}","handle":{}}}}}"#,
            c + 2
        ));
        items.push(rule(
            "input",
            h,
            format!(r#"{{"jump":{{"target":"{name}"}}}}"#),
        ));
        h += 1;
        n += 1;
        for i in 0..per_chain {
            let expr = if i % 2 == 0 {
                format!(
                    r#"{{"match":{{"op":"==","left":{{"payload":{{"protocol":"ip","field":"saddr"}}}},"right":"198.51.{}.{}"}}}},{{"counter":{{"packets":0,"bytes":0}}}},{{"drop":null}}"#,
                    (i / 250) % 256,
                    i % 250
                )
            } else {
                format!(
                    r#"{{"match":{{"op":"==","left":{{"payload":{{"protocol":"ip6","field":"saddr"}}}},"right":{{"prefix":{{"addr":"2001:db8:{:x}::","len":48}}}}}}}},{{"reject":null}}"#,
                    i
                )
            };
            items.push(rule(&name, h, expr));
            h += 1;
            n += 1;
        }
        items.push(rule(&name, h, r#"{"return":null}"#.to_string()));
        h += 1;
        n += 1;
    }
    items.push(rule(
        "input",
        h,
        r#"{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"accept":null}"#.to_string(),
    ));
    h += 1;
    items.push(rule(
        "input",
        h,
        r#"{"match":{"op":"==","left":{"payload":{"protocol":"icmpv6","field":"type"}},"right":{"set":["packet-too-big","nd-router-solicit","nd-router-advert","nd-neighbor-solicit","nd-neighbor-advert"]}}},{"accept":null}"#.to_string(),
    ));
    h += 1;
    n += 2;
    // One accept per port, each its own rule, at the end.
    for p in ports {
        items.push(rule(
            "input",
            h,
            format!(
                r#"{{"match":{{"op":"==","left":{{"payload":{{"protocol":"tcp","field":"dport"}}}},"right":{p}}}}},{{"accept":null}}"#
            ),
        ));
        h += 1;
        n += 1;
    }
    // Pad to exactly RULES with never-matching rules in the last chain.
    while n < RULES {
        items.push(rule(
            "input",
            h,
            r#"{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"nonexistent0"}},{"drop":null}"#.to_string(),
        ));
        h += 1;
        n += 1;
    }
    format!(r#"{{"nftables":[{}]}}"#, items.join(","))
}

fn main() {
    if !support::requested("firewall", "") {
        return;
    }
    let ports = support::BUSY_PORTS;
    let json = ruleset(&ports);
    let v4: IpAddr = "203.0.113.10".parse().expect("ip");
    let v6: IpAddr = "2001:db8:1::10".parse().expect("ip");

    let t = Instant::now();
    let _: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let json_ms = t.elapsed();
    let t = Instant::now();
    let rs = parse_nft(&json).expect("generated nft JSON");
    let parse_ms = t.elapsed();
    let total = rs.rule_count();
    assert_eq!(total, RULES);

    let mut answers = 0;
    let Timing { median: med, min } = time_runs(RUNS, || {
        answers = 0;
        let c = Compiled::new(&rs.tables);
        for &p in &ports {
            for ip in [v4, v6] {
                let o = c.decide(&Packet::tcp_syn(ip, p, "eth0"));
                assert!(o.decision.admits(), "port {p}: {:?}", o.decision);
                answers += 1;
            }
        }
        for ty in [2u8, 133, 134, 135, 136] {
            let o = c.decide(&Packet::icmpv6(ty, v6, "eth0"));
            assert!(o.decision.admits());
            answers += 1;
        }
    });
    support::table_head(&["what", "median", "min"]);
    println!(
        "| decide {} ports x 2 families + 5 ICMPv6 types against {RULES} rules (compile + walk) | {med:.2?} | {min:.2?} |",
        ports.len()
    );
    println!(
        "| parse the {RULES}-rule nft JSON ({} KiB) | {parse_ms:.2?} | |",
        json.len() / 1024
    );
    println!("| of which serde_json alone | {json_ms:.2?} | |");
    println!();
    println!(
        "{} decisions per run; target < 50 ms: {}",
        answers,
        support::met(med, Duration::from_millis(50))
    );
}
