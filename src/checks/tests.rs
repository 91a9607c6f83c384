//! Unit tests of the checks: a healthy fixture, broken one way per test.

use super::evaluate;
use super::fixtures::*;
use crate::facts::*;
use crate::model::{CheckId, Family, Status};
use crate::parse::sysctl_conf::SysctlSetting;
use crate::verdict::verdict;

#[test]
fn healthy_host_passes_every_implemented_check() {
    let fs = evaluate(&healthy(), &options());
    let bad: Vec<_> = fs
        .iter()
        .filter(|f| !matches!(f.status, Status::Pass | Status::Skip))
        .map(|f| format!("{} {:?}: {}", f.id, f.status, f.summary))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(verdict(&fs).check, None);
    // every contract id is present, per-port ones once per port
    for id in CheckId::ALL {
        assert!(fs.iter().any(|f| f.id == *id), "missing {id}");
    }
}

#[test]
fn aaaa_pointing_elsewhere_fails_dns_with_a_fix() {
    let mut f = healthy();
    f.dns.aaaa = records(&["2001:db8:1::99"]);
    let fs = evaluate(&f, &options());
    let fd = find(&fs, CheckId::DnsAaaaTarget, None);
    assert_eq!(fd.status, Status::Fail);
    assert!(fd.summary.contains("2001:db8:1::99"), "{}", fd.summary);
    assert!(fd.fixes[0].title.contains("AAAA"));
    assert!(
        fd.fixes[0]
            .commands
            .iter()
            .any(|c| c.contains("2001:db8:1::10")),
        "{:?}",
        fd.fixes
    );
    assert_eq!(verdict(&fs).check, Some(CheckId::DnsAaaaTarget));
}

#[test]
fn aaaa_mismatch_caused_by_disabled_ipv6_is_an_address_verdict() {
    let mut f = healthy();
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.disable_ipv6.insert("all".into(), 1);
        s.disable_ipv6.insert("eth0".into(), 1);
    }
    eth0(&mut f).addrs.retain(|a| a.ip.is_ipv4());
    f.listeners = Probed::ok(vec![listener("0.0.0.0", 80, None)]);
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsAaaaTarget, None), Status::Fail);
    assert_eq!(status(&fs, CheckId::AddressIpv6Enabled, None), Status::Fail);
    let fix = &find(&fs, CheckId::AddressIpv6Enabled, None).fixes[0];
    assert!(
        fix.commands
            .contains(&"sysctl -w net.ipv6.conf.eth0.disable_ipv6=0".to_string()),
        "{fix:?}"
    );
    let v = verdict(&fs);
    assert_eq!(v.check, Some(CheckId::AddressIpv6Enabled));
    assert_eq!(
        find(&fs, CheckId::ListenerIpv6, Some(80))
            .caused_by
            .map(|c| c.check),
        Some(CheckId::AddressIpv6Enabled)
    );
}

#[test]
fn missing_a_record_fails() {
    let mut f = healthy();
    f.dns.a = Probed::ok(DnsAnswer::NoData);
    for s in &mut f.dns.servers {
        s.a = Probed::ok(DnsAnswer::NoData);
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsA, None), Status::Fail);
    assert_eq!(status(&fs, CheckId::DnsATarget, None), Status::Skip);
    assert_eq!(verdict(&fs).check, Some(CheckId::DnsA));
}

#[test]
fn expect_ipv6_skips_ipv4_checks() {
    let mut f = healthy();
    f.dns.a = Probed::ok(DnsAnswer::NoData);
    let mut o = options();
    o.target.expect = crate::model::Expect::Ipv6;
    let fs = evaluate(&f, &o);
    assert_eq!(status(&fs, CheckId::DnsA, None), Status::Skip);
    assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Skip);
    assert_eq!(status(&fs, CheckId::RouteIpv4Default, None), Status::Skip);
}

#[test]
fn a_behind_nat_is_a_warning_not_a_failure() {
    let mut f = healthy();
    eth0(&mut f).addrs[0] = addr("10.0.0.10", 24);
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsATarget, None), Status::Warn);
    assert_eq!(status(&fs, CheckId::AddressGlobalIpv4, None), Status::Warn);
}

