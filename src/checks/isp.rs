//! The ISP stage: what the internet sees of this host. Pure: reads `facts.isp` (gathered
//! by `probe::isp`) together with the host's own facts.

use super::host;
use super::view::Ctx;
use crate::facts::isp::*;
use crate::facts::{Facts, ProbeError, ProbeErrorKind, Probed};
use crate::model::{CheckId, Family, Finding, Status};
use crate::net::{AddrClass, bracketed, classify, reachable_by_clients};
use crate::options::Options;
use std::net::IpAddr;

/// An ISP check over the ISP probes' facts, or the `skip`/`error` that says why they
/// are missing; its duration is the ISP probes' unless it timed a probe of its own.
fn with_isp(
    c: &Ctx,
    id: CheckId,
    port: Option<u16>,
    eval: impl FnOnce(&IspFacts) -> Finding,
) -> Finding {
    let f = c.facts;
    let fd = match &f.isp.result {
        Ok(isp) => eval(isp),
        Err(e) if e.kind == ProbeErrorKind::NotRun => {
            Finding::new(id, port, Status::Skip, e.message.clone())
        }
        Err(e) => Finding::new(
            id,
            port,
            Status::Error,
            format!("the ISP probes could not run: {}", e.message),
        ),
    };
    if fd.duration_ms.is_none() {
        fd.took(f.isp.ms)
    } else {
        fd
    }
}

/// `isp.egress_ipv4` / `isp.egress_ipv6`.
pub fn egress(c: &Ctx, family: Family) -> Finding {
    let id = family.pick(CheckId::IspEgressIpv4, CheckId::IspEgressIpv6);
    with_isp(c, id, None, |isp| egress_of_family(c, isp, family))
}

/// `isp.public_ipv4` / `isp.public_ipv6`.
pub fn public(c: &Ctx, family: Family) -> Finding {
    let id = family.pick(CheckId::IspPublicIpv4, CheckId::IspPublicIpv6);
    with_isp(c, id, None, |isp| {
        let block = path_block(c, isp, family);
        match family {
            Family::V4 => public_v4(c.facts, c.opts, isp, &block),
            Family::V6 => public_v6(c.facts, c.opts, isp, &block),
        }
    })
}

/// `isp.inbound_ipv4` / `isp.inbound_ipv6` on one port.
pub fn inbound(c: &Ctx, port: u16, family: Family) -> Finding {
    let id = family.pick(CheckId::IspInboundIpv4, CheckId::IspInboundIpv6);
    with_isp(c, id, Some(port), |isp| {
        inbound_port(
            c.facts,
            c.opts,
            isp,
            family,
            port,
            &path_block(c, isp, family),
        )
    })
}

pub fn http_parity(c: &Ctx, port: u16) -> Finding {
    with_isp(c, CheckId::IspHttpParity, Some(port), |isp| {
        http_parity_port(c, isp, port)
    })
}

pub fn smtp_parity(c: &Ctx, port: u16) -> Finding {
    with_isp(c, CheckId::IspSmtpParity, Some(port), |isp| {
        smtp_parity_port(c.facts, isp, port)
    })
}

pub fn acme(c: &Ctx) -> Finding {
    with_isp(c, CheckId::IspAcmeHttp01, None, |isp| {
        acme_chain(c.opts, isp)
    })
}

pub fn resources(c: &Ctx) -> Finding {
    with_isp(c, CheckId::IspResources, None, |isp| {
        home_resources(c.opts, isp)
    })
}

/// `isp.path_mtu_ipv4` / `isp.path_mtu_ipv6`.
pub fn path_mtu(c: &Ctx, family: Family) -> Finding {
    let id = family.pick(CheckId::IspPathMtuIpv4, CheckId::IspPathMtuIpv6);
    with_isp(c, id, None, |isp| {
        path_mtu_family(c, isp, family, &path_block(c, isp, family))
    })
}

/// Why nothing can reach the internet over a family: the earlier finding that explains
/// it (a route or address problem), or the failed egress check itself.
fn path_block(c: &Ctx, isp: &IspFacts, family: Family) -> Option<CheckId> {
    c.view.blocker(family).or_else(|| {
        egress_dead(c.opts, isp, family)
            .then(|| family.pick(CheckId::IspEgressIpv4, CheckId::IspEgressIpv6))
    })
}

/// Every egress target of a wanted family failed both TCP and ICMP echo: the egress
/// check fails on its own observation (no blocker known on this host).
fn egress_dead(o: &Options, isp: &IspFacts, family: Family) -> bool {
    let probes = egress_of(isp, family);
    o.target.expect.wants(family)
        && !probes.is_empty()
        && probes
            .iter()
            .all(|p| p.tcp_ms.value().is_none() && p.icmp_ms.value().is_none())
}

fn blocked_skip(id: CheckId, port: Option<u16>, family: Family, cause: CheckId) -> Finding {
    Finding::new(
        id,
        port,
        Status::Skip,
        format!(
            "not examined: {} traffic does not reach the internet (see {cause})",
            family.name()
        ),
    )
    .caused_by(cause)
}

/// The egress probes of one family that had an address to try.
fn egress_of(isp: &IspFacts, family: Family) -> Vec<&EgressProbe> {
    isp.egress
        .iter()
        .filter(|p| p.addr.is_some_and(|a| Family::of(a.ip()) == family))
        .collect()
}

