//! Router advertisements (RFC 4861 §4.2) as a raw ICMPv6 socket delivers them: the PREF64
//! options (RFC 8781 §4) they carry. The bytes come from the link: every length is
//! checked, nothing is trusted.

use crate::net::nat64::Nat64Prefix;
use std::net::Ipv6Addr;

/// ICMPv6 type of a router advertisement.
pub const ROUTER_ADVERTISEMENT: u8 = 134;
/// ICMPv6 type of a router solicitation.
pub const ROUTER_SOLICITATION: u8 = 133;
/// The option type of PREF64 (RFC 8781 §4).
const OPT_PREF64: u8 = 38;
/// Type, code, checksum, hop limit, flags, router lifetime, reachable and retrans timers.
const RA_HEADER: usize = 16;

/// A PREF64 option: the prefix and its lifetime in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pref64Option {
    pub prefix: Nat64Prefix,
    pub lifetime_s: u32,
}

/// The PREF64 options of an ICMPv6 message, if it is a router advertisement; `None` for
/// any other message or a malformed one (an option that overruns the message, or has
/// length zero, which RFC 4861 §4.6 says to discard the packet for).
pub fn pref64_options(msg: &[u8]) -> Option<Vec<Pref64Option>> {
    if msg.len() < RA_HEADER || msg[0] != ROUTER_ADVERTISEMENT || msg[1] != 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = &msg[RA_HEADER..];
    while !rest.is_empty() {
        let (&kind, &units) = (rest.first()?, rest.get(1)?);
        let len = usize::from(units) * 8;
        if len == 0 || len > rest.len() {
            return None;
        }
        let (opt, next) = rest.split_at(len);
        // A PREF64 option is exactly two units; a longer one is from a future revision.
        if kind == OPT_PREF64 && len == 16 {
            let word = u16::from_be_bytes([opt[2], opt[3]]);
            let plc = word & 0x7;
            // The prefix length code (RFC 8781 §4.1); other codes make the option invalid.
            let plen = match plc {
                0 => Some(96),
                1 => Some(64),
                2 => Some(56),
                3 => Some(48),
                4 => Some(40),
                5 => Some(32),
                _ => None,
            };
            let mut bytes = [0u8; 16];
            bytes[..12].copy_from_slice(&opt[4..16]);
            if let Some(p) = plen.and_then(|l| Nat64Prefix::new(Ipv6Addr::from(bytes), l)) {
                out.push(Pref64Option {
                    prefix: p,
                    // The scaled lifetime counts units of 8 seconds.
                    lifetime_s: u32::from(word >> 3) * 8,
                });
            }
        }
        rest = next;
    }
    Some(out)
}

/// A router solicitation without options (RFC 4861 §4.1); the kernel fills in the
/// checksum of a raw ICMPv6 socket's messages.
pub fn router_solicitation() -> [u8; 8] {
    [ROUTER_SOLICITATION, 0, 0, 0, 0, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::inputs;
    use proptest::prelude::*;

    /// An RA as radvd sends it with `nat64prefix 64:ff9b::/96 { AdvValidLifetime 1800; }`
    /// after a source link-layer address option.
    fn radvd_ra(plc: u16, prefix: [u8; 12]) -> Vec<u8> {
        let mut m = vec![134, 0, 0x12, 0x34, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        m.extend([1, 1, 0x02, 0, 0, 0, 0, 1]);
        let word: u16 = ((1800 / 8) << 3) | plc;
        m.extend([38, 2]);
        m.extend(word.to_be_bytes());
        m.extend(prefix);
        m
    }

    #[test]
    fn pref64_of_a_radvd_advertisement() {
        let wkp = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
        let got = pref64_options(&radvd_ra(0, wkp)).unwrap();
        assert_eq!(
            got,
            vec![Pref64Option {
                prefix: crate::net::nat64::WELL_KNOWN,
                lifetime_s: 1800
            }]
        );
        let nsp = [
            0x20, 0x01, 0x0d, 0xb8, 0, 0x46, 0, 0, 0xff, 0xff, 0xff, 0xff,
        ];
        let got = pref64_options(&radvd_ra(1, nsp)).unwrap();
        // PLC 1 is a /64: the bits after it are ignored.
        assert_eq!(got[0].prefix.to_string(), "2001:db8:46::/64");
    }

    #[test]
    fn other_messages_and_broken_options_are_refused() {
        let wkp = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut rs = radvd_ra(0, wkp);
        rs[0] = 133;
        assert_eq!(pref64_options(&rs), None);
        let mut zero = radvd_ra(0, wkp);
        zero[17] = 0;
        assert_eq!(pref64_options(&zero), None);
        let mut overrun = radvd_ra(0, wkp);
        overrun.truncate(30);
        assert_eq!(pref64_options(&overrun), None);
        // An invalid length code makes that option, not the message, void.
        assert_eq!(pref64_options(&radvd_ra(6, wkp)), Some(vec![]));
        let plain = &radvd_ra(0, wkp)[..24];
        assert_eq!(pref64_options(plain), Some(vec![]));
        assert_eq!(router_solicitation()[0], 133);
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panic(bytes in inputs::bytes(200)) {
            let _ = pref64_options(&bytes);
            let mut ra = vec![134u8, 0];
            ra.extend(&bytes);
            if let Some(opts) = pref64_options(&ra) {
                for o in opts {
                    prop_assert!(crate::net::nat64::LENGTHS.contains(&o.prefix.len));
                }
            }
        }
    }
}
