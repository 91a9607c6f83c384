//! The firewall stage: would the packet filter admit a new TCP connection from the
//! internet, per family and port? The walk itself is `crate::firewall`; this turns its
//! outcomes into findings with the deciding rule as evidence and fixes in the terms of
//! the front-end that manages the rules.

use super::host;
use super::view::Ctx;
use crate::facts::firewall::{Backend, FirewallFacts, Source, TableFamily};
use crate::facts::{Facts, ProbeErrorKind};
use crate::firewall::{Decision, Outcome, Packet, RuleRef};
use crate::model::{ByFamily, CheckId, Family, Finding, Status};
use crate::options::Options;
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// ICMPv6 types IPv6 cannot do without, with their names.
pub const ICMPV6_NEEDED: [(u8, &str); 5] = [
    (135, "neighbour solicitation"),
    (136, "neighbour advertisement"),
    (134, "router advertisement"),
    (133, "router solicitation"),
    (2, "packet too big"),
];

/// The address clients connect to for a family, and the interface it arrives on:
/// the DNS answer when it is on this host, else the host's first usable address.
pub fn target(f: &Facts, o: &Options, family: Family) -> Option<(IpAddr, String)> {
    let ifaces = host::relevant_ifaces(f, family);
    // Connections arrive on the interface that faces the clients, even for an address
    // kept on `lo` (an anycast or service address).
    let arrival = |l: &crate::facts::Link| {
        if l.loopback {
            ifaces.first().cloned().unwrap_or_else(|| l.name.clone())
        } else {
            l.name.clone()
        }
    };
    let from_dns = f
        .dns
        .ips(family)
        .into_iter()
        .find_map(|ip| host::find_addr(f, ip).map(|(l, a)| (a.ip, arrival(l))));
    if from_dns.is_some() {
        return from_dns;
    }
    // Else the host's own address, on the interfaces that matter first.
    let mut cands: Vec<(&crate::facts::Link, &crate::facts::AddrFacts)> = match family {
        Family::V4 => f.addrs().filter(|(_, a)| a.ip.is_ipv4()).collect(),
        Family::V6 => host::usable_global_v6(f, &o.assume_public),
    };
    cands.sort_by_key(|(l, _)| !ifaces.contains(&l.name));
    cands.first().map(|(l, a)| (a.ip, arrival(l)))
}

/// An inbound probe of the ISP stage that could not connect to `port` over a family.
fn outside_refused(f: &Facts, port: u16, family: Family) -> Option<String> {
    let isp = f.isp.value()?;
    isp.inbound.iter().find_map(|p| {
        let a = p.answer.value()?;
        (p.port == port && Family::of(a.ip) == family && !a.reachable).then(|| {
            clean(&format!(
                "but {} could not connect to {}:{port} from outside: look at the filtering in front of this host",
                p.url,
                crate::net::bracketed(a.ip)
            ))
        })
    })
}

/// The `error`/`skip` finding when the filter cannot be examined for a family.
fn precondition(
    f: &Facts,
    o: &Options,
    id: CheckId,
    port: Option<u16>,
    family: Family,
) -> Option<Finding> {
    if let Some(skip) = host::unexpected(o, id, port, family) {
        return Some(skip);
    }
    if family.is_v6() && host::ipv6_off(f) {
        return Some(Finding::new(
            id,
            port,
            Status::Skip,
            "IPv6 is disabled on this host, so its filter is not on any path (see address.ipv6_enabled)",
        )
        .caused_by(CheckId::AddressIpv6Enabled));
    }
    if let Err(e) = &f.firewall.result {
        let summary = match e.kind {
            ProbeErrorKind::Permission => {
                format!("could not read the packet filter: {}", e.message)
            }
            ProbeErrorKind::Missing => format!("could not read the packet filter: {}", e.message),
            _ => format!("could not read the packet filter: {}", e.message),
        };
        return Some(Finding::new(id, port, Status::Error, clean(&summary)).took(f.firewall.ms));
    }
    None
}

