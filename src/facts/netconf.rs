//! What the host boots its network with: the network configuration systems found on
//! disk, which of them bring interfaces up at boot, and the IPv6 addresses and routes
//! each declares per interface (`parse::netconf` reads them).

use super::Place;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A network configuration system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetSystem {
    Netplan,
    Networkd,
    NetworkManager,
    Ifupdown,
    /// RHEL's `/etc/sysconfig/network-scripts/ifcfg-*` (read by NetworkManager's
    /// ifcfg-rh plugin, or by the legacy network service).
    Ifcfg,
}

impl NetSystem {
    pub fn name(self) -> &'static str {
        match self {
            NetSystem::Netplan => "netplan",
            NetSystem::Networkd => "systemd-networkd",
            NetSystem::NetworkManager => "NetworkManager",
            NetSystem::Ifupdown => "ifupdown",
            NetSystem::Ifcfg => "ifcfg (network-scripts)",
        }
    }
}

/// One system's configuration as found on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemConfig {
    pub system: NetSystem,
    /// It configures interfaces at boot on this host (its service enabled, its
    /// generator installed); `why` says what showed it, or why it does not.
    pub in_charge: bool,
    pub why: String,
    /// netplan: the back end it writes for (`networkd` or `NetworkManager`).
    pub renderer: Option<String>,
    /// The files read, in the order the system applies them.
    pub files: Vec<PathBuf>,
    pub interfaces: Vec<IfaceConfig>,
}

/// What one system declares for one interface (IPv6 only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IfaceConfig {
    /// The interface name it applies to; networkd's `Name=` may be a glob.
    pub name: String,
    /// What the configuration calls it, where that differs from the name: netplan's
    /// id under `ethernets:`, NetworkManager's connection `id`.
    pub id: String,
    /// Where it is declared (netplan: the first file naming it).
    #[serde(flatten)]
    pub at: Place,
    pub addresses: Vec<DeclaredAddr>,
    pub routes: Vec<DeclaredRoute>,
    /// Router advertisements are honoured (SLAAC and an RA default route come back).
    pub accept_ra: bool,
    pub dhcp6: bool,
    /// The file was written by cloud-init.
    pub cloud_init: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclaredAddr {
    pub net: IpNet,
    #[serde(flatten)]
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclaredRoute {
    /// `None` for the default route.
    pub dst: Option<IpNet>,
    pub gateway: Option<IpAddr>,
    pub on_link: bool,
    #[serde(flatten)]
    pub at: Place,
}

impl DeclaredAddr {
    /// `net`, declared at `file`:`line`.
    pub fn new(net: IpNet, file: &Path, line: usize) -> DeclaredAddr {
        DeclaredAddr {
            net,
            at: Place::new(file, line),
        }
    }
}

impl DeclaredRoute {
    /// A default route via `gateway`, declared at `file`:`line`.
    pub fn default_via(gateway: IpAddr, file: &Path, line: usize) -> DeclaredRoute {
        DeclaredRoute {
            dst: None,
            gateway: Some(gateway),
            on_link: false,
            at: Place::new(file, line),
        }
    }
}

/// cloud-init, when installed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudInit {
    /// cloud-init runs at boot (not disabled by `/etc/cloud/cloud-init.disabled` or
    /// the kernel command line).
    pub enabled: bool,
    /// Where `network: {config: disabled}` is set, if anywhere.
    pub network_disabled_by: Option<String>,
}

impl CloudInit {
    /// cloud-init will write the network configuration again at boot.
    pub fn rewrites_network(&self) -> bool {
        self.enabled && self.network_disabled_by.is_none()
    }
}

/// Everything the boot network probe found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BootNetwork {
    /// Every system whose configuration or service was found.
    pub systems: Vec<SystemConfig>,
    pub cloud_init: Option<CloudInit>,
    /// `net.ipv6.conf.*.keep_addr_on_down` now, keyed by `all`, `default` and
    /// interface names.
    pub keep_addr_on_down: BTreeMap<String, i64>,
    /// Files this run could not read (not world-readable, too large, ...) with the
    /// reason, and limits reached.
    pub problems: Vec<String>,
    /// Files that only root may read: what they declare is unknown to this run.
    pub unreadable: Vec<PathBuf>,
}

impl BootNetwork {
    pub fn in_charge(&self) -> impl Iterator<Item = &SystemConfig> {
        self.systems.iter().filter(|s| s.in_charge)
    }
}
