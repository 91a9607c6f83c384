//! The firewall stage: would the packet filter admit a new TCP connection from the
//! internet, per family and port? The walk itself is `crate::firewall`; this turns its
//! outcomes into findings with the deciding rule as evidence and fixes in the terms of
//! the front-end that manages the rules.

pub mod exposure;
pub mod icmpv6;
pub mod port;
mod sources;

use super::host;
use super::subject::Subject;
use crate::facts::Facts;
use crate::facts::firewall::{Backend, FirewallFacts, Source, TableFamily};
use crate::firewall::{Outcome, RuleRef};
use crate::model::{CheckId, Family, Finding};
use crate::options::Options;
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The address clients connect to for a family, and the interface it arrives on:
/// the DNS answer when it is on this host, else the host's first usable address.
pub(crate) fn target(f: &Facts, o: &Options, family: Family) -> Option<(IpAddr, String)> {
    let ifaces = host::relevant_ifaces(f, family);
    let arrival = |l: &crate::facts::Link| arrival(&ifaces, l);
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

/// The interface connections to an address of `link` arrive on: the link itself, or
/// for an address kept on `lo` (an anycast or service address) the first of `ifaces`,
/// which face the clients.
pub(crate) fn arrival(ifaces: &[String], link: &crate::facts::Link) -> String {
    if link.loopback {
        ifaces.first().cloned().unwrap_or_else(|| link.name.clone())
    } else {
        link.name.clone()
    }
}

/// The `error`/`skip` finding when the filter cannot be examined for a family.
fn precondition(f: &Facts, o: &Options, s: Subject, family: Family) -> Option<Finding> {
    if let Some(skip) = host::unexpected(o, s, family) {
        return Some(skip);
    }
    if family.is_v6() && host::ipv6_off(f) {
        return Some(
            s.skip("IPv6 is disabled on this host, so its filter is not on any path (see address.ipv6_enabled)")
                .caused_by(CheckId::AddressIpv6Enabled),
        );
    }
    unreadable(f, s).map(|fd| fd.took(f.firewall.ms))
}

/// The `error` when the packet filter could not be read.
fn unreadable(f: &Facts, s: Subject) -> Option<Finding> {
    let e = f.firewall.result.as_ref().err()?;
    Some(s.error(clean(&format!(
        "could not read the packet filter: {}",
        e.message
    ))))
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

/// The rule or policy that decided the walk, as evidence shows it; `None` when no one rule
/// did (each caller says what that means for it).
fn decider(o: &Outcome) -> Option<String> {
    o.decided_by.as_ref().map(|r| clean(&r.describe()))
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
    vars.insert("family_ipv", family.pick("ipv4", "ipv6").to_string());
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

#[cfg(test)]
mod tests;
