//! `dns.mx`: every MX host has A and AAAA records, and those naming this host point at
//! its addresses.

use super::ips_text;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::model::{CheckId, Finding};
use std::collections::BTreeSet;
use std::net::IpAddr;

pub fn check(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let s = Subject::host(CheckId::DnsMx);
    let Some(mx) = &f.dns.mx else {
        return s.skip("no mail port (25, 465, 587) among the ports checked");
    };
    let hosts = match &mx.result {
        Ok(h) => h,
        Err(e) => {
            return super::unanswered(s, f, "look up the MX records", e);
        }
    };
    if hosts.is_empty() {
        return s
            .warn(format!(
                "{} has no MX record; mail goes to its A/AAAA",
                o.target.domain
            ))
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
        s.pass("every MX host has A and AAAA records")
            .evidence_all(evidence)
    } else {
        s.fail(problems.join("; "))
            .evidence_all(evidence)
            .explain("mx_problems", &[])
    }
}
