//! `dns.spf`: the domain's SPF record admits each address this host sends mail from,
//! evaluated (RFC 7208) from the DNS answers the mail probe recorded.

use crate::checks::mail::{seen_by_receivers, with_mail};
use crate::checks::subject::{Subject, joined};
use crate::checks::view::Ctx;
use crate::facts::mail::{MailFacts, SpfQuery};
use crate::model::{CheckId, Family, Finding, Status};
use crate::parse::spf::{self, Evaluation, SpfResult};
use std::net::IpAddr;

/// Trace lines shown per address.
const MAX_TRACE_SHOWN: usize = 12;

pub fn check(c: &Ctx) -> Finding {
    let s = Subject::host(CheckId::DnsSpf);
    with_mail(c, s, |m| spf_of(c, m, s))
}

fn spf_of(c: &Ctx, m: &MailFacts, s: Subject) -> Finding {
    let domain = c.opts.target.domain.as_str();
    let helo = m.helo().unwrap_or(&c.facts.host.hostname).to_string();
    let dns = |q: &SpfQuery| {
        m.spf_dns
            .iter()
            .find(|l| &l.query == q)
            .map(|l| l.answer.result.clone().map_err(|e| e.message))
    };
    let mut evidence = Vec::new();
    let mut results: Vec<(IpAddr, Evaluation)> = Vec::new();
    for family in Family::BOTH {
        let Some(source) = m.sending(family).ip() else {
            continue;
        };
        // Receivers evaluate the address they see: behind NAT, the public one.
        let (seen, note) = seen_by_receivers(c, source);
        if let Some(n) = note {
            evidence.push(format!("{}: {n}", family.name()));
        }
        let Some(ip) = seen else {
            continue;
        };
        let e = spf::evaluate(ip, domain, &helo, &dns);
        evidence.push(format!(
            "{} {ip}: {} ({}; {} of 10 lookups)",
            family.name(),
            e.result.name(),
            e.reason,
            e.lookups
        ));
        evidence.extend(
            e.trace
                .iter()
                .take(MAX_TRACE_SHOWN)
                .map(|t| format!("  {t}")),
        );
        results.push((ip, e));
    }
    if results.is_empty() {
        return s
            .skip("no address receivers see mail come from is known (see address.mail_source)")
            .evidence_all(evidence);
    }
    let worst = |r: SpfResult| match r {
        SpfResult::Fail | SpfResult::SoftFail | SpfResult::PermError => Status::Fail,
        SpfResult::TempError => Status::Error,
        SpfResult::None | SpfResult::Neutral => Status::Warn,
        SpfResult::Pass => Status::Pass,
    };
    let status = Status::worst(results.iter().map(|(_, e)| worst(e.result)));
    let listed = |want: &[SpfResult]| -> Vec<String> {
        results
            .iter()
            .filter(|(_, e)| want.contains(&e.result))
            .map(|(ip, e)| format!("{ip} ({})", e.result.name()))
            .collect()
    };
    match status {
        Status::Pass => s
            .pass(format!(
                "the SPF record of {domain} admits {}",
                joined(results.iter().map(|(ip, _)| ip), " and ")
            ))
            .evidence_all(evidence),
        Status::Error => s
            .error(format!(
                "the SPF record of {domain} could not be evaluated: {}",
                results
                    .iter()
                    .find(|(_, e)| e.result == SpfResult::TempError)
                    .map(|(_, e)| e.reason.clone())
                    .unwrap_or_default()
            ))
            .evidence_all(evidence),
        Status::Warn => s
            .warn(format!(
                "the SPF policy of {domain} neither admits nor refuses {}",
                listed(&[SpfResult::None, SpfResult::Neutral]).join(", ")
            ))
            .evidence_all(evidence)
            .explain("spf_missing", &[]),
        _ => {
            if let Some((_, e)) = results
                .iter()
                .find(|(_, e)| e.result == SpfResult::PermError)
            {
                return s
                    .fail(format!(
                        "the SPF record of {domain} cannot be evaluated: {}",
                        e.reason
                    ))
                    .evidence_all(evidence)
                    .explain("spf_broken", &[]);
            }
            let mut fd = s
                .fail(format!(
                    "the SPF record of {domain} does not admit {}",
                    listed(&[SpfResult::Fail, SpfResult::SoftFail]).join(", ")
                ))
                .evidence_all(evidence)
                .explain("spf_not_admitted", &[]);
            for (ip, e) in &results {
                if matches!(e.result, SpfResult::Fail | SpfResult::SoftFail) {
                    let mech = if ip.is_ipv4() { "ip4" } else { "ip6" };
                    fd = fd.fix(
                        "spf_add",
                        &[
                            ("addr", &ip.to_string()),
                            ("domain", domain),
                            ("mech", mech),
                        ],
                    );
                }
            }
            fd
        }
    }
}
