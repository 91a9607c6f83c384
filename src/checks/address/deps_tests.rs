//! Unit tests of `address.ipv4_dependencies`: the healthy fixture asked `--expect ipv6`,
//! or made IPv6-only, with one dependency added per test.

use crate::checks::fixtures::*;
use crate::facts::deps::{Connection, Connections};
use crate::facts::*;
use crate::model::{CheckId, Expect, Family, Finding, Status};
use crate::options::Options;
use std::net::SocketAddr;

const ID: CheckId = CheckId::AddressIpv4Dependencies;

fn expect_v6() -> Options {
    let mut o = options();
    o.target.expect = Expect::Ipv6;
    o
}

/// The healthy host without IPv4: no IPv4 address on eth0, no IPv4 default route, an
/// IPv6 name server.
fn ipv6_only() -> Facts {
    let mut f = healthy();
    eth0(&mut f).addrs.retain(|a| a.ip.is_ipv6());
    drop_routes(&mut f, Family::V4);
    f.dns.resolvers = vec![SocketAddr::new(ip("2001:db8:53::53"), 53)];
    f
}

fn deps(f: &mut Facts) -> &mut deps::Ipv4Deps {
    f.ipv4_deps
        .as_mut()
        .and_then(|p| p.result.as_mut().ok())
        .expect("fixture has dependencies")
}

fn judged(f: &Facts, o: &Options, status: Status) -> Finding {
    judged_as(f, o, ID, status)
}

fn proxied_to(target: &str) -> NginxInstance {
    nginx(&format!(
        "server {{\n    listen 80;\n    listen [::]:80;\n    server_name shop.example;\n    location / {{\n        proxy_pass http://{target};\n    }}\n}}\n"
    ))
}

fn set_nginx(f: &mut Facts, n: NginxInstance) {
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx = vec![n];
    }
}

/// nginx passes requests to an IPv4 literal.
fn proxied_to_literal(mut f: Facts) -> Facts {
    set_nginx(&mut f, proxied_to("198.51.100.7:8080"));
    f
}

const CASES: &[Case] = &[
    Case {
        name: "dual_stack_host_not_asked_skips_and_says_how_to_ask",
        status: Status::Skip,
        summary: &["dsdoctor check shop.example --expect ipv6"],
        ..CASE
    },
    Case {
        name: "dual_stack_host_asked_gets_a_readiness_warning_never_a_failure",
        host: || proxied_to_literal(healthy()),
        opts: expect_v6,
        status: Status::Warn,
        summary: &["not ready to drop IPv4", "/etc/nginx/sites/shop.conf:6"],
        // The fixture's resolv.conf names an IPv4 name server only.
        evidence: &[
            "name server 192.0.2.53 in /etc/resolv.conf",
            "every lookup would fail",
        ],
        explanation: &["DNS64 never sees it"],
        ..CASE
    },
    Case {
        name: "ipv6_only_host_with_an_ipv4_literal_backend_fails_with_file_and_line",
        host: || proxied_to_literal(ipv6_only()),
        status: Status::Fail,
        summary: &[
            "no IPv4 address outside loopback",
            "nginx proxy_pass 198.51.100.7 (/etc/nginx/sites/shop.conf:6)",
        ],
        evidence: &["which NAT64 never covers"],
        first_command: Some("sed -n '6p' /etc/nginx/sites/shop.conf"),
        ..CASE
    },
];

#[test]
fn each_case_gives_its_finding() {
    assert_cases(CASES, ID);
}

/// "No NAT64 gateway in reach" only where the resolver was asked and said so: a resolver
/// that could not be asked says nothing about DNS64.
#[test]
fn no_dns64_is_said_only_when_the_resolver_answered() {
    let mut f = ipv6_only();
    set_nginx(&mut f, proxied_to("198.51.100.7:8080"));
    f.dns.dns64 = Probed::ok(Vec::new());
    let fd = judged(&f, &options(), Status::Fail);
    assert_has(&fd.explanation, "does not synthesise AAAA");
    f.dns.dns64 = Probed::err(ProbeErrorKind::Timeout, "no answer within 2s");
    let fd = judged(&f, &options(), Status::Fail);
    assert!(!fd.explanation.contains("synthesise"), "{}", fd.explanation);
}

#[test]
fn ipv6_only_host_with_ipv6_backend_passes() {
    for target in ["[2001:db8::7]:8080", "127.0.0.1:8080", "app.example:8080"] {
        let mut f = ipv6_only();
        set_nginx(&mut f, proxied_to(target));
        let fd = judged_clean(&f, &options(), ID);
        assert_eq!(fd.status, Status::Pass, "{target}: {fd:#?}");
    }
}

#[test]
fn no_default_route_counts_as_without_ipv4() {
    let mut f = healthy();
    drop_routes(&mut f, Family::V4);
    f.dns.resolvers = vec![SocketAddr::new(ip("2001:db8:53::53"), 53)];
    judged(&f, &options(), Status::Pass);
    set_nginx(&mut f, proxied_to("198.51.100.7"));
    let fd = judged(&f, &options(), Status::Fail);
    assert_has(&fd.summary, "no IPv4 default route");
}

