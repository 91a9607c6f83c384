//! `dns.geo`: the zone's authoritative servers give clients in every region the same A
//! and AAAA answers. Each server was asked once without a client subnet and once per
//! region's client networks (EDNS Client Subnet); a region whose answer differs from
//! the plain one is named, with the server and both answers.

use super::answer_text;
use crate::checks::failure;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::{DnsAnswer, GeoAnswer, GeoQuery, ProbeErrorKind, Probed};
use crate::model::{CheckId, Family, Finding, Status};
use std::collections::BTreeMap;
use std::net::SocketAddr;

const ID: CheckId = CheckId::DnsGeo;

pub fn check(c: &Ctx) -> Finding {
    let f = c.facts;
    let s = Subject::host(ID);
    let Some(geo) = &f.dns.geo else {
        return match &f.dns.zone.result {
            Err(e) => s.skip(format!(
                "no authoritative server to ask: {}",
                failure::word(f, failure::resolver(f).as_ref(), e).text
            )),
            Ok(_) => s.skip("not recorded (the snapshot is from an older dsdoctor)"),
        };
    };
    let servers: Vec<Server> = by_server(geo);
    if servers.is_empty() {
        return s.skip("the zone's name servers have no address to ask");
    }
    let mut evidence = Vec::new();
    let mut problems: Vec<Difference> = Vec::new();
    let mut honour: Vec<&str> = Vec::new();
    let mut ignore: Vec<&str> = Vec::new();
    let mut silent = Vec::new();
    let mut not_run = Vec::new();
    for sv in &servers {
        let label = sv.label();
        let Some(plain) = sv.plain else {
            continue;
        };
        if let Some(why) = both_not_run(plain) {
            not_run.push(format!("{label}: {why}"));
            continue;
        }
        let (Some(base_a), Some(base_aaaa)) = (plain.a.value(), plain.aaaa.value()) else {
            let e = plain
                .a
                .result
                .as_ref()
                .err()
                .or(plain.aaaa.result.as_ref().err());
            let why = e.map(|e| e.message.clone()).unwrap_or_default();
            evidence.push(format!("{label}: no answer without a client subnet: {why}"));
            silent.push(label);
            continue;
        };
        evidence.push(format!(
            "{label} without a client subnet: A {}; AAAA {}",
            answer_text(&base_a.answer),
            answer_text(&base_aaaa.answer)
        ));
        let varies = sv.regional.iter().any(|q| {
            Family::BOTH.iter().any(|&fam| {
                q.answer(fam)
                    .value()
                    .is_some_and(|a| a.scope.unwrap_or(0) > 0)
            })
        });
        let mut unanswered = 0;
        for q in &sv.regional {
            let region = q.region.as_deref().unwrap_or("?");
            let subnet = q.subnet.map(|n| n.to_string()).unwrap_or_default();
            let mut line = Vec::new();
            for fam in Family::BOTH {
                let base = family_pick(fam, base_a, base_aaaa);
                match &q.answer(fam).result {
                    Ok(a) => {
                        line.push(format!(
                            "{} {}{}",
                            fam.record_type(),
                            answer_text(&a.answer),
                            scope_text(a)
                        ));
                        // A family the site is not meant to serve (`--expect`) may differ.
                        if answer_text(&a.answer) != answer_text(&base.answer)
                            && c.opts.target.expect.wants(fam)
                        {
                            problems.push(Difference {
                                server: label.clone(),
                                ip: sv.server,
                                family: fam,
                                region: region.to_string(),
                                subnet: subnet.clone(),
                                got: answer_text(&a.answer),
                                plain: answer_text(&base.answer),
                                lost: lost(&base.answer, &a.answer),
                            });
                        }
                    }
                    Err(e) => {
                        unanswered += 1;
                        line.push(format!("{} {}", fam.record_type(), e.message));
                    }
                }
            }
            if varies {
                evidence.push(format!(
                    "{label} for {region} ({subnet}): {}",
                    line.join("; ")
                ));
            }
        }
        if varies {
            push_once(&mut honour, sv.name);
        } else {
            evidence.push(format!(
                "{label} ignores EDNS Client Subnet: no scope echoed in {} regional answers{}",
                sv.regional.len() * 2 - unanswered,
                if unanswered > 0 {
                    format!(", {unanswered} unanswered")
                } else {
                    String::new()
                }
            ));
            push_once(&mut ignore, sv.name);
        }
    }
    evidence.extend(not_run.iter().cloned());
    if !problems.is_empty() {
        return differs(c, s, &problems, evidence);
    }
    if honour.is_empty() && ignore.is_empty() {
        if silent.is_empty() {
            return s
                .skip(format!("not asked: {}", not_run.join("; ")))
                .evidence_all(evidence);
        }
        return s
            .warn(format!(
                "could not ask the zone's authoritative servers by region: {} gave no answer",
                silent.join(", ")
            ))
            .evidence_all(evidence)
            .explain("auth_unreachable", &[]);
    }
    // A server that ignores the option says nothing about regions: "does not vary by
    // region", never "every region gets the same".
    let summary = if honour.is_empty() {
        format!(
            "the answers do not vary by region: {} {} EDNS Client Subnet, so every resolver gets the same A and AAAA",
            ignore.join(", "),
            if ignore.len() == 1 {
                "ignores"
            } else {
                "ignore"
            }
        )
    } else if ignore.is_empty() {
        format!(
            "clients in every region get the same A and AAAA from {} (answering by client subnet)",
            honour.join(", ")
        )
    } else {
        format!(
            "clients in every region get the same A and AAAA from {} (answering by client subnet); {} does not vary by region (ignores EDNS Client Subnet)",
            honour.join(", "),
            ignore.join(", ")
        )
    };
    s.pass(summary).evidence_all(evidence)
}

