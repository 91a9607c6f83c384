//! Unit tests of the firewall checks, from recorded rulesets.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::firewall::Source;
use crate::facts::{ProbeErrorKind, Probed};
use crate::model::{CheckId, Family, Status};
use crate::verdict::verdict;

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

/// The router's reachability probe is a solicitation to this host's own address, not
/// to its solicited-node group: a rule that admits ICMPv6 only when it is not addressed
/// to the host (seen in the kernel oracle, seed 5) lets discovery work and the probes
/// die.
#[test]
fn dropped_reachability_probes_fail_icmpv6() {
    let v6 = |probe: &str| {
        format!(
            "*filter\n:INPUT DROP [0:0]\n\
             -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A INPUT -p tcp --dport 80 -j ACCEPT\n\
             -A INPUT ! -d 2001:db8:1::10 -j ACCEPT\n\
             -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT\n{probe}COMMIT\n"
        )
    };
    let mut f = healthy();
    f.firewall = Probed::ok(with_save(OPEN_V4, &v6(""), Source::IptablesNft));
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallIcmpv6, None, Status::Fail);
    assert_has(
        &fd.summary,
        "drops ICMPv6 neighbour solicitation to this host's address (135): the router's reachability probes go unanswered",
    );
    assert_line(
        &fd.evidence,
        "ICMPv6 type 135 (neighbour solicitation): accepted",
    );
    assert_has(&fd.fixes[0].commands[0], "ip6tables -I INPUT -p ipv6-icmp");
    // The healthy twin admits solicitations wherever they are addressed.
    let probe = "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n";
    f.firewall = Probed::ok(with_save(OPEN_V4, &v6(probe), Source::IptablesNft));
    let fs = evaluate(&f, &options());
    expect(&fs, CheckId::FirewallIcmpv6, None, Status::Pass);
}

/// An output default-deny that lets TCP answers out but no ICMPv6: the host cannot
/// answer the router's neighbour solicitation nor ask for the router's address, so
/// IPv6 dies while IPv4 (ARP is not filtered here) works. The healthy twin lets
/// ICMPv6 out; the CIS benchmark's `-p icmp` (IPv4's protocol) shuts both ways and
/// gets a fix for each chain.
#[test]
fn output_default_deny_without_icmpv6_fails_icmpv6() {
    let v6 = |input_icmp: &str, output_icmp: &str| {
        format!(
            "*filter\n:INPUT DROP [0:0]\n:OUTPUT DROP [0:0]\n\
             -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A INPUT -p {input_icmp} -j ACCEPT\n-A INPUT -p tcp --dport 80 -j ACCEPT\n\
             -A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A OUTPUT -p {output_icmp} -j ACCEPT\nCOMMIT\n"
        )
    };
    let mut f = healthy();
    let broken = v6("ipv6-icmp", "icmp");
    f.firewall = Probed::ok(with_save(OPEN_V4, &broken, Source::IptablesNft));
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::FirewallIpv6, Some(80)), Status::Pass);
    let fd = expect(&fs, CheckId::FirewallIcmpv6, None, Status::Fail);
    assert_has(
        &fd.summary,
        "neighbour advertisement (136), neighbour solicitation (135), router solicitation (133) sent by this host",
    );
    assert_line(
        &fd.evidence,
        "sent by this host: ICMPv6 type 136 (neighbour advertisement): drop by ip6tables -t filter OUTPUT: policy drop",
    );
    assert_line(
        &fd.evidence,
        "ICMPv6 type 135 (neighbour solicitation): accepted",
    );
    assert_eq!(fd.fixes.len(), 1, "{:?}", fd.fixes);
    assert_has(&fd.fixes[0].commands[0], "ip6tables -I OUTPUT -p ipv6-icmp");
    // Both ways shut: a fix for INPUT and one for OUTPUT.
    f.firewall = Probed::ok(with_save(OPEN_V4, &v6("icmp", "icmp"), Source::IptablesNft));
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallIcmpv6, None, Status::Fail);
    assert_has(
        &fd.summary,
        "neighbour solicitation (135), neighbour advertisement (136), router advertisement (134), router solicitation (133), neighbour solicitation to this host's address (135), and neighbour advertisement (136)",
    );
    let cmds: Vec<&str> = fd.fixes.iter().map(|x| x.commands[0].as_str()).collect();
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    assert_has(cmds[0], "-I INPUT -p ipv6-icmp");
    assert_has(cmds[1], "-I OUTPUT -p ipv6-icmp");
    // The healthy twin.
    f.firewall = Probed::ok(with_save(
        OPEN_V4,
        &v6("ipv6-icmp", "ipv6-icmp"),
        Source::IptablesNft,
    ));
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallIcmpv6, None, Status::Pass);
    assert_line(
        &fd.evidence,
        "sent by this host: ICMPv6 type 135 (neighbour solicitation): accepted",
    );
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

