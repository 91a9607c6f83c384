//! `isp.egress_ipv4` / `isp.egress_ipv6`: traffic of the family leaves this host and
//! reaches the internet.

use super::{egress_of, fastest, first_address, ms_text, with_isp};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::isp::*;
use crate::model::{CheckId, Family, Finding};

pub fn check(c: &Ctx, family: Family) -> Finding {
    let s = Subject::host(family.pick(CheckId::IspEgressIpv4, CheckId::IspEgressIpv6));
    with_isp(c, s, |isp| egress_of_family(c, isp, s, family))
}

fn egress_of_family(c: &Ctx, isp: &IspFacts, s: Subject, family: Family) -> Finding {
    let (f, o) = (c.facts, c.opts);
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    let probes = egress_of(isp, family);
    let unresolved: Vec<String> = isp
        .egress
        .iter()
        .filter(|p| p.addr.is_none())
        .map(|p| format!("{}: {}", p.target, ms_text(&p.tcp_ms)))
        .collect();
    if probes.is_empty() {
        return s
            .skip(format!("no {} egress target (--egress)", family.name()))
            .evidence_all(unresolved);
    }
    let evidence: Vec<String> = probes
        .iter()
        .map(|p| {
            format!(
                "{}: TCP {}; ICMP echo {}",
                p.addr.map(|a| a.to_string()).unwrap_or_default(),
                ms_text(&p.tcp_ms),
                ms_text(&p.icmp_ms)
            )
        })
        .chain(unresolved)
        .collect();
    let ok: Vec<&EgressProbe> = probes
        .iter()
        .copied()
        .filter(|p| p.tcp_ms.value().is_some() || p.icmp_ms.value().is_some())
        .collect();
    if let Some(best) = fastest(ok.iter().map(|p| &p.tcp_ms)) {
        return s
            .pass(format!(
                "{} of {} {} targets answer (TCP connect {best:.1} ms)",
                ok.len(),
                probes.len(),
                family.name()
            ))
            .evidence_all(evidence);
    }
    if !ok.is_empty() {
        return s.warn(format!(
            "{} targets answer ICMP echo but refuse or drop TCP: a filter upstream lets only some traffic out",
            family.name()
        ))
        .evidence_all(evidence)
        .explain("egress_tcp_filtered", &[("family", family.name())]);
    }
    if let Some(b) = c.view.blocker(family) {
        return s.skip(format!(
            "{} traffic cannot leave this host (see {b}); the egress probes failed as a consequence",
            family.name()
        ))
        .evidence_all(evidence)
        .caused_by(b);
    }
    let target = first_address(&probes);
    let flag = family.flag();
    let gw = host::default_routes(f, family)
        .first()
        .and_then(|r| r.gateway)
        .map(|g| g.to_string())
        .unwrap_or_else(|| "the gateway".into());
    s.fail(format!(
        "no {} egress target answers: traffic leaves this host but is lost upstream of the gateway",
        family.name()
    ))
    .evidence_all(evidence)
    .explain(
        "egress_failed",
        &[
            ("family", family.name()),
            ("gateway", &gw),
            ("v", family.as_str()),
        ],
    )
    .fix("egress_trace", &[("flag", flag), ("target", &target)])
}
