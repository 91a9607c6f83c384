//! The DNS stage: do the records send clients to this host, over both families?

use super::host::{self, Ipv6State};
use super::view::{Ctx, Ipv6Net96, in_nat64};
use crate::facts::{DnsAnswer, Facts, Probed, ServerAnswers, ServerRole};
use crate::model::{CheckId, Family, Finding, Status};
use crate::net::{classify, reachable_by_clients};
use crate::options::Options;
use std::collections::BTreeSet;
use std::net::IpAddr;

fn probe_error(f: &Facts, id: CheckId, p: &Probed<DnsAnswer>) -> Option<Finding> {
    p.result.as_ref().err().map(|e| {
        // Name the server that failed to answer (a dead resolver in resolv.conf).
        let asked = if f.dns.resolvers.is_empty() {
            String::new()
        } else {
            format!(" (asked {}, {})", servers_list(f), f.dns.resolver_source)
        };
        Finding::new(
            id,
            None,
            Status::Error,
            format!("DNS lookup failed: {}{asked}", e.message),
        )
        .explain("dns_unavailable", &[])
        .took(p.ms)
    })
}

/// `dns.a` (and, through `records_aaaa`, `dns.aaaa`).
/// `dns.a` or `dns.aaaa`: the domain has records of the family.
pub fn records(c: &Ctx, fam: Family) -> Finding {
    match fam {
        Family::V4 => records_of(c.facts, c.opts, Family::V4),
        Family::V6 => records_aaaa(c.facts, c.opts, &c.view.nat64),
    }
}

