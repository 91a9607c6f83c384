//! The words of each probe failure kind, from fixtures: what failed, in the admin's terms,
//! the check that explains it, and the library's own words kept in the evidence.

use super::evaluate;
use super::failure::{Peer, Worded, resolver, word};
use super::fixtures::*;
use crate::facts::*;
use crate::model::{Cause, CheckId, Family, Status};

const RAW: &str = "proto error: io error: Network is unreachable (os error 101)";

fn err(kind: ProbeErrorKind, message: &str) -> ProbeError {
    ProbeError::new(kind, message)
}

/// The words for "no route" to the fixture's resolver.
fn unreachable(f: &Facts) -> Worded {
    word(
        f,
        resolver(f).as_ref(),
        &err(ProbeErrorKind::Unreachable, RAW),
    )
}

/// Asserts the words and the explaining check of a table's `row`.
#[track_caller]
fn assert_worded(w: &Worded, text: &str, cause: Option<CheckId>, row: impl std::fmt::Debug) {
    assert_eq!(w.text, text, "{row:?}");
    assert_eq!(w.cause, cause, "{row:?}");
}

fn resolver_at(f: &mut Facts, addr: &str) {
    f.dns.resolvers = vec![std::net::SocketAddr::new(ip(addr), 53)];
}

/// An unreachable resolver: without the default route of its family, the words point at
/// the route check; with one, a router on the way is at fault and no check is named.
#[test]
fn unreachable_resolver_names_the_missing_default_route_only() {
    let rows: [(&str, Option<Family>, &str, Option<CheckId>); 3] = [
        (
            "10.255.255.53",
            Some(Family::V4),
            "no route to the resolver 10.255.255.53 from this host: it has no IPv4 default route (see route.ipv4_default)",
            Some(CheckId::RouteIpv4Default),
        ),
        (
            "2001:db8:53::1",
            Some(Family::V6),
            "no route to the resolver 2001:db8:53::1 from this host: it has no IPv6 default route (see route.ipv6_default)",
            Some(CheckId::RouteIpv6Default),
        ),
        (
            "10.255.255.53",
            None,
            "the resolver 10.255.255.53 is unreachable: a router on the way has no route to it, or nothing answers for it on its link",
            None,
        ),
    ];
    for (addr, dropped, text, cause) in rows {
        let mut f = healthy();
        resolver_at(&mut f, addr);
        if let Some(family) = dropped {
            drop_routes(&mut f, family);
        }
        assert_worded(&unreachable(&f), text, cause, addr);
    }
}

#[test]
fn unreachable_peer_on_a_connected_route_is_not_the_default_routes_fault() {
    let mut f = healthy();
    resolver_at(&mut f, "192.168.7.53");
    drop_routes(&mut f, Family::V4);
    f.routes.result.as_mut().expect("routes").push(Route {
        family: Family::V4,
        dst: Some("192.168.7.0/24".parse().expect("net")),
        gateway: None,
        dev: Some("eth0".into()),
        metric: None,
        protocol: "kernel".into(),
        more_gateways: Vec::new(),
    });
    let w = unreachable(&f);
    assert_eq!(w.cause, None);
}

#[test]
fn unreadable_routes_blame_no_check() {
    let mut f = healthy();
    drop_routes(&mut f, Family::V4);
    f.routes = Probed::err(ProbeErrorKind::Permission, "rtnetlink: denied");
    let w = unreachable(&f);
    assert_eq!(w.cause, None);
}

#[test]
fn refused_timeout_and_permission_in_the_admins_words() {
    let f = healthy();
    let gw = Peer::at("the gateway", ip("203.0.113.1"));
    // A probe that already says which privilege it needs (the capability), or what is
    // missing, keeps its words.
    let said = "reading the packet filter needs root (CAP_NET_ADMIN): run dsdoctor as root";
    let missing = "/etc/resolv.conf names no nameserver";
    for (peer, kind, raw, want) in [
        (
            Some(&gw),
            ProbeErrorKind::Refused,
            "Connection refused (os error 111)",
            "the gateway 203.0.113.1 refused the connection: nothing listens there, or a firewall rejects it",
        ),
        (
            Some(&gw),
            ProbeErrorKind::Timeout,
            "deadline has elapsed",
            "no answer from the gateway 203.0.113.1 within the timeout: it is down, or packets to it or back are dropped",
        ),
        (
            None,
            ProbeErrorKind::Permission,
            "Operation not permitted (os error 1)",
            "permission denied: run dsdoctor as root",
        ),
        (None, ProbeErrorKind::Permission, said, said),
        (None, ProbeErrorKind::Missing, missing, missing),
    ] {
        assert_worded(&word(&f, peer, &err(kind, raw)), want, None, kind);
    }
}

#[test]
fn dns_errors_say_what_failed_and_keep_the_raw_error_in_the_evidence() {
    let mut f = healthy();
    resolver_at(&mut f, "10.255.255.53");
    drop_routes(&mut f, Family::V4);
    let e = err(ProbeErrorKind::Unreachable, RAW);
    f.dns.a = Probed {
        result: Err(e.clone()),
        ms: 0,
    };
    f.dns.aaaa = f.dns.a.clone();
    f.dns.zone = Probed {
        result: Err(e.clone()),
        ms: 0,
    };
    f.dns.dns64 = Probed {
        result: Err(e),
        ms: 0,
    };
    let fs = evaluate(&f, &options());
    let a = expect(&fs, CheckId::DnsA, None, Status::Error);
    assert_eq!(
        a.summary,
        "DNS lookup failed: no route to the resolver 10.255.255.53 from this host: it has no IPv4 default route (see route.ipv4_default)"
    );
    assert!(!a.summary.contains("os error"), "{}", a.summary);
    assert_line(&a.evidence, RAW);
    assert_eq!(
        a.caused_by,
        Some(Cause {
            check: CheckId::RouteIpv4Default,
            port: None
        })
    );
    assert_has(&a.explanation, "cannot be reached from this host");
    for id in [CheckId::DnsNameservers, CheckId::DnsDns64] {
        let fd = expect(&fs, id, None, Status::Error);
        assert_has(&fd.summary, "no route to the resolver 10.255.255.53");
        assert_line(&fd.evidence, RAW);
    }
    // The check it points at is in the report, failing.
    expect(&fs, CheckId::RouteIpv4Default, None, Status::Fail);
}

#[test]
fn dns_timeout_and_refusal_have_their_own_explanations() {
    for (kind, needle) in [
        (ProbeErrorKind::Timeout, "did not answer in time"),
        (ProbeErrorKind::Refused, "refused the question"),
    ] {
        let mut f = healthy();
        f.dns.a = Probed::err(kind, "raw library words");
        let fs = evaluate(&f, &options());
        let a = expect(&fs, CheckId::DnsA, None, Status::Error);
        assert_has(&a.explanation, needle);
        assert_line(&a.evidence, "raw library words");
        assert_eq!(a.caused_by, None);
    }
}
