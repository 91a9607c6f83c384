//! Unit tests of the DNS checks: the healthy fixture, broken one way per test.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::*;
use crate::model::{CheckId, Status};
use crate::verdict::verdict;

/// The healthy host broken one way per row, each row one former test.
const BROKEN: &[Broken] = &[
    Broken {
        name: "a_in_private_range_fails_without_assume_public",
        breaks: |f| f.dns.a = records(&["192.168.1.10"]),
        id: CheckId::DnsATarget,
        port: None,
        status: Status::Fail,
        summary: &[],
        evidence: &["private"],
    },
    Broken {
        name: "authoritative_servers_disagreeing_fails",
        breaks: |f| f.dns.servers[3].aaaa = records(&["2001:db8:1::99"]),
        id: CheckId::DnsConsistency,
        port: None,
        status: Status::Fail,
        summary: &[],
        evidence: &[],
    },
    Broken {
        name: "single_nameserver_without_aaaa_warns",
        breaks: |f| {
            if let Ok(z) = f.dns.zone.result.as_mut() {
                z.nameservers.truncate(1);
                z.nameservers[0].aaaa.clear();
            }
        },
        id: CheckId::DnsNameservers,
        port: None,
        status: Status::Warn,
        summary: &["only 1", "no AAAA"],
        evidence: &[],
    },
    Broken {
        name: "nxdomain_is_a_clean_failure",
        breaks: |f| {
            f.dns.a = Probed::ok(DnsAnswer::NxDomain);
            f.dns.aaaa = Probed::ok(DnsAnswer::NxDomain);
        },
        id: CheckId::DnsA,
        port: None,
        status: Status::Fail,
        summary: &["does not exist"],
        evidence: &[],
    },
    Broken {
        name: "geo_region_sent_elsewhere_warns",
        breaks: |f| {
            for q in f.dns.geo.iter_mut().flatten() {
                if q.region.as_deref() == Some("Europe") {
                    q.a = Probed::ok(GeoAnswer {
                        answer: records(&["198.51.100.7"]).result.expect("records"),
                        scope: Some(24),
                    });
                }
            }
        },
        id: CheckId::DnsGeo,
        port: None,
        status: Status::Warn,
        summary: &["Europe A 198.51.100.7"],
        evidence: &[],
    },
];

#[test]
fn broken_one_way_gives_its_finding() {
    assert_broken(BROKEN, healthy);
}

#[test]
fn aaaa_pointing_elsewhere_fails_dns_with_a_fix() {
    let mut f = healthy();
    f.dns.aaaa = records(&["2001:db8:1::99"]);
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::DnsAaaaTarget, None, Status::Fail);
    assert_has(&fd.summary, "2001:db8:1::99");
    assert!(fd.fixes[0].title.contains("AAAA"));
    assert!(
        fd.fixes[0]
            .commands
            .iter()
            .any(|c| c.contains("2001:db8:1::10")),
        "{:?}",
        fd.fixes
    );
    assert_eq!(verdict(&fs).check, Some(CheckId::DnsAaaaTarget));
}

#[test]
fn missing_a_record_fails() {
    let mut f = healthy();
    f.dns.a = Probed::ok(DnsAnswer::NoData);
    for s in &mut f.dns.servers {
        s.a = Probed::ok(DnsAnswer::NoData);
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsA, None), Status::Fail);
    assert_eq!(status(&fs, CheckId::DnsATarget, None), Status::Skip);
    assert_eq!(verdict(&fs).check, Some(CheckId::DnsA));
}

#[test]
fn documentation_addresses_are_not_public_by_default() {
    let mut o = options();
    o.assume_public.clear();
    let fs = evaluate(&healthy(), &o);
    assert_eq!(status(&fs, CheckId::DnsAaaaTarget, None), Status::Fail);
    assert_eq!(status(&fs, CheckId::AddressGlobalIpv6, None), Status::Fail);
}