fn base_evidence(fw: &FirewallFacts) -> Vec<String> {
    let mut ev = Vec::new();
    let tools: Vec<String> = fw.tools.iter().map(|t| t.command.clone()).collect();
    let backends: Vec<&str> = fw.backends.iter().map(|b| b.as_str()).collect();
    ev.push(format!(
        "read with {}: {} tables, {} rules{}",
        if tools.is_empty() {
            "nft -j list ruleset".to_string()
        } else {
            tools.join(", ")
        },
        fw.tables.len(),
        fw.rule_count(),
        if backends.is_empty() {
            String::new()
        } else {
            format!(" (managed by {})", backends.join(", "))
        }
    ));
    if fw.has(Backend::IptablesLegacy)
        && (fw.has(Backend::Nft) || fw.has(Backend::IptablesNft) || fw.has(Backend::Firewalld))
    {
        ev.push("both iptables-legacy and nftables rules are loaded: both apply, and a packet must pass both".into());
    }
    for p in fw.partial.iter().take(3) {
        ev.push(clean(&format!("not read: {p}")));
    }
    ev
}

fn path_evidence(o: &Outcome) -> Vec<String> {
    let mut ev: Vec<String> = o
        .path
        .iter()
        .take(12)
        .map(|p| clean(&format!("path: {p}")))
        .collect();
    for u in o.unevaluated.iter().take(3) {
        ev.push(clean(&format!("cannot evaluate: {}", u.describe())));
    }
    ev
}

/// How to open (or close) a port, in the front-end's terms.
struct FixPlan {
    key: &'static str,
    vars: BTreeMap<&'static str, String>,
}

fn frontend(fw: &FirewallFacts, decided: Option<&RuleRef>) -> &'static str {
    if fw.has(Backend::Firewalld) {
        return "firewalld";
    }
    if fw.has(Backend::Ufw) {
        return "ufw";
    }
    match decided.map(|r| r.source) {
        Some(Source::IptablesLegacy) => "iptables_legacy",
        Some(Source::IptablesNft) => "iptables",
        Some(Source::Nft) => "nft",
        None if fw.has(Backend::IptablesNft) => "iptables",
        None => "nft",
    }
}

fn plan(
    fw: &FirewallFacts,
    decided: Option<&RuleRef>,
    port: u16,
    family: Family,
    open: bool,
) -> FixPlan {
    let fe = frontend(fw, decided);
    let mut vars = BTreeMap::new();
    vars.insert("port", port.to_string());
    vars.insert("family", family.name().to_string());
    let ipt = family.pick("iptables", "ip6tables");
    let save_file = family.pick("rules.v4", "rules.v6");
    let tool = match fe {
        "iptables_legacy" => format!("{ipt}-legacy"),
        _ => ipt.to_string(),
    };
    vars.insert("tool", tool);
    vars.insert("rules_file", format!("/etc/iptables/{save_file}"));
    let (table_family, table, chain) = match decided {
        Some(r) => (r.family, r.table.clone(), r.chain.clone()),
        None => (
            TableFamily::of(family),
            "filter".to_string(),
            if fe == "nft" { "input" } else { "INPUT" }.to_string(),
        ),
    };
    vars.insert("nft_family", table_family.as_str().to_string());
    vars.insert("table", table);
    vars.insert("chain", chain);
    vars.insert("nfproto", format!("meta nfproto {} ", family.as_str()));
    let key = match (fe, open) {
        ("firewalld", true) => "fw_open_firewalld",
        ("ufw", true) => family.pick("fw_open_ufw", "fw_open_ufw_v6"),
        ("iptables" | "iptables_legacy", true) => "fw_open_iptables",
        (_, true) => "fw_open_nft",
        ("firewalld", false) => "fw_close_firewalld",
        ("ufw", false) => "fw_close_ufw",
        ("iptables" | "iptables_legacy", false) => "fw_close_iptables",
        (_, false) => "fw_close_nft",
    };
    FixPlan { key, vars }
}

fn apply_fix(fd: Finding, p: &FixPlan) -> Finding {
    let vars: Vec<(&str, &str)> = p.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fd.fix(p.key, &vars)
}

