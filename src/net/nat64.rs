//! NAT64 prefixes (RFC 6052): where an IPv4 address sits inside an IPv6 one, how a
//! prefix is found from the DNS64 answers for `ipv4only.arpa` (RFC 7050) and how a
//! destination is synthesised from it. Probes and checks share it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The well-known prefix 64:ff9b::/96 (RFC 6052 §2.1).
pub const WELL_KNOWN: Nat64Prefix = Nat64Prefix {
    prefix: Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
    len: 96,
};

/// The addresses of `ipv4only.arpa` (RFC 7050 §2.2), which DNS64 embeds in its answers.
pub const WELL_KNOWN_IPV4: [Ipv4Addr; 2] =
    [Ipv4Addr::new(192, 0, 0, 170), Ipv4Addr::new(192, 0, 0, 171)];

/// The prefix lengths RFC 6052 allows, longest first (the usual /96 is tried first).
pub const LENGTHS: [u8; 6] = [96, 64, 56, 48, 40, 32];

/// A NAT64 prefix: its first `len` bits (the rest zero) and its length, one of
/// [`LENGTHS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nat64Prefix {
    pub prefix: Ipv6Addr,
    pub len: u8,
}

impl fmt::Display for Nat64Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix, self.len)
    }
}

/// RFC 6052 §2.2: the octets of the IPv6 address that carry the IPv4 address for each
/// prefix length (octet 8, bits 64-71, is always zero and skipped).
fn positions(len: u8) -> Option<[usize; 4]> {
    Some(match len {
        32 => [4, 5, 6, 7],
        40 => [5, 6, 7, 9],
        48 => [6, 7, 9, 10],
        56 => [7, 9, 10, 11],
        64 => [9, 10, 11, 12],
        96 => [12, 13, 14, 15],
        _ => return None,
    })
}

fn mask(ip: Ipv6Addr, len: u8) -> Ipv6Addr {
    let m = match len {
        0 => 0,
        l if l >= 128 => u128::MAX,
        l => u128::MAX << (128 - u32::from(l)),
    };
    Ipv6Addr::from(u128::from(ip) & m)
}

impl Nat64Prefix {
    /// The prefix of `len` bits of `ip`; `None` for a length RFC 6052 does not allow.
    pub fn new(ip: Ipv6Addr, len: u8) -> Option<Nat64Prefix> {
        positions(len)?;
        Some(Nat64Prefix {
            prefix: mask(ip, len),
            len,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V6(v6) => mask(v6, self.len) == self.prefix,
            IpAddr::V4(_) => false,
        }
    }

    /// The IPv4 address embedded in `ip` at this prefix's length.
    pub fn extract(&self, ip: Ipv6Addr) -> Option<Ipv4Addr> {
        let p = positions(self.len)?;
        let o = ip.octets();
        Some(Ipv4Addr::new(o[p[0]], o[p[1]], o[p[2]], o[p[3]]))
    }

    /// The IPv6 address a DNS64 resolver with this prefix gives `v4` (suffix zero).
    pub fn synthesise(&self, v4: Ipv4Addr) -> Ipv6Addr {
        let mut o = self.prefix.octets();
        if let Some(p) = positions(self.len) {
            for (at, b) in p.iter().zip(v4.octets()) {
                o[*at] = b;
            }
        }
        Ipv6Addr::from(o)
    }

    /// The prefix a DNS64 answer for `ipv4only.arpa` reveals: the first length at which
    /// a well-known IPv4 address sits in it (RFC 7050 §3).
    pub fn from_ipv4only_answer(ip: Ipv6Addr) -> Option<Nat64Prefix> {
        LENGTHS.iter().find_map(|&len| {
            let p = Nat64Prefix::new(ip, len)?;
            p.extract(ip)
                .filter(|v4| WELL_KNOWN_IPV4.contains(v4))
                .map(|_| p)
        })
    }
}

/// The distinct prefixes of a DNS64 resolver's AAAA answers for `ipv4only.arpa`.
pub fn prefixes_of_answers<'a>(
    answers: impl IntoIterator<Item = &'a Ipv6Addr>,
) -> Vec<Nat64Prefix> {
    let mut out: Vec<Nat64Prefix> = Vec::new();
    for ip in answers {
        if let Some(p) = Nat64Prefix::from_ipv4only_answer(*ip)
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn rfc6052_examples_round_trip() {
        // RFC 6052 §2.4, the table of 192.0.2.33 under 2001:db8::/n.
        let v4 = Ipv4Addr::new(192, 0, 2, 33);
        for (len, want) in [
            (32, "2001:db8:c000:221::"),
            (40, "2001:db8:1c0:2:21::"),
            (48, "2001:db8:122:c000:2:2100::"),
            (56, "2001:db8:122:3c0:0:221::"),
            (64, "2001:db8:122:344:c0:2:2100:0"),
            (96, "2001:db8:122:344::192.0.2.33"),
        ] {
            let base = if len == 96 || len == 64 || len == 56 || len == 48 {
                v6("2001:db8:122:344::")
            } else {
                v6("2001:db8:100::")
            };
            let p = Nat64Prefix::new(base, len).unwrap();
            let syn = p.synthesise(v4);
            assert_eq!(syn, v6(want), "/{len}");
            assert_eq!(p.extract(syn), Some(v4));
            assert!(p.contains(IpAddr::V6(syn)));
        }
    }

    #[test]
    fn prefix_is_read_from_ipv4only_arpa() {
        let got = prefixes_of_answers(&[v6("64:ff9b::c000:aa"), v6("64:ff9b::c000:ab")]);
        assert_eq!(got, vec![WELL_KNOWN]);
        let nsp = prefixes_of_answers(&[v6("2001:db8:122:344:c0:0:aa00:0")]);
        assert_eq!(
            nsp,
            vec![Nat64Prefix::new(v6("2001:db8:122:344::"), 64).unwrap()]
        );
        assert!(prefixes_of_answers(&[v6("2001:db8::1")]).is_empty());
        assert_eq!(Nat64Prefix::new(v6("::"), 80), None);
        assert_eq!(WELL_KNOWN.to_string(), "64:ff9b::/96");
    }
}
