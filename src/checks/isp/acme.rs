//! `isp.acme_http01`: a certificate authority validating HTTP-01 the way Let's Encrypt
//! does (IPv6 first, one IPv4 fallback, none after a redirect) reaches the challenge.

use super::{resp_text, same_answer, with_isp};
use crate::checks::failure::{self, Peer};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::ProbeErrorKind;
use crate::facts::isp::*;
use crate::model::{CheckId, Family, Finding};

pub fn check(c: &Ctx) -> Finding {
    let s = Subject::host(CheckId::IspAcmeHttp01);
    with_isp(c, s, |isp| acme_chain(c, isp, s))
}

fn acme_chain(c: &Ctx, isp: &IspFacts, s: Subject) -> Finding {
    let o = c.opts;
    let Some(acme) = &isp.acme else {
        return s.skip(if o.target.ports.contains(&80) {
            "no A or AAAA record to validate (see dns.a / dns.aaaa)"
        } else {
            "port 80 is not served (-p): HTTP-01 validation always uses port 80"
        });
    };
    let mut evidence: Vec<String> = acme.hops.iter().map(hop_text).collect();
    evidence.extend(super::detour_lines(&isp.detours, 80));
    let ms = acme.hops.iter().map(|h| h.response.ms).max().unwrap_or(0);
    let domain = o.target.domain.as_str();
    let (Some(first4), Some(first6)) = (
        acme.hop(&acme.start, Family::V4),
        acme.hop(&acme.start, Family::V6),
    ) else {
        return s.error("the ACME simulation recorded no request").took(ms);
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
        return s.fail(format!(
            "the ACME trap: the first request falls back to IPv4 after the IPv6 timeout, but the redirect to {} is asked over IPv6 again, times out, and gets no fallback",
            t.url
        ))
        .evidence_all(evidence)
        .explain("acme_redirect_trap", &[("domain", domain)])
        .fix(&trap_fix(c.facts), &[("domain", domain)])
        .took(ms);
    }
    if first6.ip.is_some() && !fell_back && first6.response.value().is_none() {
        let msg = first6
            .response
            .result
            .as_ref()
            .err()
            .map(|e| said(c, first6, e))
            .unwrap_or_default();
        return s.fail(format!(
            "the CA asks the AAAA address first, and it fails without a timeout ({msg}): Let's Encrypt does not fall back to IPv4 then"
        ))
        .evidence_all(evidence)
        .explain("acme_v6_error", &[("domain", domain)])
        .took(ms);
    }
    if let (Some(r4), Some(r6)) = (first4.response.value(), first6.response.value())
        && !same_answer(r4, r6)
    {
        return s.warn(format!(
                "the challenge path answers differently over IPv6 ({}) and IPv4 ({}): the CA validates over IPv6, so the IPv6 server must serve the challenge",
                resp_text(r6),
                resp_text(r4)
            ))
            .evidence_all(evidence)
            .explain("acme_differs", &[("domain", domain)])
            .took(ms);
    }
    if fell_back {
        return s.warn("the AAAA address times out: validation works only through the CA's single IPv4 fallback",
        )
        .evidence_all(evidence)
        .explain("acme_fallback", &[("domain", domain)])
        .took(ms);
    }
    match &last.response.result {
        Ok(r) => s.pass(format!(
            "the challenge path answers the same over both families (final answer HTTP {} over {})",
            r.status,
            last.family.name()
        ))
        .evidence_all(evidence)
        .took(ms),
        Err(e) => s.fail(format!(
            "the CA's request to {} fails: {}",
            last.url,
            said(c, last, e)
        ))
        .evidence_all(evidence)
        .explain("acme_v6_error", &[("domain", domain)])
        .took(ms),
    }
}

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

/// The trap's fix in the terms of the program that owns port 80, where dsdoctor has
/// words for it.
fn trap_fix(f: &crate::facts::Facts) -> String {
    let owner = f
        .listeners
        .value()
        .into_iter()
        .flatten()
        .filter(|l| l.port == 80)
        .find_map(|l| l.process.as_deref());
    match owner {
        Some(p @ ("nginx" | "apache2")) => format!("acme_trap_{p}"),
        Some("httpd") => "acme_trap_apache2".into(),
        _ => "acme_trap".into(),
    }
}

/// A hop's failure in the admin's words ("it refused the connection: ..."), the probe's
/// own words where the hop had no address.
fn said(c: &Ctx, hop: &AcmeHop, e: &crate::facts::ProbeError) -> String {
    match hop.ip {
        Some(ip) => failure::word(c.facts, Some(&Peer::it(ip)), e).text,
        None => e.message.clone(),
    }
}
