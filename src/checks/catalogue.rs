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
use Family as F;
use PartKind as P;

/// A check answered once for the host.
const fn host(
    id: CheckId,
    reads: &'static [PartKind],
    rel: Relations,
    eval: fn(&Ctx) -> Finding,
) -> CheckDef {
    CheckDef {
        id,
        reads,
        rel,
        eval: Eval::Host(eval),
    }
}

/// A check answered once per port of the target.
const fn port(
    id: CheckId,
    reads: &'static [PartKind],
    rel: Relations,
    eval: fn(&Ctx, u16) -> Finding,
) -> CheckDef {
    CheckDef {
        id,
        reads,
        rel,
        eval: Eval::Port(eval),
    }
}

/// A check that may name these causes from what it saw.
const fn names(causes: &'static [CheckId]) -> Relations {
    Relations {
        names: causes,
        ..ALONE
    }
}

/// An IPv6 check whose question is moot while IPv6 is off, and that may name these
/// causes from what it saw.
const fn moot_v6(causes: &'static [CheckId]) -> Relations {
    Relations {
        moot_when: &[C::AddressIpv6Enabled],
        names: causes,
        ..ALONE
    }
}

/// The ISP checks that the host's own filter explains when it shuts the port.
const fn inbound(shut_by: &'static [CheckId], causes: &'static [CheckId]) -> Relations {
    Relations {
        explained_by: shut_by,
        names: causes,
        when_explained: Some("inbound_host_firewall"),
        ..ALONE
    }
}

/// Several lists in one (a path's blockers build on another path's, a check reads what
/// another reads and more); `N` is their total length, checked when the constant is
/// built.
const fn join<const N: usize, T: Copy>(lists: &[&[T]]) -> [T; N] {
    let mut out = [lists[0][0]; N];
    let mut n = 0;
    let mut l = 0;
    while l < lists.len() {
        let mut i = 0;
        while i < lists[l].len() {
            out[n] = lists[l][i];
            n += 1;
            i += 1;
        }
        l += 1;
    }
    assert!(n == N, "join: N is not the lists' total length");
    out
}

/// Explained by IPv6 being off, which the last pass names.
const IPV6_OFF_EXPLAINS: Relations = Relations {
    explained_by: &[C::AddressIpv6Enabled],
    ..ALONE
};

const KERNEL: &[PartKind] = &[P::Netlink, P::Sysctl];
const DNS_READS: &[PartKind] = &[P::Netlink, P::Sysctl, P::Dns];
const LISTENER_READS: &[PartKind] = &[
    P::Netlink,
    P::Sysctl,
    P::Dns,
    P::Listeners,
    P::Web,
    P::Containers,
];
const PORT_FILTER_READS: &[PartKind] = &[P::Netlink, P::Sysctl, P::Dns, P::Firewall, P::Isp];
const GATEWAY_READS: &[PartKind] = &[P::Netlink, P::Sysctl, P::Pings];
const NAMESERVER_READS: &[PartKind] = &[P::Netlink, P::Sysctl, P::Dns, P::Firewall, P::Pings];
const EXPOSURE_READS: &[PartKind] = &[P::Netlink, P::Sysctl, P::Dns, P::Firewall, P::Listeners];
const ISP_READS: &[PartKind] = &[
    P::Netlink,
    P::Sysctl,
    P::Firewall,
    P::Pings,
    P::Dns,
    P::Listeners,
    P::Isp,
];
/// The redirects' names are judged against the web servers' names too.
const REDIRECT_READS: &[PartKind] = &join::<8, _>(&[ISP_READS, &[P::Web]]);
/// The mail checks: the mail part and the host's addresses (flags, hostname).
const MAIL_READS: &[PartKind] = &[P::Netlink, P::Mail];
/// SPF evaluates the address receivers see: behind NAT, the one the echo service saw.
const SPF_READS: &[PartKind] = &[P::Netlink, P::Isp, P::Mail];
/// Port 25 outbound also names what blocks a family's path.
const MAIL_EGRESS_READS: &[PartKind] = &[P::Netlink, P::Sysctl, P::Firewall, P::Mail];
const BLOCKERS_V4: &[CheckId] = &[C::RouteIpv4Default, C::RouteIpv4Gateway];
const BLOCKERS_V6: &[CheckId] = &[
    C::AddressIpv6Enabled,
    C::FirewallIcmpv6,
    C::RouteIpv6Default,
    C::RouteIpv6Gateway,
];
/// What stops a probe that needs to reach the internet: a blocker, or the egress
/// check's own failure.
const BEHIND_EGRESS_V4: &[CheckId] = &join::<3, _>(&[BLOCKERS_V4, &[C::IspEgressIpv4]]);
const BEHIND_EGRESS_V6: &[CheckId] = &join::<5, _>(&[BLOCKERS_V6, &[C::IspEgressIpv6]]);
/// What stops the NAT64 path, or makes it the wrong question (a lost IPv4 route).
const NAT64_CAUSES: &[CheckId] = &join::<6, _>(&[BEHIND_EGRESS_V6, &[C::RouteIpv4Default]]);
const NONE: &[CheckId] = &[];

