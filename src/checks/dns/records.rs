//! `dns.a` / `dns.aaaa`: the domain has records of the family (of its own, not
//! synthesised by DNS64).

use super::{ips_text, servers_list};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::{Ctx, Ipv6Net96, in_nat64};
use crate::facts::{DnsAnswer, Facts, Probed};
use crate::model::{CheckId, Family, Finding, Status};
use crate::net::reachable_by_clients;
use crate::options::Options;

pub fn check(c: &Ctx, family: Family) -> Finding {
    match family {
        Family::V4 => records_of(c.facts, c.opts, Family::V4),
        Family::V6 => records_aaaa(c.facts, c.opts, &c.view.nat64),
    }
}

fn records_of(f: &Facts, o: &Options, family: Family) -> Finding {
    let s = Subject::host(family.pick(CheckId::DnsA, CheckId::DnsAaaa));
    let (rtype, p) = (family.record_type(), f.dns.answer(family));
    let domain = &o.target.domain;
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    if let Some(e) = probe_error(f, s, p) {
        return e;
    }
    let via = format!("via {} ({})", servers_list(f), f.dns.resolver_source);
    match p.value() {
        Some(DnsAnswer::Records { records, omitted }) => {
            let shown = if *omitted > 0 || records.len() > MAX_IN_SUMMARY {
                format!(
                    "{}, … ({} records)",
                    ips_text(records.iter().take(MAX_IN_SUMMARY).map(|r| r.ip)),
                    records.len() + omitted
                )
            } else {
                ips_text(records.iter().map(|r| r.ip))
            };
            let mut finding = s.pass(format!("{rtype} {domain} -> {shown}")).evidence_all(
                records
                    .iter()
                    .map(|r| format!("{rtype} {} (ttl {}) {via}", r.ip, r.ttl)),
            );
            if *omitted > 0 {
                finding = finding.evidence(format!(
                    "answer cut: {omitted} more {rtype} records not examined (only the first {} are kept)",
                    records.len()
                ));
            }
            finding.took(p.ms)
        }
        Some(DnsAnswer::NxDomain) => s
            .fail(format!("{domain} does not exist (NXDOMAIN)"))
            .evidence(format!("NXDOMAIN for {rtype} {domain} {via}"))
            .explain("nxdomain", &[("domain", domain)])
            .took(p.ms),
        _ => {
            let addr = suggested_addr(f, o, family);
            s.fail(format!("{domain} has no {rtype} record"))
                .evidence(format!("no {rtype} records for {domain} {via}"))
                .explain(family.pick("no_a", "no_aaaa"), &[("domain", domain)])
                .fix(
                    "add_record",
                    &[("domain", domain), ("rtype", rtype), ("addr", &addr)],
                )
                .took(p.ms)
        }
    }
}

fn records_aaaa(f: &Facts, o: &Options, nat64: &[Ipv6Net96]) -> Finding {
    let finding = records_of(f, o, Family::V6);
    // AAAA records that a DNS64 resolver made up do not mean the zone has AAAA.
    let Some(DnsAnswer::Records { records, .. }) = f.dns.aaaa.value() else {
        return finding;
    };
    if finding.status == Status::Pass && records.iter().all(|r| in_nat64(r.ip, nat64)) {
        return Subject::host(CheckId::DnsAaaa)
            .fail(format!(
                "{} has no AAAA record of its own: the resolver synthesised them (DNS64)",
                o.target.domain
            ))
            .evidence_all(finding.evidence)
            .explain("aaaa_synthesised", &[])
            .fix(
                "add_record",
                &[
                    ("domain", &o.target.domain),
                    ("rtype", "AAAA"),
                    ("addr", &suggested_addr(f, o, Family::V6)),
                ],
            );
    }
    finding
}

fn probe_error(f: &Facts, s: Subject, p: &Probed<DnsAnswer>) -> Option<Finding> {
    p.result.as_ref().err().map(|e| {
        // Name the server that failed to answer (a dead resolver in resolv.conf).
        let asked = if f.dns.resolvers.is_empty() {
            String::new()
        } else {
            format!(" (asked {}, {})", servers_list(f), f.dns.resolver_source)
        };
        s.error(format!("DNS lookup failed: {}{asked}", e.message))
            .explain("dns_unavailable", &[])
            .took(p.ms)
    })
}

fn suggested_addr(f: &Facts, o: &Options, family: Family) -> String {
    f.addrs()
        .find(|(_, a)| {
            Family::of(a.ip) == family
                && reachable_by_clients(a.ip, &o.assume_public)
                && !a.dadfailed
        })
        .map(|(_, a)| a.ip.to_string())
        .unwrap_or_else(|| family.pick("YOUR_IPV4_ADDRESS", "YOUR_IPV6_ADDRESS").into())
}

/// Addresses named in a summary line before the rest is summed up.
const MAX_IN_SUMMARY: usize = 8;
