//! Caddy: the Caddyfile as written (`caddyfile`), the JSON configuration its admin
//! endpoint reports (`json`), and what both share: Caddy's network addresses, the
//! command line, and where the admin endpoint is.
//!
//! Families, as Caddy binds: it listens through Go's `net` package with network `tcp`
//! unless the address names `tcp4`/`tcp6`, and Go opens an IPv6 socket with IPV6_V6ONLY
//! off for any wildcard address, `0.0.0.0` included (seen with Caddy 2.6.2: `bind
//! 0.0.0.0` accepts IPv6 clients); only `tcp4/0.0.0.0` is IPv4 only.

pub mod caddyfile;
pub mod json;

use super::addr::{self, Wildcards};
use super::normalize_lexically;
use crate::facts::servers::{BindAddr, CaddySettings, Endpoint, Families};
use crate::model::Family;
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Caddy's admin endpoint when nothing else is said.
pub const DEFAULT_ADMIN: &str = "localhost:2019";

/// The configuration a `caddy run`/`caddy start` names: `--config FILE` and
/// `--adapter NAME`, or the `Caddyfile` of its working directory `cwd`, which Caddy
/// loads when no `--config` is given (`/etc/caddy/Caddyfile` when `cwd` is unknown). `None` for other subcommands (`file-server`,
/// `reverse-proxy`), whose sockets come from their flags.
pub fn invocation(cmdline: &[String], cwd: Option<&Path>) -> Option<(PathBuf, Option<String>)> {
    let args: Vec<&str> = cmdline
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let sub = args.iter().skip(1).find(|a| !a.starts_with('-'))?;
    if !matches!(*sub, "run" | "start") {
        return None;
    }
    let value = |name: &str| -> Option<String> {
        let mut it = args.iter();
        let mut found = None;
        while let Some(a) = it.next() {
            if let Some(v) = a
                .strip_prefix("--")
                .or_else(|| a.strip_prefix('-'))
                .and_then(|f| f.strip_prefix(name))
            {
                if let Some(v) = v.strip_prefix('=') {
                    found = Some(v.to_owned());
                } else if v.is_empty() {
                    found = it.next().map(|s| (*s).to_owned());
                }
            }
        }
        found
    };
    let (config, explicit) = match (value("config"), cwd) {
        (Some(c), cwd) => (
            normalize_lexically(&cwd.unwrap_or(Path::new("/")).join(c)),
            true,
        ),
        (None, Some(cwd)) => (cwd.join("Caddyfile"), false),
        // Without the working directory (another user's process, without root), the
        // packages' place stands in.
        (None, None) => (PathBuf::from("/etc/caddy/Caddyfile"), false),
    };
    let adapter = value("adapter").or_else(|| {
        let name = config.file_name()?.to_string_lossy().to_ascii_lowercase();
        (name.starts_with("caddyfile") || name.ends_with(".caddyfile") || !explicit)
            .then(|| "caddyfile".to_owned())
    });
    Some((config, adapter.map(|a| clean(&a))))
}

/// Where the admin endpoint listens: as the configuration sets it, else `CADDY_ADMIN`
/// from the process's environment, else `localhost:2019`. `None` when it is off.
pub fn admin_endpoint(settings: &CaddySettings, env: &BTreeMap<String, String>) -> Option<String> {
    if settings.admin_off {
        return None;
    }
    Some(
        settings
            .admin
            .as_deref()
            .or(env.get("CADDY_ADMIN").map(String::as_str))
            .unwrap_or(DEFAULT_ADMIN)
            .to_owned(),
    )
}

/// Caddy's network address, `[network/]host[:port[-port]]`: `:443`, `tcp4/0.0.0.0`,
/// `[::1]:8080`, `unix//run/caddy.sock`, `localhost:80-81`. The port may be missing (a
/// `bind` address takes the site's). The network is the endpoint's prefix.
pub fn listen_addr(raw: &str) -> Result<Endpoint, String> {
    let (network, rest) = match raw.split_once('/') {
        Some((n, r)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_alphanumeric()) => {
            (Some(n.to_ascii_lowercase()), r)
        }
        _ => (None, raw),
    };
    let network = network.as_deref();
    if network.is_some_and(|n| n.starts_with("unix") || n.starts_with("fd")) {
        return Ok(addr::not_ip(raw, network, rest));
    }
    let (host, ports) = addr::host_maybe_port(rest)?;
    let ports = ports
        .map(|p| addr::port_range(p, addr::any_port))
        .transpose()?;
    let bound = match host {
        "" => BindAddr::Unspecified,
        h => addr::ip_or_host(h),
    };
    let forced = match network {
        Some("tcp4" | "udp4" | "ip4") => Some(Family::V4),
        Some("tcp6" | "udp6" | "ip6") => Some(Family::V6),
        _ => None,
    };
    let families = match (&bound, forced) {
        (BindAddr::V4(_), Some(Family::V6)) | (BindAddr::V6(_), Some(Family::V4)) => {
            return Err(format!("'{}' is not of its network's family", clean(raw)));
        }
        // Go sets IPV6_V6ONLY on a `tcp6` socket and opens `tcp4` ones as IPv4.
        (_, Some(f)) => f.pick(Families::Ipv4, Families::Ipv6),
        // Go's `tcp` on any wildcard is one dual-stack socket.
        (_, None) => addr::families(&bound, &Wildcards::BOTH),
    };
    Ok(addr::endpoint(raw, network, bound, ports, families))
}

#[cfg(test)]
mod tests;
