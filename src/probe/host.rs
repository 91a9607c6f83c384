//! Who and what this host is.

use crate::facts::HostFacts;
use crate::sanitize::clean;
use std::path::Path;

fn read_small(path: &str) -> Option<String> {
    let text = crate::probe::sysctl::read_bounded(Path::new(path), 64 * 1024).ok()?;
    Some(text.trim().to_string())
}

pub fn host_facts() -> HostFacts {
    let hostname = read_small("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".into());
    let kernel = read_small("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cmdline = read_small("/proc/cmdline").unwrap_or_default();
    let os_id = read_small("/etc/os-release").and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("ID="))
            .map(|v| clean(v.trim_matches('"')))
    });
    HostFacts {
        hostname: clean(&hostname),
        kernel: clean(&kernel),
        euid: rustix_euid(),
        ipv6_kernel: Path::new("/proc/sys/net/ipv6").exists(),
        ipv6_cmdline_disabled: cmdline.split_whitespace().any(|w| w == "ipv6.disable=1"),
        os_id,
    }
}

/// The effective uid, from /proc so no unsafe FFI is needed.
fn rustix_euid() -> u32 {
    read_small("/proc/self/status")
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(u32::MAX)
}
