//! `firewall.ipv4` / `firewall.ipv6`: the family's filter admits new TCP connections to
//! the port.

use super::{apply_fix, base_evidence, path_evidence, plan, precondition, sources, target};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::Facts;
use crate::firewall::{Decision, Leg, Packet};
use crate::model::{CheckId, Family, Finding};
use crate::sanitize::clean;
use std::net::IpAddr;

pub fn check(ctx: &Ctx, port: u16, family: Family) -> Finding {
    let (f, o, c) = (ctx.facts, ctx.opts, ctx.view.compiled.as_ref());
    let s = Subject::on_port(
        family.pick(CheckId::FirewallIpv4, CheckId::FirewallIpv6),
        port,
    );
    if let Some(fd) = precondition(f, o, s, family) {
        return fd;
    }
    let (Some(fw), Some(c)) = (f.firewall.value(), c) else {
        return s.error("the packet filter was not read");
    };
    let Some((ip, iif)) = target(f, o, family) else {
        let cause = family.pick(CheckId::AddressGlobalIpv4, CheckId::AddressGlobalIpv6);
        return s
            .skip(format!(
                "this host has no {} address to receive connections (see {cause})",
                family.name()
            ))
            .caused_by(cause);
    };
    // The whole connection on the path it really takes: the SYN (through a DNAT to a
    // container, maybe), the client's later packets and the server's SYN-ACK. A filter
    // that admits the SYN and shuts the rest kills the connection (the kernel oracle saw
    // such a port reported open).
    let syn = Packet::tcp_syn(ip, port, &iif);
    let out = c.decide_connection(&syn);
    let leg = out.taken.leg;
    // Sets, regions, the admin's SSH client, the echo service (`sources.rs`), compared
    // on the SYN: a later packet decides only once the SYN is admitted.
    let syn_decision = match leg {
        Leg::Syn => out.decision,
        _ => Decision::Accept,
    };
    let seen = sources::seen(f, c, &syn, port, syn_decision);
    let mut ev = base_evidence(fw);
    ev.push(format!(
        "asked: a new TCP connection (SYN) from an arbitrary internet address to {}:{port} on {iif}",
        crate::net::bracketed(ip)
    ));
    ev.push(clean(&format!("path taken: {}", out.taken.describe())));
    let p = port.to_string();
    let rule = super::decider(&out).unwrap_or_else(|| "?".into());
    // "to port 8080 (DNAT to 172.17.0.2:80, forwarded)" when the path is not input.
    let via = match &out.taken.nat {
        Some((_, nip, nport)) => format!(
            " (DNAT to {}:{nport}, {})",
            crate::net::bracketed(*nip),
            if out.taken.forward {
                "forwarded"
            } else {
                "delivered here"
            }
        ),
        None => String::new(),
    };
    if out.taken.not_forwarded {
        let sysctl = family.pick("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding");
        ev.push(format!("DNAT by {rule}"));
        ev.extend(path_evidence(&out));
        return s
            .fail(format!(
                "connections to port {port} are DNATed{via} but this host does not forward {} ({sysctl} is 0): the kernel drops them",
                family.name()
            ))
            .evidence_all(ev)
            .explain("fw_not_forwarded", &[("port", &p), ("family", family.name()), ("sysctl", sysctl)])
            .fix("fw_forwarding", &[("sysctl", sysctl)])
            .took(f.firewall.ms);
    }
    if let Some(back) = &out.taken.rp_filtered {
        let rp = f.sysctl.value().map(|s| &s.rp_filter);
        let set: Vec<String> = ["all", iif.as_str()]
            .into_iter()
            .filter_map(|k| {
                let v = rp.and_then(|m| m.get(k))?;
                Some(format!("net.ipv4.conf.{k}.rp_filter = {v}"))
            })
            .collect();
        ev.push(clean(&format!("reverse-path filter: {}", set.join(", "))));
        ev.extend(path_evidence(&out));
        let to = clean(back);
        return s
            .fail(clean(&format!(
                "the kernel drops IPv4 connections to port {port} arriving on {iif} before any rule: strict reverse-path filtering (rp_filter 1) expects packets from the internet on {to}, where the IPv4 default route leaves"
            )))
            .evidence_all(ev)
            .explain("fw_rp_filter", &[("iif", &iif), ("back", &to)])
            .fix("fw_rp_filter_loose", &[("iif", &iif)])
            .fix("fw_rp_filter_route", &[("iif", &iif), ("back", &to)])
            .took(f.firewall.ms);
    }
    match out.decision {
        Decision::Accept => {
            let how = if out.base_chains == 0 {
                format!("no {} rules on its path", family.name())
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
            ev.extend(seen.lines.iter().cloned());
            let vars = [("port", p.as_str()), ("family", family.name())];
            let fd = match sources::open_but(&seen, family, port) {
                Some((summary, key)) => s.warn(summary).explain(key, &vars),
                None => s
                    .pass(format!(
                        "the {} filter admits new TCP connections to port {port}{via} ({how})",
                        family.name()
                    ))
                    .explain("fw_pass_cloud", &vars),
            };
            let fd = fd.evidence_all(ev).took(f.firewall.ms);
            let fd = match seen.sources.bans {
                0 => fd,
                _ => fd.explain_also("fw_ban_list", &vars),
            };
            // The host admits, yet a probe from outside did not get in: something in
            // front of the host (a cloud security group, a provider's ACL) blocks it,
            // unless this host refuses the probe's own address (the echo line says so).
            match outside_refused(f, port, family).filter(|_| !seen.echo_refused) {
                Some(line) => fd.evidence(line).fix(
                    "cloud_security_group",
                    &[("port", &p), ("family", family.name())],
                ),
                None => fd,
            }
        }
        Decision::Drop | Decision::Reject => {
            ev.push(format!("decided by {rule}"));
            ev.extend(path_evidence(&out));
            ev.extend(seen.lines.iter().cloned());
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
            // The rule to add goes where the packet was shut: after a DNAT it sees the
            // container's port.
            let target_port = out.taken.nat.as_ref().map(|n| n.2).unwrap_or(port);
            let mut plan = plan(fw, out.decided_by.as_ref(), target_port, family, true);
            let (what, key) = match leg {
                Leg::Syn => ("new TCP connections".to_string(), key),
                Leg::Later => (
                    "the packets after the first (conntrack state established) of TCP connections"
                        .to_string(),
                    key,
                ),
                Leg::Reply => {
                    plan.key = reply_fix_key(plan.key);
                    (
                        format!(
                            "the answers (SYN-ACK, conntrack state established, leaving through {}) of TCP connections",
                            if out.taken.forward {
                                "forward"
                            } else {
                                "output"
                            }
                        ),
                        "fw_reply_shut",
                    )
                }
            };
            let vars = [("port", p.as_str()), ("family", family.name())];
            let fd = s.fail(format!(
                "the {} filter {verb} {what} to port {port}{via}: {rule}",
                family.name()
            ));
            // An allow-list (an office's networks) is named: it is why the port is shut
            // to everyone else.
            let fd = match seen.sources.only_from.as_slice() {
                [] => fd.explain(key, &vars),
                sets => {
                    let named = sets.join(", ");
                    let summary = format!("{} (admitted only from {named})", fd.summary);
                    Finding { summary, ..fd }.explain(key, &vars).explain_also(
                        "fw_only_from",
                        &[("sets", &named), ("port", &p), ("family", family.name())],
                    )
                }
            };
            apply_fix(fd.evidence_all(ev), &plan).took(f.firewall.ms)
        }
        Decision::Uncertain => {
            ev.push(format!("undecided at {rule}"));
            ev.extend(path_evidence(&out));
            ev.extend(seen.lines.iter().cloned());
            s.warn(format!(
                "cannot tell whether the {} filter admits port {port}: it depends on {rule}",
                family.name()
            ))
            .evidence_all(ev)
            .explain("fw_uncertain", &[("port", &p)])
            .took(f.firewall.ms)
        }
    }
}

/// The fix that accepts a connection's answers, for the front-end whose open fix is `open`.
fn reply_fix_key(open: &'static str) -> &'static str {
    match open {
        "fw_open_iptables" => "fw_reply_iptables",
        "fw_open_nft" => "fw_reply_nft",
        "fw_open_firewalld" => "fw_reply_firewalld",
        _ => "fw_reply_ufw",
    }
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

/// The echo service's connect-back refused by this host's filter on `port` while an
/// arbitrary internet source is admitted: the echo service's address and the deciding
/// rule. An `isp.inbound_*` failure then speaks for the echo service only.
pub fn echo_refused_alone(c: &Ctx, port: u16, family: Family) -> Option<(IpAddr, String)> {
    let compiled = c.view.compiled.as_ref()?;
    let (ip, iif) = target(c.facts, c.opts, family)?;
    let syn = Packet::tcp_syn(ip, port, &iif);
    let arbitrary = compiled.decide_connection(&syn).decision;
    sources::echo_refused(c.facts, compiled, &syn, port, arbitrary)
}
