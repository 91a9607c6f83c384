//! The network configuration a host boots with, read the way each system reads it:
//! netplan, ifupdown, systemd-networkd, NetworkManager keyfiles, RHEL ifcfg files and
//! cloud-init's switch for its own network configuration. Which of them is in charge is
//! worked out from what is installed and enabled on disk ([`load`]), never assumed.
//!
//! The parsers are pure; [`load`] reads through a [`ConfigSource`] with the shared
//! bounds, so hostile, huge or special files (FIFOs) cannot stall it.

pub mod cloud_init;
pub mod ifcfg;
pub mod ifupdown;
mod ini;
pub mod keyfile;
pub mod netplan;
pub mod networkd;

use super::source::{ConfigSource, Limits, Reader};
use crate::facts::netconf::{BootNetwork, CloudInit, IfaceConfig, NetSystem, SystemConfig};
use crate::sanitize::clean;
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where `systemctl enable` leaves its links, and the unit files' own directories
/// (a unit linked to `/dev/null` there is masked).
const WANTS_ROOT: &str = "/etc/systemd/system";
/// Where netplan's systemd generator lives: installed netplan runs at every boot.
const NETPLAN_GENERATORS: [&str; 3] = [
    "/usr/lib/systemd/system-generators/netplan",
    "/lib/systemd/system-generators/netplan",
    "/usr/sbin/netplan",
];
/// sysvinit hosts start ifupdown from these.
const SYSV_NETWORKING: [&str; 2] = ["/etc/rcS.d", "/etc/rc2.d"];

/// An address with its prefix length (`2001:db8::1/64`).
pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    s.trim().parse().ok()
}

/// The 1-based line of the first occurrence of `needle` at or after line `from`
/// (1-based; 0 for anywhere), or `from` when it is not there.
pub(crate) fn line_of(text: &str, needle: &str, from: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map_or(from.max(1), |(n, _)| n + 1)
}

/// A file cloud-init wrote: its name says so, or a comment near its top does
/// ("This file is generated from information provided by the datasource", "Created
/// by cloud-init").
pub(crate) fn cloud_init_marked(path: &Path, text: &str) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.contains("cloud-init")
        || text
            .lines()
            .take(12)
            .any(|l| l.starts_with('#') && (l.contains("cloud-init") || l.contains("datasource")))
}

/// Units enabled (linked into a `.wants`/`.requires` directory of
/// `/etc/systemd/system`) and masked (linked to `/dev/null` there).
fn units(src: &dyn ConfigSource) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut enabled = BTreeSet::new();
    let mut masked = BTreeSet::new();
    for e in src.list_dir(Path::new(WANTS_ROOT)) {
        let Some(name) = e.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if (name.ends_with(".wants") || name.ends_with(".requires")) && src.is_dir(&e) {
            for w in src.list_dir(&e) {
                if let Some(n) = w.file_name() {
                    enabled.insert(n.to_string_lossy().into_owned());
                }
            }
        } else if src
            .read_link(&e)
            .is_some_and(|t| t == Path::new("/dev/null"))
        {
            masked.insert(name);
        }
    }
    (enabled, masked)
}

/// A system other than netplan (only netplan names a renderer). `why` is the first of
/// `reasons` that holds, else `otherwise`: what showed the system in charge, or why it
/// is not.
fn system_config(
    system: NetSystem,
    in_charge: bool,
    reasons: &[(bool, &str)],
    otherwise: &str,
    files: Vec<PathBuf>,
    interfaces: Vec<IfaceConfig>,
) -> SystemConfig {
    let why = reasons
        .iter()
        .find(|(holds, _)| *holds)
        .map_or(otherwise, |(_, w)| w);
    SystemConfig {
        system,
        in_charge,
        why: why.to_owned(),
        renderer: None,
        files,
        interfaces,
    }
}

fn exists(src: &dyn ConfigSource, path: &Path) -> bool {
    let dir = path.parent().unwrap_or(Path::new("/"));
    src.list_dir(dir).iter().any(|p| p == path)
}

/// Reads files for [`load`], recording those that only root may read.
struct Files<'a> {
    reader: Reader<'a>,
    unreadable: Vec<PathBuf>,
}

impl<'a> Files<'a> {
    fn read(&mut self, path: &Path) -> Option<String> {
        let text = self.reader.enter(path, None);
        if text.is_some() {
            self.reader.leave();
        } else if self
            .reader
            .problems
            .last()
            .is_some_and(|p| p.contains("ermission denied"))
        {
            // The reader words an unreadable file as an I/O problem; only its text
            // tells a permission problem apart.
            self.reader.problems.pop();
            self.unreadable.push(path.to_path_buf());
        }
        text
    }

