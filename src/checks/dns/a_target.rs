//! `dns.a_target`: every A record is a public address of this host, or of the NAT in
//! front of it.

use super::{ips_text, target_addrs};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::model::{CheckId, Family, Finding};
use crate::net::{classify, reachable_by_clients};
use std::net::IpAddr;

pub fn check(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let s = Subject::host(CheckId::DnsATarget);
    if let Some(skip) = host::unexpected(o, s, Family::V4) {
        return skip;
    }
    let targets = target_addrs(f, Family::V4);
    if targets.is_empty() {
        return s.skip("no A record to compare (see dns.a)");
    }
    let host_public_v4: Vec<IpAddr> = f
        .addrs()
        .filter(|(_, a)| a.ip.is_ipv4() && reachable_by_clients(a.ip, &o.assume_public))
        .map(|(_, a)| a.ip)
        .collect();
    let mut bad = Vec::new();
    let mut unknown = Vec::new();
    let mut evidence = Vec::new();
    for (ip, src) in &targets {
        let on_host = host::find_addr(f, *ip).is_some();
        let public = reachable_by_clients(*ip, &o.assume_public);
        evidence.push(format!(
            "A {ip} ({src}): {}",
            match (on_host, public) {
                (true, true) => "assigned on this host".to_string(),
                (true, false) => format!("assigned on this host, but {}", classify(*ip).describe()),
                (false, false) => format!("not on this host, and {}", classify(*ip).describe()),
                (false, true) => "not assigned on this host".to_string(),
            }
        ));
        if !public {
            bad.push(*ip);
        } else if !on_host {
            if host_public_v4.is_empty() {
                unknown.push(*ip);
            } else {
                bad.push(*ip);
            }
        }
    }
    evidence.extend(host::addr_evidence(f, Family::V4));
    let domain = &o.target.domain;
    let finding = if !bad.is_empty() {
        let addr = host_public_v4
            .first()
            .map(|i| i.to_string())
            .unwrap_or_else(|| "YOUR_PUBLIC_IPV4".into());
        let bad_s = ips_text(bad.iter().copied());
        s.fail(format!(
            "A {domain} -> {bad_s}, which is not a public address of this host"
        ))
        .explain("a_elsewhere", &[("domain", domain)])
        .fix(
            "point_record",
            &[
                ("domain", domain),
                ("rtype", "A"),
                ("old", &bad_s),
                ("addr", &addr),
            ],
        )
    } else if let (false, Some(seen)) = (unknown.is_empty(), c.view.seen_v4) {
        // The ISP stage asked from outside: the NAT's public address is known.
        let others: Vec<IpAddr> = unknown.iter().copied().filter(|i| *i != seen).collect();
        let seen_s = seen.to_string();
        if others.is_empty() {
            s.pass(format!(
            "A {domain} -> {seen}: the public address the internet sees for this host (NAT); the router must forward the ports to it (see isp.inbound_ipv4)"
        ))
            .explain("a_nat_public", &[("addr", &seen_s)])
            .evidence(format!("the echo service saw this host as {seen}"))
        } else {
            let bad_s = ips_text(others.iter().copied());
            s.fail(format!(
                "A {domain} -> {bad_s}, but the internet sees this host (behind NAT) as {seen}"
            ))
            .explain("a_not_nat_public", &[("addr", &bad_s), ("seen", &seen_s)])
            .evidence(format!("the echo service saw this host as {seen}"))
            .fix(
                "point_record",
                &[
                    ("domain", domain),
                    ("rtype", "A"),
                    ("old", &bad_s),
                    ("addr", &seen_s),
                ],
            )
        }
    } else if !unknown.is_empty() {
        s.warn(format!(
            "A {domain} -> {}: not on this host, which has only private IPv4; whether it is this host's public (NAT) address is unknown until the ISP stage asks from outside",
            ips_text(unknown.iter().copied())
        ))
        .explain("a_behind_nat", &[])
    } else {
        s.pass(format!(
            "every A record of {domain} is an address of this host"
        ))
    };
    finding.evidence_all(evidence).took(f.dns.a.ms)
}
