//! `address.global_ipv6`: a global IPv6 address clients can reach, usable (not
//! tentative, not a duplicate).

use super::global_address;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::checks::{host, host_values};
use crate::model::{CheckId, Family, Finding};
use crate::net::{AddrClass, classify, reachable_by_clients};

pub fn check(c: &Ctx) -> Finding {
    global_address(c, Family::V6, judge)
}

fn judge(c: &Ctx, s: Subject) -> Finding {
    let (f, o) = (c.facts, c.opts);
    if host::ipv6_off(f) {
        return s
            .fail("no IPv6 address: IPv6 is disabled on this host (see address.ipv6_enabled)")
            .caused_by(CheckId::AddressIpv6Enabled);
    }
    let global: Vec<_> = f
        .addrs()
        .filter(|(_, a)| a.ip.is_ipv6() && reachable_by_clients(a.ip, &o.assume_public))
        .collect();
    let usable: Vec<_> = global
        .iter()
        .filter(|(_, a)| !a.tentative && !a.dadfailed)
        .collect();
    if let Some((l, a)) = usable.iter().find(|(_, a)| !a.deprecated) {
        return s.pass(format!("global IPv6 address {} on {}", a.ip, l.name));
    }
    if let Some((l, a)) = usable.first() {
        return s
            .warn(format!(
                "the only global IPv6 address {} on {} is deprecated",
                a.ip, l.name
            ))
            .explain("v6_deprecated", &[]);
    }
    if let Some((l, a)) = global.iter().find(|(_, a)| a.dadfailed) {
        let ip = a.ip.to_string();
        return s
            .fail(format!(
                "{} on {} failed duplicate address detection: another host on the link uses it",
                a.ip, l.name
            ))
            .explain("v6_dadfailed", &[])
            .fix(
                "dad_failed",
                &[
                    ("addr", &ip),
                    ("prefix", &a.prefix_len.to_string()),
                    ("iface", &l.name),
                ],
            );
    }
    if let Some((l, a)) = global.iter().find(|(_, a)| a.tentative) {
        return s
            .warn(format!(
                "{} on {} is still tentative (duplicate address detection running)",
                a.ip, l.name
            ))
            .explain("v6_tentative", &[]);
    }
    let kinds: Vec<&str> = f
        .addrs()
        .filter(|(_, a)| a.ip.is_ipv6())
        .map(|(_, a)| classify(a.ip).describe())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let summary = if kinds.is_empty() {
        "no IPv6 address outside loopback".to_string()
    } else {
        format!("no global IPv6 address: only {}", kinds.join(" and "))
    };
    if kinds.is_empty() {
        return add_address(c, s.fail(summary).explain("v6_none", &[]));
    }
    // A sentence for each kind of address the host has instead, and none for the others.
    let has = |class| {
        f.addrs()
            .any(|(_, a)| a.ip.is_ipv6() && classify(a.ip) == class)
    };
    let mut fd = s.fail(summary).explain("v6_no_global", &[]);
    for (class, key) in [
        (AddrClass::Ula, "v6_kind_unique_local"),
        (AddrClass::LinkLocal, "v6_kind_link_local"),
    ] {
        if has(class) {
            fd = fd.explain_first(key, &[]);
        }
    }
    add_address(c, fd)
}

/// The fix for a missing global address, as concrete as this host allows: the address
/// the AAAA record names or the boot configuration declares, on the interface that
/// carries the traffic.
fn add_address(c: &Ctx, fd: Finding) -> Finding {
    let f = c.facts;
    let Some(iface) = host_values::iface(f, Family::V6) else {
        return fd.fix("no_interface", &[]);
    };
    let aaaa = f
        .dns
        .ips(Family::V6)
        .into_iter()
        .find(|ip| ip.is_ipv6())
        .map(|ip| {
            (
                ip.to_string(),
                "64".to_string(),
                "the AAAA record's address; /64 is the usual prefix length, your provider's panel tells".to_string(),
            )
        });
    let declared = || {
        host_values::declared_v6(f, &c.opts.assume_public).map(|(net, on)| {
            (
                net.addr().to_string(),
                net.prefix_len().to_string(),
                format!("declared for {on} in the boot network configuration"),
            )
        })
    };
    match aaaa.or_else(declared) {
        Some((addr, prefix, source)) => fd.fix(
            "add_v6_address",
            &[
                ("addr", &addr),
                ("prefix", &prefix),
                ("iface", &iface),
                ("source", &source),
            ],
        ),
        None => fd.fix("add_v6_address_unknown", &[("iface", &iface)]),
    }
}