pub fn port_check(ctx: &Ctx, port: u16, family: Family) -> Finding {
    let (f, o, c) = (ctx.facts, ctx.opts, ctx.view.compiled.as_ref());
    let id = family.pick(CheckId::FirewallIpv4, CheckId::FirewallIpv6);
    if let Some(fd) = precondition(f, o, id, Some(port), family) {
        return fd;
    }
    let (Some(fw), Some(c)) = (f.firewall.value(), c) else {
        return Finding::new(
            id,
            Some(port),
            Status::Error,
            "the packet filter was not read",
        );
    };
    let Some((ip, iif)) = target(f, o, family) else {
        let cause = family.pick(CheckId::AddressGlobalIpv4, CheckId::AddressGlobalIpv6);
        return Finding::new(
            id,
            Some(port),
            Status::Skip,
            format!(
                "this host has no {} address to receive connections (see {cause})",
                family.name()
            ),
        )
        .caused_by(cause);
    };
    let out = c.decide(&Packet::tcp_syn(ip, port, &iif));
    let mut ev = base_evidence(fw);
    ev.push(format!(
        "asked: a new TCP connection (SYN) from an arbitrary internet address to {}:{port} on {iif}",
        crate::net::bracketed(ip)
    ));
    let p = port.to_string();
    match out.decision {
        Decision::Accept => {
            let how = if out.base_chains == 0 {
                format!("no {} rules on the input path", family.name())
            } else {
                let by: Vec<String> = out
                    .accepted_by
                    .iter()
                    .map(|r| clean(&r.describe()))
                    .collect();
                for b in &by {
                    ev.push(format!("accepted by {b}"));
                }
                format!("{} base chain(s) accept it", out.base_chains)
            };
            ev.extend(path_evidence(&out));
            let fd = Finding::new(
                id,
                Some(port),
                Status::Pass,
                format!(
                    "the {} filter admits new TCP connections to port {port} ({how})",
                    family.name()
                ),
            )
            .evidence_all(ev)
            .explain("fw_pass_cloud", &[("port", &p), ("family", family.name())])
            .took(f.firewall.ms);
            // The host admits, yet a probe from outside did not get in: something in
            // front of the host (a cloud security group, a provider's ACL) blocks it.
            match outside_refused(f, port, family) {
                Some(line) => fd.evidence(line).fix(
                    "cloud_security_group",
                    &[("port", &p), ("family", family.name())],
                ),
                None => fd,
            }
        }
        Decision::Drop | Decision::Reject => {
            let rule = out
                .decided_by
                .as_ref()
                .map(|r| clean(&r.describe()))
                .unwrap_or_else(|| "?".into());
            ev.push(format!("decided by {rule}"));
            ev.extend(path_evidence(&out));
            let verb = if out.decision == Decision::Drop {
                "drops"
            } else {
                "rejects"
            };
            let other_open = c
                .decide(&Packet::tcp_syn(
                    target(f, o, family.other()).map(|t| t.0).unwrap_or(ip),
                    port,
                    &iif,
                ))
                .decision
                .admits()
                && target(f, o, family.other()).is_some();
            let key = match other_open {
                true => family.pick("fw_shut_v4_only", "fw_shut_v6_only"),
                false => "fw_shut",
            };
            let plan = plan(fw, out.decided_by.as_ref(), port, family, true);
            apply_fix(
                Finding::new(
                    id,
                    Some(port),
                    Status::Fail,
                    format!(
                        "the {} filter {verb} new TCP connections to port {port}: {rule}",
                        family.name()
                    ),
                )
                .evidence_all(ev)
                .explain(key, &[("port", &p), ("family", family.name())]),
                &plan,
            )
            .took(f.firewall.ms)
        }
        Decision::Uncertain => {
            let rule = out
                .decided_by
                .as_ref()
                .map(|r| clean(&r.describe()))
                .unwrap_or_else(|| "?".into());
            ev.push(format!("undecided at {rule}"));
            ev.extend(path_evidence(&out));
            Finding::new(
                id,
                Some(port),
                Status::Warn,
                format!(
                    "cannot tell whether the {} filter admits port {port}: it depends on {rule}",
                    family.name()
                ),
            )
            .evidence_all(ev)
            .explain("fw_uncertain", &[("port", &p)])
            .took(f.firewall.ms)
        }
    }
}

