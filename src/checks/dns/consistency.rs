//! `dns.consistency`: the resolvers and the zone's authoritative servers give the same A
//! and AAAA answers.

use super::{answer_text, server_label};
use crate::checks::failure;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::{DnsAnswer, Probed, ServerAnswers, ServerRole};
use crate::model::{CheckId, Family, Finding, Status};
use std::collections::BTreeSet;

pub fn check(c: &Ctx) -> Finding {
    let f = c.facts;
    let s = Subject::host(CheckId::DnsConsistency);
    let servers = &f.dns.servers;
    if servers.is_empty() {
        return s.skip("no resolver could be asked (see dns.a)");
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
        return s
            .finding(status, problems.join("; "))
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
            .map(|e| failure::word(f, failure::resolver(f).as_ref(), e).text)
            .unwrap_or_else(|| "no authoritative server answered".into());
        return s
            .warn(format!(
                "could not compare with the zone's authoritative servers: {why}"
            ))
            .evidence_all(evidence)
            .explain("auth_unreachable", &[]);
    }
    s.pass("resolvers and authoritative servers give the same A and AAAA answers")
        .evidence_all(evidence)
}

fn answer_key(a: &Probed<DnsAnswer>) -> Option<String> {
    a.value().map(answer_text)
}
