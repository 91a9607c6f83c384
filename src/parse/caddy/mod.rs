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

use super::normalize_lexically;
use crate::facts::servers::{BindAddr, CaddyListen, Families};
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::net::IpAddr;
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

/// Where the admin endpoint listens: `admin ADDRESS` of the Caddyfile's global options
/// (or the JSON's `admin.listen`), else `CADDY_ADMIN` from the process's environment,
/// else `localhost:2019`. `None` when it is off.
pub fn admin_endpoint(
    configured: Option<&str>,
    off: bool,
    env: &BTreeMap<String, String>,
) -> Option<String> {
    if off {
        return None;
    }
    Some(
        configured
            .or(env.get("CADDY_ADMIN").map(String::as_str))
            .unwrap_or(DEFAULT_ADMIN)
            .to_owned(),
    )
}

/// Caddy's network address, `[network/]host[:port[-port]]`: `:443`, `tcp4/0.0.0.0`,
/// `[::1]:8080`, `unix//run/caddy.sock`, `localhost:80-81`. The port may be missing (a
/// `bind` address takes the site's).
pub fn listen_addr(raw: &str) -> Result<CaddyListen, String> {
    let shown = clean(raw);
    let (network, rest) = match raw.split_once('/') {
        Some((n, r)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_alphanumeric()) => {
            (n.to_ascii_lowercase(), r)
        }
        _ => ("tcp".to_owned(), raw),
    };
    if network.starts_with("unix") || network.starts_with("fd") {
        return Ok(CaddyListen {
            raw: shown,
            network: clean(&network),
            addr: BindAddr::Other(clean(rest)),
            port_first: None,
            port_last: None,
            families: Families::NotIp,
        });
    }
    let (host, ports) = if let Some(inner) = rest.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or("missing ']'")?;
        match after {
            "" => (h, None),
            a => (h, Some(a.strip_prefix(':').ok_or("invalid address")?)),
        }
    } else {
        match rest.rsplit_once(':') {
            // Unbracketed IPv6 without a port.
            Some((h, _)) if h.contains(':') => (rest, None),
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let (first, last) = match ports {
        None => (None, None),
        Some(p) => {
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            let (a, b) = (port(a)?, port(b)?);
            if b < a {
                return Err(format!("invalid port range '{}'", clean(p)));
            }
            (Some(a), Some(b))
        }
    };
    let addr = match host {
        "" => BindAddr::Unspecified,
        h => match h.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => BindAddr::V4(ip),
            Ok(IpAddr::V6(ip)) => BindAddr::V6(ip),
            Err(_) => BindAddr::Host(clean(h)),
        },
    };
    let forced = match network.as_str() {
        "tcp4" | "udp4" | "ip4" => Some(false),
        "tcp6" | "udp6" | "ip6" => Some(true),
        _ => None,
    };
    let families = match (&addr, forced) {
        (BindAddr::V4(_), Some(true)) | (BindAddr::V6(_), Some(false)) => {
            return Err(format!("'{shown}' is not of its network's family"));
        }
        (_, Some(false)) => Families::Ipv4,
        (_, Some(true)) => Families::Ipv6,
        (BindAddr::Unspecified, None) => Families::Both,
        (BindAddr::V4(ip), None) if ip.is_unspecified() => Families::Both,
        (BindAddr::V6(ip), None) if ip.is_unspecified() => Families::Both,
        (BindAddr::V4(_), None) => Families::Ipv4,
        (BindAddr::V6(ip), None) if ip.to_ipv4_mapped().is_some() => Families::Ipv4,
        (BindAddr::V6(_), None) => Families::Ipv6,
        (BindAddr::Host(_), None) => Families::OfResolvedName,
        (BindAddr::Other(_), None) => Families::NotIp,
    };
    Ok(CaddyListen {
        raw: shown,
        network: clean(&network),
        addr,
        port_first: first,
        port_last: last,
        families,
    })
}

fn port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if s.len() <= 5 => Ok(p),
        _ => Err(format!("invalid port '{}'", clean(s))),
    }
}

#[cfg(test)]
mod tests;
