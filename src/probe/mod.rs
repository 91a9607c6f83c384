//! Probes gather facts from the kernel and the network. Every probe runs under the
//! run's `--timeout`, they run concurrently, and each fails into a `ProbeError` rather
//! than hanging or panicking.

pub mod dns;
pub mod host;
pub mod listeners;
pub mod netlink;
pub mod ping;
pub mod sysctl;
pub mod web;

use crate::facts::{Facts, ProbeError, ProbeErrorKind, Probed};
use crate::options::Options;
use std::future::Future;
use std::time::{Duration, Instant};

/// Run `fut` under `limit`, timing it.
pub async fn timed<T>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = Result<T, ProbeError>>,
) -> Probed<T> {
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

/// Gather every fact for one diagnosis. Netlink facts come first (a few milliseconds)
/// because the DNS reverse lookups and gateway pings need the host's addresses and
/// routes; everything after runs concurrently.
pub async fn gather(opts: &Options) -> Facts {
    let limit = opts.timeout;
    let host = host::host_facts();
    let (links, routes, neighbours) = netlink::gather(limit).await;

    let sysctl_fut = blocking(limit, "sysctl", sysctl::read_sysctls);
    let sysctl_files_fut = blocking(limit, "sysctl files", sysctl::read_config_files);
    let listeners_fut = blocking(limit, "sock_diag", listeners::listening_sockets);
    let web_fut = blocking(limit, "web server", web::web_servers);
    let dns_fut = dns::gather(opts, links.value(), routes.value());
    let ping_fut = ping::gateways(opts, routes.value(), links.value());

    let (sysctl, sysctl_files, listeners, web, dns, gateway_pings) = tokio::join!(
        sysctl_fut,
        sysctl_files_fut,
        listeners_fut,
        web_fut,
        dns_fut,
        ping_fut
    );

    Facts {
        host,
        links,
        routes,
        neighbours,
        sysctl,
        sysctl_files,
        listeners,
        web,
        dns,
        gateway_pings,
    }
}

pub(crate) fn io_error(what: &str, e: &std::io::Error) -> ProbeError {
    let kind = match e.kind() {
        std::io::ErrorKind::PermissionDenied => ProbeErrorKind::Permission,
        std::io::ErrorKind::NotFound => ProbeErrorKind::Missing,
        _ => ProbeErrorKind::Failed,
    };
    ProbeError::new(kind, format!("{what}: {e}"))
}