/// The quickest of the answers that came, if any did.
fn fastest<'a>(answers: impl Iterator<Item = &'a Probed<f64>>) -> Option<f64> {
    answers.filter_map(Probed::value).copied().reduce(f64::min)
}

fn ms_text(p: &Probed<f64>) -> String {
    match &p.result {
        Ok(ms) => format!("{ms:.1} ms"),
        Err(e) => e.message.clone(),
    }
}

// ----------------------------------------------------------------------------- egress

fn egress_of_family(c: &Ctx, isp: &IspFacts, family: Family) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = family.pick(CheckId::IspEgressIpv4, CheckId::IspEgressIpv6);
    if let Some(skip) = host::unexpected(o, id, None, family) {
        return skip;
    }
    let probes = egress_of(isp, family);
    let unresolved: Vec<String> = isp
        .egress
        .iter()
        .filter(|p| p.addr.is_none())
        .map(|p| format!("{}: {}", p.target, ms_text(&p.tcp_ms)))
        .collect();
    if probes.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Skip,
            format!("no {} egress target (--egress)", family.name()),
        )
        .evidence_all(unresolved);
    }
    let evidence: Vec<String> = probes
        .iter()
        .map(|p| {
            format!(
                "{}: TCP {}; ICMP echo {}",
                p.addr.map(|a| a.to_string()).unwrap_or_default(),
                ms_text(&p.tcp_ms),
                ms_text(&p.icmp_ms)
            )
        })
        .chain(unresolved)
        .collect();
    let ok: Vec<&&EgressProbe> = probes
        .iter()
        .filter(|p| p.tcp_ms.value().is_some() || p.icmp_ms.value().is_some())
        .collect();
    if let Some(best) = fastest(ok.iter().map(|p| &p.tcp_ms)) {
        return Finding::new(
            id,
            None,
            Status::Pass,
            format!(
                "{} of {} {} targets answer (TCP connect {best:.1} ms)",
                ok.len(),
                probes.len(),
                family.name()
            ),
        )
        .evidence_all(evidence);
    }
    if !ok.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "{} targets answer ICMP echo but refuse or drop TCP: a filter upstream lets only some traffic out",
                family.name()
            ),
        )
        .evidence_all(evidence)
        .explain("egress_tcp_filtered", &[("family", family.name())]);
    }
    if let Some(b) = c.view.blocker(family) {
        return Finding::new(
            id,
            None,
            Status::Skip,
            format!(
                "{} traffic cannot leave this host (see {b}); the egress probes failed as a consequence",
                family.name()
            ),
        )
        .evidence_all(evidence)
        .caused_by(b);
    }
    let target = probes
        .first()
        .and_then(|p| p.addr)
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let flag = family.flag();
    let gw = host::default_routes(f, family)
        .first()
        .and_then(|r| r.gateway)
        .map(|g| g.to_string())
        .unwrap_or_else(|| "the gateway".into());
    Finding::new(
        id,
        None,
        Status::Fail,
        format!(
            "no {} egress target answers: traffic leaves this host but is lost upstream of the gateway",
            family.name()
        ),
    )
    .evidence_all(evidence)
    .explain(
        "egress_failed",
        &[("family", family.name()), ("gateway", &gw), ("v", family.as_str())],
    )
    .fix("egress_trace", &[("flag", flag), ("target", &target)])
}

// ------------------------------------------------------------------ public addresses

fn echo_of(isp: &IspFacts, family: Family) -> Option<&EchoProbe> {
    isp.echo.iter().find(|e| e.family == family)
}

/// A finding for a probe that produced no answer.
fn no_answer(
    id: CheckId,
    port: Option<u16>,
    family: Family,
    e: &ProbeError,
    block: &Option<CheckId>,
) -> Finding {
    if let Some(cause) = block {
        return blocked_skip(id, port, family, *cause);
    }
    if e.kind == ProbeErrorKind::NotRun {
        return Finding::new(id, port, Status::Skip, format!("not run: {}", e.message));
    }
    Finding::new(
        id,
        port,
        Status::Error,
        format!(
            "the echo service could not be asked over {}: {}",
            family.name(),
            e.message
        ),
    )
    .explain("echo_failed", &[])
}

fn no_echo(id: CheckId, port: Option<u16>, family: Family) -> Finding {
    Finding::new(
        id,
        port,
        Status::Skip,
        format!(
            "no echo service to ask over {} (give --echo-url with an {} literal or a dual-stack host)",
            family.name(),
            family.name()
        ),
    )
}

fn v4_situation(f: &Facts, o: &Options) -> (Vec<IpAddr>, AddrClass) {
    let v4: Vec<IpAddr> = f
        .addrs()
        .filter(|(_, a)| a.ip.is_ipv4())
        .map(|(_, a)| a.ip)
        .collect();
    let class = if v4
        .iter()
        .any(|i| reachable_by_clients(*i, &o.assume_public))
    {
        AddrClass::Public
    } else if v4.iter().any(|i| classify(*i) == AddrClass::Cgnat) {
        AddrClass::Cgnat
    } else if v4.iter().any(|i| classify(*i) == AddrClass::Private) {
        AddrClass::Private
    } else {
        AddrClass::Reserved
    };
    (v4, class)
}

