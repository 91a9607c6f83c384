//! `dns.nameservers`: the zone has at least two name servers, each with AAAA, each
//! answering.

use super::{ips_text, server_label};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::{ServerAnswers, ServerRole};
use crate::model::{CheckId, Family, Finding};
use std::net::IpAddr;

pub fn check(c: &Ctx) -> Finding {
    let f = c.facts;
    let s = Subject::host(CheckId::DnsNameservers);
    let zone = match &f.dns.zone.result {
        Ok(z) => z,
        Err(e) => {
            return super::unanswered(s, f, "find the zone's name servers", e).took(f.dns.zone.ms);
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
        return s
            .fail("none of the zone's name servers answers")
            .evidence_all(evidence)
            .explain("ns_problems", &[]);
    }
    if !problems.is_empty() {
        return s
            .warn(problems.join("; "))
            .evidence_all(evidence)
            .explain("ns_problems", &[]);
    }
    if let Some((cause, family)) = blocked {
        return s.skip(format!(
            "name servers not asked over {family}: this host cannot send over {family} (see {cause})"
        ))
        .evidence_all(evidence)
        .caused_by(cause);
    }
    s.pass(format!(
        "{} name servers, all with AAAA, all answering",
        zone.nameservers.len()
    ))
    .evidence_all(evidence)
}
