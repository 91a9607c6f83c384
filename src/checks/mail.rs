//! What the four mail checks share (`address.mail_source`, `dns.spf`, `dns.blocklists`,
//! `isp.mail_egress`): whether they apply, the mail facts, and the PTR of an address.

use super::host::{AddrFlag, flag_names};
use super::subject::Subject;
use super::view::Ctx;
use crate::facts::mail::{MailFacts, Sending};
use crate::facts::{AddrFacts, ProbeErrorKind};
use crate::model::Finding;
use std::net::IpAddr;

/// Evaluate with the mail facts, or skip/err: not gathered (an older recording), not
/// applicable (no MTA runs and no mail port is asked), or the probe failed.
pub fn with_mail(c: &Ctx, s: Subject, eval: impl FnOnce(&MailFacts) -> Finding) -> Finding {
    let Some(p) = &c.facts.mail else {
        return s.skip("not gathered: the recording is older than the mail checks");
    };
    let fd = match &p.result {
        Ok(m) if m.mtas.is_empty() && c.opts.mail_ports().is_empty() => s.skip(
            "this host sends no mail: no MTA runs (Postfix, Exim) and no mail port (25, 465, 587) is asked",
        ),
        Ok(m) => eval(m),
        Err(e) if e.kind == ProbeErrorKind::NotRun => s.skip(e.message.clone()),
        Err(e) => s.unread(c.facts, "examine outgoing mail", e),
    };
    if fd.duration_ms.is_none() {
        fd.took(p.ms)
    } else {
        fd
    }
}

/// How a mail check ends when nothing failed: a pass naming what it judged (`pass` of
/// them joined by " and "), or, with nothing to judge, the skip that says `none`.
pub fn pass_naming<T: std::fmt::Display>(
    s: Subject,
    judged: impl IntoIterator<Item = T>,
    pass: impl FnOnce(String) -> String,
    none: &str,
) -> Finding {
    let names: Vec<String> = judged.into_iter().map(|j| j.to_string()).collect();
    if names.is_empty() {
        s.skip(none)
    } else {
        s.pass(pass(names.join(" and ")))
    }
}

/// Who decided the sending address over a family, in words: "Postfix's
/// smtp_bind_address6 (main.cf:12)" or "the kernel, towards MX mx.shop.example".
pub fn decided_by(m: &MailFacts, sending: &Sending) -> String {
    let mta = m.mtas.first().map(|m| m.kind.name()).unwrap_or("the MTA");
    match sending {
        Sending::Bound(set, _) | Sending::BadBind(set) => {
            format!("{mta}'s {} ({})", set.name, set.at)
        }
        Sending::Kernel(src, _) => format!(
            "the kernel's choice towards {} {}",
            src.towards_name, src.towards
        ),
        Sending::Off(_) | Sending::Nothing(_) => String::new(),
    }
}

/// What the PTR lookup of a sending address found: a name that resolves back to it,
/// names that do not, none, or no answer (the error's text).
pub enum Ptr<'a> {
    Confirmed(&'a str),
    Unconfirmed(&'a str),
    Missing,
    Unknown(String),
}

pub fn ptr_of(m: &MailFacts, ip: IpAddr) -> Ptr<'_> {
    let Some(p) = m.ptr.iter().find(|p| p.ip == ip) else {
        return Ptr::Unknown("not looked up".into());
    };
    match &p.names.result {
        Err(e) => Ptr::Unknown(e.message.clone()),
        Ok(names) if names.is_empty() => Ptr::Missing,
        Ok(names) => {
            let confirmed = p
                .forward
                .iter()
                .find(|(_, ips)| ips.contains(&ip))
                .map(|(n, _)| n.as_str());
            match confirmed {
                Some(n) => Ptr::Confirmed(n.trim_end_matches('.')),
                None => Ptr::Unconfirmed(names[0].trim_end_matches('.')),
            }
        }
    }
}

impl Ptr<'_> {
    pub fn text(&self) -> String {
        match self {
            Ptr::Confirmed(n) => format!("PTR {n} (resolves back)"),
            Ptr::Unconfirmed(n) => format!("PTR {n} (does not resolve back)"),
            Ptr::Missing => "no PTR".into(),
            Ptr::Unknown(e) => format!("PTR unknown: {e}"),
        }
    }
}

/// The flags of a host address as `ip addr` names them.
pub fn flags(a: &AddrFacts) -> Vec<&'static str> {
    use AddrFlag::*;
    let mut v = flag_names(a, &[Temporary, Deprecated, Mngtmpaddr]);
    v.push(if a.permanent { "permanent" } else { "dynamic" });
    v
}

/// The address receivers see for mail that leaves from `ip`: itself when it is public
/// (or `--assume-public`); behind NAT, the public IPv4 address the echo service saw,
/// when it was asked. The second value says why it differs, for the evidence.
pub fn seen_by_receivers(c: &Ctx, ip: IpAddr) -> (Option<IpAddr>, Option<String>) {
    if crate::net::reachable_by_clients(ip, &c.opts.assume_public) {
        return (Some(ip), None);
    }
    let class = crate::net::classify(ip).describe();
    match c.view.seen_v4.filter(|_| ip.is_ipv4()) {
        Some(public) => (
            Some(public),
            Some(format!(
                "{ip} is {class}: receivers see the NAT's public address {public} (as the echo service saw it)"
            )),
        ),
        None => (
            None,
            Some(format!(
                "{ip} is {class}: receivers see another address, which this run did not learn (the echo service was not asked)"
            )),
        ),
    }
}
