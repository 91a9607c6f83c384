//! Unit tests of a whole evaluation: the healthy fixture, and breakage that reaches across
//! stages. Each stage's own checks are tested in its `tests.rs`.

use super::evaluate;
use super::fixtures::*;
use crate::facts::*;
use crate::model::{CheckId, Status};
use crate::verdict::verdict;

#[test]
fn healthy_host_passes_every_implemented_check() {
    let fs = evaluate(&healthy(), &options());
    assert_healthy(&fs);
    // every contract id is present, per-port ones once per port
    for id in CheckId::ALL {
        assert!(fs.iter().any(|f| f.id == *id), "missing {id}");
    }
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
            assert_cause(x, CheckId::AddressIpv6Enabled);
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
