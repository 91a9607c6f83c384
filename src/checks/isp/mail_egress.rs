//! `isp.mail_egress`: outbound TCP port 25 reaches mail receivers over each family the
//! MTA sends on (many providers block it, sometimes over one family only).

use crate::checks::mail::{pass_naming, with_mail};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::ProbeErrorKind;
use crate::facts::mail::{MailEgressProbe, MailFacts, Sending};
use crate::model::{CheckId, Family, Finding};

pub fn check(c: &Ctx) -> Finding {
    let s = Subject::host(CheckId::IspMailEgress);
    // Like every ISP check, it says first that it was not run.
    if c.opts.offline {
        return s.skip("not run: --offline");
    }
    with_mail(c, s, |m| mail_egress(c, m, s))
}

fn mail_egress(c: &Ctx, m: &MailFacts, s: Subject) -> Finding {
    let mut evidence = Vec::new();
    let mut works = Vec::new();
    let mut fails: Vec<(Family, Vec<&MailEgressProbe>)> = Vec::new();
    for family in Family::BOTH {
        if let Sending::Off(_) = m.sending(family) {
            evidence.push(format!("{}: not used by the MTA", family.name()));
            continue;
        }
        let probes: Vec<&MailEgressProbe> = m
            .egress
            .iter()
            .filter(|p| p.family == family && p.addr.is_some())
            .collect();
        for p in &m.egress {
            if p.family != family {
                continue;
            }
            evidence.push(match (&p.addr, &p.banner.result) {
                (Some(a), Ok(b)) => format!(
                    "{} {}: {}",
                    family.name(),
                    a,
                    b.first().cloned().unwrap_or_default()
                ),
                (Some(a), Err(e)) => format!("{} {}: {}", family.name(), a, e.message),
                (None, Err(e)) if e.kind == ProbeErrorKind::NotRun => {
                    format!("{} {}: {}", family.name(), p.target, e.message)
                }
                (None, r) => format!(
                    "{} {}: {}",
                    family.name(),
                    p.target,
                    r.as_ref().err().map(|e| e.message.as_str()).unwrap_or("")
                ),
            });
        }
        if probes.is_empty() {
            continue;
        }
        if probes.iter().any(|p| p.banner.value().is_some()) {
            works.push(family);
        } else {
            fails.push((family, probes));
        }
    }
    if let Some((family, probes)) = fails.first() {
        let first = probes[0];
        let addr = first.addr.map(|a| a.ip().to_string()).unwrap_or_default();
        let port = first.addr.map(|a| a.port()).unwrap_or(25).to_string();
        let other = if works.contains(&family.other()) {
            format!(", while {} works", family.other().name())
        } else {
            String::new()
        };
        let mut fd = s
            .fail(format!(
                "outbound port 25 over {} fails: no receiver answers ({}){other}",
                family.name(),
                probes
                    .iter()
                    .map(|p| format!(
                        "{}: {}",
                        p.addr.map(|a| a.to_string()).unwrap_or_default(),
                        p.banner
                            .result
                            .as_ref()
                            .err()
                            .map(|e| e.message.as_str())
                            .unwrap_or("")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
            .evidence_all(evidence)
            .explain("mail_egress_blocked", &[("family", family.name())])
            .fix(
                "mail_egress_open",
                &[
                    ("family", family.name()),
                    ("v", family.pick("4", "6")),
                    ("host", &addr),
                    ("port", &port),
                ],
            );
        if let Some(b) = c.view.blocker(*family) {
            fd = fd.caused_by(b);
        }
        return fd;
    }
    pass_naming(
        s,
        works.iter().map(|f| f.name()),
        |families| format!("port 25 reaches mail receivers over {families}"),
        "no receiver to try: none of the targets has an address (--mail-egress)",
    )
    .evidence_all(evidence)
}
