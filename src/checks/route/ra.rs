//! `route.ipv6_ra`: where the IPv6 default route comes from router advertisements, the
//! host honours them.

use super::ra_blocks;
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::model::{CheckId, Family, Finding};

pub fn check(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let s = Subject::host(CheckId::RouteIpv6Ra);
    if let Some(skip) = host::unexpected(o, s, Family::V6) {
        return skip;
    }
    if f.sysctl.value().is_none() {
        return s.error("could not read the IPv6 settings");
    }
    if host::ipv6_off(f) {
        return s
            .skip("IPv6 is disabled (see address.ipv6_enabled)")
            .caused_by(CheckId::AddressIpv6Enabled);
    }
    let defaults = host::default_routes(f, Family::V6);
    let relies_on_ra = defaults.is_empty() || defaults.iter().any(|r| r.protocol == "ra");
    let ifaces = host::relevant_ifaces(f, Family::V6);
    let sysctl = f.sysctl.value();
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
                get(sysctl.map(|s| &s.forwarding_v6)),
                get(sysctl.map(|s| &s.accept_ra))
            )
        })
        .collect();
    if !relies_on_ra {
        let static_gw: Vec<String> = defaults.iter().map(|r| host::route_line(r)).collect();
        return s
            .pass(format!(
                "the IPv6 default route is configured statically ({})",
                static_gw.join("; ")
            ))
            .evidence_all(evidence);
    }
    for i in &ifaces {
        if let Some(why) = ra_blocks(f, i) {
            let explain = if why.contains("forwarding") {
                "ra_forwarding"
            } else {
                "ra_off"
            };
            return s
                .fail(why)
                .evidence_all(evidence)
                .explain(explain, &[])
                .fix("accept_ra_2", &[("iface", i)]);
        }
    }
    s.pass("router advertisements are honoured where the host relies on them")
        .evidence_all(evidence)
}
