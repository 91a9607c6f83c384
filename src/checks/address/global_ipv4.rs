//! `address.global_ipv4`: a public IPv4 address, or a private one behind a NAT that
//! forwards the ports.

use super::global_address;
use crate::checks::host;
use crate::checks::subject::Subject;
use crate::checks::view::{self, Ctx};
use crate::model::{Family, Finding};
use crate::net::{AddrClass, classify, reachable_by_clients};

pub fn check(c: &Ctx) -> Finding {
    global_address(c, Family::V4, judge)
}

fn judge(c: &Ctx, s: Subject) -> Finding {
    let (f, o) = (c.facts, c.opts);
    // The interfaces of the default routes, and wherever the site's own A records are
    // (a second uplink may take the default route while the site stays on eth0).
    let relevant = host::relevant_ifaces(f, Family::V4);
    let named = f.dns.ips(Family::V4);
    let v4: Vec<_> = f
        .addrs()
        .filter(|(l, a)| a.ip.is_ipv4() && (relevant.contains(&l.name) || named.contains(&a.ip)))
        .collect();
    if let Some((l, a)) = v4
        .iter()
        .find(|(_, a)| reachable_by_clients(a.ip, &o.assume_public))
    {
        return s.pass(format!("public IPv4 address {} on {}", a.ip, l.name));
    }
    if let Some((l, a)) = v4.iter().find(|(_, a)| classify(a.ip) == AddrClass::Cgnat) {
        return s.fail(format!(
            "{} on {} is carrier-grade NAT space (100.64.0.0/10): no inbound IPv4 connection can reach this host",
            a.ip,
            l.name
        ))
        .explain("v4_cgnat", &[]);
    }
    if let Some((l, a)) = v4
        .iter()
        .find(|(_, a)| classify(a.ip) == AddrClass::Private)
    {
        // The ISP stage connected from outside through the NAT on every port: the port
        // forwarding works, so the private address is no problem.
        if let Some(public) = view::nat_forward_confirmed(c) {
            return s.pass(format!(
                "{} on {} is private, behind NAT: the internet sees {public} and reaches every port through the router's port forwarding (isp.inbound_ipv4)",
                a.ip,
                l.name
            ))
            .explain("v4_nat_forwarded", &[("public", &public.to_string())]);
        }
        return s.warn(format!(
            "{} on {} is private: IPv4 clients reach this host only through NAT port forwarding",
            a.ip,
            l.name
        ))
        .explain("v4_private", &[]);
    }
    s.fail("no public IPv4 address on this host")
        .explain("v4_none", &[])
}
