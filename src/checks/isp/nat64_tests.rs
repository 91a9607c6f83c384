//! Unit tests of `isp.nat64` and of what `address.ipv4_dependencies` makes of it: the
//! healthy host made IPv6-only behind a DNS64 resolver, its NAT64 path broken one way per
//! test.

use crate::checks::fixtures::*;
use crate::checks::host::{Nat64State, nat64_state};
use crate::facts::isp::*;
use crate::facts::*;
use crate::model::{CheckId, Family, Finding, Status};
use crate::net::nat64::{Nat64Prefix, WELL_KNOWN};
use crate::options::Options;
use std::net::SocketAddr;

const ID: CheckId = CheckId::IspNat64;
const PREFIX: &str = "2001:db8:46::";

fn prefix() -> Nat64Prefix {
    Nat64Prefix::new(PREFIX.parse().unwrap(), 96).unwrap()
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The echo service reached through the translator: connect and the large request work.
fn echo_through(p: Nat64Prefix) -> Nat64Probe {
    let syn = p.synthesise("198.51.100.10".parse().unwrap());
    Nat64Probe {
        via: vec![
            "echo service http://198.51.100.10:8180/".into(),
            "--egress 198.51.100.10:8180".into(),
        ],
        v4: sa("198.51.100.10:8180"),
        synthesised: SocketAddr::new(syn.into(), 8180),
        tcp_ms: Probed::ok(0.4),
        full_size: Some(Probed::ok(ip("192.168.255.7"))),
    }
}

/// The healthy host without IPv4 (address and default route gone), its resolver doing
/// DNS64 with `PREFIX`, and the translator working.
fn ipv6_only_with_nat64() -> Facts {
    let mut f = healthy_online();
    eth0(&mut f).addrs.retain(|a| a.ip.is_ipv6());
    drop_routes(&mut f, Family::V4);
    f.dns.resolvers = vec![SocketAddr::new(ip("2001:db8:53::53"), 53)];
    f.dns.dns64 = Probed::ok(vec![prefix().synthesise("192.0.0.170".parse().unwrap())]);
    nat(&mut f).replace(Nat64Facts {
        pref64: Probed::ok(Vec::new()),
        prefix: Some((prefix(), PrefixSource::Dns64)),
        targets: vec![echo_through(prefix())],
    });
    f
}

/// The IPv6-only host whose resolver does no DNS64: the well-known prefix is tried by
/// chance, and its translator answers.
fn well_known_only() -> Facts {
    let mut f = ipv6_only_with_nat64();
    f.dns.dns64 = Probed::ok(Vec::new());
    let n = nat(&mut f).as_mut().expect("NAT64 facts");
    n.prefix = Some((WELL_KNOWN, PrefixSource::WellKnown));
    n.targets = vec![echo_through(WELL_KNOWN)];
    f
}

fn nat(f: &mut Facts) -> &mut Option<Nat64Facts> {
    &mut f.isp.result.as_mut().expect("ISP facts").nat64
}

fn target(f: &mut Facts) -> &mut Nat64Probe {
    &mut nat(f).as_mut().expect("NAT64 facts").targets[0]
}

fn judged(f: &Facts, o: &Options, status: Status) -> Finding {
    judged_as(f, o, ID, status)
}

fn fix_text(fd: &Finding) -> String {
    fd.fixes
        .iter()
        .flat_map(|x| x.commands.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The host's NAT64 path one way per row, and what `isp.nat64` says of it: one former
/// test per row.
const CASES: &[Case] = &[
    Case {
        name: "dual_stack_host_without_dns64_does_not_use_nat64",
        host: healthy_online,
        status: Status::Skip,
        summary: &["NAT64 is not in use"],
        ..CASE
    },
    Case {
        name: "lost_packet_too_big_through_the_translator_is_a_path_mtu_failure",
        host: || {
            let mut f = ipv6_only_with_nat64();
            target(&mut f).full_size = Some(Probed::err(
                ProbeErrorKind::Timeout,
                "a 3000-byte request to [2001:db8:46::c633:640a]:8180: no answer within 5s",
            ));
            f
        },
        status: Status::Fail,
        summary: &["path MTU discovery through the translator is broken"],
        explanation: &["packet too big"],
        commands: &["tracepath -6 -n 2001:db8:46::c633:640a"],
        ..CASE
    },
    Case {
        name: "a_translator_nobody_announces_is_warned_with_the_resolver_fix",
        host: well_known_only,
        status: Status::Warn,
        summary: &["neither the resolver (DNS64) nor a router (PREF64)"],
        commands: &["dns64-prefix: 64:ff9b::/96"],
        ..CASE
    },
    Case {
        name: "pref64_unread_without_privilege_is_said_and_changes_nothing",
        host: || {
            let mut f = ipv6_only_with_nat64();
            nat(&mut f).as_mut().expect("NAT64 facts").pref64 = Probed::err(
                ProbeErrorKind::Permission,
                "reading router advertisements (PREF64) needs root or CAP_NET_RAW",
            );
            f
        },
        status: Status::Pass,
        evidence: &[
            "PREF64 not read: reading router advertisements (PREF64) needs root or CAP_NET_RAW",
        ],
        ..CASE
    },
];

#[test]
fn each_case_gives_its_finding() {
    assert_cases(CASES, ID);
}

#[test]
fn ipv6_only_host_whose_nat64_translates_passes() {
    let f = ipv6_only_with_nat64();
    let fd = judged(&f, &options(), Status::Pass);
    assert_has(&fd.summary, "2001:db8:46::/96");
    assert_has(&fd.summary, "full-size requests included");
    assert_line(
        &fd.evidence,
        "from the resolver's AAAA answer for ipv4only.arpa",
    );
    assert_line(&fd.evidence, "towards the translator: route default via");
    assert_line(&fd.evidence, "the echo service saw 192.168.255.7");
    assert_eq!(nat64_state(&f), Nat64State::Works(prefix()));
}

#[test]
fn dns64_without_a_translator_fails_naming_the_prefix_and_the_route() {
    let mut f = ipv6_only_with_nat64();
    let t = target(&mut f);
    t.tcp_ms = Probed::err(
        ProbeErrorKind::Unreachable,
        "connect to [2001:db8:46::c633:640a]:8180: No route to host",
    );
    t.full_size = Some(Probed::err(ProbeErrorKind::Unreachable, "no route"));
    let fd = judged(&f, &options(), Status::Fail);
    assert_has(&fd.summary, "NAT64 prefix 2001:db8:46::/96 leads nowhere");
    assert_has(&fd.summary, "198.51.100.10:8180");
    assert_has(&fd.explanation, "Jool, Tayga, a cloud NAT64 gateway");
    let fixes = fix_text(&fd);
    assert_has(&fixes, "ip -6 route get 2001:db8:46::c633:640a");
    assert_has(
        &fixes,
        "jool instance add --netfilter --pool6 2001:db8:46::/96",
    );
    assert_has(&fixes, "/etc/tayga.conf");
    assert_has(&fixes, "dns64-prefix: 2001:db8:46::/96");
    assert_has(&fixes, "dns64 2001:db8:46::/96 { clients { any; }; };");
    assert_eq!(nat64_state(&f), Nat64State::Broken(prefix()));
}

#[test]
fn ipv6_only_host_with_no_nat64_at_all_is_warned() {
    let mut f = well_known_only();
    let t = target(&mut f);
    t.tcp_ms = Probed::err(ProbeErrorKind::Timeout, "connect: timed out");
    t.full_size = Some(Probed::err(ProbeErrorKind::Timeout, "timed out"));
    let fd = judged(&f, &options(), Status::Warn);
    assert_has(&fd.summary, "no NAT64");
    assert_has(&fd.summary, "IPv4-only destinations are out of reach");
    // The well-known prefix tried by chance is no verdict on anything.
    assert_eq!(nat64_state(&f), Nat64State::Unknown);
}

#[test]
fn pref64_other_than_the_dns64_prefix_is_warned() {
    let mut f = ipv6_only_with_nat64();
    nat(&mut f).as_mut().unwrap().pref64 = Probed::ok(vec![Pref64 {
        prefix: WELL_KNOWN,
        router: ip("fe80::1"),
        dev: Some("eth0".into()),
        lifetime_s: 1800,
    }]);
    let fd = judged(&f, &options(), Status::Warn);
    assert_has(&fd.summary, "the router fe80::1 advertises 64:ff9b::/96");
    assert_line(
        &fd.evidence,
        "router fe80::1 advertises PREF64 64:ff9b::/96 (valid 1800 s)",
    );
    // The same prefix from both: no warning.
    nat(&mut f).as_mut().unwrap().pref64 = Probed::ok(vec![Pref64 {
        prefix: prefix(),
        router: ip("fe80::1"),
        dev: Some("eth0".into()),
        lifetime_s: 1800,
    }]);
    judged(&f, &options(), Status::Pass);
}

#[test]
fn without_ipv6_egress_the_question_is_moot() {
    let mut f = ipv6_only_with_nat64();
    drop_routes(&mut f, Family::V6);
    let fd = judged(&f, &options(), Status::Skip);
    assert_cause(&fd, CheckId::RouteIpv6Default);
}

#[test]
fn dependencies_by_name_are_covered_only_when_the_translator_answers() {
    let mut f = ipv6_only_with_nat64();
    let mirror = package_source("mirror.example", &["2001:db8:46::c633:6407"]);
    f.ipv4_deps = Some(Probed::ok(ipv4_deps()));
    if let Some(Ok(d)) = f.ipv4_deps.as_mut().map(|p| p.result.as_mut()) {
        d.package_sources = Probed::ok(vec![mirror]);
    }
    let deps = |f: &Facts, status| {
        judge(
            f,
            &options(),
            CheckId::AddressIpv4Dependencies,
            None,
            status,
        )
    };
    let fd = deps(&f, Status::Pass);
    assert_has(&fd.summary, "translation verified by isp.nat64");
    target(&mut f).tcp_ms = Probed::err(ProbeErrorKind::Timeout, "connect: timed out");
    let fd = deps(&f, Status::Fail);
    assert_line(&fd.evidence, "leads to no translator (see isp.nat64)");
}

#[test]
fn a_dual_stack_host_that_lost_its_ipv4_route_is_not_sent_to_nat64() {
    let mut f = healthy_online();
    drop_routes(&mut f, Family::V4);
    let n = nat(&mut f);
    *n = Some(Nat64Facts {
        pref64: Probed::ok(Vec::new()),
        prefix: Some((WELL_KNOWN, PrefixSource::WellKnown)),
        targets: vec![echo_through(WELL_KNOWN)],
    });
    let fd = judged(&f, &options(), Status::Skip);
    assert_cause(&fd, CheckId::RouteIpv4Default);
}
