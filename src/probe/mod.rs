//! Probes gather facts from the kernel and the network. Every probe runs under the
//! run's `--timeout`, they run concurrently, and each fails into a `ProbeError` rather
//! than hanging or panicking.

pub mod containers;
pub mod deps;
pub mod dns;
pub mod firewall;
pub mod geo_dns;
pub mod host;
pub mod isp;
pub mod listeners;
pub mod mail;
pub mod netconf;
pub mod netlink;
pub mod ping;
pub mod procfs;
pub mod ra;
pub mod regions;
pub mod sysctl;
pub mod web;

use crate::facts::firewall::FirewallFacts;
use crate::facts::isp::Detour;
use crate::facts::{
    DnsFacts, FactPart, Facts, HostFacts, Link, Listener, PartKind, PartialFacts, ProbeError,
    ProbeErrorKind, Probed, Route, Sysctls,
};
use crate::options::Options;
use std::future::Future;
use std::time::{Duration, Instant};

/// Run `fut` under `limit`, timing it.
pub async fn timed<T>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, ProbeError>>,
) -> Probed<T> {
    // Not written as `measured(async { .. })`: each async block around `fut` stores it
    // again, so the probes' nested futures doubled at every level and the wizard's
    // engine overflowed a 2 MiB worker thread's stack in a debug build.
    let start = Instant::now();
    let result = match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(ProbeError::new(
            ProbeErrorKind::Timeout,
            format!(
                "{what}: no answer within {}",
                humantime::format_duration(limit)
            ),
        )),
    };
    Probed {
        result,
        ms: start.elapsed().as_millis() as u64,
    }
}

/// Time `fut`, which bounds its own steps.
pub async fn measured<T>(fut: impl Future<Output = Result<T, ProbeError>>) -> Probed<T> {
    let start = Instant::now();
    let result = fut.await;
    Probed {
        result,
        ms: start.elapsed().as_millis() as u64,
    }
}

/// Run blocking work (file reads, synchronous netlink) off the async threads, bounded.
pub async fn blocking<T: Send + 'static>(
    limit: Duration,
    what: &str,
    work: impl FnOnce() -> Result<T, ProbeError> + Send + 'static,
) -> Probed<T> {
    timed(limit, what, async move {
        tokio::task::spawn_blocking(work).await.map_err(|e| {
            ProbeError::new(ProbeErrorKind::Failed, format!("probe task failed: {e}"))
        })?
    })
    .await
}

/// The evaluation that finds where nat rules send outside clients of the site's
/// addresses on this host (`checks::isp::detours`): the engine hands it down, since a
/// probe may not evaluate rules itself.
pub type DetoursOf = fn(&Facts, &[u16]) -> Vec<Detour>;

/// The detours of the target's ports, once the DNS answers, the forwarding sysctls and
/// the firewall are known (a part that could not be read gives none).
async fn detours(
    opts: &Options,
    host: &HostFacts,
    detours_of: DetoursOf,
    dns: impl Future<Output = Option<DnsFacts>>,
    (links, routes): (&Option<Vec<Link>>, &Option<Vec<Route>>),
    sysctl: tokio::sync::oneshot::Receiver<Probed<Sysctls>>,
    firewall: tokio::sync::oneshot::Receiver<Probed<FirewallFacts>>,
) -> Vec<Detour> {
    let (Some(dns), Ok(sysctl), Ok(firewall)) = (dns.await, sysctl.await, firewall.await) else {
        return Vec::new();
    };
    let mut facts = PartialFacts::new(host.clone());
    facts.apply(FactPart::Netlink {
        links: known(links),
        routes: known(routes),
        neighbours: Probed::err(ProbeErrorKind::NotRun, "not needed"),
    });
    facts.apply(FactPart::Sysctl(sysctl));
    facts.apply(FactPart::Firewall(firewall));
    facts.apply(FactPart::Dns(Box::new(dns)));
    let mut ports = opts.target.ports.clone();
    ports.sort_unstable();
    ports.dedup();
    detours_of(facts.facts(), &ports)
}

fn known<T: Clone>(v: &Option<T>) -> Probed<T> {
    match v {
        Some(v) => Probed::ok(v.clone()),
        None => Probed::err(ProbeErrorKind::NotRun, "not gathered"),
    }
}

