//! Links, addresses, routes and neighbours from the kernel over rtnetlink.

use super::timed;
use crate::facts::{AddrFacts, Link, Neighbour, ProbeError, ProbeErrorKind, Probed, Route};
use crate::model::Family;
use crate::sanitize::clean;
use futures::TryStreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressFlags};
use netlink_packet_route::link::{LinkAttribute, LinkFlags};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourState,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteProtocol};
use rtnetlink::{Handle, IpVersion, RouteMessageBuilder};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// The most entries of one kind kept; a host with more is summarised, not exhausted.
const MAX_ENTRIES: usize = 10_000;
const MAIN_TABLE: u32 = 254;

fn nl_err(what: &str, e: impl std::fmt::Display) -> ProbeError {
    ProbeError::new(ProbeErrorKind::Failed, format!("{what}: {e}"))
}

pub async fn gather(
    limit: Duration,
) -> (
    Probed<Vec<Link>>,
    Probed<Vec<Route>>,
    Probed<Vec<Neighbour>>,
) {
    let handle = match rtnetlink::new_connection() {
        Ok((conn, handle, _)) => {
            tokio::spawn(conn);
            handle
        }
        Err(e) => {
            let msg = format!("rtnetlink socket: {e}");
            return (
                Probed::err(ProbeErrorKind::Failed, msg.clone()),
                Probed::err(ProbeErrorKind::Failed, msg.clone()),
                Probed::err(ProbeErrorKind::Failed, msg),
            );
        }
    };
    let links = timed(limit, "rtnetlink links", links(handle.clone())).await;
    let names: BTreeMap<u32, String> = links
        .value()
        .map(|ls| ls.iter().map(|l| (l.index, l.name.clone())).collect())
        .unwrap_or_default();
    let (routes, neighbours) = tokio::join!(
        timed(limit, "rtnetlink routes", routes(handle.clone(), &names)),
        timed(
            limit,
            "rtnetlink neighbours",
            neighbours(handle.clone(), &names)
        ),
    );
    (links, routes, neighbours)
}

