//! A probe's failure in the admin's words: what could not be reached and why, pointing at
//! the finding that explains it ("no route to the resolver 10.0.0.53: this host has no
//! IPv4 default route; see route.ipv4_default"). The library's own words stay in the
//! evidence, where whoever debugs further still finds them.

use crate::facts::{Facts, ProbeError, ProbeErrorKind};
use crate::model::{CheckId, Family};
use std::net::IpAddr;

/// Who the probe talked to: "the resolver 10.0.0.53", "the echo service
/// https://echo.example/ip over IPv6".
#[derive(Debug, Clone)]
pub struct Peer {
    who: String,
    family: Family,
    /// Its address, when the probe had one (a name may have had none).
    ip: Option<IpAddr>,
}

impl Peer {
    /// `role` at the address `ip`.
    pub fn at(role: &str, ip: IpAddr) -> Peer {
        Peer {
            who: format!("{role} {ip}"),
            family: Family::of(ip),
            ip: Some(ip),
        }
    }

    /// The address a sentence already named ("IPv6 2001:db8::10 gives no answer: it
    /// refused the connection").
    pub fn it(ip: IpAddr) -> Peer {
        Peer {
            who: "it".into(),
            family: Family::of(ip),
            ip: Some(ip),
        }
    }

    /// A peer known by name, reached over `family`.
    pub fn named(who: String, family: Family) -> Peer {
        Peer {
            who,
            family,
            ip: None,
        }
    }
}

/// The admin's sentence for a failure, and the check that explains it, if one does.
#[derive(Debug, Clone, PartialEq)]
pub struct Worded {
    pub text: String,
    pub cause: Option<CheckId>,
}

pub fn word(f: &Facts, peer: Option<&Peer>, e: &ProbeError) -> Worded {
    let plain = |key: &str, vars: &[(&str, &str)]| Worded {
        text: crate::assets::explain(key, vars),
        cause: None,
    };
    let who = peer
        .map(|p| p.who.clone())
        .unwrap_or_else(|| "the other end".into());
    match e.kind {
        ProbeErrorKind::Unreachable => match peer.and_then(|p| missing_route(f, p)) {
            Some(family) => {
                let route = family.pick(CheckId::RouteIpv4Default, CheckId::RouteIpv6Default);
                Worded {
                    text: crate::assets::explain(
                        "failure_no_default_route",
                        &[
                            ("who", &who),
                            ("family", family.name()),
                            ("route", route.as_str()),
                        ],
                    ),
                    cause: Some(route),
                }
            }
            None => plain("failure_unreachable", &[("who", &who)]),
        },
        ProbeErrorKind::Refused => plain("failure_refused", &[("who", &who)]),
        ProbeErrorKind::Timeout => plain("failure_timeout", &[("who", &who)]),
        ProbeErrorKind::Permission if !names_privilege(&e.message) => {
            plain("failure_permission", &[])
        }
        // The probe's own message already says what is missing or needed (a file, a tool,
        // root with the capability), in words written for the admin.
        _ => Worded {
            text: e.message.clone(),
            cause: None,
        },
    }
}

/// The family whose missing default route explains why `ip` cannot be reached: the
/// host can send to it only through a default route, and has none (and the routes could
/// be read, so the missing route is a finding of its own).
fn missing_route(f: &Facts, peer: &Peer) -> Option<Family> {
    let family = peer.family;
    let routes = f.routes.value()?;
    // A default route (no destination) or one whose destination holds the address.
    let routed = routes.iter().any(|r| {
        r.family == family
            && r.dst
                .is_none_or(|d| peer.ip.is_some_and(|ip| d.contains(&ip)))
    });
    (!routed).then_some(family)
}

/// The first resolver this host asks, for the words of a failed DNS probe.
pub fn resolver(f: &Facts) -> Option<Peer> {
    f.dns
        .resolvers
        .first()
        .map(|a| Peer::at("the resolver", a.ip()))
}

fn names_privilege(message: &str) -> bool {
    message.contains("root") || message.contains("CAP_")
}
