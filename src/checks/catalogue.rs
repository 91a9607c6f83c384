//! The check catalogue: one entry per check, in tree order. Everything else about the
//! checks is derived from it: the evaluation order, which fact parts a stage waits for,
//! which checks a re-check must run again, the per-port list, `--list-checks`.

use super::view::Ctx;
use super::{address, dns, firewall, isp, listener, route};
use crate::facts::PartKind;
use crate::model::{CheckId, Family, Finding, Stage};

/// How a check is evaluated: once, or once per port of the target.
#[derive(Clone, Copy)]
pub enum Eval {
    Host(fn(&Ctx) -> Finding),
    Port(fn(&Ctx, u16) -> Finding),
}

/// One check: what it reads, how it relates to other checks, how it is evaluated.
pub struct CheckDef {
    pub id: CheckId,
    /// The fact parts the evaluation reads (a re-check gathers these again).
    pub reads: &'static [PartKind],
    pub rel: Relations,
    pub eval: Eval,
}

/// How a check's finding relates to other findings (applied by `causes::settle`).
pub struct Relations {
    /// When one of these fails, this check's question is moot: it becomes `skip` naming
    /// that check.
    pub moot_when: &'static [CheckId],
    /// Failures that explain a failure of this one: the last pass names the first that
    /// failed as `caused_by` (on the same port for a per-port cause).
    pub explained_by: &'static [CheckId],
    /// Further checks the evaluation itself may name as cause, from what it saw.
    pub names: &'static [CheckId],
    /// The explanation (an `assets` key, with `{port}` and `{cause}`) once the last pass
    /// names an `explained_by` cause; the fixes are then the cause's, not this check's.
    pub when_explained: Option<&'static str>,
}

/// A check that no other finding makes moot or explains.
pub const ALONE: Relations = Relations {
    moot_when: NONE,
    explained_by: NONE,
    names: NONE,
    when_explained: None,
};

impl CheckDef {
    /// Every check this one may name as its cause.
    pub fn causes(&self) -> impl Iterator<Item = CheckId> + '_ {
        self.rel
            .moot_when
            .iter()
            .chain(self.rel.explained_by)
            .chain(self.rel.names)
            .copied()
    }

    pub fn per_port(&self) -> bool {
        matches!(self.eval, Eval::Port(_))
    }

    pub fn stage(&self) -> Stage {
        self.id.stage()
    }
}

use CheckId as C;
use PartKind as P;

const DNS_READS: &[PartKind] = &[P::Netlink, P::Sysctl, P::Dns];
const ISP_READS: &[PartKind] = &[
    P::Netlink,
    P::Sysctl,
    P::Firewall,
    P::Pings,
    P::Dns,
    P::Listeners,
    P::Isp,
];
const BLOCKERS_V4: &[CheckId] = &[C::RouteIpv4Default, C::RouteIpv4Gateway];
const BLOCKERS_V6: &[CheckId] = &[
    C::AddressIpv6Enabled,
    C::FirewallIcmpv6,
    C::RouteIpv6Default,
    C::RouteIpv6Gateway,
];
/// What stops a probe that needs to reach the internet: a blocker, or the egress
/// check's own failure.
const BEHIND_EGRESS_V4: &[CheckId] = &[C::RouteIpv4Default, C::RouteIpv4Gateway, C::IspEgressIpv4];
const BEHIND_EGRESS_V6: &[CheckId] = &[
    C::AddressIpv6Enabled,
    C::FirewallIcmpv6,
    C::RouteIpv6Default,
    C::RouteIpv6Gateway,
    C::IspEgressIpv6,
];
const NONE: &[CheckId] = &[];

