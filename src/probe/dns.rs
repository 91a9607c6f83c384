//! DNS facts through hickory-resolver: the site's records via the configured resolvers,
//! the zone's authoritative servers asked directly, PTR, MX and DNS64.

use super::geo_dns::{Target, address_answer};
use super::timed;
use crate::facts::{
    DnsAnswer, DnsFacts, Link, MxHost, NsHost, ProbeError, ProbeErrorKind, Probed, PtrFacts, Route,
    ServerAnswers, ServerRole, ZoneFacts,
};
use crate::model::Family;
use crate::net::reachable_by_clients;
use crate::options::Options;
use crate::sanitize::clean;
use futures::future::join_all;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{ResolveError, TokioResolver};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

/// The time left before `deadline`: chained lookups (zone, then its servers; PTR, then
/// forward) share one `--timeout` so the whole run ends within it. A floor keeps a
/// late step from being given no time at all.
fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(50))
}

/// Bounds on what outside DNS data may make us hold or chase.
const MAX_RECORDS: usize = 64;
const MAX_NS: usize = 8;
const MAX_MX: usize = 10;
const MAX_ADDRS_PER_HOST: usize = 4;

pub(super) fn resolver_for(
    servers: &[SocketAddr],
    limit: Duration,
    recursion: bool,
) -> TokioResolver {
    let mut config = ResolverConfig::new();
    for s in servers {
        config.add_name_server(NameServerConfig::new(*s, Protocol::Udp));
        config.add_name_server(NameServerConfig::new(*s, Protocol::Tcp));
    }
    let mut opts = ResolverOpts::default();
    opts.timeout = limit;
    opts.attempts = 1;
    opts.cache_size = 0;
    opts.ndots = 0;
    opts.recursion_desired = recursion;
    opts.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
    opts.edns0 = true;
    TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(opts)
        .build()
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

pub(super) fn display_name(name: &str) -> String {
    clean(name.trim_end_matches('.'))
}

pub(super) fn resolve_error(e: &ResolveError) -> Result<DnsAnswer, ProbeError> {
    if e.is_nx_domain() {
        return Ok(DnsAnswer::NxDomain);
    }
    if e.is_no_records_found() {
        return Ok(DnsAnswer::NoData);
    }
    let kind = match e.proto().map(|p| p.kind()) {
        Some(ProtoErrorKind::Timeout) => ProbeErrorKind::Timeout,
        Some(ProtoErrorKind::Io(io)) => super::io_kind(io),
        _ => ProbeErrorKind::Failed,
    };
    Err(ProbeError::new(kind, clean(&e.to_string())))
}

pub(super) async fn addresses(
    r: &TokioResolver,
    name: &str,
    rtype: RecordType,
) -> Result<DnsAnswer, ProbeError> {
    match r.lookup(fqdn(name).as_str(), rtype).await {
        Ok(lookup) => Ok(address_answer(lookup.records().iter())),
        Err(e) => resolve_error(&e),
    }
}

pub(super) async fn names(
    r: &TokioResolver,
    name: &str,
    rtype: RecordType,
) -> Result<Vec<(u16, String)>, ProbeError> {
    match r.lookup(fqdn(name).as_str(), rtype).await {
        Ok(lookup) => Ok(lookup
            .records()
            .iter()
            .filter_map(|rec| match rec.data() {
                RData::NS(ns) => Some((0, ns.0.to_ascii())),
                RData::MX(mx) => Some((mx.preference(), mx.exchange().to_ascii())),
                RData::PTR(p) => Some((0, p.0.to_ascii())),
                _ => None,
            })
            .take(MAX_RECORDS)
            .collect()),
        Err(e) => resolve_error(&e).map(|_| Vec::new()),
    }
}

/// Longest TXT record kept (SPF records are short; RFC 7208 3.4 advises 450 bytes).
const MAX_TXT: usize = 4096;

/// The TXT records of `name`, each record's strings joined (RFC 7208 3.3), bounded;
/// none for NXDOMAIN or no data. Not cleaned: SPF evaluation reads them as written
/// and cleans what it shows.
pub(super) async fn txt(r: &TokioResolver, name: &str) -> Result<Vec<String>, ProbeError> {
    match r.lookup(fqdn(name).as_str(), RecordType::TXT).await {
        Ok(lookup) => Ok(lookup
            .records()
            .iter()
            .filter_map(|rec| match rec.data() {
                RData::TXT(t) => {
                    let mut s = String::new();
                    for part in t.txt_data() {
                        s.push_str(&String::from_utf8_lossy(part));
                        if s.len() > MAX_TXT {
                            break;
                        }
                    }
                    Some(s.chars().take(MAX_TXT).collect())
                }
                _ => None,
            })
            .take(MAX_RECORDS)
            .collect()),
        Err(e) => resolve_error(&e).map(|_| Vec::new()),
    }
}

/// The addresses of one family in an answer (`pick` keeps that family), bounded.
fn addrs<T>(a: &Result<DnsAnswer, ProbeError>, pick: fn(IpAddr) -> Option<T>) -> Vec<T> {
    a.as_ref()
        .map(|a| a.ips())
        .unwrap_or_default()
        .into_iter()
        .filter_map(pick)
        .take(MAX_ADDRS_PER_HOST)
        .collect()
}

fn v4s(a: &Result<DnsAnswer, ProbeError>) -> Vec<Ipv4Addr> {
    addrs(a, |ip| match ip {
        IpAddr::V4(v) => Some(v),
        IpAddr::V6(_) => None,
    })
}

fn v6s(a: &Result<DnsAnswer, ProbeError>) -> Vec<Ipv6Addr> {
    addrs(a, |ip| match ip {
        IpAddr::V6(v) => Some(v),
        IpAddr::V4(_) => None,
    })
}

/// The AAAA records of each host, asked of the configured resolvers, the lookups side
/// by side and each under `--timeout` (`address.ipv4_dependencies`' package sources).
pub async fn aaaa_of(opts: &Options, hosts: &[String]) -> Vec<Probed<Vec<Ipv6Addr>>> {
    let limit = opts.timeout;
    let resolver = match configured_resolvers(opts) {
        Ok((servers, _)) => resolver_for(&servers, limit, true),
        Err(e) => {
            return hosts
                .iter()
                .map(|_| Probed {
                    result: Err(e.clone()),
                    ms: 0,
                })
                .collect();
        }
    };
    join_all(hosts.iter().map(|h| {
        let r = &resolver;
        async move {
            let p = timed(limit, "AAAA lookup", addresses(r, h, RecordType::AAAA)).await;
            // A name that does not exist is broken over both families: not a
            // dependency on IPv4, so it is an error the check shows as such.
            let result = match p.result {
                Ok(DnsAnswer::NxDomain) => Err(ProbeError::new(
                    ProbeErrorKind::Failed,
                    format!("{}: no such name (NXDOMAIN)", display_name(h)),
                )),
                r => r.map(|a| v6s(&Ok(a))),
            };
            Probed { result, ms: p.ms }
        }
    }))
    .await
}

/// The A and AAAA addresses of `host` asked of `servers` (`--resolver`), both lookups at
/// once, each under `limit`: what the other probes use where the admin named the
/// resolver, instead of the system's.
pub async fn addrs_via(
    servers: &[SocketAddr],
    host: &str,
    limit: Duration,
) -> Result<Vec<IpAddr>, ProbeError> {
    let r = resolver_for(servers, limit, true);
    let what = format!("resolving {}", display_name(host));
    let (a, aaaa) = tokio::join!(
        timed(limit, &what, addresses(&r, host, RecordType::A)),
        timed(limit, &what, addresses(&r, host, RecordType::AAAA)),
    );
    match (a.result, aaaa.result) {
        (Ok(DnsAnswer::NxDomain), _) | (_, Ok(DnsAnswer::NxDomain)) => Err(ProbeError::new(
            ProbeErrorKind::Failed,
            format!("{what}: no such name (NXDOMAIN)"),
        )),
        (Err(e), Err(_)) => Err(e),
        (a, aaaa) => {
            let ips = |r: Result<DnsAnswer, ProbeError>| r.map(|d| d.ips()).unwrap_or_default();
            let mut all = ips(a);
            all.extend(ips(aaaa));
            Ok(all)
        }
    }
}

/// The configured resolvers: `--resolver`, else resolv.conf.
pub(super) fn configured_resolvers(
    opts: &Options,
) -> Result<(Vec<SocketAddr>, String), ProbeError> {
    if !opts.resolvers.is_empty() {
        return Ok((opts.resolvers.clone(), "--resolver".into()));
    }
    let text = super::sysctl::read_bounded(std::path::Path::new("/etc/resolv.conf"), 64 * 1024)
        .map_err(|e| super::io_error("/etc/resolv.conf", &e))?;
    let (config, _) = hickory_resolver::system_conf::parse_resolv_conf(text.as_bytes())
        .map_err(|e| ProbeError::new(ProbeErrorKind::Failed, format!("/etc/resolv.conf: {e}")))?;
    let mut servers: Vec<SocketAddr> = Vec::new();
    for ns in config.name_servers() {
        if !servers.contains(&ns.socket_addr) {
            servers.push(ns.socket_addr);
        }
    }
    if servers.is_empty() {
        return Err(ProbeError::new(
            ProbeErrorKind::Missing,
            "/etc/resolv.conf names no nameserver",
        ));
    }
    Ok((servers, "/etc/resolv.conf".into()))
}

/// Which families this host can send on at all (has a default route), so that a probe
/// over a family without a route is reported as not run rather than as a dead server.
fn routable(routes: Option<&Vec<Route>>, family: Family) -> bool {
    routes.is_none_or(|rs| rs.iter().any(|r| r.family == family && r.dst.is_none()))
}

pub async fn gather(
    opts: &Options,
    links: Option<&Vec<Link>>,
    routes: Option<&Vec<Route>>,
) -> DnsFacts {
    let limit = opts.timeout;
    let deadline = Instant::now() + limit;
    let domain = opts.target.domain.as_str();
    let (resolvers, source) = match configured_resolvers(opts) {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let main = resolver_for(&resolvers, limit, true);

    let per_resolver = join_all(resolvers.iter().map(|s| {
        let r = resolver_for(std::slice::from_ref(s), limit, true);
        let s = *s;
        async move {
            let (a, aaaa) = tokio::join!(
                timed(limit, "A", addresses(&r, domain, RecordType::A)),
                timed(limit, "AAAA", addresses(&r, domain, RecordType::AAAA))
            );
            ServerAnswers {
                server: s,
                role: ServerRole::Resolver,
                name: None,
                a,
                aaaa,
            }
        }
    }));

    let mut ptr_targets: Vec<IpAddr> = links
        .into_iter()
        .flatten()
        .filter(|l| !l.loopback)
        .flat_map(|l| l.addrs.iter().map(|a| a.ip))
        .filter(|ip| reachable_by_clients(*ip, &opts.assume_public))
        .collect();
    ptr_targets.truncate(MAX_RECORDS);

    let mail = !opts.mail_ports().is_empty();
    let (a, aaaa, per_resolver, zone, mx, ptr, dns64) = tokio::join!(
        timed(limit, "A lookup", addresses(&main, domain, RecordType::A)),
        timed(
            limit,
            "AAAA lookup",
            addresses(&main, domain, RecordType::AAAA)
        ),
        per_resolver,
        timed(limit, "zone lookup", zone(&main, domain)),
        async {
            if mail {
                Some(timed(limit, "MX lookup", mx_hosts(&main, domain)).await)
            } else {
                None
            }
        },
        join_all(ptr_targets.iter().map(|ip| ptr(&main, *ip, deadline))),
        timed(limit, "ipv4only.arpa AAAA", async {
            match addresses(&main, "ipv4only.arpa", RecordType::AAAA).await? {
                DnsAnswer::Records { records, .. } => Ok(records
                    .iter()
                    .filter_map(|r| match r.ip {
                        IpAddr::V6(v) => Some(v),
                        _ => None,
                    })
                    .collect()),
                _ => Ok(Vec::new()),
            }
        }),
    );

    let mut servers = per_resolver;
    let mut geo = None;
    if let Some(z) = zone.value() {
        let targets = authoritative_targets(z, opts, routes);
        let limit = left(deadline);
        // The geo queries go out beside the plain ones: together they cost one round
        // trip to the slowest server.
        let (answers, geo_answers) = tokio::join!(
            authoritative_answers(&targets, domain, limit),
            super::geo_dns::gather(&targets, domain, crate::assets::geo_regions(), limit),
        );
        servers.extend(answers);
        geo = Some(geo_answers);
    }

    DnsFacts {
        resolvers,
        resolver_source: source,
        a,
        aaaa,
        servers,
        zone,
        mx,
        ptr,
        dns64,
        geo,
    }
}

fn unavailable(e: ProbeError) -> DnsFacts {
    fn err<T>(e: &ProbeError) -> Probed<T> {
        Probed {
            result: Err(e.clone()),
            ms: 0,
        }
    }
    DnsFacts {
        resolvers: Vec::new(),
        resolver_source: String::new(),
        a: err(&e),
        aaaa: err(&e),
        servers: Vec::new(),
        zone: err(&e),
        mx: None,
        ptr: Vec::new(),
        dns64: err(&e),
        geo: None,
    }
}

/// Find the zone by walking up the name until NS records answer, then resolve each NS.
async fn zone(r: &TokioResolver, domain: &str) -> Result<ZoneFacts, ProbeError> {
    let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
    for start in 0..labels.len() {
        let candidate = labels[start..].join(".");
        let ns = names(r, &candidate, RecordType::NS).await?;
        if ns.is_empty() {
            continue;
        }
        let hosts = join_all(ns.into_iter().take(MAX_NS).map(|(_, name)| async move {
            let (a, aaaa) = tokio::join!(
                addresses(r, &name, RecordType::A),
                addresses(r, &name, RecordType::AAAA)
            );
            NsHost {
                name: display_name(&name),
                a: v4s(&a),
                aaaa: v6s(&aaaa),
            }
        }))
        .await;
        return Ok(ZoneFacts {
            name: display_name(&candidate),
            nameservers: hosts,
        });
    }
    Err(ProbeError::new(
        ProbeErrorKind::Failed,
        format!("no NS records found for {domain} or its parents"),
    ))
}

/// Every address of every NS host, with the reason it is not asked, if it is not.
fn authoritative_targets(
    zone: &ZoneFacts,
    opts: &Options,
    routes: Option<&Vec<Route>>,
) -> Vec<Target> {
    let mut targets: Vec<Target> = Vec::new();
    for ns in &zone.nameservers {
        for ip in
            ns.a.iter()
                .map(|v| IpAddr::V4(*v))
                .chain(ns.aaaa.iter().map(|v| IpAddr::V6(*v)))
        {
            let not_run = if opts.offline && !ip.is_loopback() {
                Some("not run: --offline".to_string())
            } else if !routable(routes, Family::of(ip)) {
                Some(format!(
                    "not run: this host has no {} default route",
                    Family::of(ip).name()
                ))
            } else {
                None
            };
            targets.push(Target {
                server: SocketAddr::new(ip, 53),
                name: ns.name.clone(),
                not_run,
            });
        }
    }
    targets
}

async fn authoritative_answers(
    targets: &[Target],
    domain: &str,
    limit: Duration,
) -> Vec<ServerAnswers> {
    join_all(targets.iter().map(|t| async move {
        let (server, name) = (t.server, t.name.clone());
        if let Some(why) = &t.not_run {
            let nr = || Probed::err(ProbeErrorKind::NotRun, why.clone());
            return ServerAnswers {
                server,
                role: ServerRole::Authoritative,
                name: Some(name),
                a: nr(),
                aaaa: nr(),
            };
        }
        let r = resolver_for(&[server], limit, false);
        let (a, aaaa) = tokio::join!(
            timed(limit, "A", addresses(&r, domain, RecordType::A)),
            timed(limit, "AAAA", addresses(&r, domain, RecordType::AAAA))
        );
        ServerAnswers {
            server,
            role: ServerRole::Authoritative,
            name: Some(name),
            a,
            aaaa,
        }
    }))
    .await
}

pub(super) async fn mx_hosts(r: &TokioResolver, domain: &str) -> Result<Vec<MxHost>, ProbeError> {
    let mut mx = names(r, domain, RecordType::MX).await?;
    mx.sort();
    Ok(join_all(
        mx.into_iter()
            .take(MAX_MX)
            .map(|(preference, name)| async move {
                let (a, aaaa) = tokio::join!(
                    addresses(r, &name, RecordType::A),
                    addresses(r, &name, RecordType::AAAA)
                );
                MxHost {
                    preference,
                    name: display_name(&name),
                    a: v4s(&a),
                    aaaa: v6s(&aaaa),
                }
            }),
    )
    .await)
}

pub(super) async fn ptr(r: &TokioResolver, ip: IpAddr, deadline: Instant) -> PtrFacts {
    let names = timed(left(deadline), "PTR lookup", async {
        match r.reverse_lookup(ip).await {
            Ok(l) => Ok(l
                .iter()
                .take(MAX_ADDRS_PER_HOST)
                .map(|n| n.0.to_ascii())
                .collect::<Vec<_>>()),
            Err(e) => resolve_error(&e).map(|_| Vec::new()),
        }
    })
    .await;
    let rtype = if ip.is_ipv4() {
        RecordType::A
    } else {
        RecordType::AAAA
    };
    let forward = match names.value() {
        Some(ns) => {
            join_all(ns.iter().map(|n| async move {
                let ips = tokio::time::timeout(left(deadline), addresses(r, n, rtype))
                    .await
                    .ok()
                    .and_then(|a| a.ok())
                    .map(|a| a.ips())
                    .unwrap_or_default();
                (display_name(n), ips)
            }))
            .await
        }
        None => Vec::new(),
    };
    PtrFacts {
        ip,
        names: Probed {
            result: names
                .result
                .map(|ns| ns.iter().map(|n| display_name(n)).collect()),
            ms: names.ms,
        },
        forward,
    }
}
