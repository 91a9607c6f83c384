//! `isp.smtp_parity`: the mail server greets with the same name over both families.

use super::with_isp;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::Facts;
use crate::facts::isp::*;
use crate::model::{CheckId, Family, Finding};
use std::net::IpAddr;

pub fn check(c: &Ctx, port: u16) -> Finding {
    let s = Subject::on_port(CheckId::IspSmtpParity, port);
    with_isp(c, s, |isp| smtp_parity_port(c.facts, isp, s, port))
}

fn smtp_parity_port(f: &Facts, isp: &IspFacts, s: Subject, port: u16) -> Finding {
    if !crate::options::is_mail_port(port) {
        return s.skip("not a mail port (25, 465, 587)");
    }
    let probes: Vec<&SmtpProbe> = isp.smtp.iter().filter(|p| p.port == port).collect();
    if !probes.iter().any(|p| p.ip.is_ipv4()) || !probes.iter().any(|p| p.ip.is_ipv6()) {
        return s.skip("nothing to compare: the domain lacks an A or an AAAA record");
    }
    let ms = probes.iter().map(|p| p.answer.ms).max().unwrap_or(0);
    let mut evidence = Vec::new();
    let mut names: Vec<(IpAddr, String, String)> = Vec::new();
    let mut failed: Vec<(IpAddr, String)> = Vec::new();
    for p in &probes {
        match &p.answer.result {
            Ok(a) => {
                let (g, e) = (smtp_name(&a.banner), smtp_name(&a.ehlo));
                evidence.push(format!(
                    "{} {}: {} / {}",
                    Family::of(p.ip).name(),
                    p.ip,
                    a.banner.first().cloned().unwrap_or_default(),
                    a.ehlo.first().cloned().unwrap_or_default()
                ));
                names.push((p.ip, g, e));
            }
            Err(e) => {
                evidence.push(format!(
                    "{} {}: {}",
                    Family::of(p.ip).name(),
                    p.ip,
                    e.message
                ));
                failed.push((p.ip, e.message.clone()));
            }
        }
    }
    for ptr in &f.dns.ptr {
        if probes.iter().any(|p| p.ip == ptr.ip) {
            evidence.push(format!(
                "PTR {}: {}",
                ptr.ip,
                match &ptr.names.result {
                    Ok(n) if !n.is_empty() => n.join(", "),
                    Ok(_) => "none".into(),
                    Err(e) => e.message.clone(),
                }
            ));
        }
    }
    if names.is_empty() {
        return s
            .fail(format!("no address answers SMTP on port {port}"))
            .evidence_all(evidence)
            .took(ms);
    }
    if let Some((ip, msg)) = failed.first() {
        return s
            .fail(format!(
                "SMTP over {} ({ip}) fails ({msg}) while the other addresses answer",
                Family::of(*ip).name()
            ))
            .evidence_all(evidence)
            .explain("smtp_differs", &[])
            .took(ms);
    }
    let first = &names[0];
    if let Some(other) = names.iter().find(|n| n.1 != first.1 || n.2 != first.2) {
        return s
            .fail(format!(
                "the mail server introduces itself as {} over {} but as {} over {}",
                other.1,
                Family::of(other.0).name(),
                first.1,
                Family::of(first.0).name()
            ))
            .evidence_all(evidence)
            .explain("smtp_differs", &[])
            .took(ms);
    }
    // Pair with reverse DNS: receivers compare the greeting name with the PTR.
    let mismatch = names.iter().find(|(ip, g, _)| {
        f.dns.ptr.iter().any(|p| {
            p.ip == *ip
                && p.names.value().is_some_and(|n| {
                    !n.iter()
                        .any(|x| x.trim_end_matches('.').eq_ignore_ascii_case(g))
                })
        })
    });
    if let Some((ip, g, _)) = mismatch {
        return s.warn(format!(
            "the greeting name {g} is the same over both families, but the PTR of {ip} does not name it (see dns.reverse)"
        ))
        .evidence_all(evidence)
        .explain("smtp_ptr", &[])
        .took(ms);
    }
    s.pass(format!(
        "the same greeting ({}) over IPv4 and IPv6",
        first.1
    ))
    .evidence_all(evidence)
    .took(ms)
}

/// The host name a greeting or EHLO line names (`220 mx.example ESMTP` → mx.example).
fn smtp_name(lines: &[String]) -> String {
    lines
        .first()
        .and_then(|l| l.get(4..))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("")
        .to_ascii_lowercase()
}
