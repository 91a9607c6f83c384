//! `listener.ipv4` / `listener.ipv6`: a socket accepts the family's clients on the port,
//! on an address they connect to.

use super::container::{self, Path, Via};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::{Facts, Listener};
use crate::firewall::Packet;
use crate::model::{CheckId, Family, Finding, Status};
use crate::net::reachable_by_clients;
use crate::options::Options;
use crate::sanitize::clean;

pub fn check(c: &Ctx, port: u16, family: Family) -> Finding {
    let mut fd = match rewritten(c, port, family) {
        Some(fd) => fd,
        None => family_socket(c.facts, c.opts, port, family),
    };
    // The configuration line to add is the fix for the missing socket too: the
    // operator's first keystroke on the failing check should copy it.
    if fd.status == Status::Fail && fd.caused_by.is_none() {
        let cfg = super::config::check(c, port);
        if cfg.status == Status::Fail {
            fd.fixes = cfg.fixes;
        }
    }
    fd
}

/// A nat rule that no container runtime accounts for (a hand-written DNAT or REDIRECT,
/// a Kubernetes hostPort) rewrites the family's connections to `port` before any socket
/// is looked up, as the firewall walk finds for the site's address: a local target is
/// judged by the sockets on its port; a forwarded one (another host, a container no
/// runtime lists) is named, its sockets being out of this host's sight.
fn rewritten(c: &Ctx, port: u16, family: Family) -> Option<Finding> {
    let f = c.facts;
    if !matches!(container::path(f, port, family), Path::NotPublished) {
        return None;
    }
    let compiled = c.view.compiled.as_ref()?;
    let (ip, iif) = crate::checks::firewall::target(f, c.opts, family)?;
    let out = compiled.decide(&Packet::tcp_syn(ip, port, &iif));
    let (rule, to, to_port) = out.taken.nat.clone()?;
    let rule = clean(&rule.describe());
    let to_text = format!("{}:{to_port}", crate::net::bracketed(to));
    let path = clean(&format!("path taken: {}", out.taken.describe()));
    if !out.taken.forward {
        if to_port == port {
            return None;
        }
        let inner = family_socket(f, c.opts, to_port, family);
        let summary = format!(
            "{} connections to port {port} are rewritten to {to_text} by {rule}: {}",
            family.name(),
            inner.summary
        );
        let mut evidence = vec![path];
        evidence.extend(inner.evidence.iter().cloned());
        return Some(Finding {
            port: Some(port),
            summary,
            evidence,
            ..inner
        });
    }
    let s = Subject::on_port(
        family.pick(CheckId::ListenerIpv4, CheckId::ListenerIpv6),
        port,
    );
    let out_of = out
        .taken
        .oif
        .as_deref()
        .map(|o| format!(" out of {}", clean(o)))
        .unwrap_or_default();
    Some(
        s.pass(format!(
            "{} connections to port {port} are DNATed to {to_text} by {rule} and forwarded{out_of}: what listens there is on that host or container, not on this one",
            family.name()
        ))
        .evidence(path)
        .evidence(format!(
            "the sockets of {to_text} are not visible from this host; no container runtime here lists it"
        ))
        .took(f.listeners.ms),
    )
}

fn socket_line(l: &Listener) -> String {
    let addr = crate::net::bracketed(l.ip);
    let v6only = match l.v6only {
        Some(true) => " v6only=1",
        Some(false) => " v6only=0",
        None => "",
    };
    let owner = match (&l.process, l.pid) {
        (Some(p), Some(pid)) => format!(" ({p} pid {pid})"),
        _ => " (owner not visible: naming it needs root, or CAP_SYS_PTRACE)".to_string(),
    };
    format!(
        "sock_diag: {addr}:{} LISTEN{v6only} uid {} inode {}{owner}",
        l.port, l.uid, l.inode
    )
}

fn owner_text(socks: &[&Listener]) -> String {
    socks
        .iter()
        .find_map(|l| {
            l.process
                .as_ref()
                .map(|p| format!("{p} (pid {})", l.pid.unwrap_or(0)))
        })
        .unwrap_or_else(|| "a process".into())
}