#[test]
fn a_in_private_range_fails_without_assume_public() {
    let mut f = healthy();
    f.dns.a = records(&["192.168.1.10"]);
    let fs = evaluate(&f, &options());
    let fd = find(&fs, CheckId::DnsATarget, None);
    assert_eq!(fd.status, Status::Fail);
    assert!(
        fd.evidence.iter().any(|e| e.contains("private")),
        "{:?}",
        fd.evidence
    );
}

#[test]
fn documentation_addresses_are_not_public_by_default() {
    let mut o = options();
    o.assume_public.clear();
    let fs = evaluate(&healthy(), &o);
    assert_eq!(status(&fs, CheckId::DnsAaaaTarget, None), Status::Fail);
    assert_eq!(status(&fs, CheckId::AddressGlobalIpv6, None), Status::Fail);
}

#[test]
fn cgnat_address_fails_global_ipv4() {
    let mut f = healthy();
    eth0(&mut f).addrs[0] = addr("100.64.3.4", 10);
    let fs = evaluate(&f, &options());
    let fd = find(&fs, CheckId::AddressGlobalIpv4, None);
    assert_eq!(fd.status, Status::Fail);
    assert!(fd.summary.contains("carrier-grade"));
}

#[test]
fn link_local_only_host_fails_global_ipv6() {
    let mut f = healthy();
    eth0(&mut f).addrs.retain(|a| a.ip != ip("2001:db8:1::10"));
    let fs = evaluate(&f, &options());
    let fd = find(&fs, CheckId::AddressGlobalIpv6, None);
    assert_eq!(fd.status, Status::Fail);
    assert!(fd.summary.contains("link-local"), "{}", fd.summary);
    assert_eq!(
        find(&fs, CheckId::DnsAaaaTarget, None)
            .caused_by
            .map(|c| c.check),
        Some(CheckId::AddressGlobalIpv6)
    );
    assert_eq!(verdict(&fs).check, Some(CheckId::AddressGlobalIpv6));
}

#[test]
fn dadfailed_address_is_named() {
    let mut f = healthy();
    eth0(&mut f).addrs[1].dadfailed = true;
    let fs = evaluate(&f, &options());
    let fd = find(&fs, CheckId::AddressGlobalIpv6, None);
    assert_eq!(fd.status, Status::Fail);
    assert!(fd.summary.contains("duplicate"));
    assert_eq!(verdict(&fs).check, Some(CheckId::AddressGlobalIpv6));
}

#[test]
fn sysctl_file_that_disables_ipv6_names_file_and_line() {
    let mut f = healthy();
    f.sysctl_files = Probed::ok(vec![SysctlSetting {
        key: "net.ipv6.conf.all.disable_ipv6".into(),
        value: "1".into(),
        file: "/etc/sysctl.d/99-hardening.conf".into(),
        line: 7,
        exclude: false,
        ignore_failure: false,
    }]);
    let fs = evaluate(&f, &options());
    let fd = find(&fs, CheckId::AddressIpv6Persistent, None);
    assert_eq!(fd.status, Status::Fail);
    assert!(
        fd.summary.contains("/etc/sysctl.d/99-hardening.conf:7"),
        "{}",
        fd.summary
    );
    assert!(fd.summary.contains("next boot"));
    assert!(
        fd.fixes[0].commands[0].contains("sed -i '7s/^/# /' /etc/sysctl.d/99-hardening.conf"),
        "{:?}",
        fd.fixes
    );
    assert_eq!(status(&fs, CheckId::AddressIpv6Enabled, None), Status::Pass);
}

