//! `route.ipv4_gateway` / `route.ipv6_gateway`: the default route's gateway answers, by
//! ICMP echo or at least in the neighbour table.

use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::ProbeErrorKind;
use crate::model::{CheckId, Family, Finding, Status};

pub fn check(c: &Ctx, family: Family) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let s = Subject::host(family.pick(CheckId::RouteIpv4Gateway, CheckId::RouteIpv6Gateway));
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    let defaults = host::default_routes(f, family);
    let Some(route) = defaults.first() else {
        let def = family.pick(CheckId::RouteIpv4Default, CheckId::RouteIpv6Default);
        return s
            .skip(format!(
                "no default route, so no gateway to ask (see {def})"
            ))
            .caused_by(def);
    };
    let Some(gw) = route.gateway else {
        return s.pass(format!(
            "the default route goes straight out of {} (no gateway)",
            route.dev.clone().unwrap_or_default()
        ));
    };
    let neigh = f
        .neighbours
        .value()
        .into_iter()
        .flatten()
        .find(|n| n.ip == gw && route.dev.as_ref().is_none_or(|d| d == &n.dev));
    let neigh_line = match neigh {
        Some(n) => format!(
            "neighbour {gw} dev {} {}{}",
            n.dev,
            n.state,
            n.lladdr
                .as_ref()
                .map(|m| format!(" lladdr {m}"))
                .unwrap_or_default()
        ),
        None => format!("neighbour {gw}: no entry in the neighbour table"),
    };
    let neigh_ok = neigh.is_some_and(|n| host::neighbour_ok(&n.state));
    let neigh_dead = neigh.is_some_and(|n| matches!(n.state.as_str(), "failed" | "incomplete"));
    let ping = f.gateway_pings.iter().find(|p| p.gateway == gw);
    let mut evidence = vec![format!("route: {}", host::route_line(route)), neigh_line];
    // A route without a device leaves the commands that need one out (the assets drop
    // a command whose placeholders stay unfilled).
    let gw_s = gw.to_string();
    let mut vars = vec![("gw", gw_s.as_str())];
    if let Some(dev) = route.dev.as_deref() {
        vars.push(("iface", dev));
    }
    match ping.map(|p| (&p.rtt_ms.result, p.rtt_ms.ms)) {
        Some((Ok(rtt), ms)) => s
            .pass(format!("gateway {gw} answers ICMP echo in {rtt:.1} ms"))
            .evidence_all(evidence)
            .took(ms),
        Some((Err(e), ms))
            if e.kind == ProbeErrorKind::Permission || e.kind == ProbeErrorKind::NotRun =>
        {
            evidence.push(e.message.clone());
            if neigh_ok {
                let status = if e.kind == ProbeErrorKind::NotRun {
                    Status::Pass
                } else {
                    Status::Error
                };
                s.finding(
                    status,
                    format!(
                        "gateway {gw} is in the neighbour table; ICMP echo not sent: {}",
                        e.message
                    ),
                )
                .evidence_all(evidence)
                .took(ms)
            } else {
                s.error(format!("cannot test gateway {gw}: {}", e.message))
                    .evidence_all(evidence)
                    .took(ms)
            }
        }
        Some((Err(e), ms)) => {
            evidence.push(format!("ICMP echo: {}", e.message));
            if neigh_dead || !neigh_ok {
                s.fail(format!(
                    "{} gateway {gw} does not answer: no echo reply and no link-layer address",
                    family.name()
                ))
                .evidence_all(evidence)
                .explain(family.pick("gateway_dead_v4", "gateway_dead_v6"), &[])
                .fix(family.pick("gateway_check_v4", "gateway_check_v6"), &vars)
                .took(ms)
            } else {
                s.warn(format!(
                    "gateway {gw} is reachable at the link layer but ignores ICMP echo"
                ))
                .evidence_all(evidence)
                .explain("gateway_no_echo", &[])
                .took(ms)
            }
        }
        None => s
            .error(format!("gateway {gw} was not probed"))
            .evidence_all(evidence),
    }
}
