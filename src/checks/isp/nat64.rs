//! `isp.nat64`: where NAT64 is in use (no IPv4 default route, or a resolver that
//! synthesises AAAA), IPv4-only destinations are reached at their synthesised addresses,
//! full-size packets included.

use super::{blocked_skip, path_block, with_isp};
use crate::checks::failure::{Peer, word};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::isp::{FULL_SIZE_PACKET, Nat64Facts, Nat64Probe, Pref64, PrefixSource};
use crate::facts::{Facts, ProbeErrorKind, Route};
use crate::model::{CheckId, Family, Finding};
use crate::net::nat64::{Nat64Prefix, WELL_KNOWN};
use std::net::IpAddr;

/// How to set up DNS64 on the resolver.
const DNS64: &[&str] = &["dns64_unbound", "dns64_bind"];
/// How to set up a translator, then DNS64 pointing at it.
const SET_UP: &[&str] = &[
    "nat64_jool",
    "nat64_tayga",
    "nat64_cloud",
    "dns64_unbound",
    "dns64_bind",
];

pub fn check(c: &Ctx) -> Finding {
    let s = Subject::host(CheckId::IspNat64);
    let f = c.facts;
    with_isp(c, s, |isp| {
        let no_v4_route =
            f.routes.value().is_some() && host::default_routes(f, Family::V4).is_empty();
        if !no_v4_route && c.view.nat64.is_empty() {
            return s.skip(
                "NAT64 is not in use: this host has an IPv4 default route and its resolver does not synthesise AAAA",
            );
        }
        // A host with IPv4 addresses and an IPv4 site but no IPv4 route is missing its
        // route, not NAT64: that is the finding to act on.
        let has_v4 = f
            .links()
            .iter()
            .flat_map(|l| &l.addrs)
            .any(|a| a.ip.is_ipv4() && !a.ip.is_loopback());
        if c.view.nat64.is_empty() && has_v4 && c.opts.target.expect.wants(Family::V4) {
            return s
                .skip("this host has IPv4 addresses but no IPv4 default route (see route.ipv4_default): restoring the route is the fix, not NAT64")
                .caused_by(CheckId::RouteIpv4Default);
        }
        let Some(n) = &isp.nat64 else {
            return s.skip("not recorded (the snapshot is from an older dsdoctor)");
        };
        if let Some(cause) = path_block(c, isp, Family::V6) {
            return blocked_skip(s, Family::V6, cause);
        }
        judge(c, s, n)
    })
}

fn source_words(source: PrefixSource, pref64: &[Pref64]) -> String {
    match source {
        PrefixSource::Dns64 => "from the resolver's AAAA answer for ipv4only.arpa (DNS64)".into(),
        PrefixSource::Pref64 => match pref64.first() {
            Some(p) => format!(
                "advertised by the router {}{} (PREF64)",
                p.router,
                p.dev
                    .as_deref()
                    .map(|d| format!(" on {d}"))
                    .unwrap_or_default()
            ),
            None => "advertised by a router (PREF64)".into(),
        },
        PrefixSource::WellKnown => {
            "the well-known prefix, tried because neither the resolver nor a router names one"
                .into()
        }
    }
}

/// The route the host takes towards the prefix: the most specific IPv6 route holding it.
fn translator_route(routes: &[Route], prefix: Nat64Prefix) -> Option<&Route> {
    let probe = IpAddr::V6(prefix.prefix);
    routes
        .iter()
        .filter(|r| r.family == Family::V6)
        .filter(|r| r.dst.is_none_or(|d| d.contains(&probe)))
        .max_by_key(|r| r.dst.map_or(0, |d| d.prefix_len()))
}

fn route_words(r: &Route) -> String {
    let dst = r.dst.map_or("default".to_string(), |d| d.to_string());
    let mut w = format!("route {dst}");
    if let Some(g) = r.gateway {
        w.push_str(&format!(" via {g}"));
    }
    if let Some(d) = &r.dev {
        w.push_str(&format!(" dev {d}"));
    }
    w
}

