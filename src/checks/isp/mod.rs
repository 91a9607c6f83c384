//! The ISP stage: what the internet sees of this host. Pure: reads `facts.isp` (gathered
//! by `probe::isp`) together with the host's own facts.

pub mod acme;
mod detours;
#[cfg(test)]
mod detours_tests;
pub mod egress;
pub mod http_parity;
pub mod inbound;
pub mod mail_egress;
pub mod nat64;
pub mod path_mtu;
pub mod public;
pub mod redirects;
pub mod regions;
#[cfg(test)]
mod regions_tests;
pub mod resources;
pub mod smtp_parity;

pub use detours::detours;

use super::failure::Peer;
use super::subject::Subject;
use super::view::Ctx;
use crate::facts::isp::*;
use crate::facts::{Facts, ProbeError, ProbeErrorKind, Probed};
use crate::model::{CheckId, Family, Finding};
use crate::net::{AddrClass, classify, reachable_by_clients};
use crate::options::Options;
use std::net::IpAddr;

/// An ISP check over the ISP probes' facts, or the `skip`/`error` that says why they
/// are missing; its duration is the ISP probes' unless it timed a probe of its own.
fn with_isp(c: &Ctx, s: Subject, eval: impl FnOnce(&IspFacts) -> Finding) -> Finding {
    let f = c.facts;
    let fd = match &f.isp.result {
        Ok(isp) => eval(isp),
        Err(e) if e.kind == ProbeErrorKind::NotRun => s.skip(e.message.clone()),
        Err(e) => s.error(format!("the ISP probes could not run: {}", e.message)),
    };
    if fd.duration_ms.is_none() {
        fd.took(f.isp.ms)
    } else {
        fd
    }
}

/// Evidence for the probes of `port` that dialed where a nat rule sends outside
/// clients, not the site's address itself.
fn detour_lines(detours: &[Detour], port: u16) -> Vec<String> {
    detours
        .iter()
        .filter(|d| d.site.port() == port)
        .map(|d| {
            format!(
                "outside clients of {} are sent to {} by {} before routing, a rule this host's own connections do not pass: the probe dialed {}",
                d.site, d.dialed, d.rule, d.dialed
            )
        })
        .collect()
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

fn blocked_skip(s: Subject, family: Family, cause: CheckId) -> Finding {
    s.skip(format!(
        "not examined: {} traffic does not reach the internet (see {cause})",
        family.name()
    ))
    .caused_by(cause)
}

/// The egress probes of one family that had an address to try.
fn egress_of(isp: &IspFacts, family: Family) -> Vec<&EgressProbe> {
    isp.egress
        .iter()
        .filter(|p| p.addr.is_some_and(|a| Family::of(a.ip()) == family))
        .collect()
}

/// The address of the first egress probe, as the fix commands name the target.
fn first_address(probes: &[&EgressProbe]) -> String {
    probes
        .first()
        .and_then(|p| p.addr)
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
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

fn echo_of(isp: &IspFacts, family: Family) -> Option<&EchoProbe> {
    isp.echo.iter().find(|e| e.family == family)
}

/// A finding for a probe that produced no answer.
fn no_answer(
    f: &Facts,
    s: Subject,
    family: Family,
    e: &ProbeError,
    block: &Option<CheckId>,
) -> Finding {
    if let Some(cause) = block {
        return blocked_skip(s, family, *cause);
    }
    if e.kind == ProbeErrorKind::NotRun {
        return s.skip(format!("not run: {}", e.message));
    }
    let url = f
        .isp
        .value()
        .and_then(|isp| echo_of(isp, family))
        .map(|p| crate::sanitize::clean(&p.url))
        .unwrap_or_default();
    let peer = Peer::named(format!("the echo service {url}"), family);
    s.unread_from(
        f,
        &format!("ask the echo service over {}", family.name()),
        Some(&peer),
        e,
    )
    .explain("echo_failed", &[])
}

fn no_echo(s: Subject, family: Family) -> Finding {
    s.skip(format!(
        "no echo service to ask over {} (give --echo-url with an {} literal or a dual-stack host)",
        family.name(),
        family.name()
    ))
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

fn listens(f: &Facts, family: Family, port: u16) -> Option<bool> {
    f.listeners
        .value()
        .map(|ls| ls.iter().any(|l| l.port == port && l.accepts(family)))
}

fn resp_text(r: &HttpResponse) -> String {
    let mut s = format!("HTTP {}", r.status);
    if let Some(l) = &r.location {
        s.push_str(&format!(" -> {l}"));
    }
    if let Some(server) = &r.server {
        s.push_str(&format!(", server {server}"));
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

/// Content at least this alike is the same website (Internet.nl allows 10 % difference).
const SAME_SITE: f64 = 0.90;

/// Whether two answers are "the same website" as a visitor sees it: the same status,
/// redirect target and Server header, and content alike within 10 % once nonces and
/// timestamps are left out (`sketch_similarity`). Answers without content sketches (a
/// snapshot from before they were recorded, bodies without words) fall back to their
/// sizes within 10 %.
fn same_answer(a: &HttpResponse, b: &HttpResponse) -> bool {
    if a.status != b.status || a.location != b.location || a.server != b.server {
        return false;
    }
    if a.body_sha256 == b.body_sha256 {
        return true;
    }
    if let Some(s) = sketch_similarity(&a.content_sketch, &b.content_sketch) {
        return s >= SAME_SITE;
    }
    let (x, y) = (a.body_len as f64, b.body_len as f64);
    x.max(y) > 0.0 && (x - y).abs() / x.max(y) < 0.10 && x.min(y) > 0.0
}

/// How alike two answers' contents are, as a percentage for a summary (`62% alike`),
/// when both have sketches to compare.
fn alike_text(a: &HttpResponse, b: &HttpResponse) -> Option<String> {
    let s = sketch_similarity(&a.content_sketch, &b.content_sketch)?;
    Some(format!("content {:.0}% alike", s * 100.0))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod nat64_tests;
