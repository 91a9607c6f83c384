//! `firewall.icmpv6`: the IPv6 filter admits the ICMPv6 messages IPv6 cannot do without
//! (neighbour discovery, packet too big).

use super::{base_evidence, frontend, path_evidence, plan, precondition, target};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::firewall::AddrKind;
use crate::firewall::{Decision, Outcome, Packet, RuleRef};
use crate::model::{CheckId, Family, Finding};
use crate::sanitize::clean;

/// ICMPv6 types IPv6 cannot do without, with their names: arriving, then the neighbour
/// discovery this host sends (the answer to the router's solicitation, its own
/// solicitation of the router, its router solicitation).
const ICMPV6_NEEDED: [(u8, &str); 5] = [
    (135, "neighbour solicitation"),
    (136, "neighbour advertisement"),
    (134, "router advertisement"),
    (133, "router solicitation"),
    (2, "packet too big"),
];
/// The solicitation to this host's own address (neighbour unreachability detection);
/// the oracle in tests/lab tells it from the multicast one by this name.
const PROBE: &str = "neighbour solicitation to this host's address";
const ICMPV6_SENT: [(u8, &str); 3] = [
    (136, "neighbour advertisement"),
    (135, "neighbour solicitation"),
    (133, "router solicitation"),
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
    let mut shut: Vec<Message> = Vec::new();
    let mut unsure: Vec<Message> = Vec::new();
    let arriving = ICMPV6_NEEDED
        .into_iter()
        .map(|(t, name)| (t, name, false, c.decide(&Packet::icmpv6(t, ip, &iif))));
    // The router re-confirms a neighbour it has not heard from with a solicitation to
    // the neighbour's own address: dropped, IPv6 drops out for seconds every few minutes.
    let probe = Packet {
        daddr: ip,
        daddr_kind: AddrKind::Local,
        ..Packet::icmpv6(135, ip, &iif)
    };
    let arriving = arriving.chain(std::iter::once((135, PROBE, false, c.decide(&probe))));
    let sent = ICMPV6_SENT.into_iter().map(|(t, name)| {
        let out = c.decide_sent(&Packet::icmpv6_sent(t, ip, &iif));
        (t, name, true, out)
    });
    for (t, name, sent, out) in arriving.chain(sent) {
        // The oracle (tests/lab) reads "ICMPv6 type N (" as the arriving message.
        let what = format!(
            "{}ICMPv6 type {t} ({name})",
            if sent { "sent by this host: " } else { "" }
        );
        let line = match (&out.decision, &out.decided_by) {
            (Decision::Accept, _) => format!("{what}: accepted"),
            (d, Some(r)) => clean(&format!("{what}: {} by {}", d.as_str(), r.describe())),
            (d, None) => format!("{what}: {}", d.as_str()),
        };
        ev.push(line);
        let m = Message {
            typ: t,
            name,
            sent,
            out,
        };
        match m.out.decision {
            Decision::Drop | Decision::Reject => shut.push(m),
            Decision::Uncertain => unsure.push(m),
            Decision::Accept => {}
        }
    }
    let list = |v: &[Message]| {
        let part = |sent: bool| {
            v.iter()
                .filter(|m| m.sent == sent)
                .map(|m| format!("{} ({})", m.name, m.typ))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (part(false), part(true)) {
            (arriving, sent) if sent.is_empty() => arriving,
            (arriving, sent) if arriving.is_empty() => format!("{sent} sent by this host"),
            (arriving, sent) => format!("{arriving}, and {sent} sent by this host"),
        }
    };
    if !shut.is_empty() {
        let nd = shut.iter().any(|m| (133..=136).contains(&m.typ));
        ev.extend(path_evidence(&shut[0].out));
        // One fix per chain that shuts something: the input side and the output side
        // each need their accept.
        let mut chains: Vec<Option<&RuleRef>> = Vec::new();
        for m in &shut {
            let by = m.out.decided_by.as_ref();
            if !chains.iter().any(|c| place(*c) == place(by)) {
                chains.push(by);
            }
        }
        let mut fd = s
            .fail(format!(
                "the IPv6 filter drops ICMPv6 {}: {}",
                list(&shut),
                if shut.iter().all(|m| m.name == PROBE) {
                    "the router's reachability probes go unanswered, and IPv6 drops out for seconds every few minutes"
                } else if nd {
                    "IPv6 stops working once the neighbour caches expire"
                } else {
                    "large responses stall (path MTU discovery breaks)"
                }
            ))
            .evidence_all(ev)
            .explain(if nd { "fw_icmpv6_nd" } else { "fw_icmpv6_ptb" }, &[]);
        for by in chains {
            let mut vars = plan(fw, by, 0, Family::V6, true).vars;
            vars.remove("port");
            let key = match frontend(fw, by) {
                "firewalld" => "fw_icmpv6_firewalld",
                "ufw" => "fw_icmpv6_ufw",
                "iptables" | "iptables_legacy" => "fw_icmpv6_iptables",
                _ => "fw_icmpv6_nft",
            };
            let v: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            fd = fd.fix(key, &v);
        }
        return fd.took(f.firewall.ms);
    }
    if !unsure.is_empty() {
        ev.extend(path_evidence(&unsure[0].out));
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

/// One ICMPv6 message and the walk's answer for it.
struct Message {
    typ: u8,
    name: &'static str,
    /// Sent by this host (output), not arriving.
    sent: bool,
    out: Outcome,
}

/// The table and chain of a deciding rule.
fn place(r: Option<&RuleRef>) -> Option<(&str, &str)> {
    r.map(|r| (r.table.as_str(), r.chain.as_str()))
}