fn family_socket(f: &Facts, o: &Options, port: u16, family: Family) -> Finding {
    let v6 = family.is_v6();
    let s = Subject::on_port(
        family.pick(CheckId::ListenerIpv4, CheckId::ListenerIpv6),
        port,
    );
    let fam = family.name();
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    let all = match &f.listeners.result {
        Ok(l) => l,
        Err(e) => {
            return s.unread(f, "list sockets", e).took(f.listeners.ms);
        }
    };
    let on_port: Vec<&Listener> = all.iter().filter(|l| l.port == port).collect();
    let evidence: Vec<String> = if on_port.is_empty() {
        vec![format!("sock_diag: no TCP socket listens on port {port}")]
    } else {
        on_port.iter().map(|l| socket_line(l)).collect()
    };
    let accepting: Vec<&Listener> = on_port
        .iter()
        .copied()
        .filter(|l| l.accepts(family))
        .collect();
    // Addresses the site's clients connect to: the DNS answer if any.
    let targets = f.dns.ips(family);
    // A socket serves the site's clients if it is a wildcard, or bound to an address they
    // connect to (the DNS answer, or any client-reachable address when DNS has none).
    let serving: Vec<&Listener> = accepting
        .iter()
        .copied()
        .filter(|l| {
            l.is_wildcard()
                || targets.contains(&l.ip)
                || (targets.is_empty() && reachable_by_clients(l.ip, &o.assume_public))
        })
        .collect();
    let base_fix = |fd: Finding| -> Finding {
        let mut fd = fd;
        // nginx's own commands only where nginx is the one to change: it owns the port's
        // sockets (an owner this run cannot see may be any program).
        let nginx_owns = on_port
            .iter()
            .any(|l| l.process.as_deref() == Some("nginx"));
        if nginx_owns && f.web.value().is_some_and(|w| !w.nginx.is_empty()) {
            fd = fd.fix("see_listener_config", &[("port", &port.to_string())]);
        }
        fd
    };
    if v6 && host::ipv6_off(f) {
        return s.fail(format!(
            "IPv6 clients cannot reach port {port}: IPv6 is disabled on this host, whatever listens"
        ))
        .evidence_all(evidence)
        .caused_by(CheckId::AddressIpv6Enabled);
    }
    // A DNAT rule rewrites the family's connections before any host socket is looked
    // at: the container's sockets decide.
    let path = container::path(f, port, family);
    if let Path::Dnat { rt, c, target, .. } = path {
        return container::reached(s, f, rt, c, target, family, &Via::Dnat)
            .evidence_all(evidence)
            .took(f.listeners.ms);
    }
    if let Some(l) = serving.first() {
        let proxy = serving.iter().find(|l| {
            l.process
                .as_deref()
                .is_some_and(|p| container::PROXIES.contains(&p))
        });
        if let Some(px) = proxy
            && let Some((rt, c, target)) = container::behind_proxy(f, px)
        {
            let socket = format!(
                "{} on {}:{port}",
                owner_text(&[*px]),
                crate::net::bracketed(px.ip)
            );
            return container::reached(s, f, rt, c, target, family, &Via::Proxy(socket))
                .evidence_all(evidence)
                .took(f.listeners.ms);
        }
        // The other family goes to a container, this one to a program of the host.
        if proxy.is_none()
            && let Path::OtherFamilyOnly { .. } = path
            && let Path::Dnat { rt, c, p, target } = container::path(f, port, family.other())
        {
            return container::split(s, f, &owner_text(&serving), (rt, c, p, target), family)
                .evidence_all(evidence)
                .took(f.listeners.ms);
        }
        let how = if l.is_wildcard() && l.ip.is_ipv6() && !v6 {
            format!("[::]:{port} with IPV6_V6ONLY off also accepts IPv4")
        } else {
            format!("{}:{port}", crate::net::bracketed(l.ip))
        };
        return s
            .pass(format!(
                "{fam} clients reach {} on {how}",
                owner_text(&serving)
            ))
            .evidence_all(evidence)
            .took(f.listeners.ms);
    }
    let p = port.to_string();
    if !accepting.is_empty() {
        let bound = accepting
            .iter()
            .map(|l| format!("{}:{port}", crate::net::bracketed(l.ip)))
            .collect::<Vec<_>>()
            .join(", ");
        return base_fix(
            s.fail(format!(
                "{fam} sockets on port {port} are bound to {bound} only, not to an address clients use"
            ))
            .evidence_all(evidence)
            .explain("listener_wrong_addr", &[("port", &p)]),
        );
    }
    match path {
        Path::Unforwarded { rt, c, p, why } => {
            return container::unforwarded(s, f, rt, c, p, why, family)
                .evidence_all(evidence)
                .took(f.listeners.ms);
        }
        Path::OtherFamilyOnly { rt, c, p } => {
            return container::other_family_only(s, f, rt, c, p, family)
                .evidence_all(evidence)
                .took(f.listeners.ms);
        }
        Path::NotPublished | Path::Dnat { .. } => {}
    }
    // Nothing of the host listens, and a container runtime would not say what it
    // publishes: the port may well be a container's, so this run cannot tell.
    if on_port.is_empty()
        && let Some((socket, e)) = container::refused(f)
    {
        return s
            .unread(f, &format!("ask the container runtime at {socket}"), e)
            .evidence_all(evidence)
            .took(f.listeners.ms);
    }
    let v6only_socket = on_port
        .iter()
        .find(|l| l.is_wildcard() && l.ip.is_ipv6() && l.v6only == Some(true));
    let summary = if on_port.is_empty() {
        format!("nothing listens on port {port}")
    } else if let (false, Some(l)) = (v6, v6only_socket) {
        format!(
            "IPv4 clients are refused on port {port}: {} listens on [::]:{port} with IPV6_V6ONLY on and no socket on 0.0.0.0:{port}",
            owner_text(&[*l])
        )
    } else {
        format!(
            "{fam} clients are refused on port {port}: {} listens on {} only",
            owner_text(&on_port),
            family.other().name()
        )
    };
    let mut fd = why_refused(
        s.fail(summary).evidence_all(evidence),
        &on_port,
        family,
        v6only_socket.is_some(),
        port,
        !f.dns.ips(Family::V6).is_empty(),
    );
    if let Some(b) = f.sysctl.value().and_then(|s| s.bindv6only) {
        fd = fd.evidence(format!("net.ipv6.bindv6only = {b}"));
    }
    base_fix(fd).took(f.listeners.ms)
}

