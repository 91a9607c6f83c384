//! Where outside clients of the site's addresses on this host really arrive. The ISP
//! probes connect from the host itself, and its own connections do not pass the nat
//! prerouting hook: a REDIRECT of port 80 to 8080 written for outside clients only
//! would make them find nothing on port 80, a failure no client has. The probes dial the
//! rewritten destination instead; the engine hands this evaluation to them.

use crate::checks::firewall::arrival;
use crate::checks::host;
use crate::checks::view::host_net;
use crate::facts::Facts;
use crate::facts::isp::Detour;
use crate::firewall::{Compiled, Packet};
use crate::model::Family;
use crate::sanitize::clean;
use std::net::{IpAddr, SocketAddr};

/// For each A/AAAA address of the domain that is on this host and each port: where the
/// walk of an outside client's SYN sends it, when a nat rule rewrites it to another
/// address or port that it can still reach (a family the host does not forward drops a
/// DNAT to elsewhere, so dialing there would find what no client finds).
pub fn detours(f: &Facts, ports: &[u16]) -> Vec<Detour> {
    let Some(fw) = f.firewall.value() else {
        return Vec::new();
    };
    let compiled = Compiled::with_ipsets(&fw.tables, &fw.ipsets).with_host(host_net(f));
    let mut out = Vec::new();
    for family in Family::BOTH {
        let ifaces = host::relevant_ifaces(f, family);
        for ip in f.dns.ips(family) {
            let Some((link, _)) = host::find_addr(f, ip) else {
                continue;
            };
            let iif = arrival(&ifaces, link);
            for &port in ports {
                let walk = compiled.decide(&Packet::tcp_syn(ip, port, &iif));
                let Some((rule, to, to_port)) = walk.taken.nat else {
                    continue;
                };
                if walk.taken.not_forwarded {
                    continue;
                }
                let site = SocketAddr::new(ip, port);
                let dialed = SocketAddr::new(reachable(to, ip), to_port);
                if dialed != site {
                    out.push(Detour {
                        site,
                        dialed,
                        rule: clean(&rule.describe()),
                    });
                }
            }
        }
    }
    out
}

/// A REDIRECT over IPv6 may name the arrival interface's link-local address, which
/// cannot be dialed without its scope: the site's own address is on the same host.
fn reachable(to: IpAddr, site: IpAddr) -> IpAddr {
    match to {
        IpAddr::V6(v6) if v6.is_unicast_link_local() => site,
        _ => to,
    }
}
