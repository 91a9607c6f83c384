//! Facts about the packet filter (the firewall stage). Filled by `probe::firewall`.

use serde::{Deserialize, Serialize};

/// The packet filter as the kernel runs it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FirewallFacts {}
