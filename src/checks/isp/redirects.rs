//! `isp.redirects`: every redirect the site answers with (home page, ACME challenge
//! path), followed over each family on its own, leads to a name and an address that
//! answer over that family. A redirect to a name without AAAA, to an address literal of
//! the other family, or to an address or port that does not answer, strands the
//! clients of that family at that hop. The other names the site answers to (its web
//! servers' names, its certificates' names) are checked against this host too.

use super::with_isp;
use crate::checks::host;
use crate::checks::subject::{Subject, joined};
use crate::checks::view::Ctx;
use crate::facts::isp::*;
use crate::model::{CheckId, Family, Finding};
use std::net::IpAddr;

const ID: CheckId = CheckId::IspRedirects;

pub fn check(c: &Ctx, port: u16) -> Finding {
    with_isp(c, Subject::on_port(ID, port), |isp| judge(c, isp, port))
}

fn judge(c: &Ctx, isp: &IspFacts, port: u16) -> Finding {
    let s = Subject::on_port(ID, port);
    if crate::options::is_mail_port(port) {
        return s.skip("a mail port: no web redirects to follow");
    }
    let chains: Vec<&RedirectChain> = isp.redirects.iter().filter(|ch| ch.port == port).collect();
    if chains.is_empty() {
        return if isp.http.iter().any(|p| p.port == port) {
            s.skip("not recorded (the snapshot is from an older dsdoctor)")
        } else {
            s.skip("nothing to follow: the domain has no A or AAAA record (see dns.a / dns.aaaa)")
        };
    }
    let mut evidence: Vec<String> = chains.iter().map(|ch| chain_line(ch)).collect();
    let mut stranded: Vec<String> = Vec::new();
    let mut cut: Vec<String> = Vec::new();
    let mut followed = 0;
    for ch in &chains {
        if !c.opts.target.expect.wants(ch.family) {
            continue;
        }
        // The first request failing is the site's own silence over the family, which
        // isp.http_parity and the DNS checks judge: there is no redirect to follow.
        let Some(first) = ch.hops.first() else {
            continue;
        };
        if first.response.value().is_none() {
            continue;
        }
        if ch.hops.len() > 1 {
            followed += 1;
        }
        for pair in ch.hops.windows(2) {
            if let Some(why) = strands(&pair[1], ch.family) {
                stranded.push(format!(
                    "{} clients are stranded at the redirect {} -> {}: {why}",
                    ch.family.name(),
                    pair[0].url,
                    pair[1].url
                ));
            }
        }
        if let Some(why) = &ch.cut {
            cut.push(format!("{} over {}: {why}", ch.start, ch.family.name()));
        }
    }
    let names = other_names(c, isp, port);
    evidence.extend(names.lines);
    if !stranded.is_empty() {
        return s
            .fail(stranded.join("; "))
            .evidence_all(evidence)
            .explain("redirect_stranded", &[("domain", &c.opts.target.domain)])
            .fix(
                "redirect_same_families",
                &[("domain", &c.opts.target.domain)],
            );
    }
    let mut warnings: Vec<String> = cut;
    warnings.extend(names.problems);
    if !warnings.is_empty() {
        return s
            .warn(warnings.join("; "))
            .evidence_all(evidence)
            .explain("redirect_names", &[("domain", &c.opts.target.domain)]);
    }
    let summary = if followed == 0 {
        format!("no redirects on port {port}: the site answers over each family itself")
    } else {
        format!(
            "every redirect on port {port} leads to a name and address that answer over the family it was followed over ({followed} chains)"
        )
    };
    s.pass(summary).evidence_all(evidence)
}

/// Why a hop reached by a redirect strands the clients of `family`, if it does.
fn strands(hop: &RedirectHop, family: Family) -> Option<String> {
    let url = crate::probe::isp::http::Url::parse(&hop.url)
        .map(|u| u.host())
        .unwrap_or_else(|| hop.url.clone());
    match (&hop.ip, &hop.response.result) {
        (None, _) => Some(match url.parse::<IpAddr>() {
            Ok(ip) => format!(
                "it names the {} address {ip}, which {} clients cannot reach",
                Family::of(ip).name(),
                family.name()
            ),
            Err(_) => format!("{url} has no {} record", family.record_type()),
        }),
        (Some(ip), Err(e)) => Some(format!(
            "{} does not answer over {} ({})",
            crate::net::bracketed(*ip),
            family.name(),
            e.message
        )),
        (Some(_), Ok(_)) => None,
    }
}

