//! Check identifiers: one variant per check of the contract's catalogue. The string form
//! is the contract's (`dns.aaaa_target`); everything inside the program uses the variant,
//! so a check that does not exist cannot be named, not even as a cause.

use super::{Family, Stage};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! check_ids {
    ($( $variant:ident = $name:literal, $stage:ident, $per_port:literal; )*) => {
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
        }
    };
}

check_ids! {
    DnsA = "dns.a", Dns, false;
    DnsAaaa = "dns.aaaa", Dns, false;
    DnsATarget = "dns.a_target", Dns, false;
    DnsAaaaTarget = "dns.aaaa_target", Dns, false;
    DnsConsistency = "dns.consistency", Dns, false;
    DnsReverse = "dns.reverse", Dns, false;
    DnsNameservers = "dns.nameservers", Dns, false;
    DnsMx = "dns.mx", Dns, false;
    DnsDns64 = "dns.dns64", Dns, false;
    AddressIpv6Enabled = "address.ipv6_enabled", Address, false;
    AddressIpv6Persistent = "address.ipv6_persistent", Address, false;
    AddressGlobalIpv6 = "address.global_ipv6", Address, false;
    AddressGlobalIpv4 = "address.global_ipv4", Address, false;
    ListenerIpv4 = "listener.ipv4", Listener, true;
    ListenerIpv6 = "listener.ipv6", Listener, true;
    ListenerConfig = "listener.config", Listener, true;
    FirewallIpv4 = "firewall.ipv4", Firewall, true;
    FirewallIpv6 = "firewall.ipv6", Firewall, true;
    FirewallIcmpv6 = "firewall.icmpv6", Firewall, false;
    FirewallExposure = "firewall.exposure", Firewall, false;
    RouteIpv4Default = "route.ipv4_default", Route, false;
    RouteIpv6Default = "route.ipv6_default", Route, false;
    RouteIpv4Gateway = "route.ipv4_gateway", Route, false;
    RouteIpv6Gateway = "route.ipv6_gateway", Route, false;
    RouteIpv6Ra = "route.ipv6_ra", Route, false;
    IspEgressIpv4 = "isp.egress_ipv4", Isp, false;
    IspEgressIpv6 = "isp.egress_ipv6", Isp, false;
    IspPublicIpv4 = "isp.public_ipv4", Isp, false;
    IspPublicIpv6 = "isp.public_ipv6", Isp, false;
    IspInboundIpv4 = "isp.inbound_ipv4", Isp, true;
    IspInboundIpv6 = "isp.inbound_ipv6", Isp, true;
    IspHttpParity = "isp.http_parity", Isp, true;
    IspSmtpParity = "isp.smtp_parity", Isp, true;
    IspAcmeHttp01 = "isp.acme_http01", Isp, false;
    IspResources = "isp.resources", Isp, false;
    IspPathMtuIpv4 = "isp.path_mtu_ipv4", Isp, false;
    IspPathMtuIpv6 = "isp.path_mtu_ipv6", Isp, false;
}

impl CheckId {
    /// The check with this contract identifier.
    pub fn parse(s: &str) -> Option<CheckId> {
        CheckId::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// The family a check is about, for the checks that come in an IPv4/IPv6 pair.
    pub fn family(self) -> Option<Family> {
        let name = self.as_str();
        if name.ends_with("ipv4")
            || name.ends_with("ipv4_default")
            || name.ends_with("ipv4_gateway")
        {
            Some(Family::V4)
        } else if name.ends_with("ipv6")
            || name.ends_with("ipv6_default")
            || name.ends_with("ipv6_gateway")
            || self == CheckId::DnsAaaa
            || self == CheckId::DnsAaaaTarget
        {
            Some(Family::V6)
        } else if self == CheckId::DnsA || self == CheckId::DnsATarget {
            Some(Family::V4)
        } else {
            None
        }
    }

    /// Pick one of a family pair: `CheckId::pick(v6, ListenerIpv4, ListenerIpv6)`.
    pub fn pick(v6: bool, v4_check: CheckId, v6_check: CheckId) -> CheckId {
        if v6 { v6_check } else { v4_check }
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