#[test]
fn ipv4_only_listener_fails_ipv6_and_names_nginx_line() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![listener("0.0.0.0", 80, None)]);
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx = vec![nginx(
            "server {\n    listen 80;\n    server_name shop.example;\n}\n",
        )];
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Pass);
    let l6 = find(&fs, CheckId::ListenerIpv6, Some(80));
    assert_eq!(l6.status, Status::Fail);
    let cfg = find(&fs, CheckId::ListenerConfig, Some(80));
    assert_eq!(cfg.status, Status::Fail);
    assert!(
        cfg.summary.contains("/etc/nginx/sites/shop.conf:1"),
        "{}",
        cfg.summary
    );
    assert!(cfg.summary.contains("listen [::]:80;"), "{}", cfg.summary);
    assert!(
        cfg.fixes[0].commands[0].contains("sed -i '2a"),
        "{:?}",
        cfg.fixes
    );
    assert_eq!(verdict(&fs).check, Some(CheckId::ListenerIpv6));
}

#[test]
fn v6only_listener_refuses_ipv4() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![listener("::", 8080, Some(true))]);
    let mut o = options();
    o.target.ports = vec![8080];
    let fs = evaluate(&f, &o);
    let l4 = find(&fs, CheckId::ListenerIpv4, Some(8080));
    assert_eq!(l4.status, Status::Fail);
    assert!(l4.summary.contains("IPV6_V6ONLY"), "{}", l4.summary);
    assert_eq!(status(&fs, CheckId::ListenerIpv6, Some(8080)), Status::Pass);
}

#[test]
fn dual_stack_socket_without_v6only_serves_both() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![listener("::", 80, Some(false))]);
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Pass);
    assert_eq!(status(&fs, CheckId::ListenerIpv6, Some(80)), Status::Pass);
}

#[test]
fn nginx_ipv6_only_block_wants_plain_listen() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![listener("::", 80, Some(true))]);
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx = vec![nginx(
            "server {\n    listen [::]:80;\n    server_name shop.example;\n}\n",
        )];
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Fail);
    let cfg = find(&fs, CheckId::ListenerConfig, Some(80));
    assert_eq!(cfg.status, Status::Fail);
    assert!(cfg.summary.contains("`listen 80;`"), "{}", cfg.summary);
}

#[test]
fn loopback_only_listener_fails() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![
        listener("127.0.0.1", 80, None),
        listener("::1", 80, Some(true)),
    ]);
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Fail);
    assert_eq!(status(&fs, CheckId::ListenerIpv6, Some(80)), Status::Fail);
}

#[test]
fn other_web_server_skips_config_with_reason() {
    let mut f = healthy();
    let mut ls = vec![
        listener("0.0.0.0", 80, None),
        listener("::", 80, Some(true)),
    ];
    for l in &mut ls {
        l.process = Some("caddy".into());
    }
    f.listeners = Probed::ok(ls);
    let fs = evaluate(&f, &options());
    let cfg = find(&fs, CheckId::ListenerConfig, Some(80));
    assert_eq!(cfg.status, Status::Skip);
    assert!(cfg.summary.contains("caddy"));
}

#[test]
fn no_ipv6_default_route_fails_and_nameservers_over_ipv6_skip() {
    let mut f = healthy();
    if let Ok(r) = f.routes.result.as_mut() {
        r.retain(|r| r.family == Family::V4);
    }
    for s in f.dns.servers.iter_mut().filter(|s| s.server.is_ipv6()) {
        s.a = Probed::err(
            ProbeErrorKind::NotRun,
            "not run: this host has no IPv6 default route",
        );
        s.aaaa = s.a.clone();
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::RouteIpv6Default, None), Status::Fail);
    assert_eq!(status(&fs, CheckId::RouteIpv6Gateway, None), Status::Skip);
    let ns = find(&fs, CheckId::DnsNameservers, None);
    assert_eq!(ns.status, Status::Skip);
    assert!(ns.summary.contains(CheckId::RouteIpv6Default.as_str()));
    assert_eq!(verdict(&fs).check, Some(CheckId::RouteIpv6Default));
}

#[test]
fn forwarding_host_ignoring_ra_is_the_root_cause() {
    let mut f = healthy();
    if let Ok(r) = f.routes.result.as_mut() {
        r.retain(|r| r.family == Family::V4);
    }
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.forwarding_v6.insert("eth0".into(), 1);
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::RouteIpv6Ra, None), Status::Fail);
    assert_eq!(verdict(&fs).check, Some(CheckId::RouteIpv6Ra));
}