pub fn icmpv6(ctx: &Ctx) -> Finding {
    let (f, o, c) = (ctx.facts, ctx.opts, ctx.view.compiled.as_ref());
    let id = CheckId::FirewallIcmpv6;
    if let Some(fd) = precondition(f, o, id, None, Family::V6) {
        return fd;
    }
    let (Some(fw), Some(c)) = (f.firewall.value(), c) else {
        return Finding::new(id, None, Status::Error, "the packet filter was not read");
    };
    let Some((ip, iif)) = target(f, o, Family::V6) else {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "this host has no global IPv6 address (see address.global_ipv6)",
        )
        .caused_by(CheckId::AddressGlobalIpv6);
    };
    let mut ev = base_evidence(fw);
    let mut shut: Vec<(u8, &str, Outcome)> = Vec::new();
    let mut unsure: Vec<(u8, &str, Outcome)> = Vec::new();
    for (t, name) in ICMPV6_NEEDED {
        let out = c.decide(&Packet::icmpv6(t, ip, &iif));
        let line = match (&out.decision, &out.decided_by) {
            (Decision::Accept, _) => format!("ICMPv6 type {t} ({name}): accepted"),
            (d, Some(r)) => clean(&format!(
                "ICMPv6 type {t} ({name}): {} by {}",
                d.as_str(),
                r.describe()
            )),
            (d, None) => format!("ICMPv6 type {t} ({name}): {}", d.as_str()),
        };
        ev.push(line);
        match out.decision {
            Decision::Drop | Decision::Reject => shut.push((t, name, out)),
            Decision::Uncertain => unsure.push((t, name, out)),
            Decision::Accept => {}
        }
    }
    let list = |v: &[(u8, &str, Outcome)]| {
        v.iter()
            .map(|(t, n, _)| format!("{n} ({t})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !shut.is_empty() {
        let nd = shut.iter().any(|(t, _, _)| (133..=136).contains(t));
        let first = &shut[0].2;
        ev.extend(path_evidence(first));
        let mut vars = plan(fw, first.decided_by.as_ref(), 0, Family::V6, true).vars;
        vars.remove("port");
        let fe = frontend(fw, first.decided_by.as_ref());
        let key = match fe {
            "firewalld" => "fw_icmpv6_firewalld",
            "ufw" => "fw_icmpv6_ufw",
            "iptables" | "iptables_legacy" => "fw_icmpv6_iptables",
            _ => "fw_icmpv6_nft",
        };
        let v: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return Finding::new(
            id,
            None,
            Status::Fail,
            format!(
                "the IPv6 filter drops ICMPv6 {}: {}",
                list(&shut),
                if nd {
                    "IPv6 stops working once the neighbour caches expire"
                } else {
                    "large responses stall (path MTU discovery breaks)"
                }
            ),
        )
        .evidence_all(ev)
        .explain(if nd { "fw_icmpv6_nd" } else { "fw_icmpv6_ptb" }, &[])
        .fix(key, &v)
        .took(f.firewall.ms);
    }
    if !unsure.is_empty() {
        ev.extend(path_evidence(&unsure[0].2));
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "cannot tell whether the IPv6 filter admits ICMPv6 {}",
                list(&unsure)
            ),
        )
        .evidence_all(ev)
        .explain("fw_uncertain_icmpv6", &[])
        .took(f.firewall.ms);
    }
    Finding::new(
        id,
        None,
        Status::Pass,
        "the IPv6 filter admits neighbour discovery (133-136) and packet-too-big (2)",
    )
    .evidence_all(ev)
    .took(f.firewall.ms)
}

