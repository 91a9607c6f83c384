//! Speed of `firewall.ipv4`/`firewall.ipv6` with address sets (issue 14): 20 ports x 2
//! families against 10,000 rules and 100,000 set elements, with a nat prerouting chain
//! of DNATs (Docker's shape) and a forward chain with policy drop beside the input path
//! (target: under 50 ms, parse excluded). Each port and family is asked the way the
//! check asks: the SYN and the established packet from an arbitrary source, then one
//! member of every source set and one address of each region of
//! `assets/geo_subnets.toml` (`checks/firewall/sources.rs`).
//!
//! Also the parse time of the ruleset's `nft -j` JSON, and (as root, with nft installed)
//! what `nft -j list ruleset` itself takes for that ruleset, loaded into a network
//! namespace of its own (`unshare -n`), which vanishes with the command.
//!
//! `cargo bench --bench firewall_sets`. Under `cargo test` it only says how to run it.

#[path = "support/mod.rs"]
mod support;

use dualstack_doctor::{Compiled, Packet, parse_nft};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};
use support::{Timing, time_runs};

const RULES: usize = 10_000;
const RUNS: usize = 20;
const BAN4: u32 = 85_000;
const BAN6: u32 = 5_000;
const GEO: u32 = 9_000;
const OFFICE: u32 = 1_000;

fn rule(family: &str, table: &str, chain: &str, handle: usize, expr: &str) -> String {
    format!(
        r#"{{"rule":{{"family":"{family}","table":"{table}","chain":"{chain}","handle":{handle},"expr":[{expr}]}}}}"#
    )
}

fn set(name: &str, typ: &str, flags: &str, elems: Vec<String>) -> String {
    format!(
        r#"{{"set":{{"family":"inet","name":"{name}","table":"filter","type":{typ},"handle":1,"flags":[{flags}],"elem":[{}]}}}}"#,
        elems.join(",")
    )
}

fn saddr(proto: &str, set: &str) -> String {
    format!(
        r#"{{"match":{{"op":"==","left":{{"payload":{{"protocol":"{proto}","field":"saddr"}}}},"right":"@{set}"}}}}"#
    )
}

const DROP: &str = r#"{"drop":null}"#;
const ACCEPT: &str = r#"{"accept":null}"#;
const ESTABLISHED: &str =
    r#"{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}}"#;

