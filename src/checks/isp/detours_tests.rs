//! Where the ISP probes dial when a nat rule sends outside clients elsewhere.

use super::detours;
use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::Probed;
use crate::facts::isp::Detour;
use crate::model::{CheckId, Status};
use std::net::SocketAddr;

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

/// A prerouting REDIRECT of port 80 to 8080, IPv4 only: the IPv4 probe of port 80 dials
/// 8080 on the same address; IPv6 and port 443 are not rewritten.
#[test]
fn a_prerouting_redirect_is_dialed_at_its_port() {
    let mut f = healthy();
    f.firewall = Probed::ok(nat_v4("REDIRECT --to-ports 8080"));
    let got = detours(&f, &[80, 443]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].site, sa("203.0.113.10:80"));
    assert_eq!(got[0].dialed, sa("203.0.113.10:8080"));
    assert_has(&got[0].rule, "iptables -t nat PREROUTING");
}

/// A DNAT to another host is dialed there only while the host forwards IPv4: without
/// forwarding no outside client gets through, and the probe should not either.
#[test]
fn a_dnat_elsewhere_is_dialed_only_when_forwarded() {
    let mut f = healthy();
    f.firewall = Probed::ok(nat_v4("DNAT --to-destination 192.0.2.50:8000"));
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.ip_forward = Some(0);
    }
    assert_eq!(detours(&f, &[80]), Vec::<Detour>::new());
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.ip_forward = Some(1);
    }
    let got = detours(&f, &[80]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].dialed, sa("192.0.2.50:8000"));
}

/// No detour without a rewrite, without firewall facts, or for a site address that is
/// not on this host (its probe goes out to the network, through whatever nat is there).
#[test]
fn nothing_to_dial_elsewhere_without_a_local_rewrite() {
    let mut f = healthy();
    f.firewall = Probed::ok(strict_firewall());
    assert!(detours(&f, &[80, 443]).is_empty());
    f.firewall = Probed::err(crate::facts::ProbeErrorKind::Permission, "needs root");
    assert!(detours(&f, &[80]).is_empty());
    f.firewall = Probed::ok(nat_v4("REDIRECT --to-ports 8080"));
    f.dns.a = records(&["198.51.100.7"]);
    assert!(detours(&f, &[80]).is_empty());
}

/// The healthy online host whose IPv4 probes of port 80 dialed 8080 (a prerouting
/// REDIRECT), its ISP facts then changed by `change`.
fn detoured(change: impl FnOnce(&mut crate::facts::isp::IspFacts)) -> crate::facts::Facts {
    let mut f = healthy_online();
    if let Ok(isp) = f.isp.result.as_mut() {
        isp.detours = vec![Detour {
            site: sa("203.0.113.10:80"),
            dialed: sa("203.0.113.10:8080"),
            rule: "iptables -t nat PREROUTING rule 1".into(),
        }];
        change(isp);
    }
    f
}

/// The parity finding says where its probe dialed and why.
#[test]
fn the_parity_finding_names_the_detour() {
    let f = detoured(|_| ());
    let fs = evaluate(&f, &options());
    let parity = expect(&fs, CheckId::IspHttpParity, Some(80), Status::Pass);
    assert_line(
        &parity.evidence,
        "outside clients of 203.0.113.10:80 are sent to 203.0.113.10:8080 by iptables -t nat PREROUTING rule 1 before routing",
    );
    let acme = find(&fs, CheckId::IspAcmeHttp01, None);
    assert_line(&acme.evidence, "the probe dialed 203.0.113.10:8080");
}

/// A failing comparison's `curl` lines go where the probes went: `--connect-to` for the
/// address whose probe took a detour, `--resolve` for the others.
#[test]
fn the_reproducing_curl_follows_the_detour() {
    let f = detoured(|isp| {
        for p in isp
            .http
            .iter_mut()
            .filter(|p| p.ip.is_ipv6() && p.port == 80)
        {
            p.response = Probed::err(crate::facts::ProbeErrorKind::Refused, "refused");
        }
    });
    let fs = evaluate(&f, &options());
    let parity = expect(&fs, CheckId::IspHttpParity, Some(80), Status::Fail);
    let curl = &fix_titled(parity, "").commands;
    assert_line(
        curl,
        "curl -4 -sS -o /dev/null -D - --connect-to 'shop.example:80:203.0.113.10:8080' http://shop.example/",
    );
    assert_line(
        curl,
        "curl -6 -sS -o /dev/null -D - --resolve 'shop.example:80:[2001:db8:1::10]' http://shop.example/",
    );
}
