//! Lab helpers for the firewall stage (nftables / iptables rules inside the lab namespaces).