fn target_line(t: &Nat64Probe) -> String {
    let tcp = match &t.tcp_ms.result {
        Ok(ms) => format!("TCP connect {ms:.1} ms"),
        Err(e) => format!("TCP connect: {}", e.message),
    };
    // Where the connection failed, the large request failed the same way: said once.
    let full = match t.full_size.as_ref().filter(|_| t.tcp_ms.value().is_some()) {
        Some(p) => match &p.result {
            Ok(seen) => format!(
                "; a {}-byte request answered, the echo service saw {seen}",
                2 * FULL_SIZE_PACKET
            ),
            Err(e) => format!("; {}", e.message),
        },
        None => String::new(),
    };
    format!(
        "{} ({}) at {}: {tcp}{full}",
        t.v4,
        t.via.join(", "),
        t.synthesised
    )
}

/// Why the TCP connect to a target's synthesised address failed, in words (empty when
/// it did not).
fn connect_words(f: &Facts, t: &Nat64Probe) -> String {
    t.tcp_ms
        .result
        .as_ref()
        .err()
        .map(|e| word(f, Some(&Peer::it(t.synthesised.ip())), e).text)
        .unwrap_or_default()
}

/// A target that did not answer through the translator, with how it failed.
fn no_answer(f: &Facts, t: &Nat64Probe) -> String {
    format!(
        "{} ({}) at {} gives no answer: {}",
        t.v4,
        t.via.join(", "),
        t.synthesised,
        connect_words(f, t)
    )
}

