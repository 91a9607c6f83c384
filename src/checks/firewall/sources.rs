//! Who, besides "an arbitrary internet source", the filter treats differently on a port:
//! the address sets that carve exceptions out of the rule that decides for most of the
//! internet (a ban list: named, not a failure; an allow-list: the reason for a failure),
//! the continents a geo set shuts (the representative client networks of
//! `assets/geo_subnets.toml`, which `dns.geo` uses too), the admin's own SSH client
//! (`SSH_CONNECTION`) and the echo service whose connect-back `isp.inbound_*` reports.
//!
//! Each question is one more walk with a concrete source address: an address held by no
//! set and no address match is decided as the arbitrary source is, so only the sets'
//! members and the regions' addresses are asked.

use crate::facts::Facts;
use crate::firewall::{Compiled, Decision, Outcome, Packet, SourceSet};
use crate::model::Family;
use crate::sanitize::clean;
use std::net::IpAddr;

/// At most this many sets are asked about per port (each is one walk).
const MAX_SETS: usize = 16;

/// What the sets and regions add to a port's answer.
#[derive(Debug, Default)]
pub(super) struct Sources {
    /// Evidence lines, one per set or region that the filter treats differently.
    pub lines: Vec<String>,
    /// Sets whose members get in while an arbitrary source is refused (allow-lists).
    pub only_from: Vec<String>,
    /// Regions shut while an arbitrary source gets in.
    pub shut_regions: Vec<String>,
    /// What shuts them (sets, else the deciding rules).
    pub shut_by: Vec<String>,
    /// Ban lists: sets whose members are refused while an arbitrary source gets in.
    pub bans: usize,
}

/// The set as the admin knows it: `fail2ban set f2b-sshd (ipset)`.
pub(super) fn label(s: &SourceSet) -> String {
    let n = s.name.to_ascii_lowercase();
    let p = s.place.to_ascii_lowercase();
    let who = if n.starts_with("f2b-")
        || p.contains("f2b-table")
        || n.starts_with("addr-set-")
        || n.starts_with("addr6-set-")
    {
        "fail2ban set"
    } else if n.contains("crowdsec") || p.contains("crowdsec") {
        "CrowdSec set"
    } else {
        "set"
    };
    clean(&format!("{who} {} ({})", s.name, s.place))
}

fn size(s: &SourceSet) -> String {
    let addrs = match s.addresses {
        1 => "1 address".to_string(),
        n if n > 1 << 40 => format!("about 2^{} addresses", 128 - n.leading_zeros() - 1),
        n => format!("{n} addresses"),
    };
    if s.addresses == s.elements as u128 {
        addrs
    } else {
        let entries = if s.elements == 1 { "entry" } else { "entries" };
        format!("{} {entries}, {addrs}", s.elements)
    }
}

fn from(pkt: &Packet, ip: IpAddr) -> Packet {
    Packet {
        saddr: Some(ip),
        ..pkt.clone()
    }
}

fn decided(o: &Outcome) -> String {
    super::decider(o).unwrap_or_else(|| "every base chain".into())
}

/// A host address inside a region's client network (its first after the network's own).
fn region_addr(net: &ipnet::IpNet) -> IpAddr {
    match net {
        ipnet::IpNet::V4(n) => IpAddr::from(std::net::Ipv4Addr::from(
            u32::from(n.network()).saturating_add(1),
        )),
        ipnet::IpNet::V6(n) => IpAddr::from(std::net::Ipv6Addr::from(
            u128::from(n.network()).saturating_add(1),
        )),
    }
}

