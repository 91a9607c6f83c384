//! ICMP echo to the default gateways (surge-ping).

use crate::facts::isp::{FULL_SIZE_PACKET, full_size_payload};
use crate::facts::{GatewayPing, Link, ProbeError, ProbeErrorKind, Probed, Route};
use crate::model::Family;
use crate::options::Options;
use std::net::IpAddr;
use std::time::Instant;
use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence};

pub async fn gateways(
    opts: &Options,
    routes: Option<&Vec<Route>>,
    links: Option<&Vec<Link>>,
) -> Vec<GatewayPing> {
    let mut targets: Vec<(IpAddr, Option<String>)> = Vec::new();
    for r in routes.into_iter().flatten().filter(|r| r.dst.is_none()) {
        if let Some(gw) = r.gateway
            && !targets.iter().any(|(g, d)| *g == gw && *d == r.dev)
        {
            targets.push((gw, r.dev.clone()));
        }
    }
    let futs = targets.into_iter().map(|(gw, dev)| {
        let scope = dev
            .as_ref()
            .and_then(|d| links.into_iter().flatten().find(|l| &l.name == d))
            .map(|l| l.index);
        async move {
            let rtt_ms = if opts.offline {
                Probed::err(ProbeErrorKind::NotRun, "not run: --offline")
            } else {
                super::timed(
                    opts.timeout,
                    &format!("ICMP echo to {gw}"),
                    ping_once(gw, scope, opts.timeout),
                )
                .await
            };
            GatewayPing {
                gateway: gw,
                dev,
                rtt_ms,
            }
        }
    });
    futures::future::join_all(futs).await
}

pub(crate) async fn ping_once(
    ip: IpAddr,
    scope: Option<u32>,
    limit: std::time::Duration,
) -> Result<f64, ProbeError> {
    ping(
        ip,
        scope,
        limit,
        16,
        PingIdentifier(std::process::id() as u16),
    )
    .await
}

/// An echo whose packet is `FULL_SIZE` bytes on the wire. The first try may be lost while
/// a router on a narrower link sends back "packet too big"; once the kernel has learned
/// the path MTU it fragments the next try, so only a path where that message never
/// arrives (path MTU discovery broken) loses all three.
pub(crate) async fn ping_full_size(
    ip: IpAddr,
    limit: std::time::Duration,
) -> Result<f64, ProbeError> {
    // Another identifier than the small echoes to the same address: on a raw socket every
    // client sees every reply, and a small reply must not answer for a large one.
    let ident = PingIdentifier((std::process::id() as u16) ^ 0x8000);
    ping(ip, None, limit, full_size_payload(Family::of(ip)), ident)
        .await
        .map_err(|e| {
            ProbeError::new(
                e.kind,
                format!("{FULL_SIZE_PACKET}-byte ICMP echo: {}", e.message),
            )
        })
}

async fn ping(
    ip: IpAddr,
    scope: Option<u32>,
    limit: std::time::Duration,
    payload: usize,
    ident: PingIdentifier,
) -> Result<f64, ProbeError> {
    let kind = if ip.is_ipv4() { ICMP::V4 } else { ICMP::V6 };
    let client = Client::new(&Config::builder().kind(kind).build()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            ProbeError::new(
                ProbeErrorKind::Permission,
                "ICMP echo needs root or CAP_NET_RAW (net.ipv4.ping_group_range does not include this user)",
            )
        } else {
            super::io_error("ICMP socket", &e)
        }
    })?;
    let mut pinger = client.pinger(ip, ident).await;
    if let (IpAddr::V6(v6), Some(scope)) = (ip, scope)
        && (v6.segments()[0] & 0xffc0) == 0xfe80
    {
        pinger.scope_id(scope);
    }
    // Three tries inside the one limit: the first echo may wait for neighbour discovery.
    pinger.timeout(limit / 3);
    let data = vec![0u8; payload];
    let start = Instant::now();
    let mut last = String::new();
    for seq in 0..3u16 {
        match pinger.ping(PingSequence(seq), &data).await {
            Ok((_, rtt)) => return Ok(rtt.as_secs_f64() * 1000.0),
            Err(e) => last = e.to_string(),
        }
        if start.elapsed() >= limit {
            break;
        }
    }
    Err(ProbeError::new(
        ProbeErrorKind::Timeout,
        format!("no echo reply from {ip} ({last})"),
    ))
}
