//! The sets, regions, SSH client and echo service in `firewall.ipv4`/`firewall.ipv6`,
//! from rulesets written the way fail2ban, an office allow-list and a geo block write
//! them (nft and iptables with ipsets). The healthy host serves port 80 at 203.0.113.10
//! and 2001:db8:1::10; its echo service is at 198.51.100.10 and 2001:db8:2::10.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::Probed;
use crate::facts::firewall::{FirewallFacts, Source, SshSession};
use crate::model::{CheckId, Family, Finding, Status};
use crate::parse::{ipset, iptables};

const IPSETS: &str = include_str!("../../../../tests/fixtures/firewall/ipset.save");

/// nft JSON: `sets` (`"name": [elements]`, of `type`) and rules of an inet table `host`
/// whose input chain has policy drop, after `ct state established,related accept`.
fn nft(typ: &str, sets: &[(&str, &str)], rules: &[&str]) -> FirewallFacts {
    let mut items = vec![
        r#"{"table":{"family":"inet","name":"host","handle":1}}"#.to_string(),
        r#"{"chain":{"family":"inet","table":"host","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}}"#.to_string(),
        r#"{"rule":{"family":"inet","table":"host","chain":"input","handle":2,"expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"accept":null}]}}"#.to_string(),
    ];
    for (name, elems) in sets {
        items.push(format!(
            r#"{{"set":{{"family":"inet","name":"{name}","table":"host","type":"{typ}","flags":["interval"],"elem":[{elems}]}}}}"#
        ));
    }
    for (i, r) in rules.iter().enumerate() {
        items.push(format!(
            r#"{{"rule":{{"family":"inet","table":"host","chain":"input","handle":{},"expr":[{r}]}}}}"#,
            10 + i
        ));
    }
    firewall_from_nft(&format!(r#"{{"nftables":[{}]}}"#, items.join(",")))
}

/// What the input chain does with the one set's sources.
#[derive(Clone, Copy)]
enum SetRule {
    /// This verdict (`reject`, `drop`) for them, then port 80 accepted from anyone.
    Refuse(&'static str),
    /// Port 80 accepted from them only.
    OnlyFrom,
}
use SetRule::*;

/// `nft` with one set `name` of `typ` (`ipv4_addr`, `ipv6_addr`) holding `elems`, and
/// port 80 ruled by it.
fn one_set(typ: &str, name: &str, elems: &str, rule: SetRule) -> FirewallFacts {
    let saddr = if typ == "ipv6_addr" { SADDR6 } else { SADDR4 };
    let set = lookup(saddr, name);
    let rules = match rule {
        Refuse(verdict) => vec![
            format!(r#"{set},{{"{verdict}":null}}"#),
            format!(r#"{DPORT80},{{"accept":null}}"#),
        ],
        OnlyFrom => vec![format!(r#"{set},{DPORT80},{{"accept":null}}"#)],
    };
    let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
    nft(typ, &[(name, elems)], &rules)
}

const SADDR4: &str = r#"{"payload":{"protocol":"ip","field":"saddr"}}"#;
const SADDR6: &str = r#"{"payload":{"protocol":"ip6","field":"saddr"}}"#;
const DPORT80: &str =
    r#"{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":80}}"#;

/// The healthy host's finding for `id` on port 80 behind `fw`, asserted to have `status`.
fn judged(fw: FirewallFacts, id: CheckId, status: Status) -> Finding {
    let mut f = healthy();
    f.firewall = Probed::ok(fw);
    judge(&f, &options(), id, Some(80), status)
}

fn lookup(saddr: &str, set: &str) -> String {
    format!(r#"{{"match":{{"op":"==","left":{saddr},"right":"@{set}"}}}}"#)
}

fn iptables_with_ipsets(v4: &str) -> FirewallFacts {
    let tables = iptables::parse(v4, Family::V4, Source::IptablesNft).tables;
    FirewallFacts {
        backends: crate::probe::firewall::backends(&tables),
        tables,
        ipsets: ipset::parse(IPSETS),
        ..Default::default()
    }
}

/// One set, how port 80 uses it, and the finding of one family: one former test per row
/// (or pair of rows).
struct SetCase {
    name: &'static str,
    typ: &'static str,
    set: &'static str,
    elems: &'static str,
    rule: SetRule,
    id: CheckId,
    status: Status,
    summary: &'static [&'static str],
    evidence: &'static [&'static str],
    explanation: &'static [&'static str],
}

const GEO_BLOCK: &str =
    r#"{"prefix":{"addr":"203.178.0.0","len":16}},{"range":["202.12.0.0","202.12.255.255"]}"#;

const SET_CASES: &[SetCase] = &[
    // A fail2ban-style ban set: the port is open to the internet (pass), and the set is
    // named with how many addresses it refuses.
    SetCase {
        name: "ban_set_passes_and_is_named",
        typ: "ipv4_addr",
        set: "f2b-sshd",
        elems: r#""192.0.2.77","203.0.113.66","198.51.100.99""#,
        rule: Refuse("reject"),
        id: CheckId::FirewallIpv4,
        status: Status::Pass,
        summary: &[],
        evidence: &[
            "fail2ban set f2b-sshd (nft inet host): 3 addresses rejected by nft inet host chain input handle 10: ip saddr @f2b-sshd reject",
        ],
        explanation: &["ban list"],
    },
    // A site admitted only from an office set fails, naming the set.
    SetCase {
        name: "office_allow_list_fails_naming_the_set",
        typ: "ipv6_addr",
        set: "office",
        elems: r#"{"prefix":{"addr":"2001:db8:a::","len":48}}"#,
        rule: OnlyFrom,
        id: CheckId::FirewallIpv6,
        status: Status::Fail,
        summary: &["admitted only from set office (nft inet host)"],
        evidence: &[
            "admitted only from set office (nft inet host): 1 entry, about 2^80 addresses (an arbitrary internet source is refused)",
        ],
        explanation: &["allow-list"],
    },
    // A geo set blocking Asia and Oceania: the port is open to most of the internet, so
    // a warning that names the set and the regions.
    SetCase {
        name: "geo_set_warns_naming_set_and_continents",
        typ: "ipv4_addr",
        set: "geo-block",
        elems: GEO_BLOCK,
        rule: Refuse("drop"),
        id: CheckId::FirewallIpv4,
        status: Status::Warn,
        summary: &[
            "shuts clients in Asia, Oceania out",
            "set geo-block (nft inet host)",
        ],
        evidence: &["clients in Asia (203.178.136.0/24) are shut out"],
        explanation: &[],
    },
    // IPv6 is untouched by an IPv4 set.
    SetCase {
        name: "geo_set_warns_naming_set_and_continents (IPv6)",
        typ: "ipv4_addr",
        set: "geo-block",
        elems: GEO_BLOCK,
        rule: Refuse("drop"),
        id: CheckId::FirewallIpv6,
        status: Status::Pass,
        summary: &[],
        evidence: &[],
        explanation: &[],
    },
    // The nft range form of everyone as an allow set is the whole internet: pass.
    SetCase {
        name: "range_of_everyone_in_a_set_passes",
        typ: "ipv4_addr",
        set: "all",
        elems: r#"{"range":["0.0.0.0","255.255.255.255"]}"#,
        rule: OnlyFrom,
        id: CheckId::FirewallIpv4,
        status: Status::Pass,
        summary: &[],
        evidence: &[],
        explanation: &[],
    },
];

#[test]
fn each_set_case_gives_its_finding() {
    for case in SET_CASES {
        let mut f = healthy();
        f.firewall = Probed::ok(one_set(case.typ, case.set, case.elems, case.rule));
        let fs = evaluate(&f, &options());
        let fd = find(&fs, case.id, Some(80));
        assert_eq!(fd.status, case.status, "{}: {fd:#?}", case.name);
        assert_says(
            case.name,
            fd,
            [case.summary, case.evidence, case.explanation],
        );
    }
}

/// iptables with an ipset ban list (pass, named) and with an ipset allow-list only
/// (fail, named).
#[test]
fn ipset_ban_list_passes_and_allow_list_fails() {
    let fd = judged(
        iptables_with_ipsets(
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m set --match-set f2b-sshd src -j REJECT --reject-with icmp-port-unreachable\n-A INPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n",
        ),
        CheckId::FirewallIpv4,
        Status::Pass,
    );
    assert_line(
        &fd.evidence,
        "fail2ban set f2b-sshd (ipset): 3 addresses rejected",
    );

    let fd = judged(
        iptables_with_ipsets(
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 80 -m set --match-set office4 src -j ACCEPT\nCOMMIT\n",
        ),
        CheckId::FirewallIpv4,
        Status::Fail,
    );
    assert_has(&fd.summary, "admitted only from set office4 (ipset)");
}

/// The admin's SSH client is refused while the internet gets in: a warning on the SSH
/// port, "LOCKED OUT" in the evidence; the other family says its address is unknown.
#[test]
fn ssh_client_locked_out_is_on_screen() {
    let mut fw = one_set(
        "ipv6_addr",
        "bad",
        r#"{"prefix":{"addr":"2001:db8:5::","len":48}}"#,
        Refuse("drop"),
    );
    fw.ssh = Some(SshSession {
        client: "2001:db8:5::7".parse().unwrap(),
        client_port: 50312,
        server: "2001:db8:1::10".parse().unwrap(),
        server_port: 80,
    });
    let fd = judged(fw.clone(), CheckId::FirewallIpv6, Status::Warn);
    assert_has(&fd.summary, "not from your own SSH client");
    assert_line(
        &fd.evidence,
        "LOCKED OUT: a new SSH connection from your client 2001:db8:5::7 (SSH_CONNECTION) to [2001:db8:1::10]:80 over IPv6 would be dropped by nft inet host chain input handle 10",
    );
    let v4 = judged(fw.clone(), CheckId::FirewallIpv4, Status::Pass);
    assert_line(
        &v4.evidence,
        "your SSH session comes over IPv6 (from 2001:db8:5::7): your own IPv4 address is not known",
    );

    // Admitted: said on the SSH port, and the answer stays a pass.
    fw.tables[0].sets[0].elems.clear();
    let fd = judged(fw, CheckId::FirewallIpv6, Status::Pass);
    assert_line(
        &fd.evidence,
        "your SSH client 2001:db8:5::7 (SSH_CONNECTION) may open new connections",
    );
}

/// The echo service's address is in the allow-list while the internet is not: the
/// inbound probe's success would not speak for the internet, and the evidence says so.
#[test]
fn echo_service_admitted_unlike_the_internet_is_said() {
    let mut f = healthy_online();
    f.firewall = Probed::ok(one_set(
        "ipv4_addr",
        "monitoring",
        r#""198.51.100.10""#,
        OnlyFrom,
    ));
    let fd = judge(
        &f,
        &options(),
        CheckId::FirewallIpv4,
        Some(80),
        Status::Fail,
    );
    assert_line(
        &fd.evidence,
        "the echo service's connect-back from 198.51.100.10 is admitted",
    );
    assert_line(
        &fd.evidence,
        "isp.inbound_ipv4 speaks for the echo service's address only",
    );
}