#[test]
fn resolver_that_differs_from_authoritative_is_named() {
    let mut f = healthy();
    f.dns.servers[0].aaaa = records(&["2001:db8:1::77"]);
    f.dns.aaaa = records(&["2001:db8:1::77"]);
    let fs = evaluate(&f, &options());
    let c = expect(&fs, CheckId::DnsConsistency, None, Status::Warn);
    assert_has(&c.summary, "resolver 192.0.2.53");
    // the authoritative answer is the host's, the resolver's is not
    assert_eq!(status(&fs, CheckId::DnsAaaaTarget, None), Status::Fail);
}

#[test]
fn missing_ptr_warns_and_fails_for_mail() {
    let mut f = healthy();
    f.dns.ptr[1].names = Probed::ok(Vec::new());
    f.dns.ptr[1].forward.clear();
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsReverse, None), Status::Warn);
    let mut o = options();
    o.target.ports = vec![25];
    f.dns.mx = Some(Probed::ok(vec![MxHost {
        preference: 10,
        name: "shop.example".into(),
        a: vec!["203.0.113.10".parse().unwrap()],
        aaaa: vec![],
    }]));
    let fs = evaluate(&f, &o);
    assert_eq!(status(&fs, CheckId::DnsReverse, None), Status::Fail);
    let mx = expect(&fs, CheckId::DnsMx, None, Status::Fail);
    assert_has(&mx.summary, "no AAAA");
}

#[test]
fn dns64_prefix_is_found_and_synthesised_aaaa_flagged() {
    let mut f = healthy();
    f.dns.dns64 = Probed::ok(vec!["64:ff9b::c000:aa".parse().unwrap()]);
    let fs = evaluate(&f, &options());
    let d = expect(&fs, CheckId::DnsDns64, None, Status::Pass);
    assert_has(&d.summary, "64:ff9b::/96");

    f.dns.aaaa = records(&["64:ff9b::cb00:710a"]);
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsDns64, None), Status::Warn);
    assert_eq!(status(&fs, CheckId::DnsAaaa, None), Status::Fail);
}

/// A DNS answer longer than the probe keeps: the finding says it was cut; a snapshot
/// written before the `omitted` field existed still reads.
#[test]
fn cut_dns_answer_is_said_and_old_snapshots_still_read() {
    let mut f = healthy();
    if let Ok(DnsAnswer::Records { omitted, .. }) = f.dns.a.result.as_mut() {
        *omitted = 236;
    }
    let fs = evaluate(&f, &options());
    let a = find(&fs, CheckId::DnsA, None);
    assert_has(&a.summary, "237 records");
    assert_line(&a.evidence, "answer cut: 236 more A records");
    let old = r#"{"kind":"records","records":[{"ip":"203.0.113.10","ttl":300}]}"#;
    let d: DnsAnswer = serde_json::from_str(old).unwrap();
    assert_eq!(
        d,
        DnsAnswer::Records {
            records: vec![RecordIp {
                ip: "203.0.113.10".parse().unwrap(),
                ttl: 300
            }],
            omitted: 0
        }
    );
    assert_eq!(serde_json::to_string(&d).unwrap(), old);
}

// ------------------------------------------------------------------------- dns.geo

const GEO_SERVERS: &[&str] = &["192.0.2.54", "2001:db8:53::54"];

#[test]
fn geo_server_ignoring_client_subnet_does_not_vary_by_region() {
    let fs = evaluate(&healthy(), &options());
    let fd = expect(&fs, CheckId::DnsGeo, None, Status::Pass);
    assert_has(&fd.summary, "do not vary by region");
    assert!(
        !fd.summary.contains("every region get the same"),
        "{}",
        fd.summary
    );
    assert_line(&fd.evidence, "ignores EDNS Client Subnet");
}