/// The catalogue, in tree order (a unit test holds it to `CheckId::ALL`).
pub static CATALOGUE: &[CheckDef] = &[
    CheckDef {
        id: C::DnsA,
        reads: DNS_READS,
        rel: ALONE,
        eval: Eval::Host(|c| dns::records::check(c, Family::V4)),
    },
    CheckDef {
        id: C::DnsAaaa,
        reads: DNS_READS,
        rel: ALONE,
        eval: Eval::Host(|c| dns::records::check(c, Family::V6)),
    },
    CheckDef {
        id: C::DnsATarget,
        reads: &[P::Netlink, P::Sysctl, P::Dns, P::Isp],
        rel: ALONE,
        eval: Eval::Host(dns::a_target::check),
    },
    CheckDef {
        id: C::DnsAaaaTarget,
        reads: DNS_READS,
        rel: Relations {
            names: &[C::AddressIpv6Enabled, C::AddressGlobalIpv6],
            ..ALONE
        },
        eval: Eval::Host(dns::aaaa_target::check),
    },
    CheckDef {
        id: C::DnsConsistency,
        reads: DNS_READS,
        rel: ALONE,
        eval: Eval::Host(dns::consistency::check),
    },
    CheckDef {
        id: C::DnsReverse,
        reads: DNS_READS,
        rel: ALONE,
        eval: Eval::Host(dns::reverse::check),
    },
    CheckDef {
        id: C::DnsNameservers,
        reads: &[P::Netlink, P::Sysctl, P::Dns, P::Firewall, P::Pings],
        rel: Relations {
            names: &[
                C::AddressIpv6Enabled,
                C::FirewallIcmpv6,
                C::RouteIpv4Default,
                C::RouteIpv6Default,
                C::RouteIpv4Gateway,
                C::RouteIpv6Gateway,
            ],
            ..ALONE
        },
        eval: Eval::Host(dns::nameservers::check),
    },
    CheckDef {
        id: C::DnsMx,
        reads: DNS_READS,
        rel: ALONE,
        eval: Eval::Host(dns::mx::check),
    },
    CheckDef {
        id: C::DnsDns64,
        reads: DNS_READS,
        rel: ALONE,
        eval: Eval::Host(dns::dns64::check),
    },
    CheckDef {
        id: C::AddressIpv6Enabled,
        reads: &[P::Netlink, P::Sysctl],
        rel: ALONE,
        eval: Eval::Host(address::ipv6_enabled::check),
    },
    CheckDef {
        id: C::AddressIpv6Persistent,
        reads: &[P::Netlink, P::Sysctl, P::SysctlFiles],
        rel: ALONE,
        eval: Eval::Host(address::ipv6_persistent::check),
    },
    CheckDef {
        id: C::AddressGlobalIpv6,
        reads: &[P::Netlink, P::Sysctl, P::Dns],
        rel: Relations {
            names: &[C::AddressIpv6Enabled],
            ..ALONE
        },
        eval: Eval::Host(address::global_ipv6::check),
    },
    CheckDef {
        id: C::AddressGlobalIpv4,
        reads: &[P::Netlink, P::Isp],
        rel: ALONE,
        eval: Eval::Host(address::global_ipv4::check),
    },
    CheckDef {
        id: C::ListenerIpv4,
        reads: &[P::Netlink, P::Sysctl, P::Dns, P::Listeners, P::Web],
        rel: ALONE,
        eval: Eval::Port(|c, p| listener::socket::check(c, p, Family::V4)),
    },
    CheckDef {
        id: C::ListenerIpv6,
        reads: &[P::Netlink, P::Sysctl, P::Dns, P::Listeners, P::Web],
        rel: Relations {
            moot_when: &[C::AddressIpv6Enabled],
            ..ALONE
        },
        eval: Eval::Port(|c, p| listener::socket::check(c, p, Family::V6)),
    },
    CheckDef {
        id: C::ListenerConfig,
        reads: &[P::Netlink, P::Sysctl, P::Dns, P::Listeners, P::Web],
        rel: ALONE,
        eval: Eval::Port(listener::config::check),
    },
    CheckDef {
        id: C::FirewallIpv4,
        reads: &[P::Netlink, P::Sysctl, P::Dns, P::Firewall, P::Isp],
        rel: Relations {
            names: &[C::AddressGlobalIpv4],
            ..ALONE
        },
        eval: Eval::Port(|c, p| firewall::port::check(c, p, Family::V4)),
    },
    CheckDef {
        id: C::FirewallIpv6,
        reads: &[P::Netlink, P::Sysctl, P::Dns, P::Firewall, P::Isp],
        rel: Relations {
            moot_when: &[C::AddressIpv6Enabled],
            names: &[C::AddressGlobalIpv6],
            ..ALONE
        },
        eval: Eval::Port(|c, p| firewall::port::check(c, p, Family::V6)),
    },
    CheckDef {
        id: C::FirewallIcmpv6,
        reads: &[P::Netlink, P::Sysctl, P::Firewall],
        rel: Relations {
            moot_when: &[C::AddressIpv6Enabled],
            names: &[C::AddressGlobalIpv6],
            ..ALONE
        },
        eval: Eval::Host(firewall::icmpv6::check),
    },
    CheckDef {
        id: C::FirewallExposure,
        reads: &[P::Netlink, P::Sysctl, P::Dns, P::Firewall, P::Listeners],
        rel: ALONE,
        eval: Eval::Host(firewall::exposure::check),
    },
    CheckDef {
        id: C::RouteIpv4Default,
        reads: &[P::Netlink, P::Sysctl],
        rel: ALONE,
        eval: Eval::Host(|c| route::default::check(c, Family::V4)),
    },
    CheckDef {
        id: C::RouteIpv6Default,
        reads: &[P::Netlink, P::Sysctl],
        rel: Relations {
            moot_when: &[C::AddressIpv6Enabled],
            names: &[C::RouteIpv6Ra],
            ..ALONE
        },
        eval: Eval::Host(|c| route::default::check(c, Family::V6)),
    },
    CheckDef {
        id: C::RouteIpv4Gateway,
        reads: &[P::Netlink, P::Sysctl, P::Pings],
        rel: Relations {
            names: &[C::RouteIpv4Default],
            ..ALONE
        },
        eval: Eval::Host(|c| route::gateway::check(c, Family::V4)),
    },
    CheckDef {
        id: C::RouteIpv6Gateway,
        reads: &[P::Netlink, P::Sysctl, P::Pings],
        rel: Relations {
            moot_when: &[C::AddressIpv6Enabled],
            names: &[C::RouteIpv6Default],
            ..ALONE
        },
        eval: Eval::Host(|c| route::gateway::check(c, Family::V6)),
    },
    CheckDef {
        id: C::RouteIpv6Ra,
        reads: &[P::Netlink, P::Sysctl],
        rel: Relations {
            moot_when: &[C::AddressIpv6Enabled],
            ..ALONE
        },
        eval: Eval::Host(route::ra::check),
    },
    CheckDef {
        id: C::IspEgressIpv4,
        reads: ISP_READS,
        rel: Relations {
            names: BLOCKERS_V4,
            ..ALONE
        },
        eval: Eval::Host(|c| isp::egress::check(c, Family::V4)),
    },
    CheckDef {
        id: C::IspEgressIpv6,
        reads: ISP_READS,
        rel: Relations {
            names: BLOCKERS_V6,
            ..ALONE
        },
        eval: Eval::Host(|c| isp::egress::check(c, Family::V6)),
    },
    CheckDef {
        id: C::IspPublicIpv4,
        reads: ISP_READS,
        rel: Relations {
            names: &[
                C::RouteIpv4Default,
                C::RouteIpv4Gateway,
                C::IspEgressIpv4,
                C::AddressGlobalIpv4,
                C::DnsATarget,
            ],
            ..ALONE
        },
        eval: Eval::Host(|c| isp::public::check(c, Family::V4)),
    },
    CheckDef {
        id: C::IspPublicIpv6,
        reads: ISP_READS,
        rel: Relations {
            names: BEHIND_EGRESS_V6,
            ..ALONE
        },
        eval: Eval::Host(|c| isp::public::check(c, Family::V6)),
    },
    CheckDef {
        id: C::IspInboundIpv4,
        reads: ISP_READS,
        rel: Relations {
            explained_by: &[C::FirewallIpv4],
            names: &[
                C::RouteIpv4Default,
                C::RouteIpv4Gateway,
                C::IspEgressIpv4,
                C::ListenerIpv4,
                C::AddressGlobalIpv4,
            ],
            when_explained: Some("inbound_host_firewall"),
            ..ALONE
        },
        eval: Eval::Port(|c, p| isp::inbound::check(c, p, Family::V4)),
    },
    CheckDef {
        id: C::IspInboundIpv6,
        reads: ISP_READS,
        rel: Relations {
            explained_by: &[C::FirewallIpv6],
            names: &[
                C::AddressIpv6Enabled,
                C::FirewallIcmpv6,
                C::RouteIpv6Default,
                C::RouteIpv6Gateway,
                C::IspEgressIpv6,
                C::ListenerIpv6,
            ],
            when_explained: Some("inbound_host_firewall"),
            ..ALONE
        },
        eval: Eval::Port(|c, p| isp::inbound::check(c, p, Family::V6)),
    },
    CheckDef {
        id: C::IspHttpParity,
        reads: ISP_READS,
        rel: Relations {
            explained_by: &[C::AddressIpv6Enabled],
            names: &[
                C::ListenerIpv4,
                C::ListenerIpv6,
                C::IspInboundIpv4,
                C::IspInboundIpv6,
                C::AddressIpv6Enabled,
                C::DnsATarget,
                C::DnsAaaaTarget,
                C::FirewallIcmpv6,
                C::RouteIpv4Default,
                C::RouteIpv6Default,
                C::RouteIpv4Gateway,
                C::RouteIpv6Gateway,
                C::IspEgressIpv4,
                C::IspEgressIpv6,
            ],
            ..ALONE
        },
        eval: Eval::Port(isp::http_parity::check),
    },
    CheckDef {
        id: C::IspSmtpParity,
        reads: ISP_READS,
        rel: ALONE,
        eval: Eval::Port(isp::smtp_parity::check),
    },
    CheckDef {
        id: C::IspAcmeHttp01,
        reads: ISP_READS,
        rel: Relations {
            explained_by: &[C::AddressIpv6Enabled],
            ..ALONE
        },
        eval: Eval::Host(isp::acme::check),
    },
    CheckDef {
        id: C::IspResources,
        reads: ISP_READS,
        rel: ALONE,
        eval: Eval::Host(isp::resources::check),
    },
    CheckDef {
        id: C::IspPathMtuIpv4,
        reads: ISP_READS,
        rel: Relations {
            names: BEHIND_EGRESS_V4,
            ..ALONE
        },
        eval: Eval::Host(|c| isp::path_mtu::check(c, Family::V4)),
    },
    CheckDef {
        id: C::IspPathMtuIpv6,
        reads: ISP_READS,
        rel: Relations {
            names: BEHIND_EGRESS_V6,
            ..ALONE
        },
        eval: Eval::Host(|c| isp::path_mtu::check(c, Family::V6)),
    },
];

/// The catalogue entry of a check.
pub fn def(id: CheckId) -> &'static CheckDef {
    // CATALOGUE is in `CheckId::ALL` order with one entry each (unit-tested), so the
    // variant's position is its index.
    &CATALOGUE[id as usize]
}