fn public_v4(f: &Facts, o: &Options, isp: &IspFacts, block: &Option<CheckId>) -> Finding {
    let id = CheckId::IspPublicIpv4;
    if let Some(skip) = host::unexpected(o, id, None, Family::V4) {
        return skip;
    }
    let Some(echo) = echo_of(isp, Family::V4) else {
        return no_echo(id, None, Family::V4);
    };
    let seen = match &echo.seen.result {
        Ok(ip) => *ip,
        Err(e) => return no_answer(id, None, Family::V4, e, block),
    };
    let a: Vec<IpAddr> = f.dns.a.value().map(|d| d.ips()).unwrap_or_default();
    let mut evidence = vec![format!("{} saw this host as {seen}", echo.url)];
    evidence.extend(host::addr_evidence(f, Family::V4));
    if !a.is_empty() {
        evidence.push(format!(
            "A {} -> {}",
            o.target.domain,
            a.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let (_, class) = v4_situation(f, o);
    let seen_s = seen.to_string();
    let a_matches = a.is_empty() || a.contains(&seen);
    let finding = if host::find_addr(f, seen).is_some() {
        Finding::new(
            id,
            None,
            Status::Pass,
            format!("direct: the internet sees {seen}, an address of this host"),
        )
    } else if !reachable_by_clients(seen, &o.assume_public) {
        Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "the echo service saw {seen} ({}): it is not on the internet, or sits behind the same NAT",
                classify(seen).describe()
            ),
        )
        .explain("echo_private", &[])
    } else {
        match class {
            AddrClass::Cgnat => Finding::new(
                id,
                None,
                Status::Fail,
                format!(
                    "carrier-grade NAT: this host has 100.64.0.0/10 space and the internet sees {seen}, shared with other customers"
                ),
            )
            .explain("public_v4_cgnat", &[("seen", &seen_s)])
            .fix("ask_public_v4", &[])
            .caused_by(CheckId::AddressGlobalIpv4),
            AddrClass::Public => Finding::new(
                id,
                None,
                Status::Warn,
                format!(
                    "the internet sees {seen}, not this host's public address: another NAT (carrier-grade or double NAT) or a proxy is upstream"
                ),
            )
            .explain("public_v4_upstream_nat", &[("seen", &seen_s)]),
            _ if !a_matches => Finding::new(
                id,
                None,
                Status::Warn,
                format!(
                    "NAT: the internet sees {seen}, but the A record points elsewhere"
                ),
            )
            .explain("public_v4_nat", &[("seen", &seen_s)])
            .caused_by(CheckId::DnsATarget),
            _ => Finding::new(
                id,
                None,
                Status::Pass,
                format!(
                    "NAT: this host has private IPv4 and the internet sees {seen}; inbound IPv4 needs port forwarding (see isp.inbound_ipv4)"
                ),
            )
            .explain("public_v4_nat", &[("seen", &seen_s)]),
        }
    };
    finding.evidence_all(evidence).took(echo.seen.ms)
}

fn public_v6(f: &Facts, o: &Options, isp: &IspFacts, block: &Option<CheckId>) -> Finding {
    let id = CheckId::IspPublicIpv6;
    if let Some(skip) = host::unexpected(o, id, None, Family::V6) {
        return skip;
    }
    let Some(echo) = echo_of(isp, Family::V6) else {
        return no_echo(id, None, Family::V6);
    };
    let seen = match &echo.seen.result {
        Ok(ip) => *ip,
        Err(e) => return no_answer(id, None, Family::V6, e, block),
    };
    let aaaa: Vec<IpAddr> = f.dns.aaaa.value().map(|d| d.ips()).unwrap_or_default();
    let mut evidence = vec![format!("{} saw this host as {seen}", echo.url)];
    evidence.extend(host::addr_evidence(f, Family::V6));
    if !aaaa.is_empty() {
        evidence.push(format!(
            "AAAA {} -> {}",
            o.target.domain,
            aaaa.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let finding = if let Some((l, _)) = host::find_addr(f, seen) {
        let note = if aaaa.is_empty() || aaaa.contains(&seen) {
            String::new()
        } else {
            " (outgoing connections use another address than the AAAA: normal with several addresses)".into()
        };
        Finding::new(
            id,
            None,
            Status::Pass,
            format!(
                "direct: the internet sees {seen}, assigned on {}{note}",
                l.name
            ),
        )
    } else {
        Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "the internet sees {seen}, which is not assigned on this host: NAT66/NPTv6 or a proxy is upstream"
            ),
        )
        .explain("public_v6_translated", &[("seen", &seen.to_string())])
    };
    finding.evidence_all(evidence).took(echo.seen.ms)
}

// ---------------------------------------------------------------------------- inbound

fn listens(f: &Facts, family: Family, port: u16) -> Option<bool> {
    f.listeners
        .value()
        .map(|ls| ls.iter().any(|l| l.port == port && l.accepts(family)))
}

fn inbound_port(
    f: &Facts,
    o: &Options,
    isp: &IspFacts,
    family: Family,
    port: u16,
    block: &Option<CheckId>,
) -> Finding {
    let id = family.pick(CheckId::IspInboundIpv4, CheckId::IspInboundIpv6);
    if let Some(skip) = host::unexpected(o, id, Some(port), family) {
        return skip;
    }
    let Some(p) = isp
        .inbound
        .iter()
        .find(|p| p.family == family && p.port == port)
    else {
        return no_echo(id, Some(port), family);
    };
    let ans = match &p.answer.result {
        Ok(a) => a,
        Err(e) => return no_answer(id, Some(port), family, e, block).took(p.answer.ms),
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
        return Finding::new(
            id,
            Some(port),
            Status::Pass,
            format!(
                "a connection from outside reaches {}:{port} over {}",
                bracketed(ans.ip),
                family.name()
            ),
        )
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
    let mut finding = Finding::new(
        id,
        Some(port),
        Status::Fail,
        format!(
            "a connection from outside to {}:{port} over {} does not get through",
            bracketed(ans.ip),
            family.name()
        ),
    )
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

// ------------------------------------------------------------------------ HTTP parity

fn resp_text(r: &HttpResponse) -> String {
    let mut s = format!("HTTP {}", r.status);
    if let Some(l) = &r.location {
        s.push_str(&format!(" -> {l}"));
    }
    s.push_str(&format!(
        ", {} bytes{}, sha256 {}",
        r.body_len,
        if r.body_truncated { " (cut)" } else { "" },
        r.body_sha256.get(..12).unwrap_or("")
    ));
    if let Some(c) = &r.cert {
        s.push_str(&format!(
            ", certificate for {} until {}",
            if c.names.is_empty() {
                "?".to_string()
            } else {
                c.names.join(" ")
            },
            c.not_after.as_deref().unwrap_or("?")
        ));
    }
    s
}

fn probe_line(ip: IpAddr, r: &Probed<HttpResponse>) -> String {
    format!(
        "{} {}: {}",
        Family::of(ip).name(),
        ip,
        match &r.result {
            Ok(x) => resp_text(x),
            Err(e) => e.message.clone(),
        }
    )
}

/// Whether two answers are "the same website" (status, redirect target, and content
/// equal or within 10 % in size: pages with a timestamp or a token differ a little).
fn same_answer(a: &HttpResponse, b: &HttpResponse) -> bool {
    if a.status != b.status || a.location != b.location {
        return false;
    }
    if a.body_sha256 == b.body_sha256 {
        return true;
    }
    let (x, y) = (a.body_len as f64, b.body_len as f64);
    x.max(y) > 0.0 && (x - y).abs() / x.max(y) < 0.10 && x.min(y) > 0.0
}

fn curl_lines(o: &Options, port: u16, tls: bool, ips: &[IpAddr]) -> Vec<String> {
    let d = &o.target.domain;
    let scheme = if tls { "https" } else { "http" };
    let url_port = if (tls && port == 443) || (!tls && port == 80) {
        String::new()
    } else {
        format!(":{port}")
    };
    ips.iter()
        .map(|ip| {
            format!(
                "curl {} -sS -o /dev/null -D - --resolve '{d}:{port}:{}' {scheme}://{d}{url_port}/",
                if ip.is_ipv6() { "-6" } else { "-4" },
                bracketed(*ip)
            )
        })
        .collect()
}

fn http_parity_port(c: &Ctx, isp: &IspFacts, port: u16) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::IspHttpParity;
    if crate::options::is_mail_port(port) {
        return Finding::new(
            id,
            Some(port),
            Status::Skip,
            "a mail port: see isp.smtp_parity",
        );
    }
    let probes: Vec<&HttpProbe> = isp.http.iter().filter(|p| p.port == port).collect();
    let v4: Vec<&&HttpProbe> = probes.iter().filter(|p| p.ip.is_ipv4()).collect();
    let v6: Vec<&&HttpProbe> = probes.iter().filter(|p| p.ip.is_ipv6()).collect();
    if v4.is_empty() || v6.is_empty() {
        return Finding::new(
            id,
            Some(port),
            Status::Skip,
            format!(
                "nothing to compare: the domain has {} (see dns.a / dns.aaaa)",
                match (v4.is_empty(), v6.is_empty()) {
                    (true, true) => "no A or AAAA record",
                    (true, false) => "no A record",
                    _ => "no AAAA record",
                }
            ),
        );
    }
    let evidence: Vec<String> = probes
        .iter()
        .map(|p| probe_line(p.ip, &p.response))
        .collect();
    let ms = probes.iter().map(|p| p.response.ms).max().unwrap_or(0);
    let tls = probes.iter().any(|p| p.tls);
    let reference = v4
        .iter()
        .chain(v6.iter())
        .find_map(|p| p.response.value().map(|r| (p.ip, r)));
    let Some((ref_ip, reference)) = reference else {
        // The probe could not run at all (no CA certificates for HTTPS): not a finding
        // about the site.
        if let Some(e) = probes.iter().find_map(|p| {
            p.response
                .result
                .as_ref()
                .err()
                .filter(|e| e.kind == ProbeErrorKind::Missing)
        }) {
            return Finding::new(
                id,
                Some(port),
                Status::Error,
                format!("could not compare over HTTPS: {}", e.message),
            )
            .evidence_all(evidence)
            .took(ms);
        }
        // No address answered at all.
        let cause = if listens(f, Family::V4, port) == Some(false)
            && listens(f, Family::V6, port) == Some(false)
        {
            Some(CheckId::ListenerIpv4)
        } else {
            None
        };
        let mut fd = Finding::new(
            id,
            Some(port),
            Status::Fail,
            format!(
                "no address of {} answers HTTP on port {port}",
                o.target.domain
            ),
        )
        .evidence_all(evidence)
        .explain("http_none", &[]);
        if let Some(c) = cause {
            fd = fd.caused_by(c);
        }
        return fd.took(ms);
    };
    let differing: Vec<&&&HttpProbe> = v4
        .iter()
        .chain(v6.iter())
        .filter(|p| match p.response.value() {
            Some(r) => !same_answer(reference, r),
            None => true,
        })
        .collect();
    if differing.is_empty() {
        let certs: Vec<&str> = probes
            .iter()
            .filter_map(|p| p.response.value()?.cert.as_ref().map(|c| c.sha256.as_str()))
            .collect();
        let mut note = String::new();
        if certs.windows(2).any(|w| w[0] != w[1]) {
            note = " (each address shows a different, valid certificate)".into();
        }
        return Finding::new(
            id,
            Some(port),
            Status::Pass,
            format!(
                "every A and AAAA address answers the same ({}){note}",
                format!("HTTP {}", reference.status)
                    + &reference
                        .location
                        .as_ref()
                        .map(|l| format!(" -> {l}"))
                        .unwrap_or_default()
            ),
        )
        .evidence_all(evidence)
        .took(ms);
    }
    let mut show: Vec<IpAddr> = vec![ref_ip];
    show.extend(differing.iter().map(|p| p.ip).filter(|ip| *ip != ref_ip));
    let first_bad = differing[0];
    let summary = match &first_bad.response.result {
        Err(e) => format!(
            "{} {} gives no answer on port {port} ({}) while {} {} answers {}",
            Family::of(first_bad.ip).name(),
            first_bad.ip,
            e.message,
            Family::of(ref_ip).name(),
            ref_ip,
            resp_text(reference)
        ),
        Ok(r) => format!(
            "{} {} answers differently on port {port}: {} vs {} from {}",
            Family::of(first_bad.ip).name(),
            first_bad.ip,
            resp_text(r),
            resp_text(reference),
            ref_ip
        ),
    };
    let mut fd = Finding::new(id, Some(port), Status::Fail, summary)
        .evidence_all(evidence)
        .explain("http_differs", &[("domain", &o.target.domain)])
        .fix_lines("http_reproduce", curl_lines(o, port, tls, &show));
    // A family whose addresses do not answer because nothing listens: that is the cause.
    if first_bad.response.value().is_none() {
        let family = Family::of(first_bad.ip);
        let nat_public = family == Family::V4 && c.view.seen_v4 == Some(first_bad.ip);
        let inbound_ok = isp
            .inbound
            .iter()
            .find(|p| p.family == Family::V4 && p.port == port)
            .and_then(|p| p.answer.value())
            .map(|a| a.reachable);
        if nat_public && inbound_ok == Some(true) && differing.iter().all(|p| p.ip == first_bad.ip)
        {
            // Outside clients get through the forward (isp.inbound_ipv4); only this host
            // cannot reach its own public address: the router lacks NAT loopback.
            let ip_s = first_bad.ip.to_string();
            let mut w = Finding::new(
                id,
                Some(port),
                Status::Warn,
                format!(
                    "this host cannot reach its own public address {ip_s}:{port} (no NAT loopback on the router), so the IPv4 answer could not be compared; clients outside get through (isp.inbound_ipv4)"
                ),
            )
            .explain("http_hairpin", &[("ip", &ip_s)]);
            w.evidence = fd.evidence;
            return w.took(ms);
        }
        if nat_public && inbound_ok == Some(false) {
            fd = fd.caused_by(CheckId::IspInboundIpv4);
        } else if family.is_v6() && host::ipv6_off(f) {
            fd = fd.caused_by(CheckId::AddressIpv6Enabled);
        } else if host::find_addr(f, first_bad.ip).is_some()
            && listens(f, family, port) == Some(false)
        {
            fd = fd.caused_by(family.pick(CheckId::ListenerIpv4, CheckId::ListenerIpv6));
        } else if host::find_addr(f, first_bad.ip).is_none() {
            fd = fd.caused_by(family.pick(CheckId::DnsATarget, CheckId::DnsAaaaTarget));
        }
    }
    fd.took(ms)
}

// ------------------------------------------------------------------------ SMTP parity

/// The host name a greeting or EHLO line names (`220 mx.example ESMTP` → mx.example).
fn smtp_name(lines: &[String]) -> String {
    lines
        .first()
        .and_then(|l| l.get(4..))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn smtp_parity_port(f: &Facts, isp: &IspFacts, port: u16) -> Finding {
    let id = CheckId::IspSmtpParity;
    if !crate::options::is_mail_port(port) {
        return Finding::new(
            id,
            Some(port),
            Status::Skip,
            "not a mail port (25, 465, 587)",
        );
    }
    let probes: Vec<&SmtpProbe> = isp.smtp.iter().filter(|p| p.port == port).collect();
    if !probes.iter().any(|p| p.ip.is_ipv4()) || !probes.iter().any(|p| p.ip.is_ipv6()) {
        return Finding::new(
            id,
            Some(port),
            Status::Skip,
            "nothing to compare: the domain lacks an A or an AAAA record",
        );
    }
    let ms = probes.iter().map(|p| p.answer.ms).max().unwrap_or(0);
    let mut evidence = Vec::new();
    let mut names: Vec<(IpAddr, String, String)> = Vec::new();
    let mut failed: Vec<(IpAddr, String)> = Vec::new();
    for p in &probes {
        match &p.answer.result {
            Ok(a) => {
                let (g, e) = (smtp_name(&a.banner), smtp_name(&a.ehlo));
                evidence.push(format!(
                    "{} {}: {} / {}",
                    Family::of(p.ip).name(),
                    p.ip,
                    a.banner.first().cloned().unwrap_or_default(),
                    a.ehlo.first().cloned().unwrap_or_default()
                ));
                names.push((p.ip, g, e));
            }
            Err(e) => {
                evidence.push(format!(
                    "{} {}: {}",
                    Family::of(p.ip).name(),
                    p.ip,
                    e.message
                ));
                failed.push((p.ip, e.message.clone()));
            }
        }
    }
    for ptr in &f.dns.ptr {
        if probes.iter().any(|p| p.ip == ptr.ip) {
            evidence.push(format!(
                "PTR {}: {}",
                ptr.ip,
                match &ptr.names.result {
                    Ok(n) if !n.is_empty() => n.join(", "),
                    Ok(_) => "none".into(),
                    Err(e) => e.message.clone(),
                }
            ));
        }
    }
    if names.is_empty() {
        return Finding::new(
            id,
            Some(port),
            Status::Fail,
            format!("no address answers SMTP on port {port}"),
        )
        .evidence_all(evidence)
        .took(ms);
    }
    if let Some((ip, msg)) = failed.first() {
        return Finding::new(
            id,
            Some(port),
            Status::Fail,
            format!(
                "SMTP over {} ({ip}) fails ({msg}) while the other addresses answer",
                Family::of(*ip).name()
            ),
        )
        .evidence_all(evidence)
        .explain("smtp_differs", &[])
        .took(ms);
    }
    let first = &names[0];
    if let Some(other) = names.iter().find(|n| n.1 != first.1 || n.2 != first.2) {
        return Finding::new(
            id,
            Some(port),
            Status::Fail,
            format!(
                "the mail server introduces itself as {} over {} but as {} over {}",
                other.1,
                Family::of(other.0).name(),
                first.1,
                Family::of(first.0).name()
            ),
        )
        .evidence_all(evidence)
        .explain("smtp_differs", &[])
        .took(ms);
    }
    // Pair with reverse DNS: receivers compare the greeting name with the PTR.
    let mismatch = names.iter().find(|(ip, g, _)| {
        f.dns.ptr.iter().any(|p| {
            p.ip == *ip
                && p.names.value().is_some_and(|n| {
                    !n.iter()
                        .any(|x| x.trim_end_matches('.').eq_ignore_ascii_case(g))
                })
        })
    });
    if let Some((ip, g, _)) = mismatch {
        return Finding::new(
            id,
            Some(port),
            Status::Warn,
            format!(
                "the greeting name {g} is the same over both families, but the PTR of {ip} does not name it (see dns.reverse)"
            ),
        )
        .evidence_all(evidence)
        .explain("smtp_ptr", &[])
        .took(ms);
    }
    Finding::new(
        id,
        Some(port),
        Status::Pass,
        format!("the same greeting ({}) over IPv4 and IPv6", first.1),
    )
    .evidence_all(evidence)
    .took(ms)
}

// ------------------------------------------------------------------------------- ACME

fn hop_text(h: &AcmeHop) -> String {
    format!(
        "{} over {}{}: {}",
        h.url,
        h.family.name(),
        h.ip.map(|i| format!(" ({i})")).unwrap_or_default(),
        match &h.response.result {
            Ok(r) => resp_text(r),
            Err(e) => e.message.clone(),
        }
    )
}

fn is_timeout(h: &AcmeHop) -> bool {
    h.response
        .result
        .as_ref()
        .is_err_and(|e| e.kind == ProbeErrorKind::Timeout)
}

fn acme_chain(o: &Options, isp: &IspFacts) -> Finding {
    let id = CheckId::IspAcmeHttp01;
    let Some(acme) = &isp.acme else {
        return Finding::new(
            id,
            None,
            Status::Skip,
            if o.target.ports.contains(&80) {
                "no A or AAAA record to validate (see dns.a / dns.aaaa)"
            } else {
                "port 80 is not served (-p): HTTP-01 validation always uses port 80"
            },
        );
    };
    let evidence: Vec<String> = acme.hops.iter().map(hop_text).collect();
    let ms = acme.hops.iter().map(|h| h.response.ms).max().unwrap_or(0);
    let domain = o.target.domain.as_str();
    let (Some(first4), Some(first6)) = (
        acme.hop(&acme.start, Family::V4),
        acme.hop(&acme.start, Family::V6),
    ) else {
        return Finding::new(
            id,
            None,
            Status::Error,
            "the ACME simulation recorded no request",
        )
        .took(ms);
    };
    // Let's Encrypt: IPv6 first when there is an AAAA; IPv4 only when the first IPv6
    // connection times out; no fallback on later requests (redirects).
    let mut chain: Vec<&AcmeHop> = Vec::new();
    let mut fell_back = false;
    let first = if first6.ip.is_some() {
        if is_timeout(first6) && first4.ip.is_some() {
            fell_back = true;
            first4
        } else {
            first6
        }
    } else {
        first4
    };
    chain.push(first);
    let mut trap: Option<&AcmeHop> = None;
    let mut current = first;
    while let Some(loc) = current.response.value().and_then(|r| r.location.clone()) {
        if chain.len() > 10 {
            break;
        }
        let next_url = crate::probe::isp::http::Url::parse(&current.url)
            .and_then(|u| u.join(&loc))
            .map(|u| u.to_string())
            .unwrap_or(loc);
        let (n6, n4) = (
            acme.hop(&next_url, Family::V6),
            acme.hop(&next_url, Family::V4),
        );
        let next = match (n6, n4) {
            (Some(h6), _) if h6.ip.is_some() => h6,
            (_, Some(h4)) => h4,
            _ => break,
        };
        if chain.iter().any(|h| std::ptr::eq(*h, next)) {
            break;
        }
        if next.family.is_v6() && is_timeout(next) {
            trap = Some(next);
        }
        chain.push(next);
        current = next;
    }
    let last = chain.last().copied().unwrap_or(first);
    if let Some(t) = trap {
        return Finding::new(
            id,
            None,
            Status::Fail,
            format!(
                "the ACME trap: the first request falls back to IPv4 after the IPv6 timeout, but the redirect to {} is asked over IPv6 again, times out, and gets no fallback",
                t.url
            ),
        )
        .evidence_all(evidence)
        .explain("acme_redirect_trap", &[("domain", domain)])
        .fix("acme_trap", &[("domain", domain)])
        .took(ms);
    }
    if first6.ip.is_some() && !fell_back && first6.response.value().is_none() {
        let msg = first6
            .response
            .result
            .as_ref()
            .err()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        return Finding::new(
            id,
            None,
            Status::Fail,
            format!(
                "the CA asks the AAAA address first, and it fails without a timeout ({msg}): Let's Encrypt does not fall back to IPv4 then"
            ),
        )
        .evidence_all(evidence)
        .explain("acme_v6_error", &[("domain", domain)])
        .took(ms);
    }
    if let (Some(r4), Some(r6)) = (first4.response.value(), first6.response.value()) {
        if !same_answer(r4, r6) {
            return Finding::new(
                id,
                None,
                Status::Warn,
                format!(
                    "the challenge path answers differently over IPv6 ({}) and IPv4 ({}): the CA validates over IPv6, so the IPv6 server must serve the challenge",
                    resp_text(r6),
                    resp_text(r4)
                ),
            )
            .evidence_all(evidence)
            .explain("acme_differs", &[("domain", domain)])
            .took(ms);
        }
    }
    if fell_back {
        return Finding::new(
            id,
            None,
            Status::Warn,
            "the AAAA address times out: validation works only through the CA's single IPv4 fallback",
        )
        .evidence_all(evidence)
        .explain("acme_fallback", &[("domain", domain)])
        .took(ms);
    }
    match &last.response.result {
        Ok(r) => Finding::new(
            id,
            None,
            Status::Pass,
            format!(
                "the challenge path answers the same over both families (final answer HTTP {} over {})",
                r.status,
                last.family.name()
            ),
        )
        .evidence_all(evidence)
        .took(ms),
        Err(e) => Finding::new(
            id,
            None,
            Status::Fail,
            format!("the CA's request to {} fails: {}", last.url, e.message),
        )
        .evidence_all(evidence)
        .explain("acme_v6_error", &[("domain", domain)])
        .took(ms),
    }
}

// -------------------------------------------------------------------------- resources

fn home_resources(o: &Options, isp: &IspFacts) -> Finding {
    let id = CheckId::IspResources;
    let Some(r) = &isp.resources else {
        return Finding::new(
            id,
            None,
            Status::Skip,
            "no web port (80 or 443) served, or no A/AAAA record: no home page to read",
        );
    };
    let facts = match &r.result {
        Ok(x) => x,
        Err(e) => {
            return Finding::new(
                id,
                None,
                Status::Skip,
                format!(
                    "the home page could not be read ({}): see isp.http_parity",
                    e.message
                ),
            )
            .took(r.ms);
        }
    };
    let mut evidence: Vec<String> = facts.pages.iter().map(|p| format!("read {p}")).collect();
    let mut bad: Vec<String> = Vec::new();
    for x in &facts.refs {
        let what = if x.literal && x.has_a == Some(true) {
            bad.push(x.url.clone());
            "an IPv4 literal: unreachable for IPv6-only clients".to_string()
        } else if x.literal {
            "an IPv6 literal".to_string()
        } else {
            match (x.has_a, x.has_aaaa) {
                (_, Some(false)) => {
                    bad.push(x.url.clone());
                    "host without AAAA: IPv6-only clients cannot load it".to_string()
                }
                (Some(false), Some(true)) => "IPv6 only".to_string(),
                (_, Some(true)) => "A and AAAA".to_string(),
                _ => "could not be resolved".to_string(),
            }
        };
        evidence.push(format!("{} ({}): {what}", x.url, x.host));
    }
    if !bad.is_empty() && o.target.expect.wants_v6() {
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "{} subresource(s) of the home page cannot be loaded over IPv6: {}",
                bad.len(),
                bad.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ),
        )
        .evidence_all(evidence)
        .explain("resources_v4_only", &[])
        .took(r.ms);
    }
    Finding::new(
        id,
        None,
        Status::Pass,
        if facts.refs.is_empty() {
            "the home page loads no subresources from other hosts".to_string()
        } else {
            format!(
                "the home page's {} subresource host(s) are reachable over IPv6",
                facts.refs.len()
            )
        },
    )
    .evidence_all(evidence)
    .took(r.ms)
}

#[cfg(test)]
mod tests;

// --------------------------------------------------------------------------- path MTU

/// Full-size packets against small ones to the same egress targets: where small echoes
/// come back and 1500-byte ones never do, "packet too big" is lost on the way and every
/// response larger than the narrowest link stalls.
fn path_mtu_family(c: &Ctx, isp: &IspFacts, family: Family, block: &Option<CheckId>) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = family.pick(CheckId::IspPathMtuIpv4, CheckId::IspPathMtuIpv6);
    if let Some(skip) = host::unexpected(o, id, None, family) {
        return skip;
    }
    if let Some(cause) = block {
        return blocked_skip(id, None, family, *cause);
    }
    let size = FULL_SIZE_PACKET;
    let probes = egress_of(isp, family);
    let mut evidence: Vec<String> = probes
        .iter()
        .map(|p| {
            let full = match &p.full_size_icmp_ms.result {
                Ok(ms) => format!("{size}-byte echo {ms:.1} ms"),
                Err(e) => e.message.clone(),
            };
            format!(
                "{}: ICMP echo {}, {full}",
                p.addr.map(|a| a.ip().to_string()).unwrap_or_default(),
                ms_text(&p.icmp_ms),
            )
        })
        .collect();
    let route = host::default_routes(f, family).first().copied();
    let dev = route.and_then(|r| r.dev.clone());
    if let Some(l) = dev
        .as_ref()
        .and_then(|d| f.links().iter().find(|l| &l.name == d))
    {
        if let Some(mtu) = l.mtu {
            evidence.push(format!(
                "{} mtu {mtu} (the {} default route's link)",
                l.name,
                family.name()
            ));
        }
    }
    let echoing: Vec<&&EgressProbe> = probes
        .iter()
        .filter(|p| p.icmp_ms.value().is_some())
        .collect();
    let denied = probes.iter().find_map(|p| {
        p.icmp_ms
            .result
            .as_ref()
            .err()
            .filter(|e| e.kind == ProbeErrorKind::Permission)
    });
    if let (true, Some(e)) = (echoing.is_empty(), denied) {
        return Finding::new(id, None, Status::Error, e.message.clone()).evidence_all(evidence);
    }
    if echoing.is_empty() {
        return Finding::new(
            id,
            None,
            Status::Skip,
            format!(
                "no {} egress target answers ICMP echo: the path MTU cannot be measured",
                family.name()
            ),
        )
        .evidence_all(evidence);
    }
    if let Some(best) = fastest(echoing.iter().map(|p| &p.full_size_icmp_ms)) {
        return Finding::new(
            id,
            None,
            Status::Pass,
            format!(
                "{size}-byte {} packets cross the path and come back ({best:.1} ms)",
                family.name()
            ),
        )
        .evidence_all(evidence);
    }
    let errors: Vec<&ProbeError> = echoing
        .iter()
        .filter_map(|p| p.full_size_icmp_ms.result.as_ref().err())
        .collect();
    if errors.iter().all(|e| e.kind == ProbeErrorKind::NotRun) {
        let why = errors
            .first()
            .map(|e| e.message.as_str())
            .unwrap_or("not run");
        return Finding::new(id, None, Status::Skip, format!("full-size echo {why}"))
            .evidence_all(evidence);
    }
    let target = echoing
        .first()
        .and_then(|p| p.addr)
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let gateway = route.and_then(|r| r.gateway).map(|g| g.to_string());
    let payload = full_size_payload(family);
    let (size_s, payload_s) = (size.to_string(), payload.to_string());
    let mut vars: Vec<(&str, &str)> = vec![
        ("family", family.name()),
        ("size", &size_s),
        ("payload", &payload_s),
        ("target", &target),
        ("flag", family.flag()),
        // IPv6 guarantees 1280 on every link; for IPv4 1400 clears tunnels and PPPoE.
        ("safe_mtu", family.pick("1400", "1280")),
    ];
    if let Some(d) = dev.as_deref() {
        vars.push(("dev", d));
    }
    if let Some(g) = gateway.as_deref() {
        vars.push(("gateway", g));
    }
    let finding = Finding::new(
        id,
        None,
        Status::Fail,
        format!(
            "small {} echoes to {target} come back, {size}-byte ones never do: path MTU discovery is broken, responses larger than the narrowest link stall",
            family.name()
        ),
    )
    .evidence_all(evidence);
    if family.is_v6() && c.view.ptb_blocked {
        // The host's own filter eats "packet too big": that finding names the rule.
        return finding
            .explain("pmtu_host_filter", &vars)
            .caused_by(CheckId::FirewallIcmpv6);
    }
    finding
        .explain("pmtu_blackhole", &vars)
        .fix("pmtu_find", &vars)
        .fix("pmtu_workaround", &vars)
}
