//! Unit tests of the DNS checks: the healthy fixture, broken one way per test.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::*;
use crate::model::{CheckId, Status};
use crate::verdict::verdict;

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
fn a_in_private_range_fails_without_assume_public() {
    let mut f = healthy();
    f.dns.a = records(&["192.168.1.10"]);
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::DnsATarget, None, Status::Fail);
    assert_line(&fd.evidence, "private");
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
fn authoritative_servers_disagreeing_fails() {
    let mut f = healthy();
    f.dns.servers[3].aaaa = records(&["2001:db8:1::99"]);
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::DnsConsistency, None), Status::Fail);
}

#[test]
fn single_nameserver_without_aaaa_warns() {
    let mut f = healthy();
    if let Ok(z) = f.dns.zone.result.as_mut() {
        z.nameservers.truncate(1);
        z.nameservers[0].aaaa.clear();
    }
    let fs = evaluate(&f, &options());
    let ns = expect(&fs, CheckId::DnsNameservers, None, Status::Warn);
    assert_has(&ns.summary, "only 1");
    assert_has(&ns.summary, "no AAAA");
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

#[test]
fn nxdomain_is_a_clean_failure() {
    let mut f = healthy();
    f.dns.a = Probed::ok(DnsAnswer::NxDomain);
    f.dns.aaaa = Probed::ok(DnsAnswer::NxDomain);
    let fs = evaluate(&f, &options());
    let a = expect(&fs, CheckId::DnsA, None, Status::Fail);
    assert_has(&a.summary, "does not exist");
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
