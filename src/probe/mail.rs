//! Outgoing mail: the MTA running here and its settings, the source address the kernel
//! picks per family towards receivers, the PTRs of the sending addresses, the DNS data
//! their SPF evaluation reads, blocklist lookups and port 25 to receivers.
//!
//! Gathered only when the host sends mail (an MTA runs, or a mail port is asked):
//! elsewhere it would be traffic nobody asked for. Each lookup and connection is under
//! `--timeout`, all of them concurrent where they do not depend on each other.

use super::{dns, netlink, procfs, timed};
use crate::facts::mail::*;
use crate::facts::{Link, ProbeError, ProbeErrorKind, Probed};
use crate::model::Family;
use crate::net::reachable_by_clients;
use crate::options::Options;
use crate::parse::spf;
use crate::sanitize::clean;
use futures::future::join_all;
use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RecordType;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Instant;

/// Rounds of SPF lookups: each round asks every question the evaluations stopped at;
/// an include chain within the 10-lookup limit needs at most about 3 per term.
const MAX_SPF_ROUNDS: usize = 40;
/// The SPF rounds together take at most this many `--timeout`s.
const SPF_TIMEOUTS: u32 = 4;
/// Questions asked for SPF in all.
const MAX_SPF_QUERIES: usize = 128;
/// Host addresses whose PTR is looked up besides the sending ones.
const MAX_PTR: usize = 16;
/// Largest MTA configuration file read (`main.cf`, Exim's configuration).
const MAX_MAIN_CF: u64 = 1 << 20;
/// The `--mail-egress` targets probed at most.
const MAX_TARGETS: usize = 8;

/// Whether the mail part applies: an MTA runs or a mail port is asked.
pub fn applies(opts: &Options, mtas: &[Mta]) -> bool {
    !mtas.is_empty() || !opts.mail_ports().is_empty()
}

