//! `firewall.exposure`: no listening service is open over one family while the other
//! family's rules shut it.

use super::{FixPlan, apply_fix, base_evidence, decider, plan, target, unreadable};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::firewall::{Backend, FirewallFacts};
use crate::firewall::{Compiled, Decision, Packet, published_ports};
use crate::model::{ByFamily, CheckId, Family, Finding};
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::net::IpAddr;

pub fn check(ctx: &Ctx) -> Finding {
    let (f, o, c) = (ctx.facts, ctx.opts, ctx.view.compiled.as_ref());
    let s = Subject::host(CheckId::FirewallExposure);
    if let Some(fd) = unreadable(f, s) {
        return fd;
    }
    let (Some(fw), Some(c)) = (f.firewall.value(), c) else {
        return s.error("the packet filter was not read");
    };
    let listeners = match &f.listeners.result {
        Ok(l) => l,
        Err(e) => {
            return s.unread(f, "list sockets", e);
        }
    };
    // With IPv6 off no IPv6 connection arrives, whatever the rules say.
    let v6_on = !host::ipv6_off(f);
    let (t4, t6) = (
        target(f, o, Family::V4),
        target(f, o, Family::V6).filter(|_| v6_on),
    );
    if let Some(fd) = published_bypass(ctx, fw, c, [(Family::V4, &t4), (Family::V6, &t6)]) {
        return fd;
    }
    let (Some(t4), Some(t6)) = (t4, t6) else {
        return s.skip("the host does not have addresses of both families, so no service can be open over one and shut over the other",
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
        if owner.is_empty()
            && let Some(p) = &l.process
        {
            *owner = clean(&format!("{p} pid {}", l.pid.unwrap_or(0)));
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
                let rule = decider(shut).unwrap_or_default();
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
        let fd = s
            .fail(holes.join("; "))
            .evidence_all(ev)
            .explain("fw_exposure", &[]);
        return match first_plan {
            Some(p) => apply_fix(fd, &p),
            None => fd,
        };
    }
    if !unsure.is_empty() {
        return s
            .warn(format!(
                "cannot tell whether these are open over one family only: {}",
                unsure.join(", ")
            ))
            .evidence_all(ev)
            .explain("fw_uncertain", &[("port", "")]);
    }
    s.pass(format!(
        "no listening service is open over one family while the other family's rules shut it ({compared} other port(s) compared; the site's ports are checked by firewall.ipv4/ipv6)"
    ))
    .evidence_all(ev)
    .took(f.firewall.ms)
}

/// A published port (DNAT to a container) that the input chains shut but the forward
/// chain admits: Docker's ports bypass ufw and the host's INPUT rules, while the admin
/// believes them shut. The `fail` naming each, or `None`.
fn published_bypass(
    ctx: &Ctx,
    fw: &FirewallFacts,
    c: &Compiled,
    targets: [(Family, &Option<(IpAddr, String)>); 2],
) -> Option<Finding> {
    let s = Subject::host(CheckId::FirewallExposure);
    let mut holes = Vec::new();
    let mut ev = base_evidence(fw);
    let mut first: Option<(u16, u16, String)> = None;
    let mut holed = Vec::new();
    for port in published_ports(&fw.tables) {
        if ctx.opts.target.ports.contains(&port) {
            continue;
        }
        for (fam, t) in targets {
            let Some((ip, iif)) = t else { continue };
            let syn = Packet::tcp_syn(*ip, port, iif);
            let real = c.decide_connection(&syn);
            let Some((_, nip, nport)) = &real.taken.nat else {
                continue;
            };
            if !(real.decision.admits() && real.taken.forward) {
                continue;
            }
            let input = c.decide_input(&syn);
            if !input.decision.shuts() {
                continue;
            }
            let shut_by = decider(&input).unwrap_or_default();
            holes.push(format!(
                "port {port} is published over {} to {}:{nport}, which the input rules shut but forward admits",
                fam.name(),
                crate::net::bracketed(*nip)
            ));
            ev.push(clean(&format!(
                "port {port} over {}: {}; the input chains alone would stop it at {shut_by}",
                fam.name(),
                real.taken.describe()
            )));
            for a in real.accepted_by.iter().take(3) {
                ev.push(clean(&format!("forwarded: accepted by {}", a.describe())));
            }
            if first.is_none() {
                first = Some((port, *nport, iif.clone()));
            }
            if !holed.contains(&fam) {
                holed.push(fam);
            }
        }
    }
    let (port, target_port, iface) = first?;
    let key = if fw.has(Backend::Ufw) {
        "fw_docker_user_ufw"
    } else {
        "fw_docker_user_iptables"
    };
    let (p, tp) = (port.to_string(), target_port.to_string());
    // A rule for each family the bypass reaches only: without Docker's ip6tables chains
    // (before Docker 27) `ip6tables -I DOCKER-USER` would be refused.
    let for_holed = |c: &str| {
        Family::BOTH
            .into_iter()
            .find(|f| c.starts_with(&format!("{} ", f.pick("iptables", "ip6tables"))))
            .is_none_or(|f| holed.contains(&f))
    };
    Some(
        s.fail(format!(
            "{}: published container ports bypass {}",
            holes.join("; "),
            if fw.has(Backend::Ufw) {
                "ufw"
            } else {
                "the INPUT rules"
            }
        ))
        .evidence_all(ev)
        .explain("fw_docker_bypass", &[])
        .fix_keeping(
            key,
            &[("port", &p), ("target_port", &tp), ("iface", &iface)],
            for_holed,
        )
        .took(ctx.facts.firewall.ms),
    )
}