/// Gather the fact parts in `want`, sending each as soon as it is known (the wizard
/// draws stages as their facts arrive). Parts not wanted come from `prior` where a probe
/// needs them (the ISP probes read the DNS answers and the listeners). Netlink facts come
/// first (a few milliseconds) because the DNS reverse lookups and gateway pings need the
/// host's addresses and routes; everything after runs concurrently.
pub async fn gather_parts(
    opts: &Options,
    want: &[PartKind],
    prior: Option<&Facts>,
    host: &HostFacts,
    detours_of: DetoursOf,
    tx: &tokio::sync::mpsc::UnboundedSender<FactPart>,
) {
    use futures::StreamExt;
    use futures::stream::FuturesUnordered;
    let limit = opts.timeout;
    let wants = |k: PartKind| want.contains(&k) || prior.is_none();
    let (l, r) = if wants(PartKind::Netlink) {
        let (links, routes, neighbours) = netlink::gather(limit).await;
        let lr = (links.value().cloned(), routes.value().cloned());
        // A closed channel means nobody listens any more (the wizard quit): stop quietly.
        let _ = tx.send(FactPart::Netlink {
            links,
            routes,
            neighbours,
        });
        lr
    } else {
        let p = prior.map(|p| (p.links.value().cloned(), p.routes.value().cloned()));
        p.unwrap_or((None, None))
    };

    // The ISP probes dial where the nat rules send outside clients: they wait for the
    // firewall and the forwarding sysctls too.
    let (sys_tx, sys_rx) = tokio::sync::oneshot::channel::<Probed<Sysctls>>();
    let (fw_tx, fw_rx) = tokio::sync::oneshot::channel::<Probed<FirewallFacts>>();
    let mut pending: FuturesUnordered<
        std::pin::Pin<Box<dyn Future<Output = FactPart> + Send + '_>>,
    > = FuturesUnordered::new();
    if wants(PartKind::Sysctl) {
        pending.push(Box::pin(async move {
            let s = blocking(limit, "sysctl", sysctl::read_sysctls).await;
            let _ = sys_tx.send(s.clone());
            FactPart::Sysctl(s)
        }));
    } else if let Some(p) = prior {
        let _ = sys_tx.send(p.sysctl.clone());
    }
    if wants(PartKind::SysctlFiles) {
        pending.push(Box::pin(async move {
            FactPart::SysctlFiles(blocking(limit, "sysctl files", sysctl::read_config_files).await)
        }));
    }
    if wants(PartKind::BootNetwork) {
        pending.push(Box::pin(async move {
            let p = blocking(limit, "boot network", netconf::read_boot_network).await;
            FactPart::BootNetwork(Some(p))
        }));
    }
    if wants(PartKind::Ipv4Deps) {
        // Gathered only where address.ipv4_dependencies applies: elsewhere its DNS
        // lookups of package mirrors would be traffic nobody asked for.
        let applies = opts.target.expect == crate::model::Expect::Ipv6
            || match (l.as_ref(), r.as_ref()) {
                (Some(l), Some(r)) => crate::facts::deps::without_ipv4(l, r).is_some(),
                _ => true,
            };
        pending.push(Box::pin(async move {
            if !applies {
                return FactPart::Ipv4Deps(Some(Probed::err(
                    ProbeErrorKind::NotRun,
                    "not gathered: the host has IPv4 and --expect is not ipv6",
                )));
            }
            let d = measured(async { Ok(deps::gather(opts).await) }).await;
            FactPart::Ipv4Deps(Some(d))
        }));
    }

    if wants(PartKind::Firewall) {
        pending.push(Box::pin(async move {
            let fw = blocking(limit, "firewall", move || firewall::read_firewall(limit)).await;
            let _ = fw_tx.send(fw.clone());
            FactPart::Firewall(fw)
        }));
    } else if let Some(p) = prior {
        let _ = fw_tx.send(p.firewall.clone());
    }
    // The ISP stage needs the DNS answers and the listeners: it waits for both (or takes
    // them from the earlier run when they are not gathered again), while the other
    // probes go on.
    let (dns_tx, dns_rx) = tokio::sync::oneshot::channel::<DnsFacts>();
    let (lis_tx, lis_rx) = tokio::sync::oneshot::channel::<Option<Vec<Listener>>>();
    // The web probe reads the runtime hints of the listening sockets' owners.
    let (web_lis_tx, web_lis_rx) = tokio::sync::oneshot::channel::<Option<Vec<Listener>>>();
    // The ISP stage looks up the names the web servers answer to.
    let (web_tx, web_rx) = tokio::sync::oneshot::channel::<Option<crate::facts::WebServers>>();
    if wants(PartKind::Web) {
        pending.push(Box::pin(async move {
            let listeners = async { web_lis_rx.await.ok().flatten() };
            let w = timed(limit, "web server", web::gather(limit, listeners)).await;
            let _ = web_tx.send(w.value().cloned());
            FactPart::Web(w)
        }));
    } else if let Some(p) = prior {
        let _ = web_tx.send(p.web.value().cloned());
    }
    if wants(PartKind::Dns) {
        let (l2, r2) = (l.clone(), r.clone());
        pending.push(Box::pin(async move {
            let d = dns::gather(opts, l2.as_ref(), r2.as_ref()).await;
            let _ = dns_tx.send(d.clone());
            FactPart::Dns(Box::new(d))
        }));
    } else if let Some(p) = prior {
        let _ = dns_tx.send(p.dns.clone());
    }
    if wants(PartKind::Listeners) {
        pending.push(Box::pin(async move {
            let p = blocking(limit, "sock_diag", listeners::listening_sockets).await;
            let _ = lis_tx.send(p.value().cloned());
            let _ = web_lis_tx.send(p.value().cloned());
            FactPart::Listeners(p)
        }));
    } else if let Some(p) = prior {
        let _ = lis_tx.send(p.listeners.value().cloned());
        let _ = web_lis_tx.send(p.listeners.value().cloned());
    }
    if wants(PartKind::Isp) {
        let (l3, r3) = (l.clone(), r.clone());
        pending.push(Box::pin(async move {
            // The listeners come in milliseconds; the DNS answers may take a timeout, so
            // the ISP probes that do not need them start without waiting.
            let lis = lis_rx.await.ok().flatten();
            let dns = futures::FutureExt::shared(async { dns_rx.await.ok() });
            let web = async { web_rx.await.ok().flatten() };
            let detours = detours(
                opts,
                host,
                detours_of,
                dns.clone(),
                (&l3, &r3),
                sys_rx,
                fw_rx,
            );
            let isp = isp::gather(
                opts,
                dns,
                web,
                detours,
                l3.as_ref(),
                r3.as_ref(),
                lis.as_ref(),
            )
            .await;
            FactPart::Isp(isp)
        }));
    }
    if wants(PartKind::Mail) {
        let l4 = l.clone();
        pending.push(Box::pin(async move {
            let hostname = &host.hostname;
            // The probe's own steps are each under the timeout; the whole is bounded
            // by a few of them in a row (MX, route, SPF rounds, connections).
            let whole = limit.saturating_mul(8);
            let p = measured(async {
                match tokio::time::timeout(whole, mail::gather(opts, l4.as_ref(), hostname)).await {
                    Ok(r) => r,
                    Err(_) => Err(ProbeError::new(
                        ProbeErrorKind::Timeout,
                        format!(
                            "mail probes: not done within {}",
                            humantime::format_duration(whole)
                        ),
                    )),
                }
            })
            .await;
            FactPart::Mail(Some(p))
        }));
    }
    if wants(PartKind::Regions) {
        let tx = tx.clone();
        pending.push(Box::pin(async move {
            // Every poll round's results go out as they come (the wizard's table fills
            // while the probes answer); the last word is the part this future returns.
            let progress = |r| {
                let _ = tx.send(FactPart::Regions(Some(Probed::ok(r))));
            };
            FactPart::Regions(Some(regions::gather(opts, progress).await))
        }));
    }
    if wants(PartKind::Containers) {
        pending.push(Box::pin(async move {
            let c = measured(async { Ok(containers::gather(limit).await) }).await;
            FactPart::Containers(Some(c))
        }));
    }
    if wants(PartKind::Pings) {
        pending.push(Box::pin(async move {
            FactPart::Pings(ping::gateways(opts, r.as_ref(), l.as_ref()).await)
        }));
    }
    while let Some(part) = pending.next().await {
        if tx.send(part).is_err() {
            return;
        }
    }
}

