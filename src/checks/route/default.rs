//! `route.ipv4_default` / `route.ipv6_default`: a default route of the family, without
//! which replies to its clients cannot leave the host.

use super::ra_blocks;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::checks::{host, host_values};
use crate::facts::Facts;
use crate::model::{CheckId, Family, Finding};

pub fn check(c: &Ctx, family: Family) -> Finding {
    let (f, o, v6) = (c.facts, c.opts, family.is_v6());
    let s = Subject::host(family.pick(CheckId::RouteIpv4Default, CheckId::RouteIpv6Default));
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    if let Err(e) = &f.routes.result {
        return s.unread(f, "read routes", e);
    }
    let defaults = host::default_routes(f, family);
    if !defaults.is_empty() {
        let first = host::route_line(defaults[0]);
        return s
            .pass(first.clone())
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
        return s
            .fail("no IPv6 default route: IPv6 is disabled on this host")
            .evidence_all(evidence)
            .caused_by(CheckId::AddressIpv6Enabled);
    }
    let iface = host_values::iface(f, family);
    let fd = s
        .fail(format!(
            "no {} default route: replies to {} clients cannot leave this host",
            family.name(),
            family.name()
        ))
        .evidence_all(evidence)
        .explain(family.pick("no_default_v4", "no_default_v6"), &[]);
    let mut fd = add_route(f, family, iface.as_deref(), fd);
    if v6 && iface.is_some_and(|i| ra_blocks(f, &i).is_some()) {
        fd = fd.caused_by(CheckId::RouteIpv6Ra);
    }
    fd.took(f.routes.ms)
}

/// The fix: through a gateway this host knows of, or, where none is known, where to find
/// one; never a command with a made-up value in it.
fn add_route(f: &Facts, family: Family, iface: Option<&str>, fd: Finding) -> Finding {
    let Some(iface) = iface else {
        return fd.fix("no_interface", &[]);
    };
    if let Some(gw) = host_values::gateway(f, family, iface) {
        let ip = gw.ip.to_string();
        return fd.fix(
            family.pick("add_default_v4", "add_default_v6"),
            &[("gw", &ip), ("iface", iface), ("source", &gw.source)],
        );
    }
    let hint = host_values::first_in_subnet(f, iface)
        .filter(|_| family == Family::V4)
        .map(|ip| format!(" (many networks put it at the subnet's first address, {ip} here)"))
        .unwrap_or_default();
    fd.fix(
        family.pick("add_default_v4_unknown", "add_default_v6_unknown"),
        &[("iface", iface), ("hint", &hint)],
    )
}