pub async fn gather(
    opts: &Options,
    links: Option<&Vec<Link>>,
    hostname: &str,
) -> Result<MailFacts, ProbeError> {
    let limit = opts.timeout;
    let host = hostname.to_string();
    let mtas = tokio::task::spawn_blocking(move || mtas(&host))
        .await
        .map_err(|e| ProbeError::new(ProbeErrorKind::Failed, format!("probe task failed: {e}")))?;
    let mut facts = MailFacts {
        mtas,
        sources: Vec::new(),
        ptr: Vec::new(),
        spf_dns: Vec::new(),
        blocklists: Vec::new(),
        egress: Vec::new(),
    };
    if !applies(opts, &facts.mtas) {
        return Ok(facts);
    }
    let (servers, _) = dns::configured_resolvers(opts)?;
    let r = dns::resolver_for(&servers, limit, true);

    // Receivers: the domain's MX hosts and the outside receivers, with their addresses.
    let targets = targets(opts);
    let (mx, receivers) = tokio::join!(
        timed(limit, "MX lookup", dns::mx_hosts(&r, &opts.target.domain)),
        join_all(targets.iter().map(|(host, port)| {
            let r = &r;
            async move { (host.clone(), *port, addresses_of(r, host, opts).await) }
        })),
    );
    // An MX host that is this host itself (the usual set-up) is local delivery: the
    // kernel's answer for it says nothing about mail leaving the host.
    let own: Vec<IpAddr> = links
        .into_iter()
        .flatten()
        .flat_map(|l| l.addrs.iter().map(|a| a.ip))
        .collect();
    let mut towards: Vec<(IpAddr, String)> = Vec::new();
    for m in mx.value().into_iter().flatten() {
        for ip in
            m.a.iter()
                .map(|a| IpAddr::V4(*a))
                .chain(m.aaaa.iter().map(|a| IpAddr::V6(*a)))
        {
            if !own.contains(&ip) && !ip.is_loopback() {
                towards.push((ip, format!("MX {}", m.name)));
            }
        }
    }
    for (host, _, ips) in &receivers {
        for ip in ips.as_ref().map(|v| v.as_slice()).unwrap_or(&[]) {
            towards.push((*ip, clean(host)));
        }
    }
    facts.sources = join_all(Family::BOTH.into_iter().map(|family| {
        let pick = towards
            .iter()
            .find(|(ip, _)| Family::of(*ip) == family)
            .cloned();
        async move {
            let (ip, name) = pick.unwrap_or_else(|| {
                // No receiver of this family is known: any global destination shows
                // the kernel's choice for mail leaving this host.
                (
                    family.pick(IpAddr::V4(FALLBACK_V4), IpAddr::V6(FALLBACK_V6)),
                    "a global address".into(),
                )
            });
            MailSource {
                family,
                towards: ip,
                towards_name: name,
                kernel: timed(limit, "route lookup", netlink::route_source(ip)).await,
            }
        }
    }))
    .await;

    let sending: Vec<IpAddr> = Family::BOTH
        .into_iter()
        .filter_map(|f| facts.sending(f).ip())
        .collect();
    let helo = facts.helo().unwrap_or(hostname).to_string();

    // PTRs of the sending addresses and of the host's other global addresses (a fix may
    // bind to one that has a PTR).
    let mut ptr_ips: Vec<IpAddr> = sending.clone();
    for l in links.into_iter().flatten().filter(|l| !l.loopback) {
        for a in &l.addrs {
            if reachable_by_clients(a.ip, &opts.assume_public) && !ptr_ips.contains(&a.ip) {
                ptr_ips.push(a.ip);
            }
        }
    }
    ptr_ips.truncate(MAX_PTR);
    // Behind NAT receivers see another address, known only to the ISP probes: walking
    // the record for an address nothing admits records every answer it can need.
    let mut spf_walk = sending.clone();
    if sending
        .iter()
        .any(|ip| ip.is_ipv4() && !reachable_by_clients(*ip, &opts.assume_public))
    {
        spf_walk.push(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
    let public: Vec<IpAddr> = sending
        .iter()
        .copied()
        .filter(|ip| reachable_by_clients(*ip, &opts.assume_public))
        .collect();
    // A PTR and its forward lookups share one timeout, from here.
    let deadline = Instant::now() + limit;
    let (ptr, spf_dns, blocklists, egress) = tokio::join!(
        join_all(ptr_ips.iter().map(|ip| dns::ptr(&r, *ip, deadline))),
        spf_lookups(&r, opts, &spf_walk, &helo),
        blocklists(&r, opts, &public),
        egress(opts, &receivers),
    );
    facts.ptr = ptr;
    facts.spf_dns = spf_dns;
    facts.blocklists = blocklists;
    facts.egress = egress;
    Ok(facts)
}

/// Destinations for the route lookup when no receiver of the family is known
/// (public resolvers' addresses; only the route is asked, nothing is sent).
const FALLBACK_V4: Ipv4Addr = Ipv4Addr::new(8, 8, 8, 8);
const FALLBACK_V6: std::net::Ipv6Addr =
    std::net::Ipv6Addr::new(0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888);

/// `--mail-egress`, else the receivers in `assets/mail.toml`, as (host, port).
fn targets(opts: &Options) -> Vec<(String, u16)> {
    let list: Vec<String> = if opts.mail_egress.is_empty() {
        crate::assets::mail_data().receivers.clone()
    } else {
        opts.mail_egress.clone()
    };
    list.iter()
        .take(MAX_TARGETS)
        .filter_map(|t| {
            if let Ok(sa) = t.parse::<SocketAddr>() {
                return Some((sa.ip().to_string(), sa.port()));
            }
            let (h, p) = t.rsplit_once(':')?;
            Some((h.to_string(), p.parse().ok()?))
        })
        .collect()
}

/// A literal, or the A and AAAA records of a name from the configured resolvers.
async fn addresses_of(
    r: &TokioResolver,
    host: &str,
    opts: &Options,
) -> Result<Vec<IpAddr>, ProbeError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let (a, aaaa) = tokio::join!(
        timed(
            opts.timeout,
            "A lookup",
            dns::addresses(r, host, RecordType::A)
        ),
        timed(
            opts.timeout,
            "AAAA lookup",
            dns::addresses(r, host, RecordType::AAAA)
        ),
    );
    let mut out = Vec::new();
    for p in [a, aaaa] {
        match p.result {
            Ok(ans) => out.extend(ans.ips().into_iter().take(4)),
            Err(e) if out.is_empty() => return Err(e),
            Err(_) => {}
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------ MTAs

/// The MTAs running in this network namespace: Postfix's master, Exim's daemon.
fn mtas(hostname: &str) -> Vec<Mta> {
    let sys = procfs::process_table();
    let mut out = Vec::new();
    // Another network namespace's MTA sends from other addresses.
    for (pid, p) in procfs::in_our_netns(&sys) {
        let (pid, name, cmd) = procfs::described(pid, p);
        let first = cmd.first().map(String::as_str).unwrap_or("");
        if name == "master" && first.contains("postfix") {
            out.push(Mta {
                kind: MtaKind::Postfix,
                pid,
                settings: postfix_settings(pid, &cmd, hostname),
            });
        } else if matches!(name.as_ref(), "exim4" | "exim")
            && p.parent()
                .and_then(|pp| sys.process(pp))
                .is_none_or(|pp| pp.name() != p.name())
        {
            out.push(Mta {
                kind: MtaKind::Exim,
                pid,
                settings: exim_settings(&cmd, hostname),
            });
        }
    }
    out
}

/// `main.cf` of the Postfix whose master is `pid`: `-c DIR` on its command line, else
/// `MAIL_CONFIG` in its environment (what `postfix -c DIR start` sets), else
/// `/etc/postfix`.
fn postfix_settings(pid: u32, cmd: &[String], hostname: &str) -> Result<MtaSettings, String> {
    let dir = cmd
        .iter()
        .position(|a| a == "-c")
        .and_then(|i| cmd.get(i + 1))
        .map(PathBuf::from)
        .or_else(|| {
            procfs::environ(pid)
                .and_then(|env| env.get("MAIL_CONFIG").cloned())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("/etc/postfix"));
    let file = dir.join("main.cf");
    let text = super::sysctl::read_bounded(&file, MAX_MAIN_CF)
        .map_err(|e| clean(&format!("{}: {e}", file.display())))?;
    Ok(crate::parse::postfix::settings(&text, &file, hostname))
}

/// Where Exim's configuration is when its command line names none (`-C FILE`): Debian's
/// generated one, Debian's single file, then the upstream and RHEL defaults.
const EXIM_CONFIGS: &[&str] = &[
    "/var/lib/exim4/config.autogenerated",
    "/etc/exim4/exim4.conf",
    "/etc/exim/exim.conf",
    "/usr/exim/configure",
];

fn exim_settings(cmd: &[String], hostname: &str) -> Result<MtaSettings, String> {
    let named = cmd
        .iter()
        .position(|a| a == "-C")
        .and_then(|i| cmd.get(i + 1))
        .map(PathBuf::from);
    let file = named
        .or_else(|| EXIM_CONFIGS.iter().map(PathBuf::from).find(|p| p.is_file()))
        .ok_or_else(|| format!("no Exim configuration found ({})", EXIM_CONFIGS.join(", ")))?;
    let text = super::sysctl::read_bounded(&file, MAX_MAIN_CF)
        .map_err(|e| clean(&format!("{}: {e}", file.display())))?;
    Ok(crate::parse::exim::settings(&text, &file, hostname))
}

// ------------------------------------------------------------------------------- SPF

/// Every DNS answer the SPF evaluation of each sending address needs: evaluate, ask
/// what it stopped at, evaluate again, until nothing is missing.
async fn spf_lookups(
    r: &TokioResolver,
    opts: &Options,
    sending: &[IpAddr],
    helo: &str,
) -> Vec<SpfLookup> {
    let mut known: BTreeMap<SpfQuery, Probed<SpfAnswer>> = BTreeMap::new();
    let domain = opts.target.domain.as_str();
    // Rounds run one after the other: a resolver that times out on every question must
    // not stretch them over the whole probe; what is left unasked shows as such.
    let deadline = Instant::now() + opts.timeout.saturating_mul(SPF_TIMEOUTS);
    for _ in 0..MAX_SPF_ROUNDS {
        if Instant::now() >= deadline {
            break;
        }
        let missing: Vec<SpfQuery> = {
            let dns = |q: &SpfQuery| {
                known
                    .get(q)
                    .map(|p| p.result.clone().map_err(|e| e.message))
            };
            let mut m: Vec<SpfQuery> = sending
                .iter()
                .filter_map(|ip| spf::evaluate(*ip, domain, helo, &dns).missing)
                .collect();
            m.sort();
            m.dedup();
            m
        };
        if missing.is_empty() || known.len() >= MAX_SPF_QUERIES {
            break;
        }
        let answers = join_all(missing.iter().map(|q| async move {
            (
                q.clone(),
                timed(opts.timeout, &q.to_string(), spf_ask(r, q)).await,
            )
        }))
        .await;
        known.extend(answers);
    }
    known
        .into_iter()
        .map(|(query, answer)| SpfLookup { query, answer })
        .collect()
}

async fn spf_ask(r: &TokioResolver, q: &SpfQuery) -> Result<SpfAnswer, ProbeError> {
    use crate::facts::DnsAnswer;
    let ips = |a: Result<DnsAnswer, ProbeError>| a.map(|a| SpfAnswer::Ips(a.ips()));
    match q {
        SpfQuery::Txt(n) => dns::txt(r, n).await.map(SpfAnswer::Txt),
        SpfQuery::A(n) => ips(dns::addresses(r, n, RecordType::A).await),
        SpfQuery::Aaaa(n) => ips(dns::addresses(r, n, RecordType::AAAA).await),
        SpfQuery::Mx(n) => dns::names(r, n, RecordType::MX)
            .await
            .map(|v| SpfAnswer::Names(v.into_iter().map(|(_, n)| spf::norm(&n)).collect())),
    }
}

// ------------------------------------------------------------------------ blocklists

/// The DNSBL names of `ip` under `zone`: the address reversed (IPv4 by octet, IPv6 by
/// nibble), and for a list that lists IPv6 by /64 its network address too.
pub fn dnsbl_names(ip: IpAddr, zone: &str, per_64: bool) -> Vec<(IpAddr, bool, String)> {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            vec![(
                ip,
                false,
                format!("{}.{}.{}.{}.{zone}", o[3], o[2], o[1], o[0]),
            )]
        }
        IpAddr::V6(v) => {
            let name = |a: &std::net::Ipv6Addr| {
                let mut n = spf::nibbles(a);
                n.reverse();
                format!("{}.{zone}", n.join("."))
            };
            let mut out = vec![(ip, false, name(&v))];
            if per_64 {
                let net = std::net::Ipv6Addr::from(u128::from(v) & !((1u128 << 64) - 1));
                out.push((IpAddr::V6(net), true, name(&net)));
            }
            out
        }
    }
}

async fn blocklists(r: &TokioResolver, opts: &Options, ips: &[IpAddr]) -> Vec<DnsblProbe> {
    // A zone named on the command line: both lookups for IPv6, as its policy is unknown.
    let zones: Vec<crate::assets::Dnsbl> = if opts.dnsbl.is_empty() {
        crate::assets::mail_data().dnsbl.clone()
    } else {
        opts.dnsbl
            .iter()
            .map(|z| crate::assets::Dnsbl {
                zone: z.clone(),
                ipv6: true,
                per_64: true,
            })
            .collect()
    };
    let mut asks: Vec<(String, IpAddr, bool, String)> = Vec::new();
    for z in &zones {
        for ip in ips {
            if ip.is_ipv6() && !z.ipv6 {
                continue;
            }
            for (ip, per_64, name) in dnsbl_names(*ip, &z.zone, z.per_64) {
                asks.push((z.zone.clone(), ip, per_64, name));
            }
        }
    }
    join_all(
        asks.into_iter()
            .map(|(zone, ip, per_64, query)| async move {
                let answer = timed(opts.timeout, &query, async {
                    dns::addresses(r, &query, RecordType::A).await.map(|a| {
                        a.ips()
                            .into_iter()
                            .filter_map(|i| match i {
                                IpAddr::V4(v) => Some(v),
                                IpAddr::V6(_) => None,
                            })
                            .collect()
                    })
                })
                .await;
                DnsblProbe {
                    zone: clean(&zone),
                    ip,
                    per_64,
                    query: clean(&query),
                    answer,
                }
            }),
    )
    .await
}

// ---------------------------------------------------------------------------- egress

/// A receiver as given (host, port) with its addresses.
type Receiver = (String, u16, Result<Vec<IpAddr>, ProbeError>);

/// Port 25 (or the target's port) to each receiver over each family it has an address
/// of, reading the greeting.
async fn egress(opts: &Options, receivers: &[Receiver]) -> Vec<MailEgressProbe> {
    let mut asks: Vec<(String, Family, Result<SocketAddr, ProbeError>)> = Vec::new();
    for (host, port, ips) in receivers {
        let target = clean(&format!("{host}:{port}"));
        for family in Family::BOTH {
            let res = match ips {
                Ok(v) => match v.iter().find(|ip| Family::of(**ip) == family) {
                    Some(ip) => Ok(SocketAddr::new(*ip, *port)),
                    None => Err(ProbeError::new(
                        ProbeErrorKind::NotRun,
                        format!("{} has no {} address", clean(host), family.record_type()),
                    )),
                },
                Err(e) => Err(e.clone()),
            };
            asks.push((target.clone(), family, res));
        }
    }
    join_all(asks.into_iter().map(|(target, family, addr)| async move {
        match addr {
            Ok(sa) => MailEgressProbe {
                target,
                family,
                addr: Some(sa),
                banner: if opts.offline {
                    Probed::err(ProbeErrorKind::NotRun, "not run: --offline")
                } else {
                    timed(
                        opts.timeout,
                        &format!("SMTP to {sa}"),
                        super::isp::smtp::banner(sa, opts.timeout),
                    )
                    .await
                },
            },
            Err(e) => MailEgressProbe {
                target,
                family,
                addr: None,
                banner: Probed {
                    result: Err(e),
                    ms: 0,
                },
            },
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnsbl_names_reverse_octets_and_nibbles_and_the_64() {
        let v4 = dnsbl_names("203.0.113.25".parse().unwrap(), "zen.example", false);
        assert_eq!(v4[0].2, "25.113.0.203.zen.example");
        let v6 = dnsbl_names("2001:db8:1::25".parse().unwrap(), "bl.example", true);
        assert_eq!(v6.len(), 2);
        assert!(v6[0].2.starts_with("5.2.0.0.0.0.0.0"), "{}", v6[0].2);
        assert!(v6[0].2.ends_with("1.0.0.0.8.b.d.0.1.0.0.2.bl.example"));
        assert_eq!(v6[1].0, "2001:db8:1::".parse::<IpAddr>().unwrap());
        assert!(v6[1].1);
        let zeros = "0.".repeat(20);
        assert!(
            v6[1].2.starts_with(&format!("{zeros}1.0.0.0.8.b.d")),
            "{}",
            v6[1].2
        );
    }
}
