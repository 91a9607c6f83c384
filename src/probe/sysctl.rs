//! Kernel settings from /proc/sys and the sysctl configuration files that apply at boot.

use crate::facts::{ProbeError, ProbeErrorKind, Sysctls};
use crate::parse::sysctl_conf::{self, SysctlSetting};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Read at most `max` bytes of a file as text (lossy): outside files are untrusted.
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<String> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?.take(max).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn read_int(path: &Path) -> Option<i64> {
    read_bounded(path, 64).ok()?.trim().parse().ok()
}

/// Most interfaces read; a host with thousands (containers) keeps the first ones.
const MAX_IFACES: usize = 4096;

fn per_interface(family: &str, setting: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/sys/net/{family}/conf")) else {
        return out;
    };
    for entry in dir.flatten().take(MAX_IFACES) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(v) = read_int(&entry.path().join(setting)) {
            out.insert(crate::sanitize::clean(&name), v);
        }
    }
    out
}

pub fn read_sysctls() -> Result<Sysctls, ProbeError> {
    if !Path::new("/proc/sys/net").exists() {
        return Err(ProbeError::new(
            ProbeErrorKind::Missing,
            "/proc/sys/net is not mounted: cannot read kernel network settings",
        ));
    }
    Ok(Sysctls {
        disable_ipv6: per_interface("ipv6", "disable_ipv6"),
        forwarding_v6: per_interface("ipv6", "forwarding"),
        accept_ra: per_interface("ipv6", "accept_ra"),
        rp_filter: per_interface("ipv4", "rp_filter"),
        bindv6only: read_int(Path::new("/proc/sys/net/ipv6/bindv6only")),
        ip_forward: read_int(Path::new("/proc/sys/net/ipv4/ip_forward")),
    })
}

/// IPv6 settings assigned by the sysctl configuration files, in application order.
pub fn read_config_files() -> Result<Vec<SysctlSetting>, ProbeError> {
    let files = sysctl_conf::load_system(Path::new("/"));
    let settings = sysctl_conf::effective_settings(&files.files);
    Ok(settings
        .into_iter()
        .filter(|s| s.key.starts_with("net.ipv6."))
        .collect())
}