/// `http://shop.example/ over IPv6: 301 -> https://www.shop.example/ (2001:db8::1); ...`
fn chain_line(ch: &RedirectChain) -> String {
    let hops: Vec<String> = ch
        .hops
        .iter()
        .map(|h| {
            let at =
                h.ip.map(|ip| format!(" at {}", crate::net::bracketed(ip)))
                    .unwrap_or_default();
            match &h.response.result {
                Ok(r) => match &r.location {
                    Some(l) if (300..400).contains(&r.status) => {
                        format!("{}{at}: HTTP {} -> {l}", h.url, r.status)
                    }
                    _ => format!("{}{at}: HTTP {}", h.url, r.status),
                },
                Err(e) => format!("{}{at}: {}", h.url, e.message),
            }
        })
        .collect();
    let cut = ch
        .cut
        .as_ref()
        .map(|c| format!(" (stopped: {c})"))
        .unwrap_or_default();
    format!("over {}: {}{cut}", ch.family.name(), hops.join("; "))
}

/// The other names' evidence lines and what is wrong with them.
struct Names {
    lines: Vec<String>,
    problems: Vec<String>,
}

/// The names the site answers to on `port` (its web servers' names for the port, the
/// names of the certificates it showed there) other than the domain, each judged as
/// `dns.a_target`/`dns.aaaa_target` judge the domain: for every family the domain has
/// records of, the name has records of that family too, each on this host (or one of
/// the domain's own addresses, which those checks judge).
fn other_names(c: &Ctx, isp: &IspFacts, port: u16) -> Names {
    let domain = c.opts.target.domain.to_ascii_lowercase();
    let mut names: Vec<(String, String)> = c
        .facts
        .web
        .value()
        .map(|w| w.site_names(Some(port)))
        .unwrap_or_default();
    for p in isp.http.iter().filter(|p| p.port == port) {
        for n in p
            .response
            .value()
            .and_then(|r| r.cert.as_ref())
            .into_iter()
            .flat_map(|c| &c.names)
        {
            if let Some(n) = crate::facts::host_name_of(n)
                && !names.iter().any(|(x, _)| *x == n)
            {
                names.push((n, format!("the certificate on port {port}")));
            }
        }
    }
    let mut out = Names {
        lines: Vec::new(),
        problems: Vec::new(),
    };
    for (name, whence) in names.into_iter().filter(|(n, _)| *n != domain) {
        let Some(found) = isp.site_names.iter().find(|s| s.name == name) else {
            continue;
        };
        let addrs = match &found.addrs.result {
            Ok(a) => a,
            Err(e) => {
                out.lines
                    .push(format!("other name {name} ({whence}): {}", e.message));
                continue;
            }
        };
        let mut parts = Vec::new();
        for family in Family::BOTH {
            let mine: Vec<IpAddr> = addrs
                .iter()
                .copied()
                .filter(|i| Family::of(*i) == family)
                .collect();
            parts.push(format!(
                "{} {}",
                family.record_type(),
                if mine.is_empty() {
                    "none".to_string()
                } else {
                    joined(&mine, " ")
                }
            ));
            let domain_has = c.facts.dns.ips(family);
            if domain_has.is_empty() || !c.opts.target.expect.wants(family) {
                continue;
            }
            if mine.is_empty() {
                out.problems.push(format!(
                    "{name} ({whence}) has no {} record while {domain} has",
                    family.record_type()
                ));
            }
            for ip in mine
                .iter()
                .filter(|ip| host::find_addr(c.facts, **ip).is_none() && !domain_has.contains(ip))
            {
                out.problems.push(format!(
                    "{name} ({whence}) points at {ip}, which is not this host"
                ));
            }
        }
        out.lines.push(format!(
            "other name {name} ({whence}): {}",
            parts.join(", ")
        ));
    }
    out
}