fn records_of(f: &Facts, o: &Options, family: Family) -> Finding {
    let id = family.pick(CheckId::DnsA, CheckId::DnsAaaa);
    let (rtype, p) = (family.record_type(), f.dns.answer(family));
    let domain = &o.target.domain;
    if let Some(skip) = host::unexpected(o, id, None, family) {
        return skip;
    }
    if let Some(e) = probe_error(f, id, p) {
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
            let mut finding = Finding::new(
                id,
                None,
                Status::Pass,
                format!("{rtype} {domain} -> {shown}"),
            )
            .evidence_all(
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
        Some(DnsAnswer::NxDomain) => Finding::new(
            id,
            None,
            Status::Fail,
            format!("{domain} does not exist (NXDOMAIN)"),
        )
        .evidence(format!("NXDOMAIN for {rtype} {domain} {via}"))
        .explain("nxdomain", &[("domain", domain)])
        .took(p.ms),
        _ => {
            let addr = suggested_addr(f, o, family);
            Finding::new(
                id,
                None,
                Status::Fail,
                format!("{domain} has no {rtype} record"),
            )
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
        return Finding::new(
            CheckId::DnsAaaa,
            None,
            Status::Fail,
            format!(
                "{} has no AAAA record of its own: the resolver synthesised them (DNS64)",
                o.target.domain
            ),
        )
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

fn servers_list(f: &Facts) -> String {
    f.dns
        .resolvers
        .iter()
        .map(|s| s.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Addresses named in a summary line before the rest is summed up.
const MAX_IN_SUMMARY: usize = 8;

fn ips_text(ips: impl Iterator<Item = IpAddr>) -> String {
    ips.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// The addresses a record type points at: the resolver's answer plus any differing
/// answer from the zone's authoritative servers (which is what the rest of the world sees).
fn target_addrs(f: &Facts, family: Family) -> Vec<(IpAddr, String)> {
    let mut out: Vec<(IpAddr, String)> = Vec::new();
    for ip in f.dns.ips(family) {
        out.push((ip, "resolver".into()));
    }
    for s in f
        .dns
        .servers
        .iter()
        .filter(|s| s.role == ServerRole::Authoritative)
    {
        for ip in s
            .answer(family)
            .value()
            .map(|a| a.ips())
            .unwrap_or_default()
        {
            if !out.iter().any(|(i, _)| *i == ip) {
                out.push((
                    ip,
                    format!("authoritative {}", s.name.clone().unwrap_or_default()),
                ));
            }
        }
    }
    out
}

pub fn a_target(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::DnsATarget;
    if let Some(skip) = host::unexpected(o, id, None, Family::V4) {
        return skip;
    }
    let targets = target_addrs(f, Family::V4);
    if targets.is_empty() {
        return Finding::new(id, None, Status::Skip, "no A record to compare (see dns.a)");
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
        Finding::new(
            id,
            None,
            Status::Fail,
            format!("A {domain} -> {bad_s}, which is not a public address of this host"),
        )
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
            Finding::new(
                id,
                None,
                Status::Pass,
                format!(
                    "A {domain} -> {seen}: the public address the internet sees for this host (NAT); the router must forward the ports to it (see isp.inbound_ipv4)"
                ),
            )
            .explain("a_nat_public", &[("addr", &seen_s)])
            .evidence(format!("the echo service saw this host as {seen}"))
        } else {
            let bad_s = ips_text(others.iter().copied());
            Finding::new(
                id,
                None,
                Status::Fail,
                format!(
                    "A {domain} -> {bad_s}, but the internet sees this host (behind NAT) as {seen}"
                ),
            )
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
        Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "A {domain} -> {}: not on this host, which has only private IPv4; whether it is this host's public (NAT) address is unknown until the ISP stage asks from outside",
                ips_text(unknown.iter().copied())
            ),
        )
        .explain("a_behind_nat", &[])
    } else {
        Finding::new(
            id,
            None,
            Status::Pass,
            format!("every A record of {domain} is an address of this host"),
        )
    };
    finding.evidence_all(evidence).took(f.dns.a.ms)
}

pub fn aaaa_target(c: &Ctx) -> Finding {
    let (f, o, nat64) = (c.facts, c.opts, &c.view.nat64);
    let id = CheckId::DnsAaaaTarget;
    if let Some(skip) = host::unexpected(o, id, None, Family::V6) {
        return skip;
    }
    let targets: Vec<(IpAddr, String)> = target_addrs(f, Family::V6)
        .into_iter()
        .filter(|(ip, _)| !in_nat64(*ip, nat64))
        .collect();
    if targets.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "no AAAA record to compare (see dns.aaaa)",
        );
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
        let base = Finding::new(
            id,
            None,
            Status::Fail,
            format!("AAAA {domain} -> {listed}, which is not a usable global address of this host"),
        );
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
        Finding::new(
            id,
            None,
            Status::Pass,
            format!("every AAAA record of {domain} is a global address of this host"),
        )
    };
    finding.evidence_all(evidence).took(f.dns.aaaa.ms)
}

fn answer_key(a: &Probed<DnsAnswer>) -> Option<String> {
    a.value().map(|ans| {
        let mut ips = ans.ips();
        ips.sort();
        match ans {
            DnsAnswer::NxDomain => "NXDOMAIN".into(),
            _ if ips.is_empty() => "none".into(),
            _ => ips_text(ips.into_iter()),
        }
    })
}

fn server_label(s: &ServerAnswers) -> String {
    match (&s.role, &s.name) {
        (ServerRole::Authoritative, Some(n)) => format!("authoritative {n} ({})", s.server.ip()),
        _ => format!("resolver {}", s.server.ip()),
    }
}

pub fn consistency(c: &Ctx) -> Finding {
    let f = c.facts;
    let id = CheckId::DnsConsistency;
    let servers = &f.dns.servers;
    if servers.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "no resolver could be asked (see dns.a)",
        );
    }
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    let mut auth_disagree = false;
    for family in Family::BOTH {
        let rtype = family.record_type();
        let get = |s: &ServerAnswers| answer_key(s.answer(family));
        let auth: Vec<(&ServerAnswers, String)> = servers
            .iter()
            .filter(|s| s.role == ServerRole::Authoritative)
            .filter_map(|s| get(s).map(|k| (s, k)))
            .collect();
        let auth_answers: BTreeSet<&String> = auth.iter().map(|(_, k)| k).collect();
        if auth_answers.len() > 1 {
            auth_disagree = true;
            problems.push(format!(
                "the authoritative servers disagree on {rtype}: {}",
                auth.iter()
                    .map(|(s, k)| format!("{} says {k}", server_label(s)))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        for s in servers {
            match s.answer(family).result.as_ref() {
                Ok(_) => {
                    let k = get(s).unwrap_or_default();
                    evidence.push(format!("{rtype} from {}: {k}", server_label(s)));
                    if s.role == ServerRole::Resolver
                        && auth_answers.len() == 1
                        && !auth_answers.contains(&k)
                    {
                        problems.push(format!(
                            "{} answers {rtype} {k}, the authoritative servers answer {}",
                            server_label(s),
                            auth_answers.iter().next().map(|s| s.as_str()).unwrap_or("")
                        ));
                    }
                }
                Err(e) => evidence.push(format!("{rtype} from {}: {}", server_label(s), e.message)),
            }
        }
    }
    let any_auth = servers
        .iter()
        .any(|s| s.role == ServerRole::Authoritative && s.a.value().is_some());
    if !problems.is_empty() {
        let status = if auth_disagree {
            Status::Fail
        } else {
            Status::Warn
        };
        return Finding::new(id, None, status, problems.join("; "))
            .evidence_all(evidence)
            .explain(
                if auth_disagree {
                    "auth_disagree"
                } else {
                    "resolver_differs"
                },
                &[],
            );
    }
    if !any_auth {
        let why = f
            .dns
            .zone
            .result
            .as_ref()
            .err()
            .map(|e| e.message.clone())
            .unwrap_or_else(|| "no authoritative server answered".into());
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!("could not compare with the zone's authoritative servers: {why}"),
        )
        .evidence_all(evidence)
        .explain("auth_unreachable", &[]);
    }
    Finding::new(
        id,
        None,
        Status::Pass,
        "resolvers and authoritative servers give the same A and AAAA answers",
    )
    .evidence_all(evidence)
}

pub fn reverse(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::DnsReverse;
    if f.dns.ptr.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "this host has no public address to look up",
        );
    }
    let mail = !o.mail_ports().is_empty();
    let wanted: Vec<_> = f
        .dns
        .ptr
        .iter()
        .filter(|p| o.target.expect.wants(Family::of(p.ip)))
        .collect();
    if wanted.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "no public address of the expected families to look up",
        );
    }
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    let mut unconfirmed = Vec::new();
    let mut errors = Vec::new();
    for p in wanted {
        match &p.names.result {
            Err(e) => {
                errors.push(p.ip);
                evidence.push(format!("PTR {}: {}", p.ip, e.message));
            }
            Ok(names) if names.is_empty() => {
                missing.push(p.ip);
                evidence.push(format!("PTR {}: none", p.ip));
            }
            Ok(names) => {
                let confirmed = p.forward.iter().any(|(_, ips)| ips.contains(&p.ip));
                evidence.push(format!(
                    "PTR {} -> {} ({})",
                    p.ip,
                    names.join(", "),
                    if confirmed {
                        "resolves back".to_string()
                    } else {
                        format!(
                            "does not resolve back: {}",
                            p.forward
                                .iter()
                                .map(|(n, ips)| format!(
                                    "{n} -> {}",
                                    if ips.is_empty() {
                                        "nothing".into()
                                    } else {
                                        ips_text(ips.iter().copied())
                                    }
                                ))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    }
                ));
                if !confirmed {
                    unconfirmed.push(p.ip);
                }
            }
        }
    }
    let bad_status = if mail { Status::Fail } else { Status::Warn };
    let domain = &o.target.domain;
    if !missing.is_empty() || !unconfirmed.is_empty() {
        let list = ips_text(missing.iter().chain(&unconfirmed).copied());
        let mut fd = Finding::new(
            id,
            None,
            bad_status,
            format!("no forward-confirmed PTR for {list}"),
        )
        .evidence_all(evidence)
        .explain("ptr_missing", &[]);
        for ip in missing.iter().chain(&unconfirmed) {
            fd = fd.fix("set_ptr", &[("addr", &ip.to_string()), ("domain", domain)]);
        }
        return fd;
    }
    if !errors.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Error,
            format!("PTR lookups failed for {}", ips_text(errors.into_iter())),
        )
        .evidence_all(evidence);
    }
    Finding::new(
        id,
        None,
        Status::Pass,
        "every public address has a PTR that resolves back",
    )
    .evidence_all(evidence)
}

