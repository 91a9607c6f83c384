//! The walk on rulesets recorded from the real tools (tests/fixtures/firewall/record.sh):
//! iptables-nft, ufw, firewalld, docker's chains and fail2ban's, each read the way the
//! probe reads them.

use super::tests::{assert_decided_by, bridge_host, v4, v6};
use super::*;
use crate::facts::firewall::{Backend, FirewallFacts};
use crate::probe::firewall::assemble;

macro_rules! fixture {
    ($name:expr) => {
        include_str!(concat!("../../tests/fixtures/firewall/", $name))
    };
}

/// A recording with both families' iptables-nft views: `NAME.nft.json`, `NAME.v4.save`,
/// `NAME.v6.save`.
macro_rules! recorded {
    ($name:literal) => {
        load(
            fixture!(concat!($name, ".nft.json")),
            fixture!(concat!($name, ".v4.save")),
            fixture!(concat!($name, ".v6.save")),
        )
    };
}

fn load(json: &str, s4: &str, s6: &str) -> FirewallFacts {
    let f = assemble(json, [Some(s4), Some(s6)], [None, None]).expect("recorded fixture");
    assert!(f.problems.is_empty(), "{:?}", f.problems);
    f
}

fn tcp(f: &FirewallFacts, family: Family, port: u16) -> Outcome {
    let ip = family.pick(v4(), v6());
    decide(&f.tables, &Packet::tcp_syn(ip, port, "eth0"))
}

/// A host-firewall recording, named by its test below, and the front-end it is read as.
fn host_firewall(test: &str) -> (FirewallFacts, Backend) {
    match test {
        "iptables_nft_host_firewall" => (recorded!("iptables-nft"), Backend::IptablesNft),
        "ufw_with_ipv6" => (recorded!("ufw"), Backend::Ufw),
        // firewalld writes nft only: no iptables view.
        "firewalld_public_zone" => (
            load(fixture!("firewalld.nft.json"), "", ""),
            Backend::Firewalld,
        ),
        other => panic!("no host-firewall recording for {other}"),
    }
}

/// What each host firewall does to a SYN on each port over both families, decided by
/// rules the walk evaluates.
#[test]
fn host_firewalls_decide_ports_by_evaluated_rules() {
    let cases = [
        ("iptables_nft_host_firewall", 22, Decision::Accept),
        ("iptables_nft_host_firewall", 80, Decision::Accept),
        ("iptables_nft_host_firewall", 443, Decision::Accept),
        ("ufw_with_ipv6", 80, Decision::Accept),
        ("ufw_with_ipv6", 5432, Decision::Drop),
        ("ufw_with_ipv6", 8080, Decision::Drop),
        ("firewalld_public_zone", 80, Decision::Accept),
        ("firewalld_public_zone", 22, Decision::Accept),
        ("firewalld_public_zone", 443, Decision::Reject),
    ];
    for (test, port, want) in cases {
        let (f, backend) = host_firewall(test);
        assert!(f.has(backend), "{test}: {:?}", f.backends);
        for family in Family::BOTH {
            let o = tcp(&f, family, port);
            assert_eq!(o.decision, want, "{test}: {port} {family:?}: {o:#?}");
            assert!(o.unevaluated.is_empty(), "{test}: {o:#?}");
        }
    }
}

fn path_has(o: &Outcome, chain: &str) {
    crate::testutil::assert_mentions(&o.path, chain);
}

/// Neighbour discovery and packet-too-big all pass.
fn all_icmpv6_admitted(f: &FirewallFacts) {
    let icmp = nd_and_ptb(f);
    assert!(icmp.iter().all(|(_, d)| *d == Decision::Accept), "{icmp:?}");
}

fn nd_and_ptb(f: &FirewallFacts) -> Vec<(u8, Decision)> {
    [2u8, 133, 134, 135, 136]
        .iter()
        .map(|&t| {
            (
                t,
                decide(&f.tables, &Packet::icmpv6(t, v6(), "eth0")).decision,
            )
        })
        .collect()
}

#[test]
fn iptables_nft_host_firewall() {
    let (f, _) = host_firewall("iptables_nft_host_firewall");
    // Read through iptables-nft-save: the conntrack/multiport extensions are evaluable.
    assert!(
        f.tables.iter().all(|t| t.source == Source::IptablesNft),
        "{:?}",
        f.tables
    );
    for family in Family::BOTH {
        let o = tcp(&f, family, 8080);
        assert_eq!(o.decision, Decision::Drop);
        assert_decided_by(&o, "policy drop");
    }
    // The IPv6 rules forget neighbour discovery; packet-too-big passes as related.
    let icmp = nd_and_ptb(&f);
    assert_eq!(icmp[0], (2, Decision::Accept));
    assert!(
        icmp[1..].iter().all(|(_, d)| *d == Decision::Drop),
        "{icmp:?}"
    );
}