/// Every region gets the same answer, with the scope each row echoes. Scope 0 echoed: the
/// server read the option and says the answer holds for everyone.
#[test]
fn geo_same_answer_everywhere_passes() {
    // (case, scope echoed, summary part, evidence lines)
    let cases: [(&str, u8, &str, &[&str]); 2] = [
        (
            "geo_same_answer_everywhere_passes",
            24,
            "every region get the same A and AAAA from ns1.example",
            &["Africa", "scope /24"],
        ),
        (
            "geo_scope_zero_is_not_answering_by_region",
            0,
            "do not vary by region",
            &[],
        ),
    ];
    for (case, scope, summary, lines) in cases {
        let mut f = healthy();
        let (a, aaaa) = (["203.0.113.10"], ["2001:db8:1::10"]);
        f.dns.geo = Some(geo_answers(GEO_SERVERS, Some(scope), &a, &aaaa));
        let fd = judge(&f, &options(), CheckId::DnsGeo, None, Status::Pass);
        assert_says(case, &fd, [&[summary], lines, &[]]);
    }
}

fn withhold_aaaa(f: &mut Facts, regions: &[&str]) {
    for q in f.dns.geo.iter_mut().flatten() {
        q.a = q.a.clone().map_scope(24);
        q.aaaa = q.aaaa.clone().map_scope(24);
        if q.region.as_deref().is_some_and(|r| regions.contains(&r)) {
            q.aaaa = Probed::ok(GeoAnswer {
                answer: DnsAnswer::NoData,
                scope: Some(24),
            });
        }
    }
}

trait Scoped {
    fn map_scope(self, scope: u8) -> Self;
}

impl Scoped for Probed<GeoAnswer> {
    fn map_scope(mut self, scope: u8) -> Self {
        if let Ok(a) = &mut self.result {
            a.scope = Some(scope);
        }
        self
    }
}

#[test]
fn geo_region_without_aaaa_fails_naming_regions_and_server() {
    let mut f = healthy();
    withhold_aaaa(&mut f, &["Africa", "Asia"]);
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::DnsGeo, None, Status::Fail);
    assert_has(&fd.summary, "Africa, Asia no AAAA");
    assert_has(&fd.summary, "authoritative ns1.example (192.0.2.54)");
    assert_has(&fd.summary, "without a client subnet: 2001:db8:1::10");
    assert!(!fd.summary.contains("Europe"), "{}", fd.summary);
    assert!(
        fd.fixes
            .iter()
            .flat_map(|x| &x.commands)
            .any(|c| c.contains("dig +norecurse +subnet=") && c.contains("@192.0.2.54")),
        "{:?}",
        fd.fixes
    );
}

#[test]
fn geo_region_without_aaaa_is_no_matter_with_expect_ipv4() {
    let mut f = healthy();
    withhold_aaaa(&mut f, &["Africa"]);
    let mut o = options();
    o.target.expect = crate::model::Expect::Ipv4;
    let fs = evaluate(&f, &o);
    expect(&fs, CheckId::DnsGeo, None, Status::Pass);
}

#[test]
fn geo_unasked_servers_skip_or_warn() {
    let mut f = healthy();
    for q in f.dns.geo.iter_mut().flatten() {
        q.a = Probed::err(ProbeErrorKind::NotRun, "not run: --offline");
        q.aaaa = Probed::err(ProbeErrorKind::NotRun, "not run: --offline");
    }
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::DnsGeo, None, Status::Skip);
    assert_has(&fd.summary, "--offline");

    let mut f = healthy();
    for q in f.dns.geo.iter_mut().flatten() {
        q.a = Probed::err(ProbeErrorKind::Timeout, "A: no answer within 3s");
        q.aaaa = Probed::err(ProbeErrorKind::Timeout, "AAAA: no answer within 3s");
    }
    let fs = evaluate(&f, &options());
    expect(&fs, CheckId::DnsGeo, None, Status::Warn);

    let mut f = healthy();
    f.dns.geo = None;
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::DnsGeo, None, Status::Skip);
    assert_has(&fd.summary, "older dsdoctor");
}