/// Why the family's clients are refused, from what this run saw: nothing at all on the
/// port, or one family served (and then what the owning server's configuration means).
fn why_refused(
    fd: Finding,
    on_port: &[&Listener],
    family: Family,
    v6only: bool,
    port: u16,
    has_aaaa: bool,
) -> Finding {
    let p = port.to_string();
    let vars = [("port", p.as_str())];
    if on_port.is_empty() {
        return fd.explain("listener_none", &vars);
    }
    let base = match family {
        Family::V6 => "listener_no_v6",
        Family::V4 if v6only => "listener_v6only",
        Family::V4 => "listener_no_v4",
    };
    let mut fd = fd.explain(base, &vars);
    let other = family.other();
    if on_port.iter().any(|l| l.accepts(other)) {
        fd = fd.explain_also(
            other.pick("listener_ipv4_served", "listener_ipv6_served"),
            &vars,
        );
        // Happy Eyeballs falls back only for a name that has an AAAA to try first.
        if family == Family::V6 && has_aaaa {
            fd = fd.explain_also("listener_aaaa_fallback", &vars);
        }
    }
    // The one-family configuration of the program that owns the sockets, in its own
    // terms; none for a program dsdoctor has no words for, or an owner it cannot see.
    let shape = family.pick("v6_only", "v4_only");
    let owners: std::collections::BTreeSet<&str> = on_port
        .iter()
        .filter_map(|l| l.process.as_deref())
        .collect();
    for owner in owners {
        fd = fd.explain_also(&format!("listener_hint_{shape}_{owner}"), &vars);
    }
    fd
}
