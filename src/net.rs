//! Address classification: which addresses the site's clients can reach.

pub mod nat64;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddrClass {
    Public,
    /// RFC 1918
    Private,
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598)
    Cgnat,
    Loopback,
    LinkLocal,
    /// fc00::/7
    Ula,
    Documentation,
    /// Anything else that is not routed on the internet (multicast, 0/8, 240/4, ...).
    Reserved,
}

impl AddrClass {
    pub fn describe(self) -> &'static str {
        match self {
            AddrClass::Public => "public",
            AddrClass::Private => "private (RFC 1918)",
            AddrClass::Cgnat => "carrier-grade NAT (100.64.0.0/10)",
            AddrClass::Loopback => "loopback",
            AddrClass::LinkLocal => "link-local",
            AddrClass::Ula => "unique local (fc00::/7)",
            AddrClass::Documentation => "documentation range",
            AddrClass::Reserved => "reserved",
        }
    }
}

pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

pub fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    let o = ip.octets();
    if ip.is_loopback() {
        AddrClass::Loopback
    } else if ip.is_private() {
        AddrClass::Private
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        AddrClass::Cgnat
    } else if ip.is_link_local() {
        AddrClass::LinkLocal
    } else if ip.is_documentation() {
        AddrClass::Documentation
    } else if o[0] == 0 || o[0] >= 224 || (o[0] == 192 && o[1] == 0 && o[2] == 0) {
        AddrClass::Reserved
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        // 198.18.0.0/15, benchmarking
        AddrClass::Reserved
    } else {
        AddrClass::Public
    }
}

pub fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    let s = ip.segments();
    if ip.is_loopback() || ip.is_unspecified() {
        AddrClass::Loopback
    } else if (s[0] & 0xffc0) == 0xfe80 {
        AddrClass::LinkLocal
    } else if (s[0] & 0xfe00) == 0xfc00 {
        AddrClass::Ula
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        AddrClass::Documentation
    } else if let Some(v4) = ip.to_ipv4_mapped() {
        classify_v4(v4)
    } else if (s[0] & 0xe000) == 0x2000 {
        AddrClass::Public
    } else {
        AddrClass::Reserved
    }
}

/// Whether the site's clients can reach `ip`: public, or inside a `--assume-public` prefix.
pub fn reachable_by_clients(ip: IpAddr, assume_public: &[IpNet]) -> bool {
    classify(ip) == AddrClass::Public || assume_public.iter().any(|n| n.contains(&ip))
}

/// Address as written in URLs and `host:port` (IPv6 in brackets).
pub fn bracketed(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> AddrClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn classes() {
        use AddrClass::*;
        let table: [(AddrClass, &[&str]); 7] = [
            (Public, &["8.8.8.8", "100.128.0.1", "2a00:1450::1"]),
            (Private, &["10.1.2.3", "192.168.1.1"]),
            (Cgnat, &["100.64.0.1", "100.127.255.255"]),
            (Documentation, &["203.0.113.5", "2001:db8::1"]),
            (LinkLocal, &["fe80::1"]),
            (Ula, &["fd00::1"]),
            (Loopback, &["::1"]),
        ];
        for (class, addrs) in table {
            for a in addrs {
                assert_eq!(c(a), class, "{a}");
            }
        }
        assert_eq!(c("ff02::1"), Reserved);
    }

    #[test]
    fn assume_public_widens() {
        let nets: Vec<IpNet> = vec!["203.0.113.0/24".parse().unwrap()];
        assert!(reachable_by_clients("203.0.113.9".parse().unwrap(), &nets));
        assert!(!reachable_by_clients(
            "198.51.100.9".parse().unwrap(),
            &nets
        ));
    }
}
