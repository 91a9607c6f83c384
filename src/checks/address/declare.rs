//! The fix for an IPv6 address or default route that does not come back at boot: the
//! exact declaration for the network configuration system in charge, built from
//! `assets/persist.toml` with this host's values, and the safe way to take it in.

use crate::assets::snippet;
use crate::facts::netconf::{IfaceConfig, NetSystem};
use crate::model::Finding;
use std::net::IpAddr;
use std::path::Path;

/// What one interface needs declared.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub iface: String,
    /// Addresses with their prefix length (`2001:db8::10/64`).
    pub addrs: Vec<String>,
    /// The default route's gateway, and whether it lies outside every prefix of the
    /// interface (then it needs an on-link route).
    pub gateway: Option<(IpAddr, bool)>,
    /// Router advertisements must be accepted (a SLAAC address, an RA route).
    pub accept_ra: bool,
}

/// The netplan file to write: it must sort after the file that declares the device,
/// since a later file adds to an earlier one.
fn netplan_file(decl: Option<&IfaceConfig>) -> String {
    let name = decl
        .and_then(|d| d.at.file.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.as_str() < "90-ipv6.yaml" {
        "/etc/netplan/90-ipv6.yaml".into()
    } else {
        "/etc/netplan/99-zz-ipv6.yaml".into()
    }
}

/// Add the fix declaring `w` for `system` (`decl`: what it declares for the interface
/// now, if anything) to `fd`.
pub fn declare(fd: Finding, system: NetSystem, decl: Option<&IfaceConfig>, w: &Wanted) -> Finding {
    let iface = w.iface.as_str();
    let gw = |g: &IpAddr| g.to_string();
    match system {
        NetSystem::Netplan => {
            let mut body = String::new();
            if !w.addrs.is_empty() {
                body += &snippet("netplan_addresses", &[("addrs", &w.addrs.join(", "))]);
            }
            if w.accept_ra {
                body += &snippet("netplan_accept_ra", &[]);
            }
            if let Some((g, off)) = &w.gateway {
                body += &snippet("netplan_routes", &[]);
                body += &snippet("netplan_route", &[("gw", &gw(g))]);
                if *off {
                    body += &snippet("netplan_on_link", &[]);
                }
            }
            let file = netplan_file(decl);
            let declared_in = decl.map_or_else(
                || "the other files of /etc/netplan".to_string(),
                |d| d.at.file.display().to_string(),
            );
            fd.fix(
                "persist_netplan",
                &[
                    ("file", &file),
                    ("decl", &declared_in),
                    ("id", decl.map_or(iface, |d| d.id.as_str())),
                    ("body", &body),
                ],
            )
        }
        NetSystem::Networkd => {
            let mut body = String::new();
            let file = match decl {
                Some(d) => {
                    let name =
                        d.at.file
                            .file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default();
                    format!("/etc/systemd/network/{name}.d/60-ipv6.conf")
                }
                None => {
                    body += &snippet("networkd_match", &[("iface", iface)]);
                    format!("/etc/systemd/network/10-{iface}.network")
                }
            };
            if w.accept_ra {
                body += &snippet("networkd_accept_ra", &[]);
            }
            for a in &w.addrs {
                body += &snippet("networkd_address", &[("addr", a)]);
            }
            if let Some((g, off)) = &w.gateway {
                body += &snippet("networkd_route", &[("gw", &gw(g))]);
                if *off {
                    body += &snippet("networkd_on_link", &[]);
                }
            }
            let dir = Path::new(&file)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            fd.fix(
                "persist_networkd",
                &[("file", &file), ("dir", &dir), ("body", &body)],
            )
        }
        NetSystem::NetworkManager => {
            let conn = match decl {
                Some(d) => format!("'{}'", d.id.replace('\'', "'\\''")),
                None => snippet("nm_connection", &[("iface", iface)]),
            };
            let mut lines: Vec<String> = Vec::new();
            for a in &w.addrs {
                lines.push(snippet("nm_address", &[("conn", &conn), ("addr", a)]));
            }
            if w.accept_ra {
                lines.push(snippet("nm_accept_ra", &[("conn", &conn)]));
            }
            if let Some((g, off)) = &w.gateway {
                if *off {
                    lines.push(snippet("nm_host_route", &[("conn", &conn), ("gw", &gw(g))]));
                }
                lines.push(snippet("nm_gateway", &[("conn", &conn), ("gw", &gw(g))]));
            }
            fd.fix(
                "persist_nm",
                &[("conn", &conn), ("nmcli", &lines.join(" && \\\n  "))],
            )
        }
        NetSystem::Ifupdown => {
            let file = match decl {
                Some(d) if !d.cloud_init => d.at.file.display().to_string(),
                _ => crate::parse::netconf::ifupdown::INTERFACES.to_string(),
            };
            let mut body = String::new();
            if decl.is_none() {
                body += &snippet("ifupdown_auto", &[("iface", iface)]);
            }
            if w.accept_ra && w.addrs.is_empty() && w.gateway.is_none() {
                body += &snippet("ifupdown_auto_ra", &[("iface", iface)]);
            } else {
                body += &snippet("ifupdown_static", &[("iface", iface)]);
                for a in &w.addrs {
                    body += &snippet("ifupdown_address", &[("addr", a)]);
                }
                match &w.gateway {
                    Some((g, false)) => body += &snippet("ifupdown_gateway", &[("gw", &gw(g))]),
                    Some((g, true)) => {
                        body += &snippet("ifupdown_on_link", &[("gw", &gw(g)), ("iface", iface)])
                    }
                    None => {}
                }
            }
            fd.fix(
                "persist_ifupdown",
                &[("file", &file), ("iface", iface), ("body", &body)],
            )
        }
        NetSystem::Ifcfg => {
            let file = format!("{}/ifcfg-{iface}", crate::parse::netconf::ifcfg::DIR);
            let mut body = snippet("ifcfg_init", &[]);
            let has_primary = decl.is_some_and(|d| !d.addresses.is_empty());
            let mut addrs = w.addrs.iter();
            if !has_primary && let Some(a) = addrs.next() {
                body += &snippet("ifcfg_address", &[("addr", a)]);
            }
            let rest: Vec<&str> = addrs.map(String::as_str).collect();
            if !rest.is_empty() {
                body += &snippet("ifcfg_secondary", &[("addrs", &rest.join(" "))]);
            }
            if w.accept_ra {
                body += &snippet("ifcfg_accept_ra", &[]);
            }
            if let Some((g, _)) = &w.gateway {
                body += &snippet("ifcfg_gateway", &[("gw", &gw(g)), ("iface", iface)]);
            }
            fd.fix("persist_ifcfg", &[("file", &file), ("body", &body)])
        }
    }
}

/// The command that brings up what `system` declares for `iface`, safely where the
/// system allows it.
pub fn apply(system: NetSystem, iface: &str) -> String {
    let key = match system {
        NetSystem::Netplan => "apply_netplan",
        NetSystem::Networkd => "apply_networkd",
        NetSystem::NetworkManager => "apply_nm",
        NetSystem::Ifupdown => "apply_ifupdown",
        NetSystem::Ifcfg => "apply_ifcfg",
    };
    snippet(key, &[("iface", iface)])
}
