//! `dns.blocklists`: the addresses this host sends mail from (IPv6 also as its /64)
//! are not listed in the DNS blocklists consulted.

use crate::checks::mail::with_mail;
use crate::checks::subject::{Subject, joined};
use crate::checks::view::Ctx;
use crate::facts::mail::{DnsblProbe, MailFacts};
use crate::model::{CheckId, Finding};
use std::net::Ipv4Addr;

pub fn check(c: &Ctx) -> Finding {
    let s = Subject::host(CheckId::DnsBlocklists);
    with_mail(c, s, |m| blocklists(m, s))
}

/// What a list's answer means.
enum Answer {
    NotListed,
    Listed(Vec<Ipv4Addr>),
    /// 127.255.255.0/24: the list refused the query (Spamhaus: a public resolver, or
    /// over the free use limit).
    Refused(Ipv4Addr),
    Unanswered(String),
}

fn meaning(p: &DnsblProbe) -> Answer {
    match &p.answer.result {
        Err(e) => Answer::Unanswered(e.message.clone()),
        Ok(ips) => {
            if let Some(r) = ips.iter().find(|i| i.octets()[..3] == [127, 255, 255]) {
                return Answer::Refused(*r);
            }
            // A listing answers in 127.0.0.0/8 (RFC 5782 2.3); anything else is not
            // one (a resolver that redirects NXDOMAIN to an advertising page).
            let codes: Vec<Ipv4Addr> = ips
                .iter()
                .copied()
                .filter(|i| i.octets()[0] == 127)
                .collect();
            if codes.is_empty() {
                Answer::NotListed
            } else {
                Answer::Listed(codes)
            }
        }
    }
}

fn what(p: &DnsblProbe) -> String {
    if p.per_64 {
        format!("{}/64", p.ip)
    } else {
        p.ip.to_string()
    }
}

fn blocklists(m: &MailFacts, s: Subject) -> Finding {
    if m.blocklists.is_empty() {
        return s.skip("no public address mail leaves from to look up (see address.mail_source)");
    }
    let mut evidence = Vec::new();
    let mut listed = Vec::new();
    let mut unanswered = 0;
    for p in &m.blocklists {
        let line = match meaning(p) {
            Answer::NotListed => "not listed".to_string(),
            Answer::Listed(codes) => {
                listed.push(p);
                format!("LISTED ({})", joined(codes, ", "))
            }
            Answer::Refused(code) => {
                unanswered += 1;
                format!("the list refused the query ({code})")
            }
            Answer::Unanswered(e) => {
                unanswered += 1;
                format!("no answer: {e}")
            }
        };
        evidence.push(format!("{} in {}: {line} ({})", what(p), p.zone, p.query));
    }
    if !listed.is_empty() {
        let mut fd = s
            .warn(
                listed
                    .iter()
                    .map(|p| format!("{} is listed in {} (lookup {})", what(p), p.zone, p.query))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .evidence_all(evidence)
            .explain("dnsbl_listed", &[]);
        for p in listed {
            fd = fd.fix(
                "dnsbl_delist",
                &[("ip", &what(p)), ("zone", &p.zone), ("query", &p.query)],
            );
        }
        return fd;
    }
    if unanswered == m.blocklists.len() {
        return s
            .error("no blocklist answered: whether the sending addresses are listed is unknown")
            .evidence_all(evidence)
            .explain("dnsbl_refused", &[]);
    }
    let zones: std::collections::BTreeSet<&str> =
        m.blocklists.iter().map(|p| p.zone.as_str()).collect();
    s.pass(format!(
        "the sending addresses are listed in none of the {} blocklist zone(s) consulted",
        zones.len()
    ))
    .evidence_all(evidence)
}