/// A host without IPv4 while the site is meant to serve IPv4: the missing route or
/// address is the fault to fix, and the dependencies it breaks are its consequence.
/// Asked `--expect ipv6`, both of those skip and the dependencies stand on their own.
const IPV4_DEPS: Relations = Relations {
    explained_by: &[C::RouteIpv4Default, C::AddressGlobalIpv4],
    ..ALONE
};

/// The IPv6 filter: moot while IPv6 is off; without a global IPv6 address to ask about,
/// it names that.
const FILTER_V6: Relations = moot_v6(&[C::AddressGlobalIpv6]);
/// A name server not asked over a family this host cannot send over.
const NAMESERVERS: Relations = names(&join::<6, _>(&[BLOCKERS_V6, BLOCKERS_V4]));
const PUBLIC_V4: Relations = names(&join::<5, _>(&[
    BEHIND_EGRESS_V4,
    &[C::AddressGlobalIpv4, C::DnsATarget],
]));
const INBOUND_V4: Relations = inbound(
    &[C::FirewallIpv4],
    &join::<5, _>(&[BEHIND_EGRESS_V4, &[C::ListenerIpv4, C::AddressGlobalIpv4]]),
);
const INBOUND_V6: Relations = inbound(
    &[C::FirewallIpv6],
    &join::<6, _>(&[BEHIND_EGRESS_V6, &[C::ListenerIpv6]]),
);
const HTTP_PARITY: Relations = Relations {
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
    ..IPV6_OFF_EXPLAINS
};

