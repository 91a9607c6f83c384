//! Lab helpers for the firewall stage: packet-filter rules applied INSIDE the lab's srv
//! namespace only (`ip netns exec <srv> ...`), so they vanish with the namespace at
//! teardown. Nothing here touches the root namespace.

use super::lab::{Lab, Ns};

/// Load an nft script (`nft -f`) into srv.
pub fn nft_apply(lab: &Lab, script: &str) {
    let path = lab.dir().join(format!("nft-{}.rules", script.len()));
    std::fs::write(&path, script).expect("write nft script");
    lab.exec_ok(Ns::Srv, &["nft", "-f", &path.display().to_string()]);
}

/// Run one iptables-family command in srv: `tool` is `iptables`, `ip6tables`,
/// `iptables-legacy` or `ip6tables-legacy`.
pub fn ipt(lab: &Lab, tool: &str, args: &[&str]) {
    assert!(
        tool.starts_with("iptables") || tool.starts_with("ip6tables"),
        "not an iptables tool: {tool}"
    );
    let mut full = vec![tool];
    full.extend_from_slice(args);
    lab.exec_ok(Ns::Srv, &full);
}

/// srv's nftables ruleset as text (for assertion messages).
pub fn ruleset(lab: &Lab) -> String {
    lab.exec_ok(Ns::Srv, &["nft", "list", "ruleset"])
}

/// Forget IPv6 neighbours on both ends of srv's link (srv and the router), so ICMPv6
/// filtering bites now rather than when the caches expire.
pub fn flush_v6_neighbours(lab: &Lab) {
    for ns in [Ns::Srv, Ns::Net] {
        lab.exec_ok(ns, &["ip", "-6", "neigh", "flush", "all"]);
    }
}

/// A strict but correct ruleset for the lab's server: policy drop, established and
/// related, loopback, ICMP and the ICMPv6 that IPv6 needs, the web port and DNS replies.
pub const STRICT_NFT: &str = "table inet strict {
  chain input {
    type filter hook input priority filter; policy drop;
    ct state established,related accept
    ct state invalid drop
    iifname \"lo\" accept
    icmpv6 type { packet-too-big, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, echo-request } accept
    meta l4proto icmp accept
    tcp dport { 22, 80 } ct state new accept
    counter reject with icmpx type admin-prohibited
  }
}
";