fn options_ports(ports: &[u16]) -> crate::options::Options {
    let mut o = options();
    o.target.ports = ports.to_vec();
    o
}

/// A host with Docker's bridge: docker0 172.17.0.1/16 (and fd00:d0c::1/64), its routes,
/// forwarding on for both families.
fn docker_host() -> crate::facts::Facts {
    use crate::facts::Route;
    let mut f = healthy();
    let bridge = vec![addr("172.17.0.1", 16), addr("fd00:d0c::1", 64)];
    add_link(&mut f, ethernet(3, "docker0", bridge));
    if let Ok(r) = f.routes.result.as_mut() {
        for (fam, dst) in [(Family::V4, "172.17.0.0/16"), (Family::V6, "fd00:d0c::/64")] {
            r.push(Route {
                family: fam,
                dst: Some(dst.parse().unwrap()),
                gateway: None,
                dev: Some("docker0".into()),
                metric: None,
                protocol: "kernel".into(),
                more_gateways: Vec::new(),
            });
        }
    }
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.ip_forward = Some(1);
        s.forwarding_v6.insert("all".into(), 1);
    }
    f
}

/// Docker's chains for `-p 80:80` of a container at 172.17.0.2 / fd00:d0c::2 (the shape
/// of tests/fixtures/firewall/oracle/docker27-*.rules), with the host's own INPUT shut.
fn docker_save(family: Family, forward_policy: &str) -> String {
    let (ctr, bridge_net) = family.pick(
        ("172.17.0.2", "172.17.0.0/16"),
        ("fd00:d0c::2", "fd00:d0c::/64"),
    );
    format!(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD {forward_policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n:DOCKER-USER - [0:0]\n\
         -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
         -A INPUT -p tcp --dport 22 -j ACCEPT\n\
         -A FORWARD -j DOCKER-USER\n\
         -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
         -A FORWARD -o docker0 -j DOCKER\n\
         -A FORWARD -i docker0 ! -o docker0 -j ACCEPT\n\
         -A DOCKER -d {ctr} ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT\n\
         -A DOCKER-USER -j RETURN\nCOMMIT\n\
         *nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n\
         -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n\
         -A POSTROUTING -s {bridge_net} ! -o docker0 -j MASQUERADE\n\
         -A DOCKER -i docker0 -j RETURN\n\
         -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination {}:80\nCOMMIT\n",
        family.pick(ctr.to_string(), format!("[{ctr}]"))
    )
}

#[test]
fn published_port_is_walked_through_dnat_and_forward() {
    let mut f = docker_host();
    let v4 = docker_save(Family::V4, "ACCEPT");
    // IPv6: Docker 27 with ip6tables, but a FORWARD policy drop (and no accept for the
    // container in DOCKER, as when ip6tables was turned on after the container started).
    let v6 = docker_save(Family::V6, "DROP")
        .replace("-A DOCKER -d fd00:d0c::2", "-A DOCKER -d fd00:d0c::99");
    f.firewall = Probed::ok(with_save(&v4, &v6, Source::IptablesNft));
    let opts = options_ports(&[8080]);
    let fs = evaluate(&f, &opts);
    let fd = expect(&fs, CheckId::FirewallIpv4, Some(8080), Status::Pass);
    assert_has(&fd.summary, "port 8080 (DNAT to 172.17.0.2:80, forwarded)");
    assert_line(&fd.evidence, "path taken: prerouting DNAT to 172.17.0.2:80");
    assert_line(&fd.evidence, "then forward out of docker0");
    assert_line(&fd.evidence, "accepted by iptables -t filter DOCKER");
    let fd = expect(&fs, CheckId::FirewallIpv6, Some(8080), Status::Fail);
    assert_has(&fd.summary, "DNAT to [fd00:d0c::2]:80, forwarded");
    assert_has(&fd.summary, "ip6tables -t filter FORWARD: policy drop");
    // The rule to add sees the container's port, in the chain that dropped it.
    assert_has(
        &fd.fixes[0].commands[0],
        "ip6tables -t filter -I FORWARD -p tcp --dport 80 -j ACCEPT",
    );
}

#[test]
fn published_port_without_forwarding_fails_naming_the_sysctl() {
    let mut f = docker_host();
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.ip_forward = Some(0);
    }
    f.firewall = Probed::ok(with_save(
        &docker_save(Family::V4, "ACCEPT"),
        "",
        Source::IptablesNft,
    ));
    let fs = evaluate(&f, &options_ports(&[8080]));
    let fd = expect(&fs, CheckId::FirewallIpv4, Some(8080), Status::Fail);
    assert_has(&fd.summary, "net.ipv4.ip_forward is 0");
    assert_has(&fd.fixes[0].commands[0], "sysctl -w net.ipv4.ip_forward=1");
}