#[test]
fn dead_gateway_fails_but_unprivileged_ping_is_an_error() {
    let mut f = healthy();
    f.gateway_pings[1].rtt_ms = Probed::err(ProbeErrorKind::Timeout, "no echo reply");
    if let Ok(n) = f.neighbours.result.as_mut() {
        n[1].state = "failed".into();
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::RouteIpv6Gateway, None), Status::Fail);

    let mut f = healthy();
    f.gateway_pings[0].rtt_ms = Probed::err(
        ProbeErrorKind::Permission,
        "ICMP echo needs root or CAP_NET_RAW",
    );
    let fs = evaluate(&f, &options());
    let g = find(&fs, CheckId::RouteIpv4Gateway, None);
    assert_eq!(g.status, Status::Error);
    assert!(g.summary.contains("CAP_NET_RAW"));
}

#[test]
fn resolver_that_differs_from_authoritative_is_named() {
    let mut f = healthy();
    f.dns.servers[0].aaaa = records(&["2001:db8:1::77"]);
    f.dns.aaaa = records(&["2001:db8:1::77"]);
    let fs = evaluate(&f, &options());
    let c = find(&fs, CheckId::DnsConsistency, None);
    assert_eq!(c.status, Status::Warn);
    assert!(c.summary.contains("resolver 192.0.2.53"), "{}", c.summary);
    // the authoritative answer is the host's, the resolver's is not
    assert_eq!(status(&fs, CheckId::DnsAaaaTarget, None), Status::Fail);
}

#[test]
fn authoritative_servers_disagreeing_fails() {
    let mut f = healthy();
    f.dns.servers[3].aaaa = records(&["2001:db8:1::99"]);
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsConsistency, None), Status::Fail);
}

#[test]
fn single_nameserver_without_aaaa_warns() {
    let mut f = healthy();
    if let Ok(z) = f.dns.zone.result.as_mut() {
        z.nameservers.truncate(1);
        z.nameservers[0].aaaa.clear();
    }
    let fs = evaluate(&f, &options());
    let ns = find(&fs, CheckId::DnsNameservers, None);
    assert_eq!(ns.status, Status::Warn);
    assert!(ns.summary.contains("only 1"));
    assert!(ns.summary.contains("no AAAA"));
}

#[test]
fn missing_ptr_warns_and_fails_for_mail() {
    let mut f = healthy();
    f.dns.ptr[1].names = Probed::ok(Vec::new());
    f.dns.ptr[1].forward.clear();
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsReverse, None), Status::Warn);
    let mut o = options();
    o.target.ports = vec![25];
    f.dns.mx = Some(Probed::ok(vec![MxHost {
        preference: 10,
        name: "shop.example".into(),
        a: vec!["203.0.113.10".parse().unwrap()],
        aaaa: vec![],
    }]));
    let fs = evaluate(&f, &o);
    assert_eq!(status(&fs, CheckId::DnsReverse, None), Status::Fail);
    let mx = find(&fs, CheckId::DnsMx, None);
    assert_eq!(mx.status, Status::Fail);
    assert!(mx.summary.contains("no AAAA"));
}

#[test]
fn dns64_prefix_is_found_and_synthesised_aaaa_flagged() {
    let mut f = healthy();
    f.dns.dns64 = Probed::ok(vec!["64:ff9b::c000:aa".parse().unwrap()]);
    let fs = evaluate(&f, &options());
    let d = find(&fs, CheckId::DnsDns64, None);
    assert_eq!(d.status, Status::Pass);
    assert!(d.summary.contains("64:ff9b::/96"), "{}", d.summary);

    f.dns.aaaa = records(&["64:ff9b::cb00:710a"]);
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsDns64, None), Status::Warn);
    assert_eq!(status(&fs, CheckId::DnsAaaa, None), Status::Fail);
}