    /// The sorted entries of `dir` whose names end with `suffix` (any when empty),
    /// hidden ones left out.
    fn list(&self, dir: &str, suffix: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .reader
            .src
            .list_dir(Path::new(dir))
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.') && n.ends_with(suffix))
                    && !self.reader.src.is_dir(p)
            })
            .collect();
        v.sort();
        v
    }
}

/// Every system's configuration under the system's paths, and which are in charge.
/// `cmdline` is the kernel command line (cloud-init reads switches there).
pub fn load(src: &dyn ConfigSource, limits: &Limits, cmdline: &str) -> BootNetwork {
    let mut f = Files {
        reader: Reader::new(src, limits),
        unreadable: Vec::new(),
    };
    let (enabled, masked) = units(src);
    let on = |unit: &str| enabled.contains(unit) && !masked.contains(unit);
    let mut systems = Vec::new();

    // netplan
    let listing: Vec<(PathBuf, Vec<String>)> = netplan::DIRS
        .iter()
        .map(|d| {
            let names = f
                .list(d, ".yaml")
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            (PathBuf::from(d), names)
        })
        .collect();
    let np_files: Vec<(PathBuf, String)> = netplan::file_order(&listing)
        .into_iter()
        .filter_map(|p| f.read(&p).map(|t| (p, t)))
        .collect();
    let np_installed = NETPLAN_GENERATORS
        .iter()
        .find(|g| exists(src, Path::new(g)));
    let mut np_renderer = None;
    if !np_files.is_empty() || np_installed.is_some() {
        let np = netplan::parse(&np_files);
        f.reader.problems.extend(np.problems);
        let in_charge = np_installed.is_some() && !np_files.is_empty();
        if in_charge {
            np_renderer = Some(np.renderer.clone());
        }
        systems.push(SystemConfig {
            system: NetSystem::Netplan,
            in_charge,
            why: match (np_installed, np_files.first()) {
                (Some(g), Some(_)) => format!(
                    "netplan is installed ({g}) and turns its YAML into {} configuration at every boot",
                    np.renderer
                ),
                (Some(g), None) => format!("netplan is installed ({g}) but has no configuration"),
                (None, _) => "netplan's files are present but netplan is not installed: nothing reads them at boot".into(),
            },
            renderer: Some(np.renderer),
            files: np_files.iter().map(|(p, _)| p.clone()).collect(),
            interfaces: np.interfaces,
        });
    }

    // systemd-networkd
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut unit_files: Vec<PathBuf> = Vec::new();
    for d in networkd::DIRS {
        for p in f.list(d, ".network") {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // netplan's output in /run is what netplan's own files say, read above.
            if d == "/run/systemd/network" && name.starts_with("10-netplan-") {
                continue;
            }
            if names.insert(name) {
                unit_files.push(p);
            }
        }
    }
    unit_files.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    let nd_via_netplan = np_renderer.as_deref() == Some("networkd");
    let nd_enabled = on("systemd-networkd.service") || on("systemd-networkd.socket");
    if !unit_files.is_empty() || nd_enabled {
        let mut ifaces = Vec::new();
        let mut read = Vec::new();
        for p in &unit_files {
            if src
                .read_link(p)
                .is_some_and(|t| t == Path::new("/dev/null"))
            {
                continue;
            }
            let Some(text) = f.read(p) else { continue };
            let mut unit = vec![(p.clone(), text)];
            let drop_name = format!(
                "{}.d",
                p.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            );
            let mut seen = BTreeSet::new();
            let mut dropins = Vec::new();
            for d in networkd::DIRS {
                for dp in f.list(&format!("{d}/{drop_name}"), ".conf") {
                    if seen.insert(dp.file_name().map(|n| n.to_os_string())) {
                        dropins.push(dp);
                    }
                }
            }
            dropins.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
            for dp in dropins {
                if let Some(t) = f.read(&dp) {
                    unit.push((dp, t));
                }
            }
            read.extend(unit.iter().map(|(p, _)| p.clone()));
            if let Some(cfg) = networkd::parse(&unit) {
                ifaces.push(cfg);
            }
        }
        let in_charge =
            (nd_enabled || nd_via_netplan) && !masked.contains("systemd-networkd.service");
        systems.push(system_config(
            NetSystem::Networkd,
            in_charge,
            &[
                (nd_enabled, "systemd-networkd.service is enabled"),
                (nd_via_netplan, "netplan starts systemd-networkd at boot"),
            ],
            "systemd-networkd is not enabled: its files are not read at boot",
            read,
            ifaces,
        ));
    }

    // NetworkManager keyfiles
    let nm_enabled = on("NetworkManager.service");
    let nm_via_netplan = np_renderer.as_deref() == Some("NetworkManager");
    let mut nm_files = Vec::new();
    for d in keyfile::DIRS {
        nm_files.extend(f.list(d, ""));
    }
    let nm_in_charge = (nm_enabled || nm_via_netplan) && !masked.contains("NetworkManager.service");
    if !nm_files.is_empty() || nm_enabled {
        let mut ifaces = Vec::new();
        let mut read = Vec::new();
        for p in &nm_files {
            let Some(text) = f.read(p) else { continue };
            read.push(p.clone());
            if let Some(cfg) = keyfile::parse(p, &text) {
                ifaces.push(cfg);
            }
        }
        systems.push(system_config(
            NetSystem::NetworkManager,
            nm_in_charge,
            &[
                (nm_enabled, "NetworkManager.service is enabled"),
                (
                    nm_via_netplan,
                    "netplan hands the configuration to NetworkManager",
                ),
            ],
            "NetworkManager is not enabled: its connections are not brought up at boot",
            read,
            ifaces,
        ));
    }

    // ifupdown
    let sysv = SYSV_NETWORKING.iter().any(|d| {
        f.list(d, "networking").iter().any(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('S'))
        })
    });
    let ifup_enabled = on("networking.service") || sysv;
    let main = Path::new(ifupdown::INTERFACES);
    if exists(src, main) || ifup_enabled {
        let first = f.reader.files.len();
        let parsed = ifupdown::parse(&mut f.reader, main);
        for (name, file, line) in &parsed.not_at_boot {
            f.reader.problem(format!(
                "{}:{line}: {name} has an inet6 stanza but no `auto` or `allow-hotplug` line: ifupdown does not bring it up at boot",
                file.display()
            ));
        }
        systems.push(system_config(
            NetSystem::Ifupdown,
            ifup_enabled,
            &[(on("networking.service"), "networking.service (ifupdown) is enabled"), (sysv, "the networking init script (ifupdown) runs at boot")],
            "networking.service (ifupdown) is not enabled: /etc/network/interfaces is not read at boot",
            f.reader.files[first..].to_vec(),
            parsed.interfaces,
        ));
    }

    // RHEL ifcfg
    let ifcfg_files: Vec<PathBuf> = f
        .list(ifcfg::DIR, "")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ifcfg-") && n != "ifcfg-lo")
        })
        .collect();
    if !ifcfg_files.is_empty() {
        let legacy = on("network.service");
        let mut ifaces = Vec::new();
        let mut read = Vec::new();
        for p in &ifcfg_files {
            let Some(text) = f.read(p) else { continue };
            read.push(p.clone());
            let dev = p
                .file_name()
                .map(|n| n.to_string_lossy().trim_start_matches("ifcfg-").to_owned())
                .unwrap_or_default();
            let rpath = Path::new(ifcfg::DIR).join(format!("route6-{dev}"));
            let rtext = if exists(src, &rpath) {
                f.read(&rpath)
            } else {
                None
            };
            if rtext.is_some() {
                read.push(rpath.clone());
            }
            if let Some(cfg) =
                ifcfg::parse(p, &text, rtext.as_deref().map(|t| (rpath.as_path(), t)))
            {
                ifaces.push(cfg);
            }
        }
        systems.push(system_config(
            NetSystem::Ifcfg,
            legacy || nm_in_charge,
            &[
                (
                    legacy,
                    "the legacy network service (network-scripts) is enabled",
                ),
                (nm_in_charge, "NetworkManager reads them (ifcfg-rh plugin)"),
            ],
            "neither NetworkManager nor the network service is enabled: they are not read at boot",
            read,
            ifaces,
        ));
    }

    // cloud-init
    let cloud_init = if exists(src, Path::new(cloud_init::CLOUD_CFG)) {
        let mut files = Vec::new();
        if let Some(t) = f.read(Path::new(cloud_init::CLOUD_CFG)) {
            files.push((PathBuf::from(cloud_init::CLOUD_CFG), t));
        }
        for p in f.list(cloud_init::CLOUD_CFG_D, ".cfg") {
            if let Some(t) = f.read(&p) {
                files.push((p, t));
            }
        }
        let off = exists(src, Path::new(cloud_init::DISABLED_MARKER))
            || cloud_init::disabled_on_cmdline(cmdline)
            || masked.contains("cloud-init.service");
        Some(CloudInit {
            enabled: !off,
            network_disabled_by: cloud_init::network_disabled_by(&files, cmdline),
        })
    } else {
        None
    };

    let problems = f.reader.problems.iter().map(|p| clean(p)).collect();
    BootNetwork {
        systems,
        cloud_init,
        keep_addr_on_down: Default::default(),
        problems,
        unreadable: f.unreadable,
    }
}

#[cfg(test)]
mod tests;
