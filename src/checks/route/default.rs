//! `route.ipv4_default` / `route.ipv6_default`: a default route of the family, without
//! which replies to its clients cannot leave the host.

use super::ra_blocks;
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::model::{CheckId, Family, Finding};

pub fn check(c: &Ctx, family: Family) -> Finding {
    let (f, o, v6) = (c.facts, c.opts, family.is_v6());
    let s = Subject::host(family.pick(CheckId::RouteIpv4Default, CheckId::RouteIpv6Default));
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    if let Err(e) = &f.routes.result {
        return s.unread("read routes", e);
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
    let iface = host::relevant_ifaces(f, family)
        .into_iter()
        .next()
        .unwrap_or_else(|| "eth0".into());
    let mut fd = s
        .fail(format!(
            "no {} default route: replies to {} clients cannot leave this host",
            family.name(),
            family.name()
        ))
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
