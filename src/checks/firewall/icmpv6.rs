//! `firewall.icmpv6`: the IPv6 filter admits the ICMPv6 messages IPv6 cannot do without
//! (neighbour discovery, packet too big).

use super::{base_evidence, frontend, path_evidence, plan, precondition, target};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::firewall::{Decision, Outcome, Packet};
use crate::model::{CheckId, Family, Finding};
use crate::sanitize::clean;

/// ICMPv6 types IPv6 cannot do without, with their names.
const ICMPV6_NEEDED: [(u8, &str); 5] = [
    (135, "neighbour solicitation"),
    (136, "neighbour advertisement"),
    (134, "router advertisement"),
    (133, "router solicitation"),
    (2, "packet too big"),
];

pub fn check(ctx: &Ctx) -> Finding {
    let (f, o, c) = (ctx.facts, ctx.opts, ctx.view.compiled.as_ref());
    let s = Subject::host(CheckId::FirewallIcmpv6);
    if let Some(fd) = precondition(f, o, s, Family::V6) {
        return fd;
    }
    let (Some(fw), Some(c)) = (f.firewall.value(), c) else {
        return s.error("the packet filter was not read");
    };
    let Some((ip, iif)) = target(f, o, Family::V6) else {
        return s
            .skip("this host has no global IPv6 address (see address.global_ipv6)")
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
        return s
            .fail(format!(
                "the IPv6 filter drops ICMPv6 {}: {}",
                list(&shut),
                if nd {
                    "IPv6 stops working once the neighbour caches expire"
                } else {
                    "large responses stall (path MTU discovery breaks)"
                }
            ))
            .evidence_all(ev)
            .explain(if nd { "fw_icmpv6_nd" } else { "fw_icmpv6_ptb" }, &[])
            .fix(key, &v)
            .took(f.firewall.ms);
    }
    if !unsure.is_empty() {
        ev.extend(path_evidence(&unsure[0].2));
        return s
            .warn(format!(
                "cannot tell whether the IPv6 filter admits ICMPv6 {}",
                list(&unsure)
            ))
            .evidence_all(ev)
            .explain("fw_uncertain_icmpv6", &[])
            .took(f.firewall.ms);
    }
    s.pass("the IPv6 filter admits neighbour discovery (133-136) and packet-too-big (2)")
        .evidence_all(ev)
        .took(f.firewall.ms)
}
