//! Reads the packet filter (nftables JSON, iptables-legacy) for the firewall stage.

use crate::facts::firewall::FirewallFacts;
use crate::facts::{ProbeError, ProbeErrorKind};

pub fn read_firewall() -> Result<FirewallFacts, ProbeError> {
    Err(ProbeError::new(
        ProbeErrorKind::NotRun,
        "not yet implemented",
    ))
}
