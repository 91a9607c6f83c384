//! `address.mail_source`: the address mail leaves from over each family is stable and
//! has a PTR that resolves back (receivers refuse IPv6 mail without one).

use crate::checks::mail::{
    Ptr, decided_by, flags, pass_naming, ptr_of, seen_by_receivers, with_mail,
};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::ProbeErrorKind;
use crate::facts::mail::{MailFacts, MtaKind, Sending};
use crate::model::{CheckId, Family, Finding};
use std::net::IpAddr;

pub fn check(c: &Ctx) -> Finding {
    let s = Subject::host(CheckId::AddressMailSource);
    with_mail(c, s, |m| mail_source(c, m, s))
}

/// One family's sending address and what is wrong with it.
struct Judged {
    family: Family,
    ip: IpAddr,
    problems: Vec<String>,
    /// The MTA binds to an address the host does not have.
    unbound: bool,
}

fn mail_source(c: &Ctx, m: &MailFacts, s: Subject) -> Finding {
    let f = c.facts;
    let mut evidence = Vec::new();
    let mut judged: Vec<Judged> = Vec::new();
    let mut bad_bind = None;
    for family in Family::BOTH {
        let sending = m.sending(family);
        let name = family.name();
        match &sending {
            Sending::Off(set) => evidence.push(format!(
                "{name}: not used by the MTA (inet_protocols{})",
                set.families_at
                    .as_ref()
                    .map(|p| format!(", {p}"))
                    .unwrap_or_default()
            )),
            Sending::BadBind(set) => {
                evidence.push(format!(
                    "{name}: {} = {} ({}) is not an {name} address",
                    set.name, set.value, set.at
                ));
                bad_bind = Some((family, (*set).clone()));
            }
            Sending::Nothing(src) => evidence.push(match src.map(|s| &s.kernel.result) {
                Some(Err(e)) if e.kind == ProbeErrorKind::Unreachable => format!(
                    "{name}: no route towards {}: no mail leaves over {name}",
                    src.map(|s| s.towards.to_string()).unwrap_or_default()
                ),
                Some(Err(e)) => format!("{name}: source address unknown: {}", e.message),
                _ => format!("{name}: source address unknown"),
            }),
            Sending::Bound(_, ip) | Sending::Kernel(_, ip)
                if let (_, Some(note)) = seen_by_receivers(c, *ip) =>
            {
                // Behind NAT the PTR that matters is the public address's, which this
                // host does not hold: not judged here.
                evidence.push(format!(
                    "{name}: mail leaves from {ip} ({}); {note}",
                    decided_by(m, &sending)
                ));
            }
            Sending::Bound(_, ip) | Sending::Kernel(_, ip) => {
                let addr = f.addrs().map(|(_, a)| a).find(|a| a.ip == *ip);
                let ptr = ptr_of(m, *ip);
                let mut problems = Vec::new();
                let flag_text = match addr {
                    Some(a) => {
                        if a.temporary {
                            problems.push("a temporary (privacy) address".to_string());
                        }
                        if a.deprecated {
                            problems.push("deprecated".to_string());
                        }
                        flags(a).join(", ")
                    }
                    None if f.links.value().is_none() => {
                        "flags unknown: the addresses were not read".into()
                    }
                    None => "not an address of this host".into(),
                };
                match &ptr {
                    Ptr::Missing => problems.push("without PTR".into()),
                    Ptr::Unconfirmed(n) => {
                        problems.push(format!("whose PTR {n} does not resolve back"))
                    }
                    _ => {}
                }
                evidence.push(format!(
                    "{name}: mail leaves from {ip} ({}; {flag_text}); {}",
                    decided_by(m, &sending),
                    ptr.text()
                ));
                judged.push(Judged {
                    family,
                    ip: *ip,
                    problems,
                    // Only a host whose addresses were read can be said to lack one.
                    unbound: addr.is_none()
                        && f.links.value().is_some()
                        && matches!(sending, Sending::Bound(..)),
                });
            }
        }
    }
    if let Some(h) = m.settings().and_then(|s| s.helo.as_ref()) {
        evidence.push(format!("HELO name: {} ({}, {})", h.value, h.name, h.at));
        // Receivers compare the greeting name with the PTR of the connecting address.
        for j in &judged {
            if let Ptr::Confirmed(n) = ptr_of(m, j.ip)
                && !n.eq_ignore_ascii_case(&h.value)
            {
                evidence.push(format!(
                    "the HELO name {} is not the PTR name {n} of {}",
                    h.value, j.ip
                ));
            }
        }
    }
    if let Some(p) = m.settings().and_then(|s| s.preference.as_ref()) {
        evidence.push(format!(
            "{} = {} ({}): the family tried first when a receiver has both",
            p.name, p.value, p.at
        ));
    }
    for mta in &m.mtas {
        if let Err(e) = &mta.settings {
            evidence.push(format!("{} (pid {}): {e}", mta.kind.name(), mta.pid));
        }
    }
    let dir = m
        .settings()
        .and_then(|s| std::path::Path::new(&s.file).parent())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "/etc/postfix".into());
    let postfix = m.mtas.iter().any(|x| x.kind == MtaKind::Postfix);
    if let Some(j) = judged.iter().find(|j| j.unbound) {
        let set = m
            .settings()
            .and_then(|st| j.family.pick(&st.bind_v4, &st.bind_v6).as_ref());
        let mut fd = s
            .fail(format!(
                "the MTA is told to send {} mail from {}, which this host does not have",
                j.family.name(),
                j.ip
            ))
            .evidence_all(evidence)
            .explain(
                "mail_source_unbound",
                &[("addr", &j.ip.to_string()), ("family", j.family.name())],
            );
        if let Some(set) = set {
            fd = unbind_fix(fd, postfix, &dir, set);
        }
        return fd;
    }
    if let Some((family, set)) = bad_bind {
        let fd = s
            .fail(format!(
                "{} = {} is not an {} address: the MTA cannot send over {}",
                set.name,
                set.value,
                family.name(),
                family.name()
            ))
            .evidence_all(evidence);
        return unbind_fix(fd, postfix, &dir, &set);
    }
    let bad: Vec<&Judged> = judged.iter().filter(|j| !j.problems.is_empty()).collect();
    if let Some(first) = bad.first() {
        let summary = bad
            .iter()
            .map(|j| {
                format!(
                    "{} mail leaves from {}, {}",
                    j.family.name(),
                    j.ip,
                    j.problems.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut fd = s
            .fail(summary)
            .evidence_all(evidence)
            .explain("mail_source_bad", &[]);
        if m.mtas.iter().any(|x| x.settings.is_err()) {
            fd = fd.explain_also("mail_source_unread", &[]);
        }
        let domain = &c.opts.target.domain;
        for j in &bad {
            fd = fd.fix(
                "set_ptr",
                &[("addr", &j.ip.to_string()), ("domain", domain.as_str())],
            );
        }
        // A stable address of the same family with a forward-confirmed PTR: bind to it.
        if first.family == Family::V6
            && let Some(better) = f
                .addrs()
                .map(|(_, a)| a)
                .filter(|a| a.ip.is_ipv6() && a.ip != first.ip && !a.temporary && !a.deprecated)
                .find(|a| matches!(ptr_of(m, a.ip), Ptr::Confirmed(_)))
        {
            let key = if postfix {
                "mail_bind_postfix"
            } else {
                "mail_bind_exim"
            };
            fd = fd.fix(key, &[("addr", &better.ip.to_string()), ("dir", &dir)]);
        }
        if first.family == Family::V6 && !m.mtas.is_empty() {
            let (key, place) = if postfix {
                ("mail_ipv4_only", dir.clone())
            } else {
                (
                    "mail_ipv4_only_exim",
                    m.settings()
                        .map(|s| s.file.clone())
                        .unwrap_or_else(|| "Exim's configuration".into()),
                )
            };
            fd = fd.fix(key, &[("dir", &place)]);
        }
        return fd;
    }
    pass_naming(
        s,
        judged.iter().map(|j| j.ip),
        |ips| format!("mail leaves from {ips}, each stable with a PTR that resolves back"),
        "no family has a public address mail would leave from to judge",
    )
    .evidence_all(evidence)
}

/// The fix that drops a bind setting the host cannot honour: Postfix's by `postconf -X`,
/// Exim's as an instruction (its file is edited by hand).
fn unbind_fix(fd: Finding, postfix: bool, dir: &str, set: &crate::facts::mail::Setting) -> Finding {
    if postfix {
        fd.fix("mail_unbind", &[("dir", dir), ("setting", &set.name)])
    } else {
        fd.fix("mail_unbind_exim", &[("at", &set.at.to_string())])
    }
}
