//! cloud-init's switch for its network configuration (cloud-init's documentation,
//! "Network configuration"): `network: {config: disabled}` in `/etc/cloud/cloud.cfg`
//! or a file of `/etc/cloud/cloud.cfg.d/*.cfg`, merged in name order after cloud.cfg
//! (a later file's `network` replaces an earlier one's), or `network-config=disabled`
//! on the kernel command line.

use crate::sanitize::clean;
use serde_norway::Value;
use std::path::PathBuf;

pub const CLOUD_CFG: &str = "/etc/cloud/cloud.cfg";
pub const CLOUD_CFG_D: &str = "/etc/cloud/cloud.cfg.d";
/// Its presence turns cloud-init off entirely (cloud-init's ds-identify).
pub const DISABLED_MARKER: &str = "/etc/cloud/cloud-init.disabled";

/// Where the network configuration is turned off, if it is: `files` in merge order.
pub fn network_disabled_by(files: &[(PathBuf, String)], cmdline: &str) -> Option<String> {
    if cmdline
        .split_whitespace()
        .any(|w| w == "network-config=disabled")
    {
        return Some("network-config=disabled on the kernel command line".into());
    }
    let mut last: Option<(bool, &PathBuf)> = None;
    for (path, text) in files {
        let Ok(doc) = serde_norway::from_str::<Value>(text) else {
            continue;
        };
        let Some(net) = doc.get("network") else {
            continue;
        };
        let disabled = net
            .get("config")
            .and_then(Value::as_str)
            .is_some_and(|c| c == "disabled");
        last = Some((disabled, path));
    }
    match last {
        Some((true, p)) => Some(clean(&format!(
            "network: {{config: disabled}} in {}",
            p.display()
        ))),
        _ => None,
    }
}

/// cloud-init is switched off for this boot by the kernel command line.
pub fn disabled_on_cmdline(cmdline: &str) -> bool {
    cmdline
        .split_whitespace()
        .any(|w| w == "cloud-init=disabled")
}
