//! `dns.a` / `dns.aaaa`: the domain has records of the family (of its own, not
//! synthesised by DNS64).

use super::{ips_text, servers_list};
use crate::checks::failure;
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::{Ctx, in_nat64};
use crate::facts::{DnsAnswer, Facts, ProbeError, Probed};
use crate::model::{CheckId, Family, Finding, Status};
use crate::net::nat64::Nat64Prefix;
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
        _ => add_record(
            s.fail(format!("{domain} has no {rtype} record"))
                .evidence(format!("no {rtype} records for {domain} {via}"))
                .explain(family.pick("no_a", "no_aaaa"), &[("domain", domain)]),
            f,
            o,
            family,
        )
        .took(p.ms),
    }
}

fn records_aaaa(f: &Facts, o: &Options, nat64: &[Nat64Prefix]) -> Finding {
    let finding = records_of(f, o, Family::V6);
    // AAAA records that a DNS64 resolver made up do not mean the zone has AAAA.
    let Some(DnsAnswer::Records { records, .. }) = f.dns.aaaa.value() else {
        return finding;
    };
    if finding.status == Status::Pass && records.iter().all(|r| in_nat64(r.ip, nat64)) {
        let fd = Subject::host(CheckId::DnsAaaa)
            .fail(format!(
                "{} has no AAAA record of its own: the resolver synthesised them (DNS64)",
                o.target.domain
            ))
            .evidence_all(finding.evidence)
            .explain("aaaa_synthesised", &[]);
        return add_record(fd, f, o, Family::V6);
    }
    finding
}

fn probe_error(f: &Facts, s: Subject, p: &Probed<DnsAnswer>) -> Option<Finding> {
    p.result.as_ref().err().map(|e| {
        let (summary, cause) = lookup_failure(f, e);
        // Name the server that failed to answer (a dead resolver in resolv.conf).
        let mut fd = s
            .error(summary)
            .evidence(format!("error: {}", e.message))
            .explain(super::unanswered_why(e.kind), &[])
            .took(p.ms);
        if !f.dns.resolvers.is_empty() {
            fd = fd.evidence(format!(
                "asked {} ({})",
                servers_list(f),
                f.dns.resolver_source
            ));
        }
        if let Some(c) = cause {
            fd = fd.caused_by(c);
        }
        fd
    })
}

/// "DNS lookup failed: ..." in the admin's words, with the check that explains it.
fn lookup_failure(f: &Facts, e: &ProbeError) -> (String, Option<CheckId>) {
    let w = failure::word(f, failure::resolver(f).as_ref(), e);
    (format!("DNS lookup failed: {}", w.text), w.cause)
}

fn suggested_addr(f: &Facts, o: &Options, family: Family) -> Option<String> {
    f.addrs()
        .find(|(_, a)| {
            Family::of(a.ip) == family
                && reachable_by_clients(a.ip, &o.assume_public)
                && !a.dadfailed
        })
        .map(|(_, a)| a.ip.to_string())
}

/// Publish the record: with this host's address, or, while it has none of the family,
/// once it has one.
fn add_record(fd: Finding, f: &Facts, o: &Options, family: Family) -> Finding {
    let (domain, rtype) = (o.target.domain.as_str(), family.record_type());
    match suggested_addr(f, o, family) {
        Some(addr) => fd.fix(
            "add_record",
            &[("domain", domain), ("rtype", rtype), ("addr", &addr)],
        ),
        None => fd.fix(
            "add_record_later",
            &[
                ("domain", domain),
                ("rtype", rtype),
                ("family", family.name()),
                (
                    "check",
                    family
                        .pick(CheckId::AddressGlobalIpv4, CheckId::AddressGlobalIpv6)
                        .as_str(),
                ),
            ],
        ),
    }
}

/// Addresses named in a summary line before the rest is summed up.
const MAX_IN_SUMMARY: usize = 8;