pub fn nameservers(c: &Ctx) -> Finding {
    let f = c.facts;
    let id = CheckId::DnsNameservers;
    let zone = match &f.dns.zone.result {
        Ok(z) => z,
        Err(e) => {
            return Finding::new(
                id,
                None,
                Status::Error,
                format!("could not find the zone's name servers: {}", e.message),
            )
            .took(f.dns.zone.ms);
        }
    };
    let mut evidence = vec![format!(
        "zone {}: {} name server(s)",
        zone.name,
        zone.nameservers.len()
    )];
    let mut problems = Vec::new();
    if zone.nameservers.len() < 2 {
        problems.push(format!(
            "only {} name server (at least two are expected)",
            zone.nameservers.len()
        ));
    }
    for ns in &zone.nameservers {
        evidence.push(format!(
            "NS {}: A {} AAAA {}",
            ns.name,
            if ns.a.is_empty() {
                "none".into()
            } else {
                ips_text(ns.a.iter().map(|i| IpAddr::V4(*i)))
            },
            if ns.aaaa.is_empty() {
                "none".into()
            } else {
                ips_text(ns.aaaa.iter().map(|i| IpAddr::V6(*i)))
            },
        ));
        if ns.aaaa.is_empty() {
            problems.push(format!("{} has no AAAA record", ns.name));
        }
    }
    let auth: Vec<&ServerAnswers> = f
        .dns
        .servers
        .iter()
        .filter(|s| s.role == ServerRole::Authoritative)
        .collect();
    // A server that could not be asked because this host cannot send over that family
    // is the consequence of another finding, named instead of blaming the server.
    let mut blocked: Option<(CheckId, &'static str)> = None;
    let mut answered = 0;
    for s in &auth {
        let family = Family::of(s.server.ip());
        match &s.a.result {
            Ok(_) => {
                answered += 1;
                evidence.push(format!(
                    "{} answers over {}",
                    server_label(s),
                    family.name()
                ));
            }
            Err(e) => {
                evidence.push(format!("{}: {}", server_label(s), e.message));
                let cause = c.view.blocker(family).or_else(|| {
                    (e.kind == crate::facts::ProbeErrorKind::NotRun).then_some(
                        family.pick(CheckId::RouteIpv4Default, CheckId::RouteIpv6Default),
                    )
                });
                match cause {
                    Some(c) => blocked = Some((c, family.name())),
                    None => problems.push(format!(
                        "{} does not answer over {}",
                        server_label(s),
                        family.name()
                    )),
                }
            }
        }
    }
    if !auth.is_empty() && answered == 0 && blocked.is_none() {
        return Finding::new(
            id,
            None,
            Status::Fail,
            "none of the zone's name servers answers",
        )
        .evidence_all(evidence)
        .explain("ns_problems", &[]);
    }
    if !problems.is_empty() {
        return Finding::new(id, None, Status::Warn, problems.join("; "))
            .evidence_all(evidence)
            .explain("ns_problems", &[]);
    }
    if let Some((cause, family)) = blocked {
        return Finding::new(
            id,
            None,
            Status::Skip,
            format!("name servers not asked over {family}: this host cannot send over {family} (see {cause})"),
        )
        .evidence_all(evidence)
        .caused_by(cause);
    }
    Finding::new(
        id,
        None,
        Status::Pass,
        format!(
            "{} name servers, all with AAAA, all answering",
            zone.nameservers.len()
        ),
    )
    .evidence_all(evidence)
}

pub fn mx(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::DnsMx;
    let Some(mx) = &f.dns.mx else {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "no mail port (25, 465, 587) among the ports checked",
        );
    };
    let hosts = match &mx.result {
        Ok(h) => h,
        Err(e) => {
            return Finding::new(
                id,
                None,
                Status::Error,
                format!("MX lookup failed: {}", e.message),
            );
        }
    };
    if hosts.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "{} has no MX record; mail goes to its A/AAAA",
                o.target.domain
            ),
        )
        .explain("mx_problems", &[]);
    }
    let host_ips: BTreeSet<IpAddr> = f.addrs().map(|(_, a)| a.ip).collect();
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    for h in hosts {
        let ips: Vec<IpAddr> =
            h.a.iter()
                .map(|i| IpAddr::V4(*i))
                .chain(h.aaaa.iter().map(|i| IpAddr::V6(*i)))
                .collect();
        evidence.push(format!(
            "MX {} {} -> {}",
            h.preference,
            h.name,
            if ips.is_empty() {
                "no address".into()
            } else {
                ips_text(ips.iter().copied())
            }
        ));
        if h.a.is_empty() && o.target.expect.wants_v4() {
            problems.push(format!("{} has no A record", h.name));
        }
        if h.aaaa.is_empty() && o.target.expect.wants_v6() {
            problems.push(format!("{} has no AAAA record", h.name));
        }
        let names_us = h.name.eq_ignore_ascii_case(&o.target.domain)
            || h.name.eq_ignore_ascii_case(&f.host.hostname);
        let points_here = ips.iter().any(|i| host_ips.contains(i));
        if names_us || points_here {
            for ip in ips.iter().filter(|i| !host_ips.contains(i)) {
                problems.push(format!(
                    "{} names this host but {ip} is not assigned here",
                    h.name
                ));
            }
        }
    }
    if problems.is_empty() {
        Finding::new(
            id,
            None,
            Status::Pass,
            "every MX host has A and AAAA records",
        )
        .evidence_all(evidence)
    } else {
        Finding::new(id, None, Status::Fail, problems.join("; "))
            .evidence_all(evidence)
            .explain("mx_problems", &[])
    }
}

