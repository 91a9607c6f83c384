//! `dns.aaaa_target`: every AAAA record is a usable global address of this host.

use super::{ips_text, target_addrs};
use crate::checks::host::{self, Ipv6State};
use crate::checks::subject::Subject;
use crate::checks::view::{Ctx, in_nat64};
use crate::model::{CheckId, Family, Finding};
use crate::net::{classify, reachable_by_clients};
use std::collections::BTreeSet;
use std::net::IpAddr;

pub fn check(c: &Ctx) -> Finding {
    let (f, o, nat64) = (c.facts, c.opts, &c.view.nat64);
    let s = Subject::host(CheckId::DnsAaaaTarget);
    if let Some(skip) = host::unexpected(o, s, Family::V6) {
        return skip;
    }
    let targets: Vec<(IpAddr, String)> = target_addrs(f, Family::V6)
        .into_iter()
        .filter(|(ip, _)| !in_nat64(*ip, nat64))
        .collect();
    if targets.is_empty() {
        return s.skip("no AAAA record to compare (see dns.aaaa)");
    }
    let domain = &o.target.domain;
    let usable = host::usable_global_v6(f, &o.assume_public);
    let mut evidence = Vec::new();
    let mut elsewhere = Vec::new();
    let mut unusable_here = Vec::new();
    let mut not_public = Vec::new();
    for (ip, src) in &targets {
        let here = host::find_addr(f, *ip);
        let public = reachable_by_clients(*ip, &o.assume_public);
        let state = match here {
            Some((l, a)) if a.dadfailed || a.tentative => {
                unusable_here.push(*ip);
                format!(
                    "assigned on this host but unusable: {}",
                    host::describe_addr(l, a)
                )
            }
            Some((l, a)) => format!("assigned on this host: {}", host::describe_addr(l, a)),
            None => {
                elsewhere.push(*ip);
                "not assigned on this host".to_string()
            }
        };
        if !public {
            not_public.push(*ip);
        }
        evidence.push(format!(
            "AAAA {ip} ({src}): {state}{}",
            if public {
                String::new()
            } else {
                format!("; {}", classify(*ip).describe())
            }
        ));
    }
    evidence.extend(host::addr_evidence(f, Family::V6));
    let ipv6 = host::ipv6_state(f);
    let finding = if !elsewhere.is_empty() || !unusable_here.is_empty() || !not_public.is_empty() {
        let listed = ips_text(
            elsewhere
                .iter()
                .chain(&unusable_here)
                .chain(&not_public)
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter(),
        );
        let base = s.fail(format!(
            "AAAA {domain} -> {listed}, which is not a usable global address of this host"
        ));
        if matches!(ipv6, Ipv6State::Absent | Ipv6State::Disabled(_)) {
            base.explain("aaaa_ipv6_off", &[])
                .caused_by(CheckId::AddressIpv6Enabled)
        } else if usable.is_empty() {
            base.explain("aaaa_no_global", &[])
                .caused_by(CheckId::AddressGlobalIpv6)
        } else if elsewhere.is_empty() && not_public.is_empty() {
            base.explain("aaaa_unusable", &[])
                .caused_by(CheckId::AddressGlobalIpv6)
        } else {
            let addr = usable
                .first()
                .map(|(_, a)| a.ip.to_string())
                .unwrap_or_default();
            base.explain("aaaa_elsewhere", &[("domain", domain)]).fix(
                "point_record",
                &[
                    ("domain", domain),
                    ("rtype", "AAAA"),
                    ("old", &listed),
                    ("addr", &addr),
                ],
            )
        }
    } else {
        s.pass(format!(
            "every AAAA record of {domain} is a global address of this host"
        ))
    };
    finding.evidence_all(evidence).took(f.dns.aaaa.ms)
}
