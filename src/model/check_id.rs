//! Check identifiers: one variant per check of the contract's catalogue. The string form
//! is the contract's (`dns.aaaa_target`); everything inside the program uses the variant,
//! so a check that does not exist cannot be named, not even as a cause.

use super::{Family, Stage};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A catalogue row's family column: `V4`, `V6`, or `None` for a check about neither
/// family alone.
macro_rules! family {
    (None) => {
        None
    };
    ($family:ident) => {
        Some(Family::$family)
    };
}

macro_rules! check_ids {
    ($( $variant:ident = $name:literal, $stage:ident, $per_port:literal, $family:ident; )*) => {
        /// A check of the decision tree. Declared in tree order: `Ord` is tree order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CheckId {
            $( $variant, )*
        }

        impl CheckId {
            /// Every check, in tree order.
            pub const ALL: &'static [CheckId] = &[$( CheckId::$variant, )*];

            /// The contract's identifier.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( CheckId::$variant => $name, )*
                }
            }

            pub fn stage(self) -> Stage {
                match self {
                    $( CheckId::$variant => Stage::$stage, )*
                }
            }

            /// The check appears once per port of the target.
            pub fn per_port(self) -> bool {
                match self {
                    $( CheckId::$variant => $per_port, )*
                }
            }

            /// The family a check is about, for the checks that come in an IPv4/IPv6
            /// pair.
            pub fn family(self) -> Option<Family> {
                match self {
                    $( CheckId::$variant => family!($family), )*
                }
            }
        }
    };
}

check_ids! {
    DnsA = "dns.a", Dns, false, V4;
    DnsAaaa = "dns.aaaa", Dns, false, V6;
    DnsATarget = "dns.a_target", Dns, false, V4;
    DnsAaaaTarget = "dns.aaaa_target", Dns, false, V6;
    DnsConsistency = "dns.consistency", Dns, false, None;
    DnsReverse = "dns.reverse", Dns, false, None;
    DnsNameservers = "dns.nameservers", Dns, false, None;
    DnsMx = "dns.mx", Dns, false, None;
    DnsSpf = "dns.spf", Dns, false, None;
    DnsBlocklists = "dns.blocklists", Dns, false, None;
    DnsGeo = "dns.geo", Dns, false, None;
    DnsDns64 = "dns.dns64", Dns, false, None;
    AddressIpv6Enabled = "address.ipv6_enabled", Address, false, None;
    AddressIpv6Persistent = "address.ipv6_persistent", Address, false, None;
    AddressGlobalIpv6 = "address.global_ipv6", Address, false, V6;
    AddressGlobalIpv4 = "address.global_ipv4", Address, false, V4;
    AddressIpv4Dependencies = "address.ipv4_dependencies", Address, false, None;
    AddressMailSource = "address.mail_source", Address, false, None;
    ListenerIpv4 = "listener.ipv4", Listener, true, V4;
    ListenerIpv6 = "listener.ipv6", Listener, true, V6;
    ListenerConfig = "listener.config", Listener, true, None;
    FirewallIpv4 = "firewall.ipv4", Firewall, true, V4;
    FirewallIpv6 = "firewall.ipv6", Firewall, true, V6;
    FirewallIcmpv6 = "firewall.icmpv6", Firewall, false, None;
    FirewallExposure = "firewall.exposure", Firewall, false, None;
    RouteIpv4Default = "route.ipv4_default", Route, false, V4;
    RouteIpv6Default = "route.ipv6_default", Route, false, V6;
    RouteIpv4Gateway = "route.ipv4_gateway", Route, false, V4;
    RouteIpv6Gateway = "route.ipv6_gateway", Route, false, V6;
    RouteIpv6Ra = "route.ipv6_ra", Route, false, None;
    IspEgressIpv4 = "isp.egress_ipv4", Isp, false, V4;
    IspEgressIpv6 = "isp.egress_ipv6", Isp, false, V6;
    IspPublicIpv4 = "isp.public_ipv4", Isp, false, V4;
    IspPublicIpv6 = "isp.public_ipv6", Isp, false, V6;
    IspInboundIpv4 = "isp.inbound_ipv4", Isp, true, V4;
    IspInboundIpv6 = "isp.inbound_ipv6", Isp, true, V6;
    IspHttpParity = "isp.http_parity", Isp, true, None;
    IspSmtpParity = "isp.smtp_parity", Isp, true, None;
    IspNat64 = "isp.nat64", Isp, false, None;
    IspMailEgress = "isp.mail_egress", Isp, false, None;
    IspAcmeHttp01 = "isp.acme_http01", Isp, false, None;
    IspResources = "isp.resources", Isp, false, None;
    IspRedirects = "isp.redirects", Isp, true, None;
    IspPathMtuIpv4 = "isp.path_mtu_ipv4", Isp, false, V4;
    IspPathMtuIpv6 = "isp.path_mtu_ipv6", Isp, false, V6;
    IspRegions = "isp.regions", Isp, true, None;
}

impl CheckId {
    /// The check with this contract identifier.
    pub fn parse(s: &str) -> Option<CheckId> {
        CheckId::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CheckId::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown check id {s:?}")))
    }
}

/// The finding that explains another: a check, and its port for a per-port check
/// (`listener.ipv6@80` in the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cause {
    pub check: CheckId,
    pub port: Option<u16>,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}@{p}", self.check),
            None => write!(f, "{}", self.check),
        }
    }
}

impl Cause {
    pub fn parse(s: &str) -> Option<Cause> {
        let (id, port) = match s.split_once('@') {
            Some((id, p)) => (id, Some(p.parse().ok()?)),
            None => (s, None),
        };
        Some(Cause {
            check: CheckId::parse(id)?,
            port,
        })
    }

    /// How the human reports write it: `listener.ipv6 :80`.
    pub fn label(&self) -> String {
        match self.port {
            Some(p) => format!("{} :{p}", self.check),
            None => self.check.to_string(),
        }
    }
}

impl Serialize for Cause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cause {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Cause::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown cause {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_round_trips_and_is_in_tree_order() {
        for w in CheckId::ALL.windows(2) {
            assert!(w[0] < w[1]);
            assert!(w[0].stage() <= w[1].stage(), "{} before {}", w[0], w[1]);
        }
        for &c in CheckId::ALL {
            assert_eq!(CheckId::parse(c.as_str()), Some(c));
            assert!(c.as_str().starts_with(c.stage().as_str()));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<CheckId>(&json).unwrap(), c);
        }
        assert!(serde_json::from_str::<CheckId>("\"dns.nope\"").is_err());
    }

    #[test]
    fn causes_round_trip_with_and_without_port() {
        for s in ["listener.ipv6@80", "address.ipv6_enabled"] {
            let c = Cause::parse(s).unwrap();
            assert_eq!(c.to_string(), s);
        }
        assert!(Cause::parse("listener.ipv6@x").is_none());
        assert!(Cause::parse("nope.x").is_none());
    }

    #[test]
    fn families_of_paired_checks() {
        assert_eq!(CheckId::DnsAaaaTarget.family(), Some(Family::V6));
        assert_eq!(CheckId::DnsA.family(), Some(Family::V4));
        assert_eq!(CheckId::RouteIpv4Gateway.family(), Some(Family::V4));
        assert_eq!(CheckId::IspPathMtuIpv6.family(), Some(Family::V6));
        assert_eq!(CheckId::ListenerConfig.family(), None);
        assert_eq!(CheckId::FirewallIcmpv6.family(), None);
    }
}
