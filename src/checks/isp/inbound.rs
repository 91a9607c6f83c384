//! `isp.inbound_ipv4` / `isp.inbound_ipv6`: a connection from outside reaches the port
//! over the family.

use super::{listens, no_answer, no_echo, path_block, v4_situation, with_isp};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::Facts;
use crate::facts::isp::*;
use crate::model::{CheckId, Family, Finding};
use crate::net::{AddrClass, bracketed, classify};
use crate::options::Options;

pub fn check(c: &Ctx, port: u16, family: Family) -> Finding {
    let s = Subject::on_port(
        family.pick(CheckId::IspInboundIpv4, CheckId::IspInboundIpv6),
        port,
    );
    with_isp(c, s, |isp| {
        let block = path_block(c, isp, family);
        let fd = inbound_port(c.facts, c.opts, isp, s, family, port, &block);
        if fd.status != crate::model::Status::Fail || fd.caused_by.is_some() {
            return fd;
        }
        // This host's own filter refuses the echo service and no one else.
        match crate::checks::firewall::port::echo_refused_alone(c, port, family) {
            Some((server, rule)) => {
                let (server, port) = (server.to_string(), port.to_string());
                let check = family.pick("firewall.ipv4", "firewall.ipv6");
                fd.explain(
                    "inbound_echo_refused_here",
                    &[
                        ("server", &server),
                        ("rule", &rule),
                        ("port", &port),
                        ("family", family.name()),
                        ("check", check),
                    ],
                )
            }
            None => fd,
        }
    })
}

fn inbound_port(
    f: &Facts,
    o: &Options,
    isp: &IspFacts,
    s: Subject,
    family: Family,
    port: u16,
    block: &Option<CheckId>,
) -> Finding {
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    let Some(p) = isp
        .inbound
        .iter()
        .find(|p| p.family == family && p.port == port)
    else {
        return no_echo(s, family);
    };
    let ans = match &p.answer.result {
        Ok(a) => a,
        Err(e) => return no_answer(f, s, family, e, block).took(p.answer.ms),
    };
    let ev = format!(
        "{} connected back to {}: {}",
        p.url,
        crate::net::bracketed(ans.ip),
        if ans.reachable {
            "reachable"
        } else {
            "not reachable"
        }
    );
    if ans.reachable {
        return s
            .pass(format!(
                "a connection from outside reaches {}:{port} over {}",
                bracketed(ans.ip),
                family.name()
            ))
            .evidence(ev)
            .took(p.answer.ms);
    }
    let ip_s = ans.ip.to_string();
    let port_s = port.to_string();
    let host_s = bracketed(ans.ip);
    let vars = [
        ("ip", ip_s.as_str()),
        ("port", port_s.as_str()),
        ("v", family.as_str()),
        ("host", host_s.as_str()),
    ];
    let mut finding = s
        .fail(format!(
            "a connection from outside to {}:{port} over {} does not get through",
            bracketed(ans.ip),
            family.name()
        ))
        .evidence(ev);
    if listens(f, family, port) == Some(false) {
        return finding
            .explain("inbound_no_listener", &vars)
            .caused_by(family.pick(CheckId::ListenerIpv4, CheckId::ListenerIpv6))
            .took(p.answer.ms);
    }
    finding = if family.is_v6() {
        finding
            .explain("inbound_v6", &vars)
            .fix("inbound_check_outside", &vars)
    } else {
        match v4_situation(f, o).1 {
            AddrClass::Cgnat => finding
                .explain("inbound_v4_cgnat", &vars)
                .fix("ask_public_v4", &[])
                .caused_by(CheckId::AddressGlobalIpv4),
            AddrClass::Private => {
                let internal = v4_situation(f, o)
                    .0
                    .iter()
                    .find(|i| classify(**i) == AddrClass::Private)
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                finding
                    .explain("inbound_v4_nat", &vars)
                    .fix(
                        "port_forward",
                        &[
                            ("ip", ip_s.as_str()),
                            ("port", port_s.as_str()),
                            ("internal", internal.as_str()),
                        ],
                    )
                    .fix("inbound_check_outside", &vars)
            }
            _ => finding
                .explain("inbound_v4_public", &vars)
                .fix("inbound_check_outside", &vars),
        }
    };
    finding.took(p.answer.ms)
}
