//! `dns.reverse`: every public address has a PTR that resolves back (mail receivers
//! insist on it).

use super::ips_text;
use crate::checks::failure;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::model::{CheckId, Family, Finding, Status};

pub fn check(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let s = Subject::host(CheckId::DnsReverse);
    if f.dns.ptr.is_empty() {
        return s.skip("this host has no public address to look up");
    }
    let mail = !o.mail_ports().is_empty();
    let wanted: Vec<_> = f
        .dns
        .ptr
        .iter()
        .filter(|p| o.target.expect.wants(Family::of(p.ip)))
        .collect();
    if wanted.is_empty() {
        return s.skip("no public address of the expected families to look up");
    }
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    let mut unconfirmed = Vec::new();
    let mut errors = Vec::new();
    let mut first_error = None;
    for p in wanted {
        match &p.names.result {
            Err(e) => {
                errors.push(p.ip);
                first_error.get_or_insert(e);
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
        let mut fd = s
            .finding(bad_status, format!("no forward-confirmed PTR for {list}"))
            .evidence_all(evidence)
            .explain("ptr_missing", &[]);
        for ip in missing.iter().chain(&unconfirmed) {
            fd = fd.fix("set_ptr", &[("addr", &ip.to_string()), ("domain", domain)]);
        }
        return fd;
    }
    if let Some(e) = first_error {
        let w = failure::word(f, failure::resolver(f).as_ref(), e);
        let mut fd = s
            .error(format!(
                "could not look up the PTR records of {}: {}",
                ips_text(errors.into_iter()),
                w.text
            ))
            .evidence_all(evidence)
            .explain(super::unanswered_why(e.kind), &[]);
        if let Some(c) = w.cause {
            fd = fd.caused_by(c);
        }
        return fd;
    }
    s.pass("every public address has a PTR that resolves back")
        .evidence_all(evidence)
}
