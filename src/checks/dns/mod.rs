//! The DNS stage: do the records send clients to this host, over both families?

pub mod a_target;
pub mod aaaa_target;
pub mod blocklists;
pub mod consistency;
pub mod dns64;
pub mod geo;
pub mod mx;
pub mod nameservers;
pub mod records;
pub mod reverse;
pub mod spf;

use crate::checks::failure;
use crate::checks::subject::{Subject, joined};
use crate::facts::{DnsAnswer, Facts, ProbeError, ProbeErrorKind, ServerAnswers, ServerRole};
use crate::model::{Family, Finding};
use std::net::IpAddr;

fn servers_list(f: &Facts) -> String {
    joined(f.dns.resolvers.iter().map(|s| s.ip()), ", ")
}

fn ips_text(ips: impl Iterator<Item = IpAddr>) -> String {
    joined(ips, ", ")
}

/// An answer as compared between servers and subnets: the sorted addresses, `none` or
/// `NXDOMAIN`.
fn answer_text(a: &DnsAnswer) -> String {
    let mut ips = a.ips();
    ips.sort();
    match a {
        DnsAnswer::NxDomain => "NXDOMAIN".into(),
        _ if ips.is_empty() => "none".into(),
        _ => ips_text(ips.into_iter()),
    }
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

/// The `error` of a DNS check whose question got no answer: what failed in the admin's
/// words, the raw error in the evidence, and why it matters for the kind of failure.
fn unanswered(s: Subject, f: &Facts, what: &str, e: &ProbeError) -> Finding {
    s.unread_from(f, what, failure::resolver(f).as_ref(), e)
        .explain(unanswered_why(e.kind), &[])
}

fn unanswered_why(kind: ProbeErrorKind) -> &'static str {
    match kind {
        ProbeErrorKind::Unreachable => "dns_unreachable",
        ProbeErrorKind::Refused => "dns_refused",
        ProbeErrorKind::Timeout => "dns_timeout",
        _ => "dns_unavailable",
    }
}

fn server_label(s: &ServerAnswers) -> String {
    match (&s.role, &s.name) {
        (ServerRole::Authoritative, Some(n)) => format!("authoritative {n} ({})", s.server.ip()),
        _ => format!("resolver {}", s.server.ip()),
    }
}

#[cfg(test)]
mod tests;