#[test]
fn nxdomain_is_a_clean_failure() {
    let mut f = healthy();
    f.dns.a = Probed::ok(DnsAnswer::NxDomain);
    f.dns.aaaa = Probed::ok(DnsAnswer::NxDomain);
    let fs = evaluate(&f, &options());
    let a = find(&fs, CheckId::DnsA, None);
    assert_eq!(a.status, Status::Fail);
    assert!(a.summary.contains("does not exist"));
}

#[test]
fn unreadable_facts_become_errors_not_panics() {
    let mut f = healthy();
    f.listeners = Probed::err(ProbeErrorKind::Permission, "sock_diag: permission denied");
    f.sysctl = Probed::err(ProbeErrorKind::Missing, "/proc/sys/net is not mounted");
    f.routes = Probed::err(ProbeErrorKind::Failed, "rtnetlink: boom");
    f.dns.a = Probed::err(ProbeErrorKind::Timeout, "no answer");
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Error);
    assert_eq!(
        status(&fs, CheckId::AddressIpv6Enabled, None),
        Status::Error
    );
    assert_eq!(status(&fs, CheckId::RouteIpv4Default, None), Status::Error);
    assert_eq!(status(&fs, CheckId::DnsA, None), Status::Error);
}

#[test]
fn every_explanation_and_fix_key_used_exists() {
    // Run the checks over many broken variants and make sure no text came out as a
    // missing-asset marker.
    let mut variants = vec![healthy()];
    let mut f = healthy();
    f.dns.aaaa = records(&["2001:db8:1::99"]);
    f.dns.a = records(&["198.51.100.1"]);
    variants.push(f);
    let mut f = healthy();
    f.listeners = Probed::ok(vec![]);
    f.routes = Probed::ok(vec![]);
    eth0(&mut f).addrs.clear();
    variants.push(f);
    for f in &variants {
        for fd in evaluate(f, &options()) {
            assert!(
                !fd.explanation.contains("(missing"),
                "{}: {}",
                fd.id,
                fd.explanation
            );
            for fix in &fd.fixes {
                assert!(!fix.title.contains("(missing"), "{}: {}", fd.id, fix.title);
            }
        }
    }
}

/// A kernel without IPv6 (`ipv6.disable=1`, or built without it): no /proc/sys/net/ipv6,
/// no IPv6 address, route, neighbour or socket, no sysctl key for it. The root cause is
/// address.ipv6_enabled, and no IPv6 check passes or blames something else.
#[test]
fn ipv6_absent_from_the_kernel_is_the_address_verdict() {
    let mut f = healthy();
    f.host.ipv6_kernel = false;
    if let Ok(links) = f.links.result.as_mut() {
        for l in links.iter_mut() {
            l.addrs.retain(|a| a.ip.is_ipv4());
        }
    }
    if let Ok(r) = f.routes.result.as_mut() {
        r.retain(|r| r.family == Family::V4);
    }
    if let Ok(n) = f.neighbours.result.as_mut() {
        n.retain(|n| n.ip.is_ipv4());
    }
    if let Ok(l) = f.listeners.result.as_mut() {
        l.retain(|l| l.ip.is_ipv4());
    }
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.disable_ipv6.clear();
        s.forwarding_v6.clear();
        s.accept_ra.clear();
        s.bindv6only = None;
    }
    f.gateway_pings.retain(|g| g.gateway.is_ipv4());
    let fs = evaluate(&f, &options());
    let en = find(&fs, CheckId::AddressIpv6Enabled, None);
    assert_eq!(en.status, Status::Fail, "{en:?}");
    assert!(
        en.summary.to_lowercase().contains("kernel"),
        "{}",
        en.summary
    );
    let v = verdict(&fs);
    assert_eq!(v.check, Some(CheckId::AddressIpv6Enabled), "{v:?}");
    let v6_checks = [
        CheckId::AddressGlobalIpv6,
        CheckId::ListenerIpv6,
        CheckId::RouteIpv6Default,
        CheckId::RouteIpv6Gateway,
        CheckId::RouteIpv6Ra,
        CheckId::FirewallIpv6,
    ];
    for id in v6_checks {
        for fd in fs.iter().filter(|x| x.id == id) {
            assert!(
                matches!(fd.status, Status::Skip | Status::Fail),
                "{id} {:?}: {}",
                fd.status,
                fd.summary
            );
            assert!(
                fd.summary.to_lowercase().contains("ipv6"),
                "{id} does not say IPv6 is the matter: {}",
                fd.summary
            );
        }
    }
    // IPv4 is untouched.
    for id in [
        CheckId::AddressGlobalIpv4,
        CheckId::ListenerIpv4,
        CheckId::RouteIpv4Default,
    ] {
        for fd in fs.iter().filter(|x| x.id == id) {
            assert_eq!(fd.status, Status::Pass, "{id}: {}", fd.summary);
        }
    }
}

