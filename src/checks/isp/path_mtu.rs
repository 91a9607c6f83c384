//! `isp.path_mtu_ipv4` / `isp.path_mtu_ipv6`: full-size packets cross the path where
//! small ones do.

use super::{blocked_skip, egress_of, fastest, first_address, ms_text, path_block, with_isp};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::isp::*;
use crate::facts::{ProbeError, ProbeErrorKind};
use crate::model::{CheckId, Family, Finding};

pub fn check(c: &Ctx, family: Family) -> Finding {
    let s = Subject::host(family.pick(CheckId::IspPathMtuIpv4, CheckId::IspPathMtuIpv6));
    with_isp(c, s, |isp| {
        path_mtu_family(c, isp, s, family, &path_block(c, isp, family))
    })
}

/// Full-size packets against small ones to the same egress targets: where small echoes
/// come back and 1500-byte ones never do, "packet too big" is lost on the way and every
/// response larger than the narrowest link stalls.
fn path_mtu_family(
    c: &Ctx,
    isp: &IspFacts,
    s: Subject,
    family: Family,
    block: &Option<CheckId>,
) -> Finding {
    let (f, o) = (c.facts, c.opts);
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    if let Some(cause) = block {
        return blocked_skip(s, family, *cause);
    }
    let size = FULL_SIZE_PACKET;
    let probes = egress_of(isp, family);
    let mut evidence: Vec<String> = probes
        .iter()
        .map(|p| {
            let full = match &p.full_size_icmp_ms.result {
                Ok(ms) => format!("{size}-byte echo {ms:.1} ms"),
                Err(e) => e.message.clone(),
            };
            format!(
                "{}: ICMP echo {}, {full}",
                p.addr.map(|a| a.ip().to_string()).unwrap_or_default(),
                ms_text(&p.icmp_ms),
            )
        })
        .collect();
    let route = host::default_routes(f, family).first().copied();
    let dev = route.and_then(|r| r.dev.clone());
    if let Some(l) = dev
        .as_ref()
        .and_then(|d| f.links().iter().find(|l| &l.name == d))
        && let Some(mtu) = l.mtu
    {
        evidence.push(format!(
            "{} mtu {mtu} (the {} default route's link)",
            l.name,
            family.name()
        ));
    }
    let echoing: Vec<&EgressProbe> = probes
        .iter()
        .copied()
        .filter(|p| p.icmp_ms.value().is_some())
        .collect();
    let denied = probes.iter().find_map(|p| {
        p.icmp_ms
            .result
            .as_ref()
            .err()
            .filter(|e| e.kind == ProbeErrorKind::Permission)
    });
    if let (true, Some(e)) = (echoing.is_empty(), denied) {
        return s.error(e.message.clone()).evidence_all(evidence);
    }
    if echoing.is_empty() {
        return s
            .skip(format!(
                "no {} egress target answers ICMP echo: the path MTU cannot be measured",
                family.name()
            ))
            .evidence_all(evidence);
    }
    if let Some(best) = fastest(echoing.iter().map(|p| &p.full_size_icmp_ms)) {
        return s
            .pass(format!(
                "{size}-byte {} packets cross the path and come back ({best:.1} ms)",
                family.name()
            ))
            .evidence_all(evidence);
    }
    let errors: Vec<&ProbeError> = echoing
        .iter()
        .filter_map(|p| p.full_size_icmp_ms.result.as_ref().err())
        .collect();
    if errors.iter().all(|e| e.kind == ProbeErrorKind::NotRun) {
        let why = errors
            .first()
            .map(|e| e.message.as_str())
            .unwrap_or("not run");
        return s
            .skip(format!("full-size echo {why}"))
            .evidence_all(evidence);
    }
    let target = first_address(&echoing);
    let gateway = route.and_then(|r| r.gateway).map(|g| g.to_string());
    let payload = full_size_payload(family);
    let (size_s, payload_s) = (size.to_string(), payload.to_string());
    let mut vars: Vec<(&str, &str)> = vec![
        ("family", family.name()),
        ("size", &size_s),
        ("payload", &payload_s),
        ("target", &target),
        ("flag", family.flag()),
        // IPv6 guarantees 1280 on every link; for IPv4 1400 clears tunnels and PPPoE.
        ("safe_mtu", family.pick("1400", "1280")),
    ];
    if let Some(d) = dev.as_deref() {
        vars.push(("dev", d));
    }
    if let Some(g) = gateway.as_deref() {
        vars.push(("gateway", g));
    }
    let finding = s.fail(format!(
        "small {} echoes to {target} come back, {size}-byte ones never do: path MTU discovery is broken, responses larger than the narrowest link stall",
        family.name()
    ))
    .evidence_all(evidence);
    if family.is_v6() && c.view.ptb_blocked {
        // The host's own filter eats "packet too big": that finding names the rule.
        return finding
            .explain("pmtu_host_filter", &vars)
            .caused_by(CheckId::FirewallIcmpv6);
    }
    finding
        .explain("pmtu_blackhole", &vars)
        .fix("pmtu_find", &vars)
        .fix("pmtu_workaround", &vars)
}
