//! Unit tests of the route checks: the healthy fixture, broken one way per test.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::*;
use crate::model::{CheckId, Family, Status};
use crate::verdict::verdict;

#[test]
fn no_ipv6_default_route_fails_and_nameservers_over_ipv6_skip() {
    let mut f = healthy();
    drop_routes(&mut f, Family::V6);
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
    let ns = expect(&fs, CheckId::DnsNameservers, None, Status::Skip);
    assert_has(&ns.summary, CheckId::RouteIpv6Default.as_str());
    assert_eq!(verdict(&fs).check, Some(CheckId::RouteIpv6Default));
}

#[test]
fn forwarding_host_ignoring_ra_is_the_root_cause() {
    let mut f = healthy();
    drop_routes(&mut f, Family::V6);
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.forwarding_v6.insert("eth0".into(), 1);
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::RouteIpv6Ra, None), Status::Fail);
    assert_eq!(verdict(&fs).check, Some(CheckId::RouteIpv6Ra));
}

/// The healthy host broken one way per row, each row one half of a former test.
const BROKEN: &[Broken] = &[
    Broken {
        name: "dead_gateway_fails_but_unprivileged_ping_is_an_error (dead gateway)",
        breaks: |f| {
            f.gateway_pings[1].rtt_ms = Probed::err(ProbeErrorKind::Timeout, "no echo reply");
            if let Ok(n) = f.neighbours.result.as_mut() {
                n[1].state = "failed".into();
            }
        },
        id: CheckId::RouteIpv6Gateway,
        port: None,
        status: Status::Fail,
        summary: &[],
        evidence: &[],
    },
    Broken {
        name: "dead_gateway_fails_but_unprivileged_ping_is_an_error (unprivileged ping)",
        breaks: |f| {
            f.gateway_pings[0].rtt_ms = Probed::err(
                ProbeErrorKind::Permission,
                "ICMP echo needs root or CAP_NET_RAW",
            );
        },
        id: CheckId::RouteIpv4Gateway,
        port: None,
        status: Status::Error,
        summary: &["CAP_NET_RAW"],
        evidence: &[],
    },
];

#[test]
fn broken_one_way_gives_its_finding() {
    assert_broken(BROKEN, healthy);
}
