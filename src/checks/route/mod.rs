//! The route stage: can the host send replies back out, over each family?

pub mod default;
pub mod gateway;
pub mod ra;

use crate::facts::Facts;

/// If the host needs router advertisements on `iface` but will not honour them, the
/// reason as text: with forwarding=1, accept_ra=1 is ignored (2 is needed).
fn ra_blocks(f: &Facts, iface: &str) -> Option<String> {
    let s = f.sysctl.value()?;
    let fwd = s
        .forwarding_v6
        .get(iface)
        .or(s.forwarding_v6.get("all"))
        .copied()
        .unwrap_or(0);
    let ra = s.accept_ra.get(iface).copied().unwrap_or(1);
    if ra == 0 {
        Some(format!(
            "net.ipv6.conf.{iface}.accept_ra = 0: router advertisements are ignored"
        ))
    } else if fwd == 1 && ra == 1 {
        Some(format!(
            "net.ipv6.conf.{iface}.forwarding = 1 with accept_ra = 1: a router ignores advertisements unless accept_ra = 2"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