#[test]
fn ufw_with_ipv6() {
    let (f, _) = host_firewall("ufw_with_ipv6");
    // `ufw limit 22/tcp` as recorded: ufw filled ufw-user-limit-accept for IPv4 but left
    // ufw6-user-limit-accept empty, so SSH over IPv6 falls through to the policy. The
    // walk shows it (a real dual-stack surprise) rather than assuming ufw's intent.
    assert_eq!(tcp(&f, Family::V4, 22).decision, Decision::Accept);
    let o = tcp(&f, Family::V6, 22);
    assert_eq!(o.decision, Decision::Drop);
    path_has(&o, "ufw6-user-limit-accept");
    let o = tcp(&f, Family::V6, 80);
    assert!(
        o.accepted_by[0].text.contains("--dport 80 -j ACCEPT"),
        "{:?}",
        o.accepted_by
    );
    path_has(&o, "ufw6-user-input");
    // ufw's before6.rules admit neighbour discovery (hop limit 255) and packet-too-big.
    all_icmpv6_admitted(&f);
}

#[test]
fn firewalld_public_zone() {
    let (f, _) = host_firewall("firewalld_public_zone");
    let o = tcp(&f, Family::V6, 443);
    assert_decided_by(&o, "nft inet firewalld chain filter_IN_public");
    all_icmpv6_admitted(&f);
}

#[test]
fn docker_chains_do_not_touch_the_input_path() {
    let f = recorded!("docker");
    assert!(f.has(Backend::Docker), "{:?}", f.backends);
    assert_eq!(tcp(&f, Family::V4, 80).decision, Decision::Accept);
    assert_eq!(tcp(&f, Family::V4, 443).decision, Decision::Drop);
    // A published port is DNATed to the container and filtered in FORWARD. Without
    // the host's routes the output interface (docker0?) is unknown: Docker's accept
    // names it, but FORWARD's policy accepts too, so both ways it gets through.
    let o = tcp(&f, Family::V4, 8080);
    assert_eq!(o.decision, Decision::Accept, "{o:#?}");
    assert!(o.taken.forward && o.taken.oif.is_none());
    assert!(
        o.unevaluated.iter().any(|r| r.text.contains("-o docker0")),
        "{o:#?}"
    );
    // With them, the walk follows the DNAT to 172.17.0.2:80 out of docker0, where
    // Docker's own chain accepts it, and the SYN-ACK comes back through FORWARD.
    let c = Compiled::new(&f.tables).with_host(bridge_host());
    let syn = Packet::tcp_syn(v4(), 8080, "eth0");
    let o = c.decide_connection(&syn);
    assert_eq!(o.decision, Decision::Accept, "{o:#?}");
    assert!(o.taken.forward);
    assert_eq!(o.taken.oif.as_deref(), Some("docker0"));
    let (rule, ip, port) = o.taken.nat.clone().unwrap();
    assert!(rule.text.contains("--to-destination 172.17.0.2:80"));
    assert_eq!((ip.to_string(), port), ("172.17.0.2".to_string(), 80));
    assert!(o.accepted_by.iter().any(|r| r.chain == "DOCKER"), "{o:#?}");
    assert_eq!(
        o.taken.describe(),
        format!(
            "prerouting DNAT to 172.17.0.2:80 ({}), then forward out of docker0",
            rule.describe()
        )
    );
    // The host's own port 80 is still input.
    let o = c.decide_connection(&Packet::tcp_syn(v4(), 80, "eth0"));
    assert_eq!(o.decision, Decision::Accept);
    assert!(!o.taken.forward && o.taken.nat.is_none());
    // With forwarding off the kernel drops the DNAT'd packet.
    let mut h = bridge_host();
    h.forwarding = (Some(false), Some(false));
    let o = Compiled::new(&f.tables).with_host(h).decide(&syn);
    assert_eq!(o.decision, Decision::Drop);
    assert!(o.taken.not_forwarded);
    // No IPv6 rules at all.
    assert_eq!(tcp(&f, Family::V6, 443).decision, Decision::Accept);
}

#[test]
fn fail2ban_bans_only_the_banned() {
    let f = recorded!("fail2ban");
    assert!(f.has(Backend::Fail2ban), "{:?}", f.backends);
    for family in Family::BOTH {
        let o = tcp(&f, family, 80);
        assert_eq!(o.decision, Decision::Accept, "{o:#?}");
        path_has(&o, "f2b-sshd");
    }
    for (src, port) in [
        ("198.51.100.77", 22),
        ("203.0.113.66", 443),
        ("2001:db8:bad::1", 80),
        ("2001:db8:bad::2", 80),
    ] {
        let saddr: IpAddr = src.parse().unwrap();
        let mut p = Packet::tcp_syn(Family::of(saddr).pick(v4(), v6()), port, "eth0");
        p.saddr = Some(saddr);
        assert_eq!(decide(&f.tables, &p).decision, Decision::Reject, "{src}");
    }
}