pub(crate) fn io_error(what: &str, e: &std::io::Error) -> ProbeError {
    ProbeError::new(io_kind(e), format!("{what}: {e}"))
}

/// An I/O failure of a step that needs privileges: a permission error says what it
/// needs (`needs`: "entering a container's network namespace needs root").
pub(crate) fn io_error_needing(what: &str, e: &std::io::Error, needs: &str) -> ProbeError {
    let mut err = io_error(what, e);
    if err.kind == ProbeErrorKind::Permission {
        err.message.push_str(&format!(" ({needs})"));
    }
    err
}

/// An HTTP connection driven by a task of its own, aborted when this is dropped: however
/// the exchange ends, nothing outlives the probe.
pub(crate) struct ConnTask(tokio::task::JoinHandle<()>);

impl ConnTask {
    pub(crate) fn drive(
        conn: impl Future<Output = Result<(), hyper::Error>> + Send + 'static,
    ) -> ConnTask {
        ConnTask(tokio::spawn(async move {
            let _ = conn.await;
        }))
    }
}

impl Drop for ConnTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `work` before `deadline`: its error becomes `Failed` in the words of `failed`, a late
/// answer `Timeout` saying `late` (the steps of one request share one deadline).
pub(crate) async fn before<T, E>(
    deadline: tokio::time::Instant,
    work: impl Future<Output = Result<T, E>>,
    failed: impl FnOnce(E) -> String,
    late: &str,
) -> Result<T, ProbeError> {
    match tokio::time::timeout_at(deadline, work).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ProbeError::new(ProbeErrorKind::Failed, failed(e))),
        Err(_) => Err(ProbeError::new(ProbeErrorKind::Timeout, late)),
    }
}

/// What an I/O failure means for the admin: the checks word each kind (no route, refused,
/// timed out, permission) and point at the finding that explains it.
pub(crate) fn io_kind(e: &std::io::Error) -> ProbeErrorKind {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::PermissionDenied => ProbeErrorKind::Permission,
        K::NotFound => ProbeErrorKind::Missing,
        K::TimedOut => ProbeErrorKind::Timeout,
        K::NetworkUnreachable | K::HostUnreachable => ProbeErrorKind::Unreachable,
        K::ConnectionRefused => ProbeErrorKind::Refused,
        _ => ProbeErrorKind::Failed,
    }
}
