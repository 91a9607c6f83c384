//! systemd-networkd's `.network` files (systemd.network(5)). A name in a directory
//! earlier in the search path hides the same name later; an empty file or a link to
//! `/dev/null` masks it. Drop-ins (`NAME.network.d/*.conf`, from every directory, a
//! name earlier in the path winning) apply after the file, in name order. A link takes
//! the first file, in name order, whose `[Match]` fits it: the check keeps that order.

use super::ini::{boolean, entries};
use super::{cloud_init_marked, parse_net};
use crate::facts::Place;
use crate::facts::netconf::{DeclaredAddr, DeclaredRoute, IfaceConfig};
use crate::sanitize::clean;
use std::net::IpAddr;
use std::path::PathBuf;

/// The search path, highest priority first.
pub const DIRS: [&str; 5] = [
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/local/lib/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
];

const MAX_ITEMS: usize = 256;

/// One `.network` file with its drop-ins, each `(path, text)`, the file first.
pub type Unit = Vec<(PathBuf, String)>;

/// What one `.network` unit declares; `None` when it is masked (empty).
pub fn parse(unit: &Unit) -> Option<IfaceConfig> {
    let (file, first) = unit.first()?;
    if first.trim().is_empty() {
        return None;
    }
    let mut names: Vec<String> = Vec::new();
    let mut cfg = IfaceConfig {
        name: String::new(),
        id: file
            .file_name()
            .map(|n| clean(&n.to_string_lossy()))
            .unwrap_or_default(),
        at: Place {
            file: file.clone(),
            line: 1,
        },
        addresses: Vec::new(),
        routes: Vec::new(),
        accept_ra: true,
        dhcp6: false,
        cloud_init: cloud_init_marked(file, first),
    };
    let mut forwarding = false;
    let mut accept_ra: Option<bool> = None;
    for (path, text) in unit {
        // A [Route] section is one route: its settings gather until the next section.
        let mut route: Option<DeclaredRoute> = None;
        let mut last_section = 0;
        for e in entries(text, true) {
            if e.section_no != last_section {
                finish(&mut cfg, route.take());
                last_section = e.section_no;
            }
            let v = e.value.as_str();
            match (e.section, e.key) {
                ("Match", "Name") => {
                    if v.is_empty() {
                        names.clear();
                    } else {
                        names.extend(v.split_whitespace().map(clean));
                    }
                    cfg.at.line = e.line;
                }
                ("Network", "Address") | ("Address", "Address") => {
                    if let Some(net) = parse_net(v).filter(|n| n.addr().is_ipv6())
                        && cfg.addresses.len() < MAX_ITEMS
                    {
                        cfg.addresses.push(DeclaredAddr::new(net, path, e.line));
                    }
                }
                ("Network", "Gateway") => {
                    if let Ok(g) = v.parse::<IpAddr>() {
                        finish(
                            &mut cfg,
                            Some(DeclaredRoute {
                                dst: None,
                                gateway: Some(g),
                                on_link: false,
                                at: Place {
                                    file: path.clone(),
                                    line: e.line,
                                },
                            }),
                        );
                    }
                }
                ("Network", "DHCP") => {
                    cfg.dhcp6 = matches!(v, "ipv6") || boolean(v) == Some(true);
                }
                ("Network", "IPv6AcceptRA") | ("Network", "IPv6AcceptRouterAdvertisements") => {
                    accept_ra = boolean(v);
                }
                ("Network", "IPForward" | "IPv6Forwarding") => {
                    forwarding = matches!(v, "ipv6") || boolean(v) == Some(true);
                }
                ("Network", "LinkLocalAddressing") => {
                    if matches!(v, "no" | "ipv4" | "false") {
                        accept_ra = accept_ra.or(Some(false));
                    }
                }
                ("Route", key) => {
                    let r = route.get_or_insert_with(|| DeclaredRoute {
                        dst: None,
                        gateway: None,
                        on_link: false,
                        at: Place {
                            file: path.clone(),
                            line: e.line,
                        },
                    });
                    match key {
                        "Gateway" => r.gateway = v.parse().ok(),
                        "Destination" => r.dst = parse_net(v).filter(|n| n.prefix_len() > 0),
                        "GatewayOnLink" | "GatewayOnlink" => {
                            r.on_link = boolean(v).unwrap_or(false)
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        finish(&mut cfg, route);
    }
    // Without a `Name=`, other match keys (type, MAC, driver) decide: any name may fit.
    cfg.name = if names.is_empty() {
        "*".into()
    } else {
        names.join(" ")
    };
    // networkd honours RAs unless told not to, or unless the link forwards.
    cfg.accept_ra = accept_ra.unwrap_or(!forwarding);
    Some(cfg)
}

fn finish(cfg: &mut IfaceConfig, r: Option<DeclaredRoute>) {
    let Some(r) = r else { return };
    let v6 = match (r.dst, r.gateway) {
        (Some(d), _) => d.addr().is_ipv6(),
        (None, Some(g)) => g.is_ipv6(),
        (None, None) => false,
    };
    if v6 && cfg.routes.len() < MAX_ITEMS {
        cfg.routes.push(r);
    }
}

/// Whether networkd's `Name=` list (globs, `!` negating the whole list) fits `name`.
pub fn name_matches(list: &str, name: &str) -> bool {
    let globs: Vec<&str> = list.split_whitespace().collect();
    if globs.is_empty() {
        return true;
    }
    let (invert, globs): (bool, Vec<&str>) = match globs[0].strip_prefix('!') {
        Some(first) => (
            true,
            std::iter::once(first)
                .chain(globs[1..].iter().copied())
                .collect(),
        ),
        None => (false, globs),
    };
    let hit = globs
        .iter()
        .any(|g| crate::parse::glob_match(g.as_bytes(), name.as_bytes()));
    hit != invert
}