/// The catalogue, in tree order (a unit test holds it to `CheckId::ALL`): per check the
/// fact parts it reads, how it relates to other checks, and its evaluation. A table, one
/// row a check, so it is laid out by hand.
#[rustfmt::skip]
pub static CATALOGUE: &[CheckDef] = &[
    host(C::DnsA, DNS_READS, ALONE, |c| dns::records::check(c, F::V4)),
    host(C::DnsAaaa, DNS_READS, ALONE, |c| dns::records::check(c, F::V6)),
    host(C::DnsATarget, &[P::Netlink, P::Sysctl, P::Dns, P::Isp], ALONE, dns::a_target::check),
    host(C::DnsAaaaTarget, DNS_READS, names(&[C::AddressIpv6Enabled, C::AddressGlobalIpv6]), dns::aaaa_target::check),
    host(C::DnsConsistency, DNS_READS, ALONE, dns::consistency::check),
    host(C::DnsReverse, DNS_READS, ALONE, dns::reverse::check),
    host(C::DnsNameservers, NAMESERVER_READS, NAMESERVERS, dns::nameservers::check),
    host(C::DnsMx, DNS_READS, ALONE, dns::mx::check),
    host(C::DnsSpf, SPF_READS, ALONE, dns::spf::check),
    host(C::DnsBlocklists, MAIL_READS, ALONE, dns::blocklists::check),
    host(C::DnsGeo, DNS_READS, ALONE, dns::geo::check),
    host(C::DnsDns64, DNS_READS, ALONE, dns::dns64::check),
    host(C::AddressIpv6Enabled, KERNEL, ALONE, address::ipv6_enabled::check),
    host(C::AddressIpv6Persistent, &[P::Netlink, P::Sysctl, P::SysctlFiles, P::BootNetwork], ALONE, address::ipv6_persistent::check),
    host(C::AddressGlobalIpv6, DNS_READS, names(&[C::AddressIpv6Enabled]), address::global_ipv6::check),
    host(C::AddressGlobalIpv4, &[P::Netlink, P::Dns, P::Isp], ALONE, address::global_ipv4::check),
    host(C::AddressIpv4Dependencies, &[P::Netlink, P::Dns, P::Web, P::Ipv4Deps], IPV4_DEPS, address::ipv4_dependencies::check),
    host(C::AddressMailSource, MAIL_READS, ALONE, address::mail_source::check),
    port(C::ListenerIpv4, LISTENER_READS, ALONE, |c, p| listener::socket::check(c, p, F::V4)),
    port(C::ListenerIpv6, LISTENER_READS, moot_v6(NONE), |c, p| listener::socket::check(c, p, F::V6)),
    port(C::ListenerConfig, LISTENER_READS, ALONE, listener::config::check),
    port(C::FirewallIpv4, PORT_FILTER_READS, names(&[C::AddressGlobalIpv4]), |c, p| firewall::port::check(c, p, F::V4)),
    port(C::FirewallIpv6, PORT_FILTER_READS, FILTER_V6, |c, p| firewall::port::check(c, p, F::V6)),
    host(C::FirewallIcmpv6, &[P::Netlink, P::Sysctl, P::Firewall], FILTER_V6, firewall::icmpv6::check),
    host(C::FirewallExposure, EXPOSURE_READS, ALONE, firewall::exposure::check),
    host(C::RouteIpv4Default, KERNEL, ALONE, |c| route::default::check(c, F::V4)),
    host(C::RouteIpv6Default, KERNEL, moot_v6(&[C::RouteIpv6Ra]), |c| route::default::check(c, F::V6)),
    host(C::RouteIpv4Gateway, GATEWAY_READS, names(&[C::RouteIpv4Default]), |c| route::gateway::check(c, F::V4)),
    host(C::RouteIpv6Gateway, GATEWAY_READS, moot_v6(&[C::RouteIpv6Default]), |c| route::gateway::check(c, F::V6)),
    host(C::RouteIpv6Ra, KERNEL, moot_v6(NONE), route::ra::check),
    host(C::IspEgressIpv4, ISP_READS, names(BLOCKERS_V4), |c| isp::egress::check(c, F::V4)),
    host(C::IspEgressIpv6, ISP_READS, names(BLOCKERS_V6), |c| isp::egress::check(c, F::V6)),
    host(C::IspPublicIpv4, ISP_READS, PUBLIC_V4, |c| isp::public::check(c, F::V4)),
    host(C::IspPublicIpv6, ISP_READS, names(BEHIND_EGRESS_V6), |c| isp::public::check(c, F::V6)),
    port(C::IspInboundIpv4, ISP_READS, INBOUND_V4, |c, p| isp::inbound::check(c, p, F::V4)),
    port(C::IspInboundIpv6, ISP_READS, INBOUND_V6, |c, p| isp::inbound::check(c, p, F::V6)),
    port(C::IspHttpParity, ISP_READS, HTTP_PARITY, isp::http_parity::check),
    port(C::IspSmtpParity, ISP_READS, ALONE, isp::smtp_parity::check),
    host(C::IspNat64, ISP_READS, names(NAT64_CAUSES), isp::nat64::check),
    host(C::IspMailEgress, MAIL_EGRESS_READS, NAMESERVERS, isp::mail_egress::check),
    host(C::IspAcmeHttp01, ISP_READS, IPV6_OFF_EXPLAINS, isp::acme::check),
    host(C::IspResources, ISP_READS, ALONE, isp::resources::check),
    port(C::IspRedirects, REDIRECT_READS, IPV6_OFF_EXPLAINS, isp::redirects::check),
    host(C::IspPathMtuIpv4, ISP_READS, names(BEHIND_EGRESS_V4), |c| isp::path_mtu::check(c, F::V4)),
    host(C::IspPathMtuIpv6, ISP_READS, names(BEHIND_EGRESS_V6), |c| isp::path_mtu::check(c, F::V6)),
    // Alone: a relation would make every re-check of another stage ask the world again.
    port(C::IspRegions, &[P::Regions], ALONE, isp::regions::check),
];

/// The catalogue entry of a check.
pub fn def(id: CheckId) -> &'static CheckDef {
    // CATALOGUE is in `CheckId::ALL` order with one entry each (unit-tested), so the
    // variant's position is its index.
    &CATALOGUE[id as usize]
}
