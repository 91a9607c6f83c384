//! `isp.http_parity`: every A and AAAA address of the domain answers HTTP the same on
//! the port.

use super::{alike_text, listens, resp_text, same_answer, with_isp};
use crate::checks::failure::{self, Peer};
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::ProbeErrorKind;
use crate::facts::isp::*;
use crate::model::{CheckId, Family, Finding, Status};
use crate::net::bracketed;
use crate::options::Options;
use std::net::{IpAddr, SocketAddr};

const ID: CheckId = CheckId::IspHttpParity;

pub fn check(c: &Ctx, port: u16) -> Finding {
    with_isp(c, Subject::on_port(ID, port), |isp| compare(c, isp, port))
}

/// One port's HTTP probes: in probe order for the evidence, IPv4 first for the
/// comparison.
struct PortProbes<'a> {
    port: u16,
    /// Where the probes dialed in place of the site's addresses (`IspFacts::detours`).
    detours: &'a [Detour],
    in_order: Vec<&'a HttpProbe>,
    v4_first: Vec<&'a HttpProbe>,
}

/// An address and the answer it gave.
struct Answer<'a> {
    ip: IpAddr,
    response: &'a HttpResponse,
}

impl<'a> PortProbes<'a> {
    fn of(isp: &'a IspFacts, port: u16) -> PortProbes<'a> {
        let in_order: Vec<&HttpProbe> = isp.http.iter().filter(|p| p.port == port).collect();
        let v4_first = Family::BOTH
            .iter()
            .flat_map(|&fam| in_order.iter().filter(move |p| Family::of(p.ip) == fam))
            .copied()
            .collect();
        PortProbes {
            port,
            detours: &isp.detours,
            in_order,
            v4_first,
        }
    }

    /// What the domain lacks for a comparison (`no A record`), if anything.
    fn missing_records(&self) -> Option<&'static str> {
        let has = |fam| self.in_order.iter().any(|p| Family::of(p.ip) == fam);
        match (has(Family::V4), has(Family::V6)) {
            (true, true) => None,
            (false, false) => Some("no A or AAAA record"),
            (false, true) => Some("no A record"),
            (true, false) => Some("no AAAA record"),
        }
    }

    fn evidence(&self) -> Vec<String> {
        let probes = self.in_order.iter().map(|p| probe_line(p));
        probes
            .chain(super::detour_lines(self.detours, self.port))
            .collect()
    }

    fn ms(&self) -> u64 {
        self.in_order
            .iter()
            .map(|p| p.response.ms)
            .max()
            .unwrap_or(0)
    }

    fn tls(&self) -> bool {
        self.in_order.iter().any(|p| p.tls)
    }

    /// The addresses and the protocol each answered over, IPv4 first, when not all
    /// answered over the same one (a snapshot from before the protocol was recorded
    /// has none to compare).
    fn protocols(&self) -> Option<Vec<(IpAddr, HttpProtocol)>> {
        let spoken: Vec<(IpAddr, HttpProtocol)> = self
            .v4_first
            .iter()
            .filter_map(|p| Some((p.ip, p.response.value()?.protocol?)))
            .collect();
        let first = spoken.first()?.1;
        spoken.iter().any(|(_, p)| *p != first).then_some(spoken)
    }

    /// What the other addresses are compared with: the first answer, IPv4 first.
    fn reference(&self) -> Option<Answer<'a>> {
        self.v4_first.iter().find_map(|p| {
            p.response
                .value()
                .map(|response| Answer { ip: p.ip, response })
        })
    }

    /// The probes that gave no answer or another one than the reference, IPv4 first.
    fn differing(&self, reference: &HttpResponse) -> Vec<&'a HttpProbe> {
        self.v4_first
            .iter()
            .copied()
            .filter(|p| {
                p.response
                    .value()
                    .is_none_or(|r| !same_answer(reference, r))
            })
            .collect()
    }

    /// `curl` per address, showing what `show` asks for (`-D -`: the head); an address
    /// whose probe took a detour is reached where the probe went (`--connect-to`).
    fn curl_lines(&self, o: &Options, ips: &[IpAddr], show: &str) -> Vec<String> {
        let (d, port, tls) = (&o.target.domain, self.port, self.tls());
        let scheme = if tls { "https" } else { "http" };
        let url_port = if (tls && port == 443) || (!tls && port == 80) {
            String::new()
        } else {
            format!(":{port}")
        };
        ips.iter()
            .map(|&ip| {
                let site = SocketAddr::new(ip, port);
                let dialed = dial(self.detours, site);
                let to = if dialed == site {
                    format!("--resolve '{d}:{port}:{}'", bracketed(ip))
                } else {
                    let (to_ip, to_port) = (bracketed(dialed.ip()), dialed.port());
                    format!("--connect-to '{d}:{port}:{to_ip}:{to_port}'")
                };
                let flag = Family::of(ip).flag();
                format!("curl {flag} -sS -o /dev/null {show} {to} {scheme}://{d}{url_port}/")
            })
            .collect()
    }

    fn finding(&self, status: Status, summary: impl Into<String>) -> Finding {
        Subject::on_port(ID, self.port)
            .finding(status, summary)
            .evidence_all(self.evidence())
            .took(self.ms())
    }
}