/// One server's queries: the plain one and the regional ones.
struct Server<'a> {
    server: SocketAddr,
    name: &'a str,
    plain: Option<&'a GeoQuery>,
    regional: Vec<&'a GeoQuery>,
}

impl Server<'_> {
    fn label(&self) -> String {
        format!("authoritative {} ({})", self.name, self.server.ip())
    }
}

fn by_server(geo: &[GeoQuery]) -> Vec<Server<'_>> {
    let mut out: Vec<Server> = Vec::new();
    for q in geo {
        let i = match out.iter().position(|s| s.server == q.server) {
            Some(i) => i,
            None => {
                out.push(Server {
                    server: q.server,
                    name: &q.name,
                    plain: None,
                    regional: Vec::new(),
                });
                out.len() - 1
            }
        };
        match q.region {
            None => out[i].plain = Some(q),
            Some(_) => out[i].regional.push(q),
        }
    }
    out
}

fn push_once<'a>(v: &mut Vec<&'a str>, name: &'a str) {
    if !v.contains(&name) {
        v.push(name);
    }
}

fn both_not_run(q: &GeoQuery) -> Option<String> {
    let nr = |p: &Probed<GeoAnswer>| {
        p.result
            .as_ref()
            .err()
            .filter(|e| e.kind == ProbeErrorKind::NotRun)
            .map(|e| e.message.clone())
    };
    nr(&q.a).and(nr(&q.aaaa))
}

fn family_pick<'a>(fam: Family, a: &'a GeoAnswer, aaaa: &'a GeoAnswer) -> &'a GeoAnswer {
    fam.pick(a, aaaa)
}

fn scope_text(a: &GeoAnswer) -> String {
    match a.scope {
        Some(n) => format!(" (scope /{n})"),
        None => " (no scope)".into(),
    }
}

/// The region gets no record of a family that the plain answer has: its clients lose
/// that family (or the site).
fn lost(plain: &DnsAnswer, got: &DnsAnswer) -> bool {
    !plain.ips().is_empty() && got.ips().is_empty()
}

/// A region whose answer differs from the plain answer of the same server.
struct Difference {
    server: String,
    ip: SocketAddr,
    family: Family,
    region: String,
    subnet: String,
    got: String,
    plain: String,
    lost: bool,
}

fn differs(c: &Ctx, s: Subject, problems: &[Difference], evidence: Vec<String>) -> Finding {
    // One sentence per server, family and answer, naming the regions that get it.
    let mut groups: BTreeMap<(String, &'static str, String, String), Vec<String>> = BTreeMap::new();
    for p in problems {
        let regions = groups
            .entry((
                p.server.clone(),
                p.family.record_type(),
                p.got.clone(),
                p.plain.clone(),
            ))
            .or_default();
        if !regions.contains(&p.region) {
            regions.push(p.region.clone());
        }
    }
    let sentences: Vec<String> = groups
        .iter()
        .map(|((server, rtype, got, plain), regions)| {
            let what = if got == "none" {
                format!("no {rtype}")
            } else {
                format!("{rtype} {got}")
            };
            format!(
                "{server} gives clients in {} {what} (without a client subnet: {plain})",
                regions.join(", ")
            )
        })
        .collect();
    let any_lost = problems.iter().any(|p| p.lost);
    let status = if any_lost { Status::Fail } else { Status::Warn };
    let domain = &c.opts.target.domain;
    let first = &problems[0];
    let reproduce = vec![
        format!(
            "dig +norecurse +subnet={} @{} {domain} {}",
            first.subnet,
            first.ip.ip(),
            first.family.record_type()
        ),
        format!(
            "dig +norecurse @{} {domain} {}",
            first.ip.ip(),
            first.family.record_type()
        ),
    ];
    s.finding(status, sentences.join("; "))
        .evidence_all(evidence)
        .explain(
            if any_lost { "geo_lost" } else { "geo_differs" },
            &[("domain", domain)],
        )
        .fix("geo_uniform", &[("domain", domain)])
        .fix_lines("geo_reproduce", reproduce)
}