#[test]
fn hosts_entry_with_only_an_ipv4_address_is_named_with_its_line() {
    let mut f = ipv6_only();
    deps(&mut f).hosts = Probed::ok(crate::parse::hosts::parse(
        std::path::Path::new("/etc/hosts"),
        "127.0.0.1 localhost\n::1 localhost\n10.1.2.3 db.internal db\n10.1.2.4 both.internal\n2001:db8::4 both.internal\n",
    ));
    let fd = judged(&f, &options(), Status::Fail);
    assert_line(&fd.evidence, "/etc/hosts:3: db.internal db -> 10.1.2.3");
    assert!(!fd.evidence.iter().any(|l| l.contains("both.internal")));
    assert_eq!(fd.fixes[0].commands[0], "sed -n '3p' /etc/hosts");
}

fn connection(peer: &str, process: Option<&str>) -> Connection {
    Connection {
        local: "203.0.113.10:40000".parse().expect("addr"),
        peer: peer.parse().expect("addr"),
        mapped: false,
        pid: process.map(|_| 4242),
        process: process.map(str::to_string),
    }
}

#[test]
fn outbound_connection_to_an_ipv4_peer_is_listed_with_its_process() {
    let mut f = healthy();
    deps(&mut f).connections = Probed::ok(Connections {
        list: vec![connection("198.51.100.20:5432", Some("postgres-client"))],
        omitted: 3,
    });
    let fd = judged(&f, &expect_v6(), Status::Warn);
    assert_line(
        &fd.evidence,
        "outbound TCP 203.0.113.10:40000 -> 198.51.100.20:5432 by postgres-client (pid 4242)",
    );
    assert_line(&fd.evidence, "and 3 more of the same kind");
    let fix = fix_titled(&fd, "postgres-client");
    assert_eq!(fix.commands[0], "ss -tnp dst 198.51.100.20");
}

#[test]
fn names_without_aaaa_are_covered_only_where_the_resolver_does_dns64() {
    let mut f = ipv6_only();
    deps(&mut f).package_sources = Probed::ok(vec![package_source("mirror.example", &[])]);
    let fd = judged(&f, &options(), Status::Fail);
    assert_has(
        &fd.summary,
        "package source mirror.example (/etc/apt/sources.list:1)",
    );
    assert_line(&fd.evidence, "no NAT64");
    // With DNS64 the lookup answers a synthesised AAAA: not the host's own, but NAT64
    // is presumed to carry it, and the finding says it is not verified.
    f.dns.dns64 = Probed::ok(vec!["64:ff9b::c000:aa".parse().expect("ip")]);
    deps(&mut f).package_sources = Probed::ok(vec![package_source(
        "mirror.example",
        &["64:ff9b::c633:6407"],
    )]);
    let fd = judged(&f, &options(), Status::Pass);
    assert_has(&fd.summary, "presumed");
    assert_has(&fd.summary, "64:ff9b::/96");
    assert_has(&fd.explanation, "not verified");
    // A literal is never covered, DNS64 or not.
    set_nginx(&mut f, proxied_to("198.51.100.7"));
    judged(&f, &options(), Status::Fail);
}

#[test]
fn older_snapshot_and_unread_facts_are_said() {
    let mut f = ipv6_only();
    f.ipv4_deps = None;
    let fd = judged(&f, &options(), Status::Skip);
    assert_has(&fd.summary, "older dsdoctor");
    f.ipv4_deps = Some(Probed::err(ProbeErrorKind::Permission, "denied"));
    judged(&f, &options(), Status::Error);
    // Not gathered because the run's options did not ask for it: a skip, not an error.
    f.ipv4_deps = Some(Probed::err(
        ProbeErrorKind::NotRun,
        "not gathered: the host has IPv4 and --expect is not ipv6",
    ));
    let fd = judged(&f, &options(), Status::Skip);
    assert_has(&fd.summary, "not gathered");
    // One part unreadable: the rest is still judged, and the gap is in the evidence.
    let mut f = ipv6_only();
    deps(&mut f).connections = Probed::err(ProbeErrorKind::Failed, "sock_diag: boom");
    let fd = judged(&f, &options(), Status::Pass);
    assert_line(
        &fd.evidence,
        "outbound connections not listed: sock_diag: boom",
    );
}

#[test]
fn without_ipv4_takes_either_missing_address_or_missing_default_route() {
    let f = healthy();
    assert_eq!(
        deps::without_ipv4(f.links(), crate::checks::host::routes(&f)),
        None
    );
    let f = ipv6_only();
    assert_eq!(
        deps::without_ipv4(f.links(), crate::checks::host::routes(&f)),
        Some("no IPv4 address outside loopback")
    );
    let mut f = healthy();
    drop_routes(&mut f, Family::V4);
    assert_eq!(
        deps::without_ipv4(f.links(), crate::checks::host::routes(&f)),
        Some("no IPv4 default route")
    );
}