fn compare(c: &Ctx, isp: &IspFacts, port: u16) -> Finding {
    let s = Subject::on_port(ID, port);
    if crate::options::is_mail_port(port) {
        return s.skip("a mail port: see isp.smtp_parity");
    }
    let probes = PortProbes::of(isp, port);
    if let Some(missing) = probes.missing_records() {
        return s.skip(format!(
            "nothing to compare: the domain has {missing} (see dns.a / dns.aaaa)"
        ));
    }
    let Some(reference) = probes.reference() else {
        return none_answers(c, &probes);
    };
    let differing = probes.differing(reference.response);
    match differing.first() {
        None => match probes.protocols() {
            Some(mixed) => other_protocols(c, &probes, &reference, &mixed),
            None => all_the_same(&probes, &reference),
        },
        Some(first) => differs(c, isp, &probes, &reference, first, &differing),
    }
}

/// No address answered: the probe could not run, or the site is down on the port.
fn none_answers(c: &Ctx, probes: &PortProbes) -> Finding {
    // The probe could not run at all (no CA certificates for HTTPS): not a finding
    // about the site.
    let not_run = probes.in_order.iter().find_map(|p| {
        p.response
            .result
            .as_ref()
            .err()
            .filter(|e| e.kind == ProbeErrorKind::Missing)
    });
    if let Some(e) = not_run {
        return probes.finding(
            Status::Error,
            format!("could not compare over HTTPS: {}", e.message),
        );
    }
    let port = probes.port;
    let fd = probes
        .finding(
            Status::Fail,
            format!(
                "no address of {} answers HTTP on port {port}",
                c.opts.target.domain
            ),
        )
        .explain("http_none", &[]);
    let nothing_listens = Family::BOTH
        .iter()
        .all(|&fam| listens(c.facts, fam, port) == Some(false));
    if nothing_listens {
        fd.caused_by(CheckId::ListenerIpv4)
    } else {
        fd
    }
}

fn all_the_same(probes: &PortProbes, reference: &Answer) -> Finding {
    let certs: Vec<&str> = probes
        .in_order
        .iter()
        .filter_map(|p| p.response.value()?.cert.as_ref().map(|c| c.sha256.as_str()))
        .collect();
    let note = if certs.windows(2).any(|w| w[0] != w[1]) {
        " (each address shows a different, valid certificate)"
    } else {
        ""
    };
    probes.finding(
        Status::Pass,
        format!(
            "every A and AAAA address answers the same ({}){note}",
            answer_text(reference.response)
        ),
    )
}

/// `HTTP 301 -> https://shop.example/`: the status and where it leads.
fn status_text(r: &HttpResponse) -> String {
    let location = r
        .location
        .as_ref()
        .map(|l| format!(" -> {l}"))
        .unwrap_or_default();
    format!("HTTP {}{location}", r.status)
}

/// The status text and the protocol it came over (`HTTP 200 over h2`).
fn answer_text(r: &HttpResponse) -> String {
    match r.protocol {
        Some(p) => format!("{} over {}", status_text(r), p.name()),
        None => status_text(r),
    }
}

/// Every address answers the same, but not over the same protocol: HTTP/2 is enabled
/// on some listeners and not on their twins. Visitors get the page either way (ALPN
/// falls back to HTTP/1.1), so this is no failure of what the check establishes (the
/// same status and content), but the families are not served alike: a warning.
fn other_protocols(
    c: &Ctx,
    probes: &PortProbes,
    reference: &Answer,
    spoken: &[(IpAddr, HttpProtocol)],
) -> Finding {
    let port = probes.port;
    let over: Vec<String> = spoken
        .iter()
        .map(|(ip, p)| format!("{} over {} ({ip})", p.name(), Family::of(*ip).name()))
        .collect();
    let ips: Vec<IpAddr> = spoken.iter().map(|(ip, _)| *ip).collect();
    probes
        .finding(
            Status::Warn,
            format!(
                "every A and AAAA address answers the same ({}), but not over the same protocol on port {port}: {}",
                status_text(reference.response),
                over.join(", ")
            ),
        )
        .explain("http_protocol_differs", &[("domain", &c.opts.target.domain)])
        .fix_lines(
            "http_protocol_reproduce",
            probes.curl_lines(c.opts, &ips, "-w '%{http_version}\\n'"),
        )
}