/// nft JSON: sets of 100,000 elements, input (policy drop), forward (policy drop) and
/// nat prerouting, 10,000 rules in all.
fn ruleset(ports: &[u16]) -> String {
    let mut items = vec![
        r#"{"metainfo":{"version":"1.0.6","json_schema_version":1}}"#.to_string(),
        r#"{"table":{"family":"inet","name":"filter","handle":1}}"#.to_string(),
        r#"{"table":{"family":"ip","name":"nat","handle":2}}"#.to_string(),
    ];
    // fail2ban/CrowdSec-style ban lists: single addresses.
    items.push(set(
        "crowdsec-blacklists",
        r#""ipv4_addr""#,
        r#""timeout""#,
        (0..BAN4)
            .map(|i| format!(r#""{}""#, Ipv4Addr::from(0x0a00_0000 + i * 7)))
            .collect(),
    ));
    items.push(set(
        "crowdsec6-blacklists",
        r#""ipv6_addr""#,
        r#""timeout""#,
        (0..BAN6)
            .map(|i| {
                format!(
                    r#""{}""#,
                    Ipv6Addr::from(0x2001_0db8_0bad_u128 << 80 | u128::from(i))
                )
            })
            .collect(),
    ));
    // A geo list: /24 networks, one continent's worth (Asia's representative included).
    let mut geo: Vec<String> = (0..GEO - 1)
        .map(|i| {
            format!(
                r#"{{"prefix":{{"addr":"{}","len":24}}}}"#,
                Ipv4Addr::from(0x2a00_0000 + (i << 8))
            )
        })
        .collect();
    geo.push(r#"{"prefix":{"addr":"203.178.136.0","len":24}}"#.into());
    items.push(set("geo-asia", r#""ipv4_addr""#, r#""interval""#, geo));
    // An office allow-list of address . port pairs.
    items.push(set(
        "office",
        r#"["ipv4_addr","inet_service"]"#,
        r#""interval""#,
        (0..OFFICE)
            .map(|i| {
                format!(
                    r#"{{"concat":["{}",22]}}"#,
                    Ipv4Addr::from(0xc633_6400 + (i % 250) + ((i / 250) << 8))
                )
            })
            .collect(),
    ));
    let chain = |name: &str, hook: Option<(&str, &str, i32, &str)>, h: usize| match hook {
        Some((typ, hook, prio, policy)) => format!(
            r#"{{"chain":{{"family":"inet","table":"filter","name":"{name}","handle":{h},"type":"{typ}","hook":"{hook}","prio":{prio},"policy":"{policy}"}}}}"#
        ),
        None => format!(
            r#"{{"chain":{{"family":"inet","table":"filter","name":"{name}","handle":{h}}}}}"#
        ),
    };
    items.push(chain("input", Some(("filter", "input", 0, "drop")), 2));
    items.push(chain("forward", Some(("filter", "forward", 0, "drop")), 3));
    let mut out = Rules {
        items,
        n: 0,
        h: 100,
    };
    // nat prerouting: Docker's DOCKER chain with one DNAT per published port.
    out.items.push(r#"{"chain":{"family":"ip","table":"nat","name":"PREROUTING","handle":1,"type":"nat","hook":"prerouting","prio":-100,"policy":"accept"}}"#.into());
    out.items
        .push(r#"{"chain":{"family":"ip","table":"nat","name":"DOCKER","handle":2}}"#.into());
    out.add(
        "ip",
        "nat",
        "PREROUTING",
        r#"{"match":{"op":"==","left":{"fib":{"result":"type","flags":["daddr"]}},"right":"local"}},{"jump":{"target":"DOCKER"}}"#.into(),
    );
    for (i, p) in (8000..8050u16).enumerate() {
        out.add(
            "ip",
            "nat",
            "DOCKER",
            format!(
                r#"{{"match":{{"op":"!=","left":{{"meta":{{"key":"iifname"}}}},"right":"docker0"}}}},{{"match":{{"op":"==","left":{{"payload":{{"protocol":"tcp","field":"dport"}}}},"right":{p}}}}},{{"dnat":{{"addr":"172.17.0.{}","port":80}}}}"#,
                i + 2
            ),
        );
    }
    // forward: established, then Docker's per-container accepts.
    out.add(
        "inet",
        "filter",
        "forward",
        format!("{ESTABLISHED},{ACCEPT}"),
    );
    for i in 0..200u32 {
        out.add(
            "inet",
            "filter",
            "forward",
            format!(
                r#"{{"match":{{"op":"==","left":{{"meta":{{"key":"oifname"}}}},"right":"docker0"}}}},{{"match":{{"op":"==","left":{{"payload":{{"protocol":"ip","field":"daddr"}}}},"right":"172.17.{}.{}"}}}},{{"match":{{"op":"==","left":{{"payload":{{"protocol":"tcp","field":"dport"}}}},"right":80}}}},{ACCEPT}"#,
                i / 250,
                i % 250 + 2
            ),
        );
    }
    // input: established, loopback, the sets, padding chains, then the ports.
    out.add("inet", "filter", "input", format!("{ESTABLISHED},{ACCEPT}"));
    out.add(
        "inet",
        "filter",
        "input",
        format!(
            r#"{{"match":{{"op":"==","left":{{"meta":{{"key":"iifname"}}}},"right":"lo"}}}},{ACCEPT}"#
        ),
    );
    for (proto, s) in [
        ("ip", "crowdsec-blacklists"),
        ("ip6", "crowdsec6-blacklists"),
        ("ip", "geo-asia"),
    ] {
        out.add(
            "inet",
            "filter",
            "input",
            format!("{},{DROP}", saddr(proto, s)),
        );
    }
    out.add(
        "inet",
        "filter",
        "input",
        format!(
            r#"{{"match":{{"op":"==","left":{{"concat":[{{"payload":{{"protocol":"ip","field":"saddr"}}}},{{"payload":{{"protocol":"tcp","field":"dport"}}}}]}},"right":"@office"}}}},{ACCEPT}"#
        ),
    );
    out.add(
        "inet",
        "filter",
        "input",
        r#"{"match":{"op":"==","left":{"payload":{"protocol":"icmpv6","field":"type"}},"right":{"set":["packet-too-big","nd-neighbor-solicit","nd-neighbor-advert"]}}},{"accept":null}"#.into(),
    );
    let chains = 20;
    let fixed = out.n + chains * 2 + ports.len();
    let per_chain = (RULES - fixed) / chains;
    for c in 0..chains {
        let name = format!("zone{c}");
        out.items.push(chain(&name, None, 10 + c));
        out.add(
            "inet",
            "filter",
            "input",
            format!(r#"{{"jump":{{"target":"{name}"}}}}"#),
        );
        for i in 0..per_chain {
            let expr = if i % 2 == 0 {
                format!(
                    r#"{{"match":{{"op":"==","left":{{"payload":{{"protocol":"ip","field":"saddr"}}}},"right":"198.18.{}.{}"}}}},{DROP}"#,
                    (i / 250) % 256,
                    i % 250
                )
            } else {
                format!(
                    r#"{{"match":{{"op":"==","left":{{"payload":{{"protocol":"ip6","field":"saddr"}}}},"right":{{"prefix":{{"addr":"2001:db8:{:x}::","len":48}}}}}}}},{{"reject":null}}"#,
                    i + 16
                )
            };
            out.add("inet", "filter", &name, expr);
        }
        out.add("inet", "filter", &name, r#"{"return":null}"#.into());
    }
    for p in ports {
        out.add(
            "inet",
            "filter",
            "input",
            format!(
                r#"{{"match":{{"op":"==","left":{{"payload":{{"protocol":"tcp","field":"dport"}}}},"right":{p}}}}},{ACCEPT}"#
            ),
        );
    }
    while out.n < RULES {
        out.add(
            "inet",
            "filter",
            "forward",
            r#"{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"nonexistent0"}},{"drop":null}"#.into(),
        );
    }
    format!(r#"{{"nftables":[{}]}}"#, out.items.join(","))
}

/// The listing being written, with its rule count and next handle.
struct Rules {
    items: Vec<String>,
    n: usize,
    h: usize,
}

impl Rules {
    fn add(&mut self, fam: &str, table: &str, chain: &str, expr: String) {
        self.items.push(rule(fam, table, chain, self.h, &expr));
        self.h += 1;
        self.n += 1;
    }
}

/// One address inside each region's client network (`assets/geo_subnets.toml`).
fn regions() -> Vec<(IpAddr, IpAddr)> {
    let t: toml::Value =
        toml::from_str(include_str!("../assets/geo_subnets.toml")).expect("geo_subnets.toml");
    let first = |s: &str| -> IpAddr {
        let net: ipnet::IpNet = s.parse().expect("network");
        match net {
            ipnet::IpNet::V4(n) => IpAddr::from(Ipv4Addr::from(u32::from(n.network()) + 1)),
            ipnet::IpNet::V6(n) => IpAddr::from(Ipv6Addr::from(u128::from(n.network()) + 1)),
        }
    };
    t["region"]
        .as_array()
        .expect("regions")
        .iter()
        .map(|r| {
            (
                first(r["v4"].as_str().expect("v4")),
                first(r["v6"].as_str().expect("v6")),
            )
        })
        .collect()
}

/// What `nft -j list ruleset` takes for this ruleset, in a network namespace of its own
/// (as root, with nft installed); `None` otherwise.
fn nft_listing(json: &str) -> Option<(Duration, Duration, usize)> {
    let dir = std::env::temp_dir().join(format!("dsdoctor-bench-sets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let file = dir.join("ruleset.json");
    std::fs::write(&file, json).ok()?;
    let script = format!(
        "nft -j -f {f} || exit 1; a=$(date +%s%N); nft -j list ruleset > {d}/out.json || exit 1; b=$(date +%s%N); nft list ruleset > /dev/null; c=$(date +%s%N); echo $((b-a)) $((c-b)) $(stat -c %s {d}/out.json)",
        f = file.display(),
        d = dir.display()
    );
    let out = std::process::Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .output()
        .ok();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    if !out.status.success() {
        eprintln!(
            "nft listing not measured: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = text
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    match v.as_slice() {
        [j, t, size] => Some((
            Duration::from_nanos(*j),
            Duration::from_nanos(*t),
            *size as usize,
        )),
        _ => None,
    }
}

fn main() {
    if !support::requested("firewall_sets", "") {
        return;
    }
    let ports = support::BUSY_PORTS;
    let json = ruleset(&ports);
    let hosts: [IpAddr; 2] = [
        "203.0.113.10".parse().expect("ip"),
        "2001:db8:1::10".parse().expect("ip"),
    ];
    let regions = regions();

    let t = Instant::now();
    let rs = parse_nft(&json).expect("generated nft JSON");
    let parse = t.elapsed();
    let rules = rs.rule_count();
    let elements: usize = rs
        .tables
        .iter()
        .flat_map(|t| &t.sets)
        .map(|s| s.elems.len())
        .sum();
    assert_eq!(rules, RULES);
    assert_eq!(elements, (BAN4 + BAN6 + GEO + OFFICE) as usize);

    let Timing {
        median: compile,
        min: compile_min,
    } = time_runs(RUNS, || {
        let _ = Compiled::new(&rs.tables);
    });
    let mut walks = 0;
    let Timing { median, min } = time_runs(RUNS, || {
        walks = 0;
        let c = Compiled::new(&rs.tables);
        for &p in &ports {
            for (fi, &ip) in hosts.iter().enumerate() {
                let syn = Packet::tcp_syn(ip, p, "eth0");
                let o = c.decide(&syn);
                assert!(o.decision.admits(), "port {p} {ip}: {:?}", o.decision);
                let est = c.decide(&Packet::tcp_established(ip, p, "eth0"));
                assert!(est.decision.admits());
                walks += 2;
                let family = dualstack_doctor::Family::of(ip);
                for s in c.source_sets(family) {
                    if let Some(m) = s.member {
                        let _ = c.decide(&Packet {
                            saddr: Some(m),
                            ..syn.clone()
                        });
                        walks += 1;
                    }
                }
                for r in &regions {
                    let from = if fi == 0 { r.0 } else { r.1 };
                    if !c.may_differ(from) {
                        continue;
                    }
                    let o = c.decide(&Packet {
                        saddr: Some(from),
                        ..syn.clone()
                    });
                    let _ = c.sets_holding(from);
                    walks += 1;
                    // Asia's network is in the geo set: shut while the rest gets in.
                    if from == "203.178.136.1".parse::<IpAddr>().expect("ip") {
                        assert!(o.decision.shuts(), "{:?}", o.decision);
                    }
                }
            }
        }
    });
    support::table_head(&["what", "median", "min"]);
    println!(
        "| compile {RULES} rules with {elements} set elements (index the sets) | {compile:.2?} | {compile_min:.2?} |"
    );
    println!(
        "| decide {} ports x 2 families, sets and regions asked (compile + {walks} walks) | {median:.2?} | {min:.2?} |",
        ports.len()
    );
    println!(
        "| parse the nft JSON ({} KiB: {RULES} rules, {elements} set elements) | {parse:.2?} | |",
        json.len() / 1024
    );
    match nft_listing(&json) {
        Some((j, t, size)) => {
            println!(
                "| `nft -j list ruleset` of that ruleset ({} KiB) | {j:.2?} | |",
                size / 1024
            );
            println!("| `nft list ruleset` (text) of that ruleset | {t:.2?} | |");
        }
        None => println!("| `nft -j list ruleset` | not measured (needs root and nft) | |"),
    }
    println!();
    println!(
        "target < 50 ms (parse excluded): {}",
        support::met(median, Duration::from_millis(50))
    );
}