/// CIS-style hardening: OUTPUT policy drop. Without an established accept on output the
/// SYN-ACK never leaves; with one (the healthy twin) the port is open.
#[test]
fn output_default_deny_kills_the_syn_ack() {
    let v4 = |out: &str| {
        format!(
            "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n\
             -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A INPUT -p tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT\n\
             -A OUTPUT -o lo -j ACCEPT\n-A OUTPUT -p tcp -m conntrack --ctstate NEW -j ACCEPT\n{out}COMMIT\n"
        )
    };
    let mut f = healthy();
    f.firewall = Probed::ok(with_save(&v4(""), &v4(""), Source::IptablesLegacy));
    let fs = evaluate(&f, &options());
    for id in [CheckId::FirewallIpv4, CheckId::FirewallIpv6] {
        let fd = expect(&fs, id, Some(80), Status::Fail);
        assert_has(&fd.summary, "the answers (SYN-ACK");
        assert_has(&fd.summary, "leaving through output");
        assert_has(&fd.summary, "OUTPUT: policy drop");
        assert_has(
            &fd.fixes[0].commands[0],
            "-t filter -I OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        );
    }
    let healthy_out = "-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n";
    f.firewall = Probed::ok(with_save(
        &v4(healthy_out),
        &v4(healthy_out),
        Source::IptablesLegacy,
    ));
    let fs = evaluate(&f, &options());
    for id in [CheckId::FirewallIpv4, CheckId::FirewallIpv6] {
        expect(&fs, id, Some(80), Status::Pass);
    }
}

/// Docker bypassing ufw: the published port 8080 is shut by INPUT's policy, admitted in
/// FORWARD by Docker's chain.
#[test]
fn exposure_names_a_published_port_that_bypasses_the_input_rules() {
    let mut f = docker_host();
    f.firewall = Probed::ok(with_save(
        &docker_save(Family::V4, "ACCEPT"),
        "",
        Source::IptablesNft,
    ));
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallExposure, None, Status::Fail);
    assert_has(
        &fd.summary,
        "port 8080 is published over IPv4 to 172.17.0.2:80",
    );
    assert_has(&fd.summary, "bypass the INPUT rules");
    assert_line(
        &fd.evidence,
        "the input chains alone would stop it at iptables -t filter INPUT: policy drop",
    );
    let cmds = fd.fixes[0].commands.join("\n");
    assert_has(
        &cmds,
        "iptables -I DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 8080 -j DROP",
    );
    // IPv6 is not published (Docker before 27 writes no ip6tables chains, where an
    // `ip6tables -I DOCKER-USER` would be refused): no line for it.
    assert!(!cmds.contains("ip6tables"), "{cmds}");
    // Published over both families: a rule for each.
    f.firewall = Probed::ok(with_save(
        &docker_save(Family::V4, "ACCEPT"),
        &docker_save(Family::V6, "ACCEPT"),
        Source::IptablesNft,
    ));
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallExposure, None, Status::Fail);
    assert_has(&fd.summary, "published over IPv6 to [fd00:d0c::2]:80");
    let cmds = fd.fixes[0].commands.join("\n");
    assert_has(&cmds, "iptables -I DOCKER-USER -i eth0");
    assert_has(&cmds, "ip6tables -I DOCKER-USER -i eth0");
    // The healthy twin: the admin filters the port in DOCKER-USER, nothing bypasses.
    let shut = docker_save(Family::V4, "ACCEPT").replace(
        "-A DOCKER-USER -j RETURN",
        "-A DOCKER-USER -d 172.17.0.2 -p tcp --dport 80 -j DROP\n-A DOCKER-USER -j RETURN",
    );
    f.firewall = Probed::ok(with_save(&shut, "", Source::IptablesNft));
    let fs = evaluate(&f, &options());
    expect(&fs, CheckId::FirewallExposure, None, Status::Pass);
}

