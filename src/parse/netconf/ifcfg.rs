//! RHEL's `ifcfg-NAME` files (the initscripts' sysconfig.txt, read by the legacy network
//! service and by NetworkManager's ifcfg-rh plugin): shell-style `KEY=value` lines
//! (`DEVICE`, `ONBOOT`, `IPV6INIT`, `IPV6ADDR`, `IPV6ADDR_SECONDARIES`,
//! `IPV6_DEFAULTGW` as `ADDR[%DEV]`, `IPV6_AUTOCONF`, `DHCPV6C`), and `route6-NAME`
//! with one `ip -6 route` argument list a line.

use super::{cloud_init_marked, parse_net};
use crate::facts::Place;
use crate::facts::netconf::{DeclaredAddr, DeclaredRoute, IfaceConfig};
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

pub const DIR: &str = "/etc/sysconfig/network-scripts";

/// `KEY=value` with one level of shell quoting removed, and each key's line.
fn assignments(text: &str) -> BTreeMap<String, (String, usize)> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v);
        out.insert(k.trim().to_owned(), (v.to_owned(), n + 1));
    }
    out
}

fn yes(v: Option<&(String, usize)>) -> Option<bool> {
    v.map(|(v, _)| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "1"))
}

/// What `ifcfg-NAME` declares, with the routes of its `route6-NAME` (`route6`:
/// that file's path and text); `None` when it is not brought up at boot.
pub fn parse(path: &Path, text: &str, route6: Option<(&Path, &str)>) -> Option<IfaceConfig> {
    let a = assignments(text);
    let fallback = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("ifcfg-"))
        .unwrap_or("");
    let name = a.get("DEVICE").map_or(fallback, |(v, _)| v.as_str());
    if yes(a.get("ONBOOT")) == Some(false) {
        return None;
    }
    let mut cfg = IfaceConfig {
        name: clean(name),
        id: clean(a.get("NAME").map_or(name, |(v, _)| v.as_str())),
        at: Place {
            file: path.to_path_buf(),
            line: a.get("DEVICE").map_or(1, |(_, l)| *l),
        },
        addresses: Vec::new(),
        routes: Vec::new(),
        accept_ra: false,
        dhcp6: false,
        cloud_init: cloud_init_marked(path, text),
    };
    if yes(a.get("IPV6INIT")) != Some(true) {
        return Some(cfg);
    }
    let mut push = |s: &str, line: usize| {
        if let Some(net) = parse_net(s).filter(|n| n.addr().is_ipv6()) {
            cfg.addresses.push(DeclaredAddr::new(net, path, line));
        }
    };
    if let Some((v, l)) = a.get("IPV6ADDR") {
        push(v, *l);
    }
    if let Some((v, l)) = a.get("IPV6ADDR_SECONDARIES") {
        for s in v.split_whitespace().take(256) {
            push(s, *l);
        }
    }
    if let Some((v, l)) = a.get("IPV6_DEFAULTGW") {
        let gw = v.split('%').next().unwrap_or("");
        if let Ok(g) = gw.parse::<IpAddr>() {
            cfg.routes.push(DeclaredRoute::default_via(g, path, *l));
        }
    }
    let forwarding = yes(a.get("IPV6FORWARDING")) == Some(true);
    cfg.accept_ra = yes(a.get("IPV6_AUTOCONF")).unwrap_or(!forwarding);
    cfg.dhcp6 = yes(a.get("DHCPV6C")) == Some(true);
    if let Some((rpath, rtext)) = route6 {
        for (n, line) in rtext.lines().enumerate().take(1024) {
            let w: Vec<&str> = line.split_whitespace().collect();
            let (dst, rest) = match w.as_slice() {
                ["default" | "::/0", rest @ ..] => (None, rest),
                [d, rest @ ..] => match parse_net(d) {
                    Some(n) if n.addr().is_ipv6() => (Some(n), rest),
                    _ => continue,
                },
                [] => continue,
            };
            let gateway = match rest {
                ["via", g, ..] => g.parse().ok(),
                _ => None,
            };
            cfg.routes.push(DeclaredRoute {
                dst,
                gateway,
                on_link: rest.contains(&"onlink"),
                at: Place {
                    file: rpath.to_path_buf(),
                    line: n + 1,
                },
            });
        }
    }
    Some(cfg)
}