async fn links(handle: Handle) -> Result<Vec<Link>, ProbeError> {
    let mut out: Vec<Link> = Vec::new();
    let mut stream = handle.link().get().execute();
    while let Some(msg) = stream.try_next().await.map_err(|e| nl_err("links", e))? {
        if out.len() >= MAX_ENTRIES {
            break;
        }
        let name = msg
            .attributes
            .iter()
            .find_map(|a| match a {
                LinkAttribute::IfName(n) => Some(clean(n)),
                _ => None,
            })
            .unwrap_or_else(|| format!("if{}", msg.header.index));
        out.push(Link {
            index: msg.header.index,
            name,
            up: msg.header.flags.contains(LinkFlags::Up),
            loopback: msg.header.flags.contains(LinkFlags::Loopback),
            addrs: Vec::new(),
            mtu: msg.attributes.iter().find_map(|a| match a {
                LinkAttribute::Mtu(m) => Some(*m),
                _ => None,
            }),
        });
    }
    let mut stream = handle.address().get().execute();
    while let Some(msg) = stream
        .try_next()
        .await
        .map_err(|e| nl_err("addresses", e))?
    {
        let mut ip = None;
        let mut local = None;
        let mut flags = AddressFlags::empty();
        for attr in &msg.attributes {
            match attr {
                AddressAttribute::Address(a) => ip = Some(*a),
                AddressAttribute::Local(a) => local = Some(*a),
                // The u32 attribute carries the full set; the header's u8 loses
                // the upper flags.
                AddressAttribute::Flags(f) => flags = *f,
                _ => {}
            }
        }
        // On point-to-point IPv4 links IFA_ADDRESS is the peer; IFA_LOCAL is ours.
        let Some(ip) = local.or(ip) else { continue };
        if let Some(link) = out.iter_mut().find(|l| l.index == msg.header.index)
            && link.addrs.len() < MAX_ENTRIES
        {
            link.addrs.push(AddrFacts {
                ip,
                prefix_len: msg.header.prefix_len,
                tentative: flags.contains(AddressFlags::Tentative),
                dadfailed: flags.contains(AddressFlags::Dadfailed),
                deprecated: flags.contains(AddressFlags::Deprecated),
                permanent: flags.contains(AddressFlags::Permanent),
                mngtmpaddr: flags.contains(AddressFlags::Managetempaddr),
                // IFA_F_TEMPORARY shares its bit with IFA_F_SECONDARY, which IPv6
                // uses only for temporary addresses.
                temporary: ip.is_ipv6() && flags.contains(AddressFlags::Secondary),
            });
        }
    }
    Ok(out)
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn protocol_name(p: RouteProtocol) -> String {
    match p {
        RouteProtocol::Kernel => "kernel".into(),
        RouteProtocol::Boot => "boot".into(),
        RouteProtocol::Static => "static".into(),
        RouteProtocol::Ra => "ra".into(),
        RouteProtocol::Dhcp => "dhcp".into(),
        RouteProtocol::Unspec => "unspec".into(),
        other => format!("{}", u8::from(other)),
    }
}

async fn routes(handle: Handle, names: &BTreeMap<u32, String>) -> Result<Vec<Route>, ProbeError> {
    let mut out = Vec::new();
    for family in Family::BOTH {
        let msg = match family {
            Family::V4 => RouteMessageBuilder::<Ipv4Addr>::new().build(),
            Family::V6 => RouteMessageBuilder::<Ipv6Addr>::new().build(),
        };
        let mut stream = handle.route().get(msg).execute();
        while let Some(r) = stream.try_next().await.map_err(|e| nl_err("routes", e))? {
            if out.len() >= MAX_ENTRIES {
                break;
            }
            let mut table = u32::from(r.header.table);
            let mut dst = None;
            let mut gateway = None;
            let mut oif = None;
            let mut metric = None;
            let mut more_gateways = Vec::new();
            for attr in &r.attributes {
                match attr {
                    RouteAttribute::Destination(a) => dst = route_ip(a),
                    RouteAttribute::Gateway(a) => gateway = route_ip(a),
                    RouteAttribute::Oif(i) => oif = Some(*i),
                    RouteAttribute::Priority(p) => metric = Some(*p),
                    RouteAttribute::Table(t) => table = *t,
                    RouteAttribute::MultiPath(hops) => {
                        // The first hop stands for the route in the evidence; the
                        // others' gateways are kept (each must come back at boot).
                        if let Some(h) = hops.first() {
                            oif = oif.or(Some(h.interface_index));
                        }
                        for (n, h) in hops.iter().enumerate().take(64) {
                            for a in &h.attributes {
                                if let RouteAttribute::Gateway(g) = a {
                                    match (n, route_ip(g)) {
                                        (0, g) => gateway = gateway.or(g),
                                        (_, Some(g)) => more_gateways.push(g),
                                        _ => {}
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            if table != MAIN_TABLE {
                continue;
            }
            let prefix = r.header.destination_prefix_length;
            let dst = if prefix == 0 {
                None
            } else {
                dst.and_then(|ip| ipnet::IpNet::new(ip, prefix).ok())
            };
            // Local/unreachable/multicast entries are not paths to the internet.
            if dst.is_none() && r.header.kind != netlink_packet_route::route::RouteType::Unicast {
                continue;
            }
            out.push(Route {
                family,
                dst,
                gateway,
                dev: oif.and_then(|i| names.get(&i).cloned()),
                metric,
                protocol: protocol_name(r.header.protocol),
                more_gateways,
            });
        }
    }
    Ok(out)
}

fn state_name(s: NeighbourState) -> String {
    match s {
        NeighbourState::Incomplete => "incomplete",
        NeighbourState::Reachable => "reachable",
        NeighbourState::Stale => "stale",
        NeighbourState::Delay => "delay",
        NeighbourState::Probe => "probe",
        NeighbourState::Failed => "failed",
        NeighbourState::Noarp => "noarp",
        NeighbourState::Permanent => "permanent",
        NeighbourState::None => "none",
        _ => "other",
    }
    .to_string()
}

async fn neighbours(
    handle: Handle,
    names: &BTreeMap<u32, String>,
) -> Result<Vec<Neighbour>, ProbeError> {
    let mut out = Vec::new();
    for family in [IpVersion::V4, IpVersion::V6] {
        let mut stream = handle.neighbours().get().set_family(family).execute();
        while let Some(n) = stream
            .try_next()
            .await
            .map_err(|e| nl_err("neighbours", e))?
        {
            if out.len() >= MAX_ENTRIES {
                break;
            }
            let mut ip = None;
            let mut lladdr = None;
            for attr in &n.attributes {
                match attr {
                    NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => {
                        ip = Some(IpAddr::V4(*a))
                    }
                    NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => {
                        ip = Some(IpAddr::V6(*a))
                    }
                    NeighbourAttribute::LinkLocalAddress(mac) => {
                        lladdr = Some(
                            mac.iter()
                                .map(|b| format!("{b:02x}"))
                                .collect::<Vec<_>>()
                                .join(":"),
                        )
                    }
                    _ => {}
                }
            }
            let Some(ip) = ip else { continue };
            out.push(Neighbour {
                ip,
                dev: names
                    .get(&n.header.ifindex)
                    .cloned()
                    .unwrap_or_else(|| format!("if{}", n.header.ifindex)),
                state: state_name(n.header.state),
                lladdr,
                router: n.header.flags.contains(NeighbourFlags::Router),
            });
        }
    }
    Ok(out)
}

/// The source address the kernel picks for a connection to `dst` (RTM_GETROUTE for
/// that one destination, as `ip route get` asks; no packet is sent).
pub async fn route_source(dst: IpAddr) -> Result<IpAddr, ProbeError> {
    use futures::StreamExt;
    use netlink_packet_core::{NLM_F_REQUEST, NetlinkMessage, NetlinkPayload};
    use netlink_packet_route::RouteNetlinkMessage;
    let what = format!("route to {dst}");
    let (conn, mut handle, _) =
        rtnetlink::new_connection().map_err(|e| nl_err("rtnetlink socket", e))?;
    let conn = tokio::spawn(conn);
    let msg = match dst {
        IpAddr::V4(v4) => RouteMessageBuilder::<Ipv4Addr>::new()
            .destination_prefix(v4, 32)
            .build(),
        IpAddr::V6(v6) => RouteMessageBuilder::<Ipv6Addr>::new()
            .destination_prefix(v6, 128)
            .build(),
    };
    let mut req = NetlinkMessage::from(RouteNetlinkMessage::GetRoute(msg));
    // One route, not a dump: the kernel resolves it as for a connection.
    req.header.flags = NLM_F_REQUEST;
    let result = async {
        let mut answers = handle.request(req).map_err(|e| nl_err(&what, e))?;
        while let Some(m) = answers.next().await {
            match m.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewRoute(r)) => {
                    return r
                        .attributes
                        .iter()
                        .find_map(|a| match a {
                            RouteAttribute::PrefSource(RouteAddress::Inet(v)) => {
                                Some(IpAddr::V4(*v))
                            }
                            RouteAttribute::PrefSource(RouteAddress::Inet6(v)) => {
                                Some(IpAddr::V6(*v))
                            }
                            _ => None,
                        })
                        .ok_or_else(|| {
                            ProbeError::new(
                                ProbeErrorKind::Failed,
                                format!("{what}: the kernel names no source address"),
                            )
                        });
                }
                NetlinkPayload::Error(e) if e.code.is_some() => {
                    let io = e.to_io();
                    return Err(ProbeError::new(
                        super::io_kind(&io),
                        format!("{what}: {io}"),
                    ));
                }
                _ => {}
            }
        }
        Err(ProbeError::new(
            ProbeErrorKind::Failed,
            format!("{what}: no answer from the kernel"),
        ))
    }
    .await;
    conn.abort();
    result
}
