//! `isp.public_ipv4` / `isp.public_ipv6`: the address the internet sees is this host's,
//! or the NAT's in front of it.

use super::{echo_of, no_answer, no_echo, path_block, v4_situation, with_isp};
use crate::checks::host;
use crate::checks::subject::{Subject, joined};
use crate::checks::view::Ctx;
use crate::facts::Facts;
use crate::facts::isp::*;
use crate::model::{CheckId, Family, Finding};
use crate::net::{AddrClass, classify, reachable_by_clients};
use crate::options::Options;
use std::net::IpAddr;

pub fn check(c: &Ctx, family: Family) -> Finding {
    let s = Subject::host(family.pick(CheckId::IspPublicIpv4, CheckId::IspPublicIpv6));
    let (f, o) = (c.facts, c.opts);
    with_isp(c, s, |isp| {
        let block = path_block(c, isp, family);
        seen(f, o, isp, s, family, &block, |seen, records| match family {
            Family::V4 => public_v4(f, o, s, seen, records),
            Family::V6 => public_v6(f, s, seen, records),
        })
    })
}

/// `judge`'s answer about the address the echo service saw over a family (given the
/// domain's records of the family), with the evidence of both; or the finding that says
/// why no address was seen.
fn seen(
    f: &Facts,
    o: &Options,
    isp: &IspFacts,
    s: Subject,
    family: Family,
    block: &Option<CheckId>,
    judge: impl FnOnce(IpAddr, &[IpAddr]) -> Finding,
) -> Finding {
    if let Some(skip) = host::unexpected(o, s, family) {
        return skip;
    }
    let Some(echo) = echo_of(isp, family) else {
        return no_echo(s, family);
    };
    let ip = match &echo.seen.result {
        Ok(ip) => *ip,
        Err(e) => return no_answer(f, s, family, e, block),
    };
    let records = f.dns.ips(family);
    let mut evidence = vec![format!("{} saw this host as {ip}", echo.url)];
    evidence.extend(host::addr_evidence(f, family));
    if !records.is_empty() {
        evidence.push(format!(
            "{} {} -> {}",
            family.record_type(),
            o.target.domain,
            joined(&records, ", ")
        ));
    }
    judge(ip, &records)
        .evidence_all(evidence)
        .took(echo.seen.ms)
}

fn public_v4(f: &Facts, o: &Options, s: Subject, seen: IpAddr, a: &[IpAddr]) -> Finding {
    let (_, class) = v4_situation(f, o);
    let seen_s = seen.to_string();
    let a_matches = a.is_empty() || a.contains(&seen);
    if host::find_addr(f, seen).is_some() {
        s.pass(format!(
            "direct: the internet sees {seen}, an address of this host"
        ))
    } else if !reachable_by_clients(seen, &o.assume_public) {
        s.warn(format!(
            "the echo service saw {seen} ({}): it is not on the internet, or sits behind the same NAT",
            classify(seen).describe()
        ))
        .explain("echo_private", &[])
    } else {
        match class {
            AddrClass::Cgnat => s.fail(format!(
                "carrier-grade NAT: this host has 100.64.0.0/10 space and the internet sees {seen}, shared with other customers"
            ))
            .explain("public_v4_cgnat", &[("seen", &seen_s)])
            .fix("ask_public_v4", &[])
            .caused_by(CheckId::AddressGlobalIpv4),
            AddrClass::Public => s.warn(format!(
                "the internet sees {seen}, not this host's public address: another NAT (carrier-grade or double NAT) or a proxy is upstream"
            ))
            .explain("public_v4_upstream_nat", &[("seen", &seen_s)]),
            _ if !a_matches => s.warn(format!(
                "NAT: the internet sees {seen}, but the A record points elsewhere"
            ))
            .explain("public_v4_nat", &[("seen", &seen_s)])
            .caused_by(CheckId::DnsATarget),
            _ => s.pass(format!(
                "NAT: this host has private IPv4 and the internet sees {seen}; inbound IPv4 needs port forwarding (see isp.inbound_ipv4)"
            ))
            .explain("public_v4_nat", &[("seen", &seen_s)]),
        }
    }
}

fn public_v6(f: &Facts, s: Subject, seen: IpAddr, aaaa: &[IpAddr]) -> Finding {
    if let Some((l, _)) = host::find_addr(f, seen) {
        let note = if aaaa.is_empty() || aaaa.contains(&seen) {
            ""
        } else {
            " (outgoing connections use another address than the AAAA: normal with several addresses)"
        };
        s.pass(format!(
            "direct: the internet sees {seen}, assigned on {}{note}",
            l.name
        ))
    } else {
        s.warn(format!(
            "the internet sees {seen}, which is not assigned on this host: NAT66/NPTv6 or a proxy is upstream"
        ))
        .explain("public_v6_translated", &[("seen", &seen.to_string())])
    }
}