/// A DNS answer longer than the probe keeps: the finding says it was cut; a snapshot
/// written before the `omitted` field existed still reads.
#[test]
fn cut_dns_answer_is_said_and_old_snapshots_still_read() {
    let mut f = healthy();
    if let Ok(DnsAnswer::Records { omitted, .. }) = f.dns.a.result.as_mut() {
        *omitted = 236;
    }
    let fs = evaluate(&f, &options());
    let a = find(&fs, CheckId::DnsA, None);
    assert!(a.summary.contains("237 records"), "{}", a.summary);
    assert!(
        a.evidence
            .iter()
            .any(|e| e.contains("answer cut: 236 more A records")),
        "{:?}",
        a.evidence
    );
    let old = r#"{"kind":"records","records":[{"ip":"203.0.113.10","ttl":300}]}"#;
    let d: DnsAnswer = serde_json::from_str(old).unwrap();
    assert_eq!(
        d,
        DnsAnswer::Records {
            records: vec![RecordIp {
                ip: "203.0.113.10".parse().unwrap(),
                ttl: 300
            }],
            omitted: 0
        }
    );
    assert_eq!(serde_json::to_string(&d).unwrap(), old);
}

/// IPv6 disabled (for all, or for the site's interface only) while a socket on `[::]:80`
/// still exists: whether it would accept IPv6 is moot, so the listener and route checks
/// are `skip` naming address.ipv6_enabled, and the verdict stays there.
#[test]
fn disabled_ipv6_makes_listener_and_route_checks_moot() {
    for keys in [vec!["all"], vec!["eth0"]] {
        let mut f = healthy();
        if let Ok(s) = f.sysctl.result.as_mut() {
            for k in &keys {
                s.disable_ipv6.insert((*k).into(), 1);
            }
        }
        eth0(&mut f).addrs.retain(|a| a.ip.is_ipv4());
        f.listeners = Probed::ok(vec![
            listener("0.0.0.0", 80, None),
            listener("::", 80, Some(true)),
            listener("0.0.0.0", 443, None),
            listener("::", 443, Some(true)),
        ]);
        let fs = evaluate(&f, &options());
        assert_eq!(status(&fs, CheckId::AddressIpv6Enabled, None), Status::Fail);
        let moot = [
            (CheckId::ListenerIpv6, Some(80)),
            (CheckId::RouteIpv6Default, None),
            (CheckId::RouteIpv6Gateway, None),
            (CheckId::RouteIpv6Ra, None),
        ];
        for (id, port) in moot {
            let x = find(&fs, id, port);
            assert_eq!(
                x.status,
                Status::Skip,
                "{keys:?} {}: {}",
                x.label(),
                x.summary
            );
            assert!(
                x.summary.contains(CheckId::AddressIpv6Enabled.as_str()),
                "{keys:?} {}: {}",
                x.label(),
                x.summary
            );
            assert_eq!(
                x.caused_by.map(|c| c.check),
                Some(CheckId::AddressIpv6Enabled)
            );
            assert!(x.fixes.is_empty(), "a moot check offers no fix: {x:?}");
        }
        assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Pass);
        assert_eq!(
            verdict(&fs).check,
            Some(CheckId::AddressIpv6Enabled),
            "{keys:?}"
        );
    }
}
