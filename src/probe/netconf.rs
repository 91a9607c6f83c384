//! The network configuration the host boots with (`parse::netconf`), and the kernel's
//! `keep_addr_on_down`, which decides whether a link flap takes static addresses away.

use super::sysctl::read_bounded;
use crate::facts::ProbeError;
use crate::facts::netconf::BootNetwork;
use crate::parse::netconf;
use crate::parse::source::{FsSource, Limits};
use std::path::Path;

/// Most interfaces read; a host with thousands (containers) keeps the first ones.
const MAX_IFACES: usize = 4096;

pub fn read_boot_network() -> Result<BootNetwork, ProbeError> {
    // Network configuration files are small; a larger one is not a configuration.
    let limits = Limits {
        max_file_bytes: 1 << 20,
        max_files: 2048,
        ..Limits::default()
    };
    let cmdline = read_bounded(Path::new("/proc/cmdline"), 4096).unwrap_or_default();
    let mut boot = netconf::load(&FsSource::new(&limits), &limits, &cmdline);
    if let Ok(dir) = std::fs::read_dir("/proc/sys/net/ipv6/conf") {
        for entry in dir.flatten().take(MAX_IFACES) {
            let value = read_bounded(&entry.path().join("keep_addr_on_down"), 64)
                .ok()
                .and_then(|v| v.trim().parse().ok());
            if let Some(v) = value {
                let name = entry.file_name().to_string_lossy().into_owned();
                boot.keep_addr_on_down
                    .insert(crate::sanitize::clean(&name), v);
            }
        }
    }
    Ok(boot)
}