fn judge(c: &Ctx, s: Subject, n: &Nat64Facts) -> Finding {
    let f = c.facts;
    let Some((prefix, source)) = n.prefix else {
        return s.skip("no NAT64 prefix was tried");
    };
    let pref64: &[Pref64] = n.pref64.value().map(Vec::as_slice).unwrap_or(&[]);
    let prefix_s = prefix.to_string();
    let mut evidence = vec![format!(
        "NAT64 prefix {prefix_s}: {}",
        source_words(source, pref64)
    )];
    match &n.pref64.result {
        Ok(v) if v.is_empty() => {
            evidence.push("no router advertised a NAT64 prefix (PREF64, RFC 8781)".into())
        }
        Ok(v) => evidence.extend(v.iter().map(|p| {
            format!(
                "router {} advertises PREF64 {} (valid {} s)",
                p.router, p.prefix, p.lifetime_s
            )
        })),
        Err(e) => evidence.push(format!("PREF64 not read: {}", e.message)),
    }
    let route = translator_route(crate::checks::host::routes(f), prefix);
    match route {
        Some(r) => evidence.push(format!("towards the translator: {}", route_words(r))),
        None => evidence.push(format!("no IPv6 route holds {prefix_s}")),
    }
    evidence.extend(n.targets.iter().map(target_line));
    if n.targets.is_empty() {
        return s
            .skip("no IPv4 destination to try: the --egress targets and the echo service have no IPv4 address")
            .evidence_all(evidence);
    }
    let reached: Vec<&Nat64Probe> = n
        .targets
        .iter()
        .filter(|t| t.tcp_ms.value().is_some())
        .collect();
    let hop = route.map(route_words).unwrap_or_else(|| "no route".into());
    let vars_owned: Vec<(&str, String)> = vec![
        ("prefix", prefix_s.clone()),
        ("dev", route.and_then(|r| r.dev.clone()).unwrap_or_default()),
        ("target", n.targets[0].synthesised.ip().to_string()),
        ("v4", n.targets[0].v4.ip().to_string()),
        ("port", n.targets[0].synthesised.port().to_string()),
    ];
    let vars: Vec<(&str, &str)> = vars_owned
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    if reached.is_empty() {
        let first = &n.targets[0];
        let words = connect_words(f, first);
        if source == PrefixSource::WellKnown {
            let lead = "no NAT64: this host has no IPv4 route, its resolver does not synthesise AAAA, no router advertises a NAT64 prefix, and 64:ff9b::/96 does not translate";
            return s
                .warn(format!(
                    "{lead}: IPv4-only destinations are out of reach ({} at {}: {words})",
                    first.v4, first.synthesised
                ))
                .evidence_all(evidence)
                .explain("nat64_none", &vars)
                .fixes(SET_UP, &vars);
        }
        let what = match source {
            PrefixSource::Dns64 => "the resolver synthesises AAAA",
            _ => "routers advertise it",
        };
        return s
            .fail(format!(
                "NAT64 prefix {prefix_s} leads nowhere: {what}, but {}",
                no_answer(f, first)
            ))
            .evidence_all(evidence)
            .explain("nat64_broken", &[("prefix", &prefix_s), ("hop", &hop)])
            .fix("nat64_trace", &vars)
            .fixes(SET_UP, &vars);
    }
    let mtu_lost: Vec<&Nat64Probe> = reached
        .iter()
        .copied()
        .filter(|t| {
            t.full_size.as_ref().is_some_and(|p| {
                p.result
                    .as_ref()
                    .is_err_and(|e| e.kind != ProbeErrorKind::NotRun)
            })
        })
        .collect();
    if let Some(t) = mtu_lost.first() {
        let size = (2 * FULL_SIZE_PACKET).to_string();
        return s
            .fail(format!(
                "connections through NAT64 prefix {prefix_s} open, but a {size}-byte request to {} ({}) never gets its answer: path MTU discovery through the translator is broken",
                t.synthesised,
                t.via.join(", ")
            ))
            .evidence_all(evidence)
            .explain("nat64_mtu", &[("prefix", &prefix_s), ("hop", &hop)])
            .fix("nat64_mtu_find", &vars)
            .fix("nat64_mtu_translator", &vars);
    }
    let unreached: Vec<&Nat64Probe> = n
        .targets
        .iter()
        .filter(|t| t.tcp_ms.value().is_none())
        .collect();
    let fastest = reached
        .iter()
        .filter_map(|t| t.tcp_ms.value().copied())
        .fold(f64::INFINITY, f64::min);
    let seen = reached
        .iter()
        .find_map(|t| t.full_size.as_ref().and_then(|p| p.value().copied()));
    let works = format!(
        "IPv4-only destinations are reached through NAT64 prefix {prefix_s} ({} of {}, fastest {fastest:.1} ms{})",
        reached.len(),
        n.targets.len(),
        if seen.is_some() {
            format!(
                ", full-size requests included; the translator's IPv4 address {}",
                seen.map(|a| a.to_string()).unwrap_or_default()
            )
        } else {
            String::new()
        }
    );
    match source {
        PrefixSource::WellKnown => {
            return s
                .warn(format!(
                    "NAT64 translates at {}, but neither the resolver (DNS64) nor a router (PREF64) tells applications so: names without AAAA fail; {works}",
                    WELL_KNOWN
                ))
                .evidence_all(evidence)
                .explain("nat64_undeclared", &vars)
                .fixes(DNS64, &vars);
        }
        PrefixSource::Pref64 => {
            return s
                .warn(format!(
                    "routers advertise NAT64 prefix {prefix_s} and it translates, but the resolver does not synthesise AAAA: only applications that read PREF64 (a CLAT) reach IPv4-only names; {works}"
                ))
                .evidence_all(evidence)
                .explain("nat64_undeclared", &vars)
                .fixes(DNS64, &vars);
        }
        PrefixSource::Dns64 => {}
    }
    if let Some(other) = pref64.iter().find(|p| p.prefix != prefix) {
        return s
            .warn(format!(
                "the resolver synthesises with {prefix_s} but the router {} advertises {}: applications that use PREF64 (a CLAT) and those that use DNS64 take different translators",
                other.router, other.prefix
            ))
            .evidence_all(evidence)
            .explain("nat64_prefixes_differ", &[])
            .fixes(DNS64, &vars);
    }
    if let Some(t) = unreached.first() {
        return s
            .warn(format!("{works}; {}", no_answer(f, t)))
            .evidence_all(evidence);
    }
    s.pass(works)
        .evidence_all(evidence)
        .explain("nat64_works", &[("prefix", &prefix_s)])
}