/// The sets and regions the filter treats otherwise than an arbitrary source (`base`,
/// decided `arbitrary`).
pub(super) fn examine(c: &Compiled, base: &Packet, arbitrary: Decision) -> Sources {
    let mut out = Sources::default();
    if arbitrary == Decision::Uncertain {
        return out;
    }
    let open = arbitrary.admits();
    // The regions first: a set that shuts a continent is a geo set, not a ban list.
    let mut region_lines = Vec::new();
    let mut geo_sets: Vec<String> = Vec::new();
    let mut admitted_regions = Vec::new();
    for r in crate::assets::geo_regions() {
        let net = base.family.pick(&r.v4, &r.v6);
        let ip = region_addr(net);
        // Held by no source match: decided as the arbitrary source was.
        if !c.may_differ(ip) {
            continue;
        }
        let o = c.decide(&from(base, ip));
        let holders: Vec<String> = c.sets_holding(ip).iter().map(label).collect();
        let by = if holders.is_empty() {
            decided(&o)
        } else {
            holders.join(", ")
        };
        if open && o.decision.shuts() {
            out.shut_regions.push(r.name.clone());
            if !out.shut_by.contains(&by) {
                out.shut_by.push(by.clone());
            }
            geo_sets.extend(holders);
            region_lines.push(clean(&format!(
                "clients in {} ({net}) are shut out: {} by {}",
                r.name,
                o.decision.as_str(),
                by
            )));
        } else if !open && o.decision.admits() {
            admitted_regions.push(format!("{} ({by})", r.name));
        }
    }
    for s in c.source_sets(base.family).iter().take(MAX_SETS) {
        let Some(member) = s.member else { continue };
        let o = c.decide(&from(base, member));
        match (open, o.decision) {
            (true, d) if d.shuts() => {
                let geo = geo_sets.contains(&label(s));
                if !geo {
                    out.bans += 1;
                }
                out.lines.push(format!(
                    "{}: {} {} by {} ({})",
                    label(s),
                    size(s),
                    if d == Decision::Drop {
                        "dropped"
                    } else {
                        "rejected"
                    },
                    decided(&o),
                    if geo {
                        "whole regions, below"
                    } else {
                        "the rest of the internet gets in"
                    }
                ));
            }
            (false, Decision::Accept) => {
                out.only_from.push(label(s));
                out.lines.push(format!(
                    "admitted only from {}: {} (an arbitrary internet source is refused)",
                    label(s),
                    size(s)
                ));
            }
            _ => {}
        }
    }
    out.lines.extend(region_lines);
    if !admitted_regions.is_empty() {
        out.lines.push(clean(&format!(
            "admitted from: {}",
            admitted_regions.join(", ")
        )));
    }
    out
}

/// The admin's own SSH client against the filter, for the family it connects over:
/// `(evidence line, whether a new connection from it would be refused)`. For the other
/// family the line says its address there is not known.
pub(super) fn ssh_client(
    f: &Facts,
    c: &Compiled,
    family: Family,
    iif: &str,
) -> Option<(String, bool)> {
    let s = f.firewall.value()?.ssh?;
    let server = crate::net::bracketed(s.server);
    // A session to another host or network namespace (dsdoctor run through `ip netns
    // exec`, or on a jump host) says nothing about this filter.
    crate::checks::host::find_addr(f, s.server)?;
    if Family::of(s.client) != family {
        return Some((
            format!(
                "your SSH session comes over {} (from {}): your own {} address is not known, so this answer is for an arbitrary source",
                family.other().name(),
                s.client,
                family.name()
            ),
            false,
        ));
    }
    let pkt = from(&Packet::tcp_syn(s.server, s.server_port, iif), s.client);
    let o = c.decide(&pkt);
    let line = match o.decision {
        Decision::Accept => format!(
            "your SSH client {} (SSH_CONNECTION) may open new connections to {server}:{} over {}",
            s.client,
            s.server_port,
            family.name()
        ),
        Decision::Uncertain => format!(
            "your SSH client {} (SSH_CONNECTION): cannot tell whether a new connection to {server}:{} would get in ({})",
            s.client,
            s.server_port,
            decided(&o)
        ),
        d => format!(
            "LOCKED OUT: a new SSH connection from your client {} (SSH_CONNECTION) to {server}:{} over {} would be {} by {} (the session you are in survives only while conntrack keeps it)",
            s.client,
            s.server_port,
            family.name(),
            if d == Decision::Drop {
                "dropped"
            } else {
                "rejected"
            },
            decided(&o)
        ),
    };
    Some((clean(&line), o.decision.shuts()))
}