/// `first` answers differently from the reference, or not at all; `differing` are all
/// that do.
fn differs(
    c: &Ctx,
    isp: &IspFacts,
    probes: &PortProbes,
    reference: &Answer,
    first: &HttpProbe,
    differing: &[&HttpProbe],
) -> Finding {
    let (o, port) = (c.opts, probes.port);
    let (ref_ip, ref_text) = (reference.ip, resp_text(reference.response));
    let summary = match &first.response.result {
        Err(e) => format!(
            "{} {} gives no answer on port {port} ({}) while {} {ref_ip} answers {ref_text}",
            Family::of(first.ip).name(),
            first.ip,
            failure::word(c.facts, Some(&Peer::it(first.ip)), e).text,
            Family::of(ref_ip).name(),
        ),
        Ok(r) => format!(
            "{} {} answers differently on port {port}: {} vs {ref_text} from {ref_ip}{}",
            Family::of(first.ip).name(),
            first.ip,
            resp_text(r),
            alike_text(reference.response, r)
                .map(|t| format!(" ({t})"))
                .unwrap_or_default(),
        ),
    };
    let mut show: Vec<IpAddr> = vec![ref_ip];
    show.extend(differing.iter().map(|p| p.ip).filter(|ip| *ip != ref_ip));
    let fd = probes
        .finding(Status::Fail, summary)
        .explain("http_differs", &[("domain", &o.target.domain)])
        .fix_lines("http_reproduce", probes.curl_lines(o, &show, "-D -"));
    if first.response.value().is_some() {
        return fd;
    }
    let only_this_one = differing.iter().all(|p| p.ip == first.ip);
    match silence(c, isp, port, first.ip, only_this_one) {
        Silence::NoNatLoopback => no_nat_loopback(probes, first.ip),
        Silence::CausedBy(cause) => fd.caused_by(cause),
        Silence::Unexplained => fd,
    }
}

/// Why an address of the domain gave no answer.
enum Silence {
    /// Outside clients get through the router's port forwarding (isp.inbound_ipv4);
    /// only this host cannot reach its own public address: the router lacks NAT
    /// loopback.
    NoNatLoopback,
    /// Another finding explains it (nothing listens, IPv6 is off, the record points
    /// elsewhere, the forwarding is missing).
    CausedBy(CheckId),
    Unexplained,
}

fn silence(c: &Ctx, isp: &IspFacts, port: u16, silent: IpAddr, only_silent: bool) -> Silence {
    let f = c.facts;
    let family = Family::of(silent);
    let nat_public = family == Family::V4 && c.view.seen_v4 == Some(silent);
    let inbound_ok = isp
        .inbound
        .iter()
        .find(|p| p.family == Family::V4 && p.port == port)
        .and_then(|p| p.answer.value())
        .map(|a| a.reachable);
    let on_host = host::find_addr(f, silent).is_some();
    if nat_public && inbound_ok == Some(true) && only_silent {
        Silence::NoNatLoopback
    } else if nat_public && inbound_ok == Some(false) {
        Silence::CausedBy(CheckId::IspInboundIpv4)
    } else if family.is_v6() && host::ipv6_off(f) {
        Silence::CausedBy(CheckId::AddressIpv6Enabled)
    } else if on_host && listens(f, family, port) == Some(false) {
        Silence::CausedBy(family.pick(CheckId::ListenerIpv4, CheckId::ListenerIpv6))
    } else if !on_host {
        Silence::CausedBy(family.pick(CheckId::DnsATarget, CheckId::DnsAaaaTarget))
    } else {
        Silence::Unexplained
    }
}

fn no_nat_loopback(probes: &PortProbes, ip: IpAddr) -> Finding {
    let port = probes.port;
    probes
        .finding(
            Status::Warn,
            format!(
                "this host cannot reach its own public address {ip}:{port} (no NAT loopback on the router), so the IPv4 answer could not be compared; clients outside get through (isp.inbound_ipv4)"
            ),
        )
        .explain("http_hairpin", &[("ip", &ip.to_string())])
}

fn probe_line(p: &HttpProbe) -> String {
    format!(
        "{} {}: {}",
        Family::of(p.ip).name(),
        p.ip,
        match &p.response.result {
            Ok(x) => match x.protocol {
                Some(proto) => format!("{}, over {}", resp_text(x), proto.name()),
                None => resp_text(x),
            },
            Err(e) => e.message.clone(),
        }
    )
}