/// The exposure fix as dsdoctor writes it, applied: the published port is shut for
/// everyone before Docker's accept (a certain answer, named by the fix's rule), and
/// nothing bypasses the input rules any more.
#[test]
fn the_exposure_fix_applied_shuts_the_published_port() {
    let mut f = docker_host();
    let broken = docker_save(Family::V4, "ACCEPT");
    f.firewall = Probed::ok(with_save(&broken, "", Source::IptablesNft));
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallExposure, None, Status::Fail);
    let rule = fd.fixes[0]
        .commands
        .iter()
        .find_map(|c| c.strip_prefix("iptables -I DOCKER-USER "))
        .expect("an iptables DOCKER-USER rule among the fix commands")
        .split("   #")
        .next()
        .unwrap_or_default()
        .to_string();
    let fixed = broken.replace(
        "-A DOCKER-USER -j RETURN",
        &format!("-A DOCKER-USER {rule}\n-A DOCKER-USER -j RETURN"),
    );
    f.firewall = Probed::ok(with_save(&fixed, "", Source::IptablesNft));
    expect(
        &evaluate(&f, &options()),
        CheckId::FirewallExposure,
        None,
        Status::Pass,
    );
    let fs = evaluate(&f, &options_ports(&[8080]));
    let fd = expect(&fs, CheckId::FirewallIpv4, Some(8080), Status::Fail);
    assert_has(&fd.summary, "DOCKER-USER");
}

/// A second uplink takes the IPv4 default route (the lower metric) while the site's
/// address is on eth0: strict reverse-path filtering drops every IPv4 connection before
/// any rule, IPv6 works. Loose mode (the healthy twin, systemd's default) does not.
#[test]
fn strict_rp_filter_with_the_default_route_elsewhere_fails_ipv4() {
    let mut f = healthy();
    if let Ok(rs) = f.routes.result.as_mut() {
        let mut second = rs[0].clone();
        rs[0].metric = Some(200);
        second.dev = Some("eth1".into());
        second.gateway = "192.0.2.1".parse().ok();
        second.metric = Some(100);
        rs.push(second);
    }
    f.firewall = Probed::ok(with_save(OPEN_V4, OPEN_V4, Source::IptablesNft));
    // CIS's setting: strict for all interfaces (the higher of `all` and the interface's
    // own applies).
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.rp_filter.insert("all".into(), 1);
        s.rp_filter.insert("eth0".into(), 1);
    }
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::FirewallIpv4, Some(80), Status::Fail);
    assert_has(&fd.summary, "arriving on eth0 before any rule");
    assert_has(&fd.summary, "on eth1, where the IPv4 default route leaves");
    assert_line(
        &fd.evidence,
        "reverse-path filter: net.ipv4.conf.all.rp_filter = 1, net.ipv4.conf.eth0.rp_filter = 1",
    );
    assert_has(
        &fd.fixes[0].commands[0],
        "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2",
    );
    assert_eq!(status(&fs, CheckId::FirewallIpv6, Some(80)), Status::Pass);
    assert_eq!(verdict(&fs).check, Some(CheckId::FirewallIpv4));
    // Loose on eth0 (the higher applies): nothing dropped.
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.rp_filter.insert("eth0".into(), 2);
    }
    let fs = evaluate(&f, &options());
    expect(&fs, CheckId::FirewallIpv4, Some(80), Status::Pass);
}
