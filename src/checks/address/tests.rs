//! Unit tests of the address checks: the healthy fixture, broken one way per test.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::*;
use crate::model::{CheckId, Family, Status};
use crate::verdict::verdict;

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

/// The healthy host broken one way per row, each row (or pair of rows) one former test.
const BROKEN: &[Broken] = &[
    Broken {
        name: "a_behind_nat_is_a_warning_not_a_failure (dns.a_target)",
        breaks: behind_nat,
        id: CheckId::DnsATarget,
        port: None,
        status: Status::Warn,
        summary: &[],
        evidence: &[],
    },
    Broken {
        name: "a_behind_nat_is_a_warning_not_a_failure (address.global_ipv4)",
        breaks: behind_nat,
        id: CheckId::AddressGlobalIpv4,
        port: None,
        status: Status::Warn,
        summary: &[],
        evidence: &[],
    },
    Broken {
        name: "cgnat_address_fails_global_ipv4",
        breaks: |f| eth0(f).addrs[0] = addr("100.64.3.4", 10),
        id: CheckId::AddressGlobalIpv4,
        port: None,
        status: Status::Fail,
        summary: &["carrier-grade"],
        evidence: &[],
    },
];

fn behind_nat(f: &mut Facts) {
    eth0(f).addrs[0] = addr("10.0.0.10", 24);
}

#[test]
fn broken_one_way_gives_its_finding() {
    assert_broken(BROKEN, healthy);
}

#[test]
fn link_local_only_host_fails_global_ipv6() {
    let mut f = healthy();
    eth0(&mut f).addrs.retain(|a| a.ip != ip("2001:db8:1::10"));
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::AddressGlobalIpv6, None, Status::Fail);
    assert_has(&fd.summary, "link-local");
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
    let fd = expect(&fs, CheckId::AddressGlobalIpv6, None, Status::Fail);
    assert_has(&fd.summary, "duplicate");
    assert_eq!(verdict(&fs).check, Some(CheckId::AddressGlobalIpv6));
}

#[test]
fn sysctl_file_that_disables_ipv6_names_file_and_line() {
    let mut f = healthy();
    f.sysctl_files = ipv6_off_at_boot();
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::AddressIpv6Persistent, None, Status::Fail);
    assert_has(&fd.summary, "/etc/sysctl.d/99-hardening.conf:7");
    assert_has(&fd.summary, "next boot");
    assert_has(
        &fd.fixes[0].commands[0],
        "sed -i '7s/^/# /' /etc/sysctl.d/99-hardening.conf",
    );
    assert_eq!(status(&fs, CheckId::AddressIpv6Enabled, None), Status::Pass);
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
    drop_routes(&mut f, Family::V6);
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
    let en = expect(&fs, CheckId::AddressIpv6Enabled, None, Status::Fail);
    assert_has(&en.summary.to_lowercase(), "kernel");
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

/// The site's public address stays on eth0 while a second uplink (private, eth1) takes
/// the IPv4 default route: the host has the public address the site names.
#[test]
fn the_sites_address_off_the_default_route_still_counts() {
    let mut f = healthy();
    if let Ok(rs) = f.routes.result.as_mut() {
        rs[0].dev = Some("eth1".into());
        rs[0].gateway = "10.9.0.1".parse().ok();
    }
    if let Ok(links) = f.links.result.as_mut() {
        let mut eth1 = links[1].clone();
        eth1.name = "eth1".into();
        eth1.addrs.retain(|a| a.ip.is_ipv4());
        eth1.addrs[0].ip = "10.9.0.10".parse().unwrap();
        links.push(eth1);
    }
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::AddressGlobalIpv4, None, Status::Pass);
    assert_has(&fd.summary, "public IPv4 address 203.0.113.10 on eth0");
    // Without the A record on the host it is the private uplink that counts.
    f.dns.a = records(&[]);
    let fs = evaluate(&f, &options());
    expect(&fs, CheckId::AddressGlobalIpv4, None, Status::Warn);
}