pub fn dns64(c: &Ctx) -> Finding {
    let (f, nat64) = (c.facts, &c.view.nat64);
    let id = CheckId::DnsDns64;
    match &f.dns.dns64.result {
        Err(e) => {
            return Finding::new(
                id,
                None,
                Status::Error,
                format!("could not ask for ipv4only.arpa: {}", e.message),
            );
        }
        Ok(v) if v.is_empty() => {
            return Finding::new(
                id,
                None,
                Status::Pass,
                "the resolver does not synthesise AAAA records (no DNS64)",
            )
            .evidence("ipv4only.arpa has no AAAA record")
            .took(f.dns.dns64.ms);
        }
        Ok(_) => {}
    }
    let prefixes = nat64
        .iter()
        .map(|p| format!("{}/{}", p.prefix, p.len))
        .collect::<Vec<_>>()
        .join(", ");
    let evidence: Vec<String> = f
        .dns
        .dns64
        .value()
        .into_iter()
        .flatten()
        .map(|ip| format!("ipv4only.arpa AAAA {ip}"))
        .collect();
    let synthesised: Vec<IpAddr> = f
        .dns
        .ips(Family::V6)
        .into_iter()
        .filter(|ip| in_nat64(*ip, nat64))
        .collect();
    if !synthesised.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!("DNS64 with NAT64 prefix {prefixes}: the domain's AAAA {} is synthesised, not published", ips_text(synthesised.into_iter())),
        )
        .evidence_all(evidence)
        .explain("dns64_synth", &[]);
    }
    Finding::new(
        id,
        None,
        Status::Pass,
        format!("the resolver does DNS64 (NAT64 prefix {prefixes}); the domain's AAAA are genuine"),
    )
    .evidence_all(evidence)
    .explain("dns64_present", &[])
}