/// The echo service's address and the filter's answer for its connect-back
/// (`isp.inbound_*` on this port and family), when that address may be decided otherwise
/// than an arbitrary source.
fn echo_outcome(f: &Facts, c: &Compiled, base: &Packet, port: u16) -> Option<(IpAddr, Outcome)> {
    let isp = f.isp.value()?;
    let server = isp.echo.iter().find(|e| e.family == base.family)?.server?;
    isp.inbound
        .iter()
        .find(|p| p.port == port && p.family == base.family)?;
    if !c.may_differ(server) {
        return None;
    }
    Some((server, c.decide(&from(base, server))))
}

/// A line when the filter treats the echo service's address otherwise than an arbitrary
/// source (then the inbound probe does not speak for the internet).
fn echo_line(server: IpAddr, o: &Outcome, family: Family, arbitrary: Decision) -> Option<String> {
    if o.decision == arbitrary || (o.decision.shuts() && arbitrary.shuts()) {
        return None;
    }
    Some(clean(&format!(
        "the echo service's connect-back from {server} is {} ({}), unlike an arbitrary internet source ({}): {} speaks for the echo service's address only",
        match o.decision {
            Decision::Accept => "admitted",
            Decision::Uncertain => "undecided",
            _ => "refused",
        },
        decided(o),
        arbitrary.as_str(),
        family.pick("isp.inbound_ipv4", "isp.inbound_ipv6")
    )))
}

/// The echo service's connect-back refused on `port` while an arbitrary source
/// (`arbitrary`) gets in: its address and the deciding rule.
pub(super) fn echo_refused(
    f: &Facts,
    c: &Compiled,
    base: &Packet,
    port: u16,
    arbitrary: Decision,
) -> Option<(IpAddr, String)> {
    if arbitrary != Decision::Accept {
        return None;
    }
    let (server, o) = echo_outcome(f, c, base, port)?;
    o.decision.shuts().then(|| (server, decided(&o)))
}

/// Everything this module adds to one port's answer.
pub(super) struct Seen {
    pub sources: Sources,
    /// Evidence lines: the sets and regions, the SSH client, the echo service.
    pub lines: Vec<String>,
    /// The admin's own SSH client would be refused on this port.
    pub locked_out: bool,
    /// The echo service's connect-back is refused while an arbitrary source gets in.
    pub echo_refused: bool,
}

/// The sets, regions, SSH client and echo service for the SYN `syn` on `port`, which
/// an arbitrary source gets `arbitrary` for.
pub(super) fn seen(f: &Facts, c: &Compiled, syn: &Packet, port: u16, arbitrary: Decision) -> Seen {
    let sources = examine(c, syn, arbitrary);
    let mut lines = sources.lines.clone();
    let mut locked_out = false;
    if let Some((line, shut)) = ssh_client(f, c, syn.family, &syn.iif) {
        let ssh_port = f
            .firewall
            .value()
            .and_then(|fw| fw.ssh)
            .map(|s| s.server_port);
        // The session's own port says it on this port; other ports only repeat it when
        // it is bad news.
        if ssh_port == Some(port) || shut {
            lines.push(line);
        }
        locked_out = shut && ssh_port == Some(port);
    }
    let echo = echo_outcome(f, c, syn, port);
    if let Some((server, o)) = &echo {
        lines.extend(echo_line(*server, o, syn.family, arbitrary));
    }
    let echo_refused =
        arbitrary == Decision::Accept && echo.is_some_and(|(_, o)| o.decision.shuts());
    Seen {
        sources,
        lines,
        locked_out,
        echo_refused,
    }
}

/// The `warn` for a port the internet gets into: whole regions shut out, or the admin's
/// own SSH client refused. `(summary, explanation key)`.
pub(super) fn open_but(seen: &Seen, family: Family, port: u16) -> Option<(String, &'static str)> {
    let s = &seen.sources;
    if !s.shut_regions.is_empty() {
        return Some((
            clean(&format!(
                "the {} filter admits new TCP connections to port {port} from most of the internet, but shuts clients in {} out: {}",
                family.name(),
                s.shut_regions.join(", "),
                s.shut_by.join("; ")
            )),
            "fw_geo_shut",
        ));
    }
    if seen.locked_out {
        return Some((
            format!(
                "the {} filter admits new TCP connections to port {port}, but not from your own SSH client: you would be locked out on your next login",
                family.name()
            ),
            "fw_ssh_locked_out",
        ));
    }
    None
}

#[cfg(test)]
mod tests;
