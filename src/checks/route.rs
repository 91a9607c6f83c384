//! The route stage: can the host send replies back out, over each family?

use super::host;
use super::view::Ctx;
use crate::facts::{Facts, ProbeErrorKind};
use crate::model::{CheckId, Family, Finding, Status};

pub fn default(c: &Ctx, family: Family) -> Finding {
    let (f, o, v6) = (c.facts, c.opts, family.is_v6());
    let id = family.pick(CheckId::RouteIpv4Default, CheckId::RouteIpv6Default);
    if let Some(skip) = host::unexpected(o, id, None, family) {
        return skip;
    }
    if let Err(e) = &f.routes.result {
        return Finding::new(
            id,
            None,
            Status::Error,
            format!("could not read routes: {}", e.message),
        );
    }
    let defaults = host::default_routes(f, family);
    if !defaults.is_empty() {
        let first = host::route_line(defaults[0]);
        return Finding::new(id, None, Status::Pass, first.clone())
            .evidence_all(
                defaults
                    .iter()
                    .map(|r| format!("route: {}", host::route_line(r))),
            )
            .took(f.routes.ms);
    }
    let evidence: Vec<String> = host::routes(f)
        .iter()
        .filter(|r| r.family == family)
        .take(8)
        .map(|r| {
            format!(
                "route: {} dev {}",
                r.dst.map(|d| d.to_string()).unwrap_or_default(),
                r.dev.clone().unwrap_or_default()
            )
        })
        .collect();
    if v6 && host::ipv6_off(f) {
        return Finding::new(
            id,
            None,
            Status::Fail,
            "no IPv6 default route: IPv6 is disabled on this host",
        )
        .evidence_all(evidence)
        .caused_by(CheckId::AddressIpv6Enabled);
    }
    let iface = host::relevant_ifaces(f, family)
        .into_iter()
        .next()
        .unwrap_or_else(|| "eth0".into());
    let mut fd = Finding::new(
        id,
        None,
        Status::Fail,
        format!(
            "no {} default route: replies to {} clients cannot leave this host",
            family.name(),
            family.name()
        ),
    )
    .evidence_all(evidence)
    .explain(family.pick("no_default_v4", "no_default_v6"), &[])
    .fix(
        family.pick("add_default_v4", "add_default_v6"),
        &[("iface", &iface)],
    );
    if v6 && ra_blocks(f, &iface).is_some() {
        fd = fd.caused_by(CheckId::RouteIpv6Ra);
    }
    fd.took(f.routes.ms)
}

pub fn gateway(c: &Ctx, family: Family) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = family.pick(CheckId::RouteIpv4Gateway, CheckId::RouteIpv6Gateway);
    if let Some(skip) = host::unexpected(o, id, None, family) {
        return skip;
    }
    let defaults = host::default_routes(f, family);
    let Some(route) = defaults.first() else {
        let def = family.pick(CheckId::RouteIpv4Default, CheckId::RouteIpv6Default);
        return Finding::new(
            id,
            None,
            Status::Skip,
            format!("no default route, so no gateway to ask (see {def})"),
        )
        .caused_by(def);
    };
    let Some(gw) = route.gateway else {
        return Finding::new(
            id,
            None,
            Status::Pass,
            format!(
                "the default route goes straight out of {} (no gateway)",
                route.dev.clone().unwrap_or_default()
            ),
        );
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
    let dev = route.dev.clone().unwrap_or_else(|| "eth0".into());
    let gw_s = gw.to_string();
    let vars = [("gw", gw_s.as_str()), ("iface", dev.as_str())];
    match ping.map(|p| (&p.rtt_ms.result, p.rtt_ms.ms)) {
        Some((Ok(rtt), ms)) => Finding::new(
            id,
            None,
            Status::Pass,
            format!("gateway {gw} answers ICMP echo in {rtt:.1} ms"),
        )
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
                Finding::new(
                    id,
                    None,
                    status,
                    format!(
                        "gateway {gw} is in the neighbour table; ICMP echo not sent: {}",
                        e.message
                    ),
                )
                .evidence_all(evidence)
                .took(ms)
            } else {
                Finding::new(
                    id,
                    None,
                    Status::Error,
                    format!("cannot test gateway {gw}: {}", e.message),
                )
                .evidence_all(evidence)
                .took(ms)
            }
        }
        Some((Err(e), ms)) => {
            evidence.push(format!("ICMP echo: {}", e.message));
            if neigh_dead || !neigh_ok {
                Finding::new(
                    id,
                    None,
                    Status::Fail,
                    format!(
                        "{} gateway {gw} does not answer: no echo reply and no link-layer address",
                        family.name()
                    ),
                )
                .evidence_all(evidence)
                .explain(family.pick("gateway_dead_v4", "gateway_dead_v6"), &[])
                .fix(family.pick("gateway_check_v4", "gateway_check_v6"), &vars)
                .took(ms)
            } else {
                Finding::new(
                    id,
                    None,
                    Status::Warn,
                    format!("gateway {gw} is reachable at the link layer but ignores ICMP echo"),
                )
                .evidence_all(evidence)
                .explain("gateway_no_echo", &[])
                .took(ms)
            }
        }
        None => Finding::new(
            id,
            None,
            Status::Error,
            format!("gateway {gw} was not probed"),
        )
        .evidence_all(evidence),
    }
}

