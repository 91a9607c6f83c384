//! How the world sees the site (issue 16): `dns.geo` against an authoritative server
//! that answers by EDNS Client Subnet (tests/support/ecs_dns.py on ns1's addresses; ns2
//! stays the lab's dnsmasq, which ignores the option).

use crate::harness::*;

/// The client networks of two regions of assets/geo_subnets.toml (Africa, Asia): the
/// ECS server withholds the AAAA from queries naming them.
const AFRICA_ASIA: &[&str] = &[
    "196.192.115.0/24",
    "2001:42d0::/48",
    "203.178.136.0/24",
    "2001:200::/48",
];

fn run_geo(tag: &str, zone: DnsZone) -> CheckRun {
    let mut lab = Lab::with_zone(tag, zone);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let r = lab.check(&[]);
    lab.assert_fixes_concrete(&r);
    r
}

#[test]
fn geo_dns_withholding_aaaa_from_regions_is_named() {
    let r = run_geo("geo-withheld", DnsZone::new().ecs_on_ns1(AFRICA_ASIA));
    let summary = r.part(CheckId::DnsGeo, None, Part::Summary);
    assert!(
        summary.contains("ns1.lab.example (192.0.2.54)")
            && summary.contains("Africa, Asia no AAAA")
            && summary.contains(SRV_V6)
            && !summary.contains("Europe"),
        "dns.geo does not name the regions without AAAA:\n{}",
        r.dump(CheckId::DnsGeo, None)
    );
    r.assert_status(CheckId::DnsGeo, None, Status::Fail);
    // The plain answers are the same everywhere: only the regional view shows it.
    r.assert_status(CheckId::DnsConsistency, None, Status::Pass);
    r.assert_status(CheckId::DnsAaaa, None, Status::Pass);
}

/// The healthy twin: the same ECS server, the same answer for every region; its answers
/// come 100 ms late (a distant server), well within the timeout.
#[test]
fn geo_dns_same_answer_everywhere_passes() {
    let r = run_geo("geo-same", DnsZone::new().ecs_on_ns1(&[]).ecs_delay_ms(100));
    let summary = r.part(CheckId::DnsGeo, None, Part::Summary);
    assert!(
        summary.contains("every region get the same A and AAAA from ns1.lab.example")
            && summary.contains("ns2.lab.example does not vary by region"),
        "dns.geo does not tell the ECS server from dnsmasq:\n{}",
        r.dump(CheckId::DnsGeo, None)
    );
    let text = r.part(CheckId::DnsGeo, None, Part::Text);
    assert!(
        text.contains("scope /24") && text.contains("Oceania"),
        "dns.geo's evidence lacks the regions' scopes:\n{text}"
    );
    r.assert_status(CheckId::DnsGeo, None, Status::Pass);
    r.assert_exit(0);
}

/// The lab's dnsmasq ignores the option: reported as not varying by region, which is
/// neither agreement between regions nor a failure.
#[test]
fn geo_dns_server_ignoring_ecs_does_not_vary_by_region() {
    let r = run_geo("geo-ignored", DnsZone::new());
    let summary = r.part(CheckId::DnsGeo, None, Part::Summary);
    assert!(
        summary.contains("do not vary by region")
            && summary.contains("ns1.lab.example, ns2.lab.example ignore EDNS Client Subnet")
            && !summary.contains("every region get"),
        "dns.geo claims agreement from a server that ignores ECS:\n{}",
        r.dump(CheckId::DnsGeo, None)
    );
    r.assert_status(CheckId::DnsGeo, None, Status::Pass);
    r.assert_exit(0);
}
