//! netplan's YAML (netplan(5)): the files of `/lib/netplan`, `/etc/netplan` and
//! `/run/netplan` merged as `netplan generate` merges them. A name in `/run` shadows
//! the same name in `/etc`, which shadows `/lib`; the winners are read in the order of
//! their names, whatever their directory. A later file adds keys to a device or
//! replaces them, and appends to its `addresses` and `routes` (netplan 0.106 generates
//! both files' addresses). Only the IPv6 settings are kept.

use super::{cloud_init_marked, line_of, parse_net};
use crate::facts::Place;
use crate::facts::netconf::{DeclaredAddr, DeclaredRoute, IfaceConfig};
use crate::sanitize::clean;
use serde_norway::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub const DIRS: [&str; 3] = ["/lib/netplan", "/etc/netplan", "/run/netplan"];

/// The device kinds under `network:` that carry addresses.
const KINDS: [&str; 9] = [
    "ethernets",
    "bonds",
    "bridges",
    "vlans",
    "wifis",
    "tunnels",
    "vrfs",
    "dummy-devices",
    "modems",
];

/// Most devices kept from all files.
const MAX_DEVICES: usize = 1024;
/// Most addresses or routes kept per device.
const MAX_ITEMS: usize = 256;

/// The merged configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Netplan {
    /// `networkd` unless a file says `renderer: NetworkManager`.
    pub renderer: String,
    pub interfaces: Vec<IfaceConfig>,
    pub problems: Vec<String>,
}

/// Which files are read, in order, from `(directory, file names)` listings.
pub fn file_order(listing: &[(PathBuf, Vec<String>)]) -> Vec<PathBuf> {
    let mut winners: BTreeMap<&str, PathBuf> = BTreeMap::new();
    // DIRS are in rising priority: a later directory's name replaces an earlier one's.
    for (dir, names) in listing {
        for n in names {
            if n.ends_with(".yaml") && !n.starts_with('.') {
                winners.insert(n, dir.join(n));
            }
        }
    }
    winners.into_values().collect()
}

struct Device {
    cfg: IfaceConfig,
    accept_ra: Option<bool>,
    renderer: Option<String>,
}

/// Merge `files` (in [`file_order`]) into the configuration netplan generates from.
pub fn parse(files: &[(PathBuf, String)]) -> Netplan {
    let mut out = Netplan {
        renderer: "networkd".into(),
        ..Netplan::default()
    };
    let mut devices: Vec<Device> = Vec::new();
    for (path, text) in files {
        let doc: Value = match serde_norway::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                out.problems
                    .push(clean(&format!("{}: not valid YAML: {e}", path.display())));
                continue;
            }
        };
        let Some(net) = doc.get("network") else {
            continue;
        };
        if let Some(r) = net.get("renderer").and_then(Value::as_str) {
            out.renderer = clean(r);
        }
        let cloud = cloud_init_marked(path, text);
        for kind in KINDS {
            let Some(Value::Mapping(devs)) = net.get(kind) else {
                continue;
            };
            let kind_renderer = devs
                .get("renderer")
                .and_then(Value::as_str)
                .map(str::to_owned);
            for (id, body) in devs {
                let Some(id) = id.as_str() else { continue };
                if id == "renderer" {
                    continue;
                }
                let idx = match devices.iter().position(|d| d.cfg.id == id) {
                    Some(i) => i,
                    None if devices.len() >= MAX_DEVICES => {
                        out.problems.push(format!(
                            "more than {MAX_DEVICES} netplan devices, the rest not read"
                        ));
                        break;
                    }
                    None => {
                        devices.push(Device {
                            cfg: IfaceConfig {
                                name: clean(id),
                                id: clean(id),
                                at: Place {
                                    file: path.to_path_buf(),
                                    line: line_of(text, &format!("{id}:"), 0),
                                },
                                addresses: Vec::new(),
                                routes: Vec::new(),
                                accept_ra: false,
                                dhcp6: false,
                                cloud_init: cloud,
                            },
                            accept_ra: None,
                            renderer: kind_renderer.clone(),
                        });
                        devices.len() - 1
                    }
                };
                merge(
                    &mut devices[idx],
                    id,
                    body,
                    path,
                    text,
                    cloud,
                    &mut out.problems,
                );
            }
        }
    }
    for mut d in devices {
        let renderer = d.renderer.unwrap_or_else(|| out.renderer.clone());
        // Without `accept-ra`, networkd honours router advertisements by default;
        // netplan's NetworkManager connections use method `auto` only with dhcp6.
        d.cfg.accept_ra = d
            .accept_ra
            .unwrap_or(renderer != "NetworkManager" || d.cfg.dhcp6);
        out.interfaces.push(d.cfg);
    }
    out
}

fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => super::ini::boolean(s),
        _ => None,
    }
}

fn merge(
    d: &mut Device,
    id: &str,
    body: &Value,
    path: &Path,
    text: &str,
    cloud: bool,
    problems: &mut Vec<String>,
) {
    let cfg = &mut d.cfg;
    let at = line_of(text, &format!("{id}:"), 0);
    cfg.cloud_init |= cloud;
    if let Some(r) = body.get("renderer").and_then(Value::as_str) {
        d.renderer = Some(clean(r));
    }
    // The kernel name: `set-name` renames the matched device; a `match: name:` names it
    // (possibly a glob); else the id is the name.
    if let Some(n) = body.get("set-name").and_then(Value::as_str) {
        cfg.name = clean(n);
    } else if let Some(n) = body
        .get("match")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
    {
        cfg.name = clean(n);
    }
    if let Some(b) = flag(body.get("dhcp6")) {
        cfg.dhcp6 = b;
    }
    if let Some(b) = flag(body.get("accept-ra")) {
        d.accept_ra = Some(b);
    }
    let mut addrs: Vec<String> = Vec::new();
    match body.get("addresses") {
        Some(Value::Sequence(seq)) => {
            for a in seq {
                match a {
                    Value::String(s) => addrs.push(s.clone()),
                    // `- "2001:db8::1/64": {lifetime: 0}`
                    Value::Mapping(m) => {
                        addrs.extend(m.keys().filter_map(|k| k.as_str().map(str::to_owned)))
                    }
                    _ => {}
                }
            }
        }
        Some(_) => problems.push(clean(&format!(
            "{}:{at}: {id}: addresses is not a list",
            path.display()
        ))),
        None => {}
    }
    for a in addrs {
        if cfg.addresses.len() >= MAX_ITEMS {
            break;
        }
        match parse_net(&a) {
            Some(net) if net.addr().is_ipv6() => {
                cfg.addresses
                    .push(DeclaredAddr::new(net, path, line_of(text, &a, at)))
            }
            Some(_) => {}
            None => problems.push(clean(&format!(
                "{}:{}: {id}: {a:?} is not an address with a prefix length",
                path.display(),
                line_of(text, &a, at)
            ))),
        }
    }
    if let Some(gw) = body.get("gateway6").and_then(Value::as_str)
        && let Ok(g) = gw.parse::<IpAddr>()
    {
        cfg.routes.push(DeclaredRoute::default_via(
            g,
            path,
            line_of(text, "gateway6", at),
        ));
    }
    let Some(Value::Sequence(routes)) = body.get("routes") else {
        return;
    };
    for r in routes {
        if cfg.routes.len() >= MAX_ITEMS {
            break;
        }
        let via = r.get("via").and_then(Value::as_str);
        let to = r.get("to").and_then(Value::as_str).unwrap_or("");
        let gateway = via.and_then(|v| v.parse::<IpAddr>().ok());
        let dst = match to {
            "default" | "::/0" => None,
            t => match parse_net(t) {
                Some(n) if n.prefix_len() == 0 => None,
                Some(n) => Some(n),
                None => continue,
            },
        };
        // `to: default` is IPv6 when its gateway is; a destination names its family.
        let v6 = dst.map_or_else(
            || gateway.is_some_and(|g| g.is_ipv6()) || to == "::/0",
            |n| n.addr().is_ipv6(),
        );
        if !v6 {
            continue;
        }
        // The `via:` line: a gateway may also be the start of an address above it.
        let line = match via {
            Some(v) => text
                .lines()
                .enumerate()
                .skip(at.saturating_sub(1))
                .find(|(_, l)| {
                    l.contains("via") && l.trim_end().trim_end_matches(['"', '\'']).ends_with(v)
                })
                .map_or(at, |(n, _)| n + 1),
            None => line_of(text, to, at),
        };
        cfg.routes.push(DeclaredRoute {
            dst,
            gateway,
            on_link: flag(r.get("on-link")).unwrap_or(false),
            at: Place {
                file: path.to_path_buf(),
                line,
            },
        });
    }
}