/// If the host needs router advertisements on `iface` but will not honour them, the
/// reason as text: with forwarding=1, accept_ra=1 is ignored (2 is needed).
fn ra_blocks(f: &Facts, iface: &str) -> Option<String> {
    let s = f.sysctl.value()?;
    let fwd = s
        .forwarding_v6
        .get(iface)
        .or(s.forwarding_v6.get("all"))
        .copied()
        .unwrap_or(0);
    let ra = s.accept_ra.get(iface).copied().unwrap_or(1);
    if ra == 0 {
        Some(format!(
            "net.ipv6.conf.{iface}.accept_ra = 0: router advertisements are ignored"
        ))
    } else if fwd == 1 && ra == 1 {
        Some(format!(
            "net.ipv6.conf.{iface}.forwarding = 1 with accept_ra = 1: a router ignores advertisements unless accept_ra = 2"
        ))
    } else {
        None
    }
}

pub fn ra(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::RouteIpv6Ra;
    if let Some(skip) = host::unexpected(o, id, None, Family::V6) {
        return skip;
    }
    if f.sysctl.value().is_none() {
        return Finding::new(id, None, Status::Error, "could not read the IPv6 settings");
    }
    if host::ipv6_off(f) {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "IPv6 is disabled (see address.ipv6_enabled)",
        )
        .caused_by(CheckId::AddressIpv6Enabled);
    }
    let defaults = host::default_routes(f, Family::V6);
    let relies_on_ra = defaults.is_empty() || defaults.iter().any(|r| r.protocol == "ra");
    let ifaces = host::relevant_ifaces(f, Family::V6);
    let s = f.sysctl.value();
    let evidence: Vec<String> = ifaces
        .iter()
        .map(|i| {
            let get = |m: Option<&std::collections::BTreeMap<String, i64>>| {
                m.and_then(|m| m.get(i))
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "?".into())
            };
            format!(
                "{i}: forwarding = {}, accept_ra = {}",
                get(s.map(|s| &s.forwarding_v6)),
                get(s.map(|s| &s.accept_ra))
            )
        })
        .collect();
    if !relies_on_ra {
        let static_gw: Vec<String> = defaults.iter().map(|r| host::route_line(r)).collect();
        return Finding::new(
            id,
            None,
            Status::Pass,
            format!(
                "the IPv6 default route is configured statically ({})",
                static_gw.join("; ")
            ),
        )
        .evidence_all(evidence);
    }
    for i in &ifaces {
        if let Some(why) = ra_blocks(f, i) {
            let explain = if why.contains("forwarding") {
                "ra_forwarding"
            } else {
                "ra_off"
            };
            return Finding::new(id, None, Status::Fail, why)
                .evidence_all(evidence)
                .explain(explain, &[])
                .fix("accept_ra_2", &[("iface", i)]);
        }
    }
    Finding::new(
        id,
        None,
        Status::Pass,
        "router advertisements are honoured where the host relies on them",
    )
    .evidence_all(evidence)
}
