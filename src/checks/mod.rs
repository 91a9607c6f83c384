//! Pure evaluation: facts in, findings out. No I/O here, so every check is unit-tested
//! from hand-built facts.

mod address;
mod dns;
pub mod firewall;
pub mod host;
mod isp;
mod listener;
mod pending;
mod route;

use crate::facts::Facts;
use crate::model::Finding;
use crate::options::Options;

/// Every check identifier of the contract, in tree order.
pub const ALL_CHECK_IDS: &[&str] = &[
    "dns.a",
    "dns.aaaa",
    "dns.a_target",
    "dns.aaaa_target",
    "dns.consistency",
    "dns.reverse",
    "dns.nameservers",
    "dns.mx",
    "dns.dns64",
    "address.ipv6_enabled",
    "address.ipv6_persistent",
    "address.global_ipv6",
    "address.global_ipv4",
    "listener.ipv4",
    "listener.ipv6",
    "listener.config",
    "firewall.ipv4",
    "firewall.ipv6",
    "firewall.icmpv6",
    "firewall.exposure",
    "route.ipv4_default",
    "route.ipv6_default",
    "route.ipv4_gateway",
    "route.ipv6_gateway",
    "route.ipv6_ra",
    "isp.egress_ipv4",
    "isp.egress_ipv6",
    "isp.public_ipv4",
    "isp.public_ipv6",
    "isp.inbound_ipv4",
    "isp.inbound_ipv6",
    "isp.http_parity",
    "isp.smtp_parity",
    "isp.acme_http01",
    "isp.resources",
    "isp.path_mtu_ipv4",
    "isp.path_mtu_ipv6",
];

/// Checks that appear once per port.
pub const PER_PORT: &[&str] = &[
    "listener.ipv4",
    "listener.ipv6",
    "listener.config",
    "firewall.ipv4",
    "firewall.ipv6",
    "isp.inbound_ipv4",
    "isp.inbound_ipv6",
    "isp.http_parity",
    "isp.smtp_parity",
];

/// Evaluate the whole tree, in tree order.
pub fn evaluate(facts: &Facts, opts: &Options) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(dns::evaluate(facts, opts));
    out.extend(address::evaluate(facts, opts));
    out.extend(listener::evaluate(facts, opts));
    out.extend(firewall::evaluate(facts, opts));
    out.extend(route::evaluate(facts, opts));
    out.extend(isp::evaluate(facts, opts));
    out
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
