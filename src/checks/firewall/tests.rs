//! Unit tests of the firewall checks, from recorded rulesets.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::firewall::{FirewallFacts, Source};
use crate::facts::{ProbeErrorKind, Probed};
use crate::model::{CheckId, Family, Status};
use crate::parse::iptables;
use crate::verdict::verdict;

fn with_save(v4: &str, v6: &str, source: Source) -> FirewallFacts {
    let mut tables = iptables::parse(v4, Family::V4, source).tables;
    tables.extend(iptables::parse(v6, Family::V6, source).tables);
    FirewallFacts {
        backends: crate::probe::firewall::backends(&tables),
        tables,
        ..Default::default()
    }
}

const OPEN_V4: &str = "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\nCOMMIT\n";

#[test]
fn strict_ruleset_passes() {
    let fs = evaluate(&healthy(), &options());
    for id in [CheckId::FirewallIpv4, CheckId::FirewallIpv6] {
        let fd = expect(&fs, id, Some(80), Status::Pass);
        assert_line(&fd.evidence, "accepted by nft inet filter chain input");
    }
    assert_eq!(status(&fs, CheckId::FirewallIcmpv6, None), Status::Pass);
    assert_eq!(status(&fs, CheckId::FirewallExposure, None), Status::Pass);
}

#[test]
fn ip6tables_drop_fails_ipv6_only_with_rule_and_fix() {
    let mut f = healthy();
    let v6 = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 80 -j DROP\nCOMMIT\n";
    f.firewall = Probed::ok(with_save("", v6, Source::IptablesLegacy));
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::FirewallIpv4, Some(80)), Status::Pass);
    let fd = expect(&fs, CheckId::FirewallIpv6, Some(80), Status::Fail);
    assert_has(&fd.summary, "drops");
    assert_has(&fd.summary, "--dport 80 -j DROP");
    assert_has(&fd.explanation, "ip6tables");
    let cmds = fd.fixes[0].commands.join("\n");
    assert_has(
        &cmds,
        "ip6tables-legacy -t filter -I INPUT -p tcp --dport 80 -j ACCEPT",
    );
    assert_has(&cmds, "ip6tables-legacy-save > /etc/iptables/rules.v6");
    assert_eq!(verdict(&fs).check, Some(CheckId::FirewallIpv6));
}

#[test]
fn policy_drop_without_icmpv6_fails_icmpv6() {
    let mut f = healthy();
    f.firewall = Probed::ok(with_save(OPEN_V4, OPEN_V4, Source::IptablesNft));
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::FirewallIpv6, Some(80)), Status::Pass);
    let fd = expect(&fs, CheckId::FirewallIcmpv6, None, Status::Fail);
    assert_has(&fd.summary, "neighbour solicitation (135)");
    // packet-too-big is related to the connection: admitted.
    assert!(!fd.summary.contains("packet too big"), "{}", fd.summary);
    assert_has(&fd.fixes[0].commands[0], "ip6tables -I INPUT -p ipv6-icmp");
}

#[test]
fn exposure_names_port_and_process() {
    let mut f = healthy();
    let v4 = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 5432 -j DROP\nCOMMIT\n";
    f.firewall = Probed::ok(with_save(v4, "", Source::IptablesNft));
    if let Ok(l) = f.listeners.result.as_mut() {
        let mut pg = listener("::", 5432, Some(false));
        pg.process = Some("postgres".into());
        pg.pid = Some(4242);
        l.push(pg);
    }
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallExposure, None, Status::Fail);
    assert_has(
        &fd.summary,
        "port 5432 (postgres pid 4242) is open over IPv6",
    );
    assert_has(
        &fd.fixes[0].commands[0],
        "ip6tables -I INPUT -p tcp --dport 5432 -j DROP",
    );
    assert_eq!(status(&fs, CheckId::FirewallIpv4, Some(80)), Status::Pass);
}

#[test]
fn unreadable_filter_is_an_error_saying_root() {
    let mut f = healthy();
    f.firewall = Probed::err(
        ProbeErrorKind::Permission,
        "reading the packet filter needs root (CAP_NET_ADMIN): run dsdoctor as root",
    );
    let fs = evaluate(&f, &options());
    for (id, port) in [
        (CheckId::FirewallIpv4, Some(80)),
        (CheckId::FirewallIpv6, Some(80)),
        (CheckId::FirewallIcmpv6, None),
        (CheckId::FirewallExposure, None),
    ] {
        let fd = expect(&fs, id, port, Status::Error);
        assert_has(&fd.summary, "root");
    }
}

#[test]
fn ipv6_disabled_skips_with_cause() {
    let mut f = healthy();
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.disable_ipv6.insert("all".into(), 1);
    }
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallIpv6, Some(80), Status::Skip);
    assert_eq!(
        fd.caused_by.map(|c| c.check),
        Some(CheckId::AddressIpv6Enabled)
    );
    assert_eq!(status(&fs, CheckId::FirewallIcmpv6, None), Status::Skip);
}

#[test]
fn uncertain_rule_warns_with_the_rule() {
    let mut f = healthy();
    let v4 =
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -m set --match-set allowed src -j ACCEPT\nCOMMIT\n";
    f.firewall = Probed::ok(with_save(v4, "", Source::IptablesNft));
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallIpv4, Some(80), Status::Warn);
    assert_has(&fd.summary, "match-set allowed");
}

#[test]
fn outside_probe_failing_while_host_admits_reminds_of_the_security_group() {
    let mut f = healthy();
    // Built from JSON so the test does not depend on the ISP stage's every field.
    let isp: crate::facts::isp::IspFacts = serde_json::from_value(serde_json::json!({
        "egress": [], "echo": [], "http": [], "smtp": [], "acme": null, "resources": null,
        "inbound": [{
            "port": 80, "v6": true, "url": "https://echo.example/port/80",
            "answer": {"result": {"Ok": {"ip": "2001:db8:1::10", "reachable": false}}, "ms": 5}
        }]
    }))
    .expect("isp facts");
    f.isp = Probed::ok(isp);
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallIpv6, Some(80), Status::Pass);
    assert_line(&fd.evidence, "could not connect");
    assert!(
        fd.fixes.iter().any(|x| x.title.contains("security group")),
        "{:?}",
        fd.fixes
    );
    assert!(find(&fs, CheckId::FirewallIpv4, Some(80)).fixes.is_empty());
}

/// Found by the lab's kernel oracle: a filter that admits the SYN but rejects the
/// connection's later packets (conntrack state established) kills every connection;
/// the port was reported open.
#[test]
fn established_packets_shut_fail_the_port() {
    let mut f = healthy();
    let v6 = "*filter\n:INPUT ACCEPT [0:0]\n\
              -A INPUT -m state --state ESTABLISHED -j REJECT --reject-with icmp6-adm-prohibited\nCOMMIT\n";
    f.firewall = Probed::ok(with_save(OPEN_V4, v6, Source::IptablesNft));
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::FirewallIpv4, Some(80)), Status::Pass);
    let fd = expect(&fs, CheckId::FirewallIpv6, Some(80), Status::Fail);
    assert_has(&fd.summary, "rejects the packets after the first");
    assert_has(&fd.summary, "--state ESTABLISHED -j REJECT");
    assert!(!fd.fixes.is_empty(), "a fix: {fd:?}");
}