pub fn exposure(ctx: &Ctx) -> Finding {
    let (f, o, c) = (ctx.facts, ctx.opts, ctx.view.compiled.as_ref());
    let id = CheckId::FirewallExposure;
    if let Err(e) = &f.firewall.result {
        return Finding::new(
            id,
            None,
            Status::Error,
            clean(&format!("could not read the packet filter: {}", e.message)),
        );
    }
    let (Some(fw), Some(c)) = (f.firewall.value(), c) else {
        return Finding::new(id, None, Status::Error, "the packet filter was not read");
    };
    let listeners = match &f.listeners.result {
        Ok(l) => l,
        Err(e) => {
            return Finding::new(
                id,
                None,
                Status::Error,
                format!("could not list sockets: {}", e.message),
            );
        }
    };
    // With IPv6 off no IPv6 connection arrives, whatever the rules say.
    let v6_on = !host::ipv6_off(f);
    let (Some(t4), Some(t6)) = (
        target(f, o, Family::V4),
        target(f, o, Family::V6).filter(|_| v6_on),
    ) else {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "the host does not have addresses of both families, so no service can be open over one and shut over the other",
        );
    };
    let targets = ByFamily { v4: t4, v6: t6 };
    // Port → the families its sockets accept, and their owner.
    let mut ports: BTreeMap<u16, (ByFamily<bool>, String)> = BTreeMap::new();
    for l in listeners {
        if l.ip.is_loopback() {
            continue;
        }
        let (accepts, owner) = ports.entry(l.port).or_default();
        accepts.v4 |= l.accepts(Family::V4);
        accepts.v6 |= l.accepts(Family::V6);
        if owner.is_empty() {
            if let Some(p) = &l.process {
                *owner = clean(&format!("{p} pid {}", l.pid.unwrap_or(0)));
            }
        }
    }
    let mut holes = Vec::new();
    let mut unsure = Vec::new();
    let mut ev = base_evidence(fw);
    let mut compared = 0;
    let mut first_plan: Option<FixPlan> = None;
    for (&port, (accepts, owner)) in &ports {
        if o.target.ports.contains(&port) {
            continue;
        }
        let decided = ByFamily::new(|fam| {
            let (ip, iif) = targets.get(fam);
            c.decide(&Packet::tcp_syn(*ip, port, iif))
        });
        compared += 1;
        let owner = if owner.is_empty() {
            "owner not visible".to_string()
        } else {
            owner.clone()
        };
        for open_fam in [Family::V6, Family::V4] {
            if !accepts.get(open_fam) {
                continue;
            }
            let shut_fam = open_fam.other();
            let (open, shut) = (decided.get(open_fam), decided.get(shut_fam));
            if open.decision.admits() && shut.decision.shuts() {
                let rule = shut
                    .decided_by
                    .as_ref()
                    .map(|r| clean(&r.describe()))
                    .unwrap_or_default();
                holes.push(format!(
                    "port {port} ({owner}) is open over {} while the {} rules shut it",
                    open_fam.name(),
                    shut_fam.name()
                ));
                ev.push(format!(
                    "port {port}: {} shut by {rule}; {} admitted",
                    shut_fam.name(),
                    open_fam.name()
                ));
                if first_plan.is_none() {
                    let mut p = plan(fw, None, port, open_fam, false);
                    p.vars.insert("process", owner.clone());
                    first_plan = Some(p);
                }
            } else if (open.decision == Decision::Uncertain && shut.decision.shuts())
                || (open.decision.admits() && shut.decision == Decision::Uncertain)
            {
                unsure.push(format!("port {port} ({owner})"));
            }
        }
    }
    if !holes.is_empty() {
        let fd = Finding::new(id, None, Status::Fail, holes.join("; "))
            .evidence_all(ev)
            .explain("fw_exposure", &[]);
        return match first_plan {
            Some(p) => apply_fix(fd, &p),
            None => fd,
        };
    }
    if !unsure.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "cannot tell whether these are open over one family only: {}",
                unsure.join(", ")
            ),
        )
        .evidence_all(ev)
        .explain("fw_uncertain", &[("port", "")]);
    }
    Finding::new(
        id,
        None,
        Status::Pass,
        format!(
            "no listening service is open over one family while the other family's rules shut it ({compared} other port(s) compared; the site's ports are checked by firewall.ipv4/ipv6)"
        ),
    )
    .evidence_all(ev)
    .took(f.firewall.ms)
}

#[cfg(test)]
mod tests;
