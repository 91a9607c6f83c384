//! NetworkManager's keyfile connections (nm-settings-keyfile(5)): the GLib keyfile of
//! one connection, `[connection]` (`id`, `interface-name`, `autoconnect`) and `[ipv6]`
//! (`method`, `addressN`/`addresses` with an optional gateway after a comma,
//! `gateway`, `routeN`). A connection with `autoconnect=false` is not brought up at
//! boot; one without `interface-name` may come up on any device.

use super::ini::{boolean, entries};
use super::{cloud_init_marked, parse_net};
use crate::facts::Place;
use crate::facts::netconf::{DeclaredAddr, DeclaredRoute, IfaceConfig};
use crate::sanitize::clean;
use std::net::IpAddr;
use std::path::Path;

pub const DIRS: [&str; 2] = [
    "/etc/NetworkManager/system-connections",
    "/usr/lib/NetworkManager/system-connections",
];

const MAX_ITEMS: usize = 256;

/// What the connection declares, or `None` when it does not come up at boot.
pub fn parse(path: &Path, text: &str) -> Option<IfaceConfig> {
    let mut cfg = IfaceConfig {
        name: "*".into(),
        id: path
            .file_stem()
            .map(|n| clean(&n.to_string_lossy()))
            .unwrap_or_default(),
        at: Place {
            file: path.to_path_buf(),
            line: 1,
        },
        addresses: Vec::new(),
        routes: Vec::new(),
        accept_ra: false,
        dhcp6: false,
        cloud_init: cloud_init_marked(path, text),
    };
    let mut autoconnect = true;
    let mut method = String::from("auto");
    let mut gateway: Option<(IpAddr, usize)> = None;
    for e in entries(text, false) {
        let v = e.value.as_str();
        match (e.section, e.key) {
            ("connection", "id") => cfg.id = clean(v),
            ("connection", "interface-name") => {
                cfg.name = clean(v);
                cfg.at.line = e.line;
            }
            ("connection", "autoconnect") => autoconnect = boolean(v).unwrap_or(true),
            ("ipv6", "method") => method = v.to_owned(),
            ("ipv6", "gateway") => gateway = v.parse().ok().map(|g| (g, e.line)),
            ("ipv6", key) if key.starts_with("address") => {
                // `address1=2001:db8::10/64,2001:db8::1`; `addresses=a/64;b/64;`
                for item in v.split(';').filter(|s| !s.trim().is_empty()) {
                    let mut parts = item.split(',');
                    let addr = parts.next().unwrap_or("").trim();
                    // Without a prefix length the address stands alone (/128).
                    let net = parse_net(addr).or_else(|| {
                        addr.parse::<std::net::Ipv6Addr>()
                            .ok()
                            .and_then(|a| ipnet::IpNet::new(a.into(), 128).ok())
                    });
                    if let Some(net) = net.filter(|n| n.addr().is_ipv6())
                        && cfg.addresses.len() < MAX_ITEMS
                    {
                        cfg.addresses.push(DeclaredAddr::new(net, path, e.line));
                    }
                    if let Some(g) = parts.next().and_then(|g| g.trim().parse().ok()) {
                        gateway = gateway.or(Some((g, e.line)));
                    }
                }
            }
            ("ipv6", key) if key.starts_with("route") && !key.contains('_') => {
                // `route1=::/0,fe80::1,100` or `route1=2001:db8:9::/48,2001:db8::1`
                let mut parts = v.split(',');
                let dst = parts.next().and_then(|d| parse_net(d.trim()));
                let gw: Option<IpAddr> = parts.next().and_then(|g| g.trim().parse().ok());
                if let Some(d) = dst.filter(|d| d.addr().is_ipv6())
                    && cfg.routes.len() < MAX_ITEMS
                {
                    cfg.routes.push(DeclaredRoute {
                        dst: (d.prefix_len() > 0).then_some(d),
                        gateway: gw,
                        on_link: false,
                        at: Place {
                            file: path.to_path_buf(),
                            line: e.line,
                        },
                    });
                }
            }
            _ => {}
        }
    }
    if !autoconnect || matches!(method.as_str(), "ignore" | "disabled") {
        return None;
    }
    if let Some((g, line)) = gateway {
        cfg.routes.push(DeclaredRoute::default_via(g, path, line));
    }
    cfg.accept_ra = method == "auto";
    cfg.dhcp6 = matches!(method.as_str(), "auto" | "dhcp");
    Some(cfg)
}
