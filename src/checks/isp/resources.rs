//! `isp.resources`: the home page's subresources load over IPv6 too.

use super::with_isp;
use crate::checks::subject::{Subject, joined};
use crate::checks::view::Ctx;
use crate::facts::isp::*;
use crate::model::{CheckId, Finding};
use crate::options::Options;

pub fn check(c: &Ctx) -> Finding {
    let s = Subject::host(CheckId::IspResources);
    with_isp(c, s, |isp| home_resources(c.opts, isp, s))
}

fn home_resources(o: &Options, isp: &IspFacts, s: Subject) -> Finding {
    let Some(r) = &isp.resources else {
        return s.skip("no web port (80 or 443) served, or no A/AAAA record: no home page to read");
    };
    // Timed with the home page's fetch, whatever the answer.
    let fd = match &r.result {
        Ok(facts) => judge(o, facts, s),
        Err(e) => s.skip(format!(
            "the home page could not be read ({}): see isp.http_parity",
            e.message
        )),
    };
    fd.took(r.ms)
}

fn judge(o: &Options, facts: &ResourceFacts, s: Subject) -> Finding {
    let mut evidence: Vec<String> = facts.pages.iter().map(|p| format!("read {p}")).collect();
    let mut bad: Vec<String> = Vec::new();
    for x in &facts.refs {
        let what = if x.literal && x.has_a == Some(true) {
            bad.push(x.url.clone());
            "an IPv4 literal: unreachable for IPv6-only clients".to_string()
        } else if x.literal {
            "an IPv6 literal".to_string()
        } else {
            match (x.has_a, x.has_aaaa) {
                (_, Some(false)) => {
                    bad.push(x.url.clone());
                    "host without AAAA: IPv6-only clients cannot load it".to_string()
                }
                (Some(false), Some(true)) => "IPv6 only".to_string(),
                (_, Some(true)) => "A and AAAA".to_string(),
                _ => "could not be resolved".to_string(),
            }
        };
        evidence.push(format!("{} ({}): {what}", x.url, x.host));
    }
    if !bad.is_empty() && o.target.expect.wants_v6() {
        return s
            .warn(format!(
                "{} subresource(s) of the home page cannot be loaded over IPv6: {}",
                bad.len(),
                joined(bad.iter().take(3), ", ")
            ))
            .evidence_all(evidence)
            .explain("resources_v4_only", &[]);
    }
    s.pass(if facts.refs.is_empty() {
        "the home page loads no subresources from other hosts".to_string()
    } else {
        format!(
            "the home page's {} subresource host(s) are reachable over IPv6",
            facts.refs.len()
        )
    })
    .evidence_all(evidence)
}
