//! `dns.dns64`: whether the resolver synthesises AAAA records (DNS64), and whether the
//! domain's AAAA are among them.

use super::ips_text;
use crate::checks::subject::{Subject, joined};
use crate::checks::view::{Ctx, in_nat64};
use crate::model::{CheckId, Family, Finding};
use std::net::IpAddr;

pub fn check(c: &Ctx) -> Finding {
    let (f, nat64) = (c.facts, &c.view.nat64);
    let s = Subject::host(CheckId::DnsDns64);
    match &f.dns.dns64.result {
        Err(e) => {
            return super::unanswered(s, f, "ask for ipv4only.arpa", e);
        }
        Ok(v) if v.is_empty() => {
            return s
                .pass("the resolver does not synthesise AAAA records (no DNS64)")
                .evidence("ipv4only.arpa has no AAAA record")
                .took(f.dns.dns64.ms);
        }
        Ok(_) => {}
    }
    let prefixes = joined(nat64, ", ");
    let evidence: Vec<String> = f
        .dns
        .dns64
        .value()
        .into_iter()
        .flatten()
        .map(|ip| format!("ipv4only.arpa AAAA {ip}"))
        .collect();
    let synthesised: Vec<IpAddr> = f
        .dns
        .ips(Family::V6)
        .into_iter()
        .filter(|ip| in_nat64(*ip, nat64))
        .collect();
    if !synthesised.is_empty() {
        return s.warn(format!(
            "DNS64 with NAT64 prefix {prefixes}: the domain's AAAA {} is synthesised, not published",
            ips_text(synthesised.into_iter())
        ))
        .evidence_all(evidence)
        .explain("dns64_synth", &[]);
    }
    s.pass(format!(
        "the resolver does DNS64 (NAT64 prefix {prefixes}); the domain's AAAA are genuine"
    ))
    .evidence_all(evidence)
    .explain("dns64_present", &[])
}
