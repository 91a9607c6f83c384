//! What this host's services need beyond the site (`address.ipv4_dependencies`): the
//! hosts file, the outbound TCP connections to IPv4 peers with their owners, and the
//! package sources with the AAAA records of their hosts.

use super::{blocking, dns, listeners};
use crate::facts::deps::{Ipv4Deps, PackageSource};
use crate::facts::{ProbeError, ProbeErrorKind, Probed};
use crate::options::Options;
use crate::parse::source::{ConfigSource, FsSource, Limits, ReadError};
use crate::parse::{apt, hosts};
use std::net::IpAddr;
use std::path::Path;

/// A hosts file or apt list larger than this is not one an admin keeps by hand.
const MAX_FILE_BYTES: usize = 1 << 20;

pub async fn gather(opts: &Options) -> Ipv4Deps {
    let limit = opts.timeout;
    let (hosts, connections, sources) = tokio::join!(
        blocking(limit, "/etc/hosts", read_hosts),
        blocking(limit, "sock_diag", listeners::outbound_ipv4_connections),
        package_sources(opts),
    );
    Ipv4Deps {
        hosts,
        connections,
        package_sources: sources,
    }
}

fn source() -> FsSource {
    FsSource::new(&Limits {
        max_file_bytes: MAX_FILE_BYTES,
        ..Limits::default()
    })
}

fn read_hosts() -> Result<Vec<crate::facts::deps::HostsEntry>, ProbeError> {
    let path = Path::new("/etc/hosts");
    match source().read(path) {
        Ok(text) => Ok(hosts::parse(path, &text)),
        Err(ReadError::NotFound) => Ok(Vec::new()),
        Err(e) => Err(ProbeError::new(
            ProbeErrorKind::Failed,
            format!("/etc/hosts: {}", e.describe()),
        )),
    }
}

/// apt's sources, each host looked up once (a literal address needs no lookup).
async fn package_sources(opts: &Options) -> Probed<Vec<PackageSource>> {
    let limit = opts.timeout;
    let read = blocking(limit, "apt sources", || {
        let (uris, problems) = apt::load(&source(), Path::new("/etc/apt"));
        // A host with no apt (another distribution) has nothing to say here; an
        // unreadable list is worth saying, but not at the cost of the ones read.
        if uris.is_empty() && !problems.is_empty() {
            return Err(ProbeError::new(ProbeErrorKind::Failed, problems.join("; ")));
        }
        Ok(uris)
    })
    .await;
    let uris = match read.result {
        Ok(u) => u,
        Err(e) => {
            return Probed {
                result: Err(e),
                ms: read.ms,
            };
        }
    };
    let mut names: Vec<String> = uris
        .iter()
        .filter(|u| u.host.parse::<IpAddr>().is_err())
        .map(|u| u.host.clone())
        .collect();
    names.sort();
    names.dedup();
    let answers = dns::aaaa_of(opts, &names).await;
    let out = uris
        .into_iter()
        .map(|u| {
            let aaaa = match names.binary_search(&u.host) {
                Ok(i) => answers
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| Probed::err(ProbeErrorKind::Failed, "no lookup made")),
                Err(_) => Probed::ok(Vec::new()),
            };
            PackageSource {
                at: u.at,
                uri: u.uri,
                host: u.host,
                aaaa,
            }
        })
        .collect();
    Probed {
        result: Ok(out),
        ms: read.ms,
    }
}
