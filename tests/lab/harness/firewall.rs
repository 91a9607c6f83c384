//! Packet-filter rules inside a lab namespace only (`ip netns exec <ns> nft|iptables`), so
//! they vanish with the namespace at teardown. Nothing here touches the root namespace.

use super::process::write_file;
use super::topology::{Lab, Ns};

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

/// One table with one filter chain on `hook` that accepts by default and holds `rules`:
/// `nft_chain("ip6", "labblock", "forward", &["iifname \"esrv\" drop"])`.
pub fn nft_chain(family: &str, table: &str, hook: &str, rules: &[&str]) -> String {
    let mut s = format!(
        "table {family} {table} {{\n    chain {hook} {{\n        type filter hook {hook} priority filter; policy accept;\n"
    );
    for r in rules {
        s.push_str(&format!("        {r}\n"));
    }
    s.push_str("    }\n}\n");
    s
}

impl Lab {
    /// Load an nftables ruleset (`nft -f`) in `ns`.
    pub fn nft(&self, ns: Ns, ruleset: &str) {
        let path = self.dir().join(format!("nft-{ns:?}.conf"));
        write_file(&path, ruleset);
        self.exec_ok(ns, &["nft", "-f", &path.display().to_string()]);
    }

    /// One iptables-family command in srv: `argv[0]` is `iptables`, `ip6tables`,
    /// `iptables-legacy` or `ip6tables-legacy`. With `-w`: the legacy tools take one lock
    /// file for every namespace, and the tests run two at a time.
    pub fn iptables(&self, argv: &[&str]) {
        let (tool, args) = argv.split_first().expect("an iptables command");
        assert!(
            tool.starts_with("iptables") || tool.starts_with("ip6tables"),
            "not an iptables tool: {argv:?}"
        );
        let mut full = vec![*tool, "-w"];
        full.extend_from_slice(args);
        self.exec_ok(Ns::Srv, &full);
    }

    /// srv's nftables ruleset as text (for assertion messages).
    pub fn ruleset(&self) -> String {
        self.exec_ok(Ns::Srv, &["nft", "list", "ruleset"])
    }

    /// Forget IPv6 neighbours on both ends of srv's link (srv and the router), so ICMPv6
    /// filtering bites now rather than when the caches expire. Only that link: srv's
    /// neighbour on a container bridge is not the question, and a cold entry there costs
    /// the first forwarded SYN (the oracle's 1.2 s probe then ends before TCP's 1 s
    /// retransmission is answered; seen with DSD_ORACLE_SEED=77).
    pub fn flush_v6_neighbours(&self) {
        self.exec_ok(Ns::Srv, &["ip", "-6", "neigh", "flush", "dev", "eth0"]);
        self.exec_ok(Ns::Net, &["ip", "-6", "neigh", "flush", "all"]);
    }

    /// A second IPv4 uplink: srv's eth1 on another link to the router, taking srv's IPv4
    /// default route, while the site's address stays on eth0 and the provider's services
    /// (the resolver, the echo service: 192.0.2.0/24) are still reached by eth0. The way
    /// back to the internet is asymmetric; the router forwards whatever comes in (its
    /// reverse-path filter off on the new link). IPv6 is untouched.
    pub fn second_ipv4_uplink(&mut self) {
        let net = self.ns(Ns::Net).to_string();
        self.ip(
            Ns::Srv,
            &[
                "link", "add", "eth1", "type", "veth", "peer", "name", "esrv2", "netns", &net,
            ],
        );
        self.sysctl(
            Ns::Net,
            &[
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.esrv2.rp_filter=0",
            ],
        );
        self.ip(Ns::Net, &["addr", "add", "198.18.7.1/24", "dev", "esrv2"]);
        self.ip(Ns::Net, &["link", "set", "esrv2", "up"]);
        for args in [
            &["addr", "add", "198.18.7.10/24", "dev", "eth1"][..],
            &["link", "set", "eth1", "up"],
            &[
                "route",
                "add",
                "192.0.2.0/24",
                "via",
                super::topology::SRV_GW_V4,
                "dev",
                "eth0",
            ],
            &[
                "route",
                "replace",
                "default",
                "via",
                "198.18.7.1",
                "dev",
                "eth1",
            ],
        ] {
            self.ip(Ns::Srv, args);
        }
    }
}
