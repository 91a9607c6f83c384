//! Unit tests of the mail checks (`address.mail_source`, `dns.spf`, `dns.blocklists`,
//! `isp.mail_egress`): a healthy mail host, broken one way per test.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::mail::*;
use crate::facts::*;
use crate::model::{CheckId, Family, Finding, Status};

const MAIL_CHECKS: [CheckId; 4] = [
    CheckId::DnsSpf,
    CheckId::DnsBlocklists,
    CheckId::AddressMailSource,
    CheckId::IspMailEgress,
];
fn run(f: &Facts) -> Vec<Finding> {
    evaluate(f, &options())
}

/// `address.mail_source` of `f`, asserted to have `status`.
#[track_caller]
fn mail_source(f: &Facts, status: Status) -> Finding {
    judge(f, &options(), CheckId::AddressMailSource, None, status)
}

/// The healthy mail host with Exim (pid 901) reading `cf` as /etc/exim4/exim4.conf.
fn exim_host(cf: &str) -> Facts {
    let mut f = mail_host();
    let settings = crate::parse::exim::settings(
        cf,
        std::path::Path::new("/etc/exim4/exim4.conf"),
        "shop.example",
    );
    mail_of(&mut f).mtas = vec![Mta {
        kind: MtaKind::Exim,
        pid: 901,
        settings: Ok(settings),
    }];
    f
}

/// The healthy mail host with Postfix reading `main_cf`.
fn postfix_host(main_cf: &str) -> Facts {
    let mut f = mail_host();
    mail_of(&mut f).mtas = vec![postfix_mta(main_cf)];
    f
}

#[test]
fn a_host_without_mta_or_mail_port_skips_all_four() {
    let fs = run(&healthy());
    for id in MAIL_CHECKS {
        let fd = expect(&fs, id, None, Status::Skip);
        assert_has(&fd.summary, "sends no mail");
    }
}

#[test]
fn a_healthy_mail_host_passes_all_four() {
    let fs = run(&mail_host());
    for id in MAIL_CHECKS {
        expect(&fs, id, None, Status::Pass);
    }
    let fd = expect(&fs, CheckId::AddressMailSource, None, Status::Pass);
    assert_has(&fd.summary, "203.0.113.10 and 2001:db8:1::10");
    assert_line(&fd.evidence, "HELO name: shop.example (myhostname");
    assert_line(&fd.evidence, "PTR shop.example (resolves back)");
}

#[test]
fn a_mail_port_alone_makes_them_apply() {
    let mut f = mail_host();
    mail_of(&mut f).mtas.clear();
    let mut o = options();
    o.target.ports = vec![25];
    let fs = evaluate(&f, &o);
    expect(&fs, CheckId::AddressMailSource, None, Status::Pass);
}

#[test]
fn temporary_source_without_ptr_fails_with_the_three_fixes() {
    let mut f = mail_host();
    temporary_source(&mut f);
    let fd = mail_source(&f, Status::Fail);
    assert_has(&fd.summary, TEMP);
    assert_has(&fd.summary, "a temporary (privacy) address, without PTR");
    assert_line(&fd.evidence, "temporary, dynamic");
    let titles: Vec<&str> = fd.fixes.iter().map(|x| x.title.as_str()).collect();
    assert_has(titles[0], "PTR");
    let bind = fix_titled(&fd, "2001:db8:1::10");
    assert_line(&bind.commands, "smtp_bind_address6 = 2001:db8:1::10");
    let last = fd.fixes.last().expect("fixes");
    assert_has(&last.title, "Last resort");
    assert_line(&last.commands, "inet_protocols = ipv4");
}

#[test]
fn binding_to_the_address_with_a_ptr_passes() {
    let mut f = postfix_host("myhostname = shop.example\nsmtp_bind_address6 = 2001:db8:1::10\n");
    temporary_source(&mut f);
    let fd = mail_source(&f, Status::Pass);
    assert_line(
        &fd.evidence,
        "Postfix's smtp_bind_address6 (/etc/postfix/main.cf:2)",
    );
}

#[test]
fn a_helo_name_other_than_the_ptr_and_the_preference_are_shown() {
    let f = postfix_host("smtp_helo_name = mail.shop.example\nsmtp_address_preference = ipv6\n");
    let fd = mail_source(&f, Status::Pass);
    assert_line(
        &fd.evidence,
        "the HELO name mail.shop.example is not the PTR name shop.example of 203.0.113.10",
    );
    assert_line(
        &fd.evidence,
        "smtp_address_preference = ipv6 (/etc/postfix/main.cf:2)",
    );
}

/// Binding to an address the host lacks fails, with the MTA's own way to drop the
/// setting: Postfix's, and Exim's transport interface (the failing half of
/// exim_bound_by_its_transport_interface_passes).
#[test]
fn binding_to_an_address_the_host_lacks_fails() {
    let mut exim = exim_host("begin transports\nremote_smtp:\n  interface = <; 2001:db8:1::99\n");
    temporary_source(&mut exim);
    let rows = [
        (
            "postfix",
            postfix_host("smtp_bind_address6 = 2001:db8:1::99\n"),
            "postconf -c /etc/postfix -X smtp_bind_address6",
        ),
        ("exim", exim, "interface option at /etc/exim4/exim4.conf:3"),
    ];
    for (mta, f, unbind) in rows {
        let fd = mail_source(&f, Status::Fail);
        assert!(fd.summary.contains("does not have"), "{mta}: {fd:#?}");
        let said = fd.fixes[0].commands.iter().any(|c| c.contains(unbind));
        assert!(said, "{mta}: {unbind:?} not in {:#?}", fd.fixes);
    }
}

#[test]
fn unread_addresses_are_not_taken_for_a_missing_one() {
    let mut f = postfix_host("smtp_bind_address6 = 2001:db8:1::10\n");
    f.links = Probed::err(ProbeErrorKind::Permission, "rtnetlink: permission denied");
    let fd = find(&run(&f), CheckId::AddressMailSource, None).clone();
    assert!(!fd.summary.contains("does not have"), "{fd:#?}");
    assert_line(&fd.evidence, "flags unknown");
}

#[test]
fn exim_unread_is_named_with_its_fixes() {
    let mut f = mail_host();
    temporary_source(&mut f);
    mail_of(&mut f).mtas = vec![Mta {
        kind: MtaKind::Exim,
        pid: 901,
        settings: Err("no Exim configuration found".into()),
    }];
    let fd = mail_source(&f, Status::Fail);
    assert_line(&fd.evidence, "Exim (pid 901): no Exim configuration found");
    assert_has(&fd.explanation, "configuration could not be read");
    let bind = fix_titled(&fd, "Exim");
    assert_line(&bind.commands, "interface = <; 2001:db8:1::10");
    let last = fd.fixes.last().expect("fixes");
    assert_has(&last.title, "disable_ipv6 = true");
}

#[test]
fn exim_bound_by_its_transport_interface_passes() {
    let mut f = exim_host(
        "begin transports\nremote_smtp:\n  driver = smtp\n  interface = <; 203.0.113.10 ; 2001:db8:1::10\n",
    );
    temporary_source(&mut f);
    let fd = mail_source(&f, Status::Pass);
    assert_line(&fd.evidence, "Exim's interface (/etc/exim4/exim4.conf:4)");
}

#[test]
fn inet_protocols_ipv4_leaves_ipv6_out() {
    let mut f = postfix_host("inet_protocols = ipv4\n");
    temporary_source(&mut f);
    mail_of(&mut f).egress[1] = mail_egress_probe(Family::V6, false);
    let fs = run(&f);
    let fd = expect(&fs, CheckId::AddressMailSource, None, Status::Pass);
    assert_line(
        &fd.evidence,
        "IPv6: not used by the MTA (inet_protocols, /etc/postfix/main.cf:1)",
    );
    expect(&fs, CheckId::IspMailEgress, None, Status::Pass);
}

#[test]
fn spf_without_ip6_fails_ipv6_only() {
    let mut f = mail_host();
    mail_of(&mut f).spf_dns = vec![spf_txt("v=spf1 ip4:203.0.113.10 ~all")];
    let fs = run(&f);
    let fd = expect(&fs, CheckId::DnsSpf, None, Status::Fail);
    assert_has(&fd.summary, "does not admit 2001:db8:1::10 (softfail)");
    assert!(!fd.summary.contains("203.0.113.10"), "{}", fd.summary);
    assert_line(&fd.fixes[0].commands, "ip6:2001:db8:1::10");
}

#[test]
fn spf_permerror_and_missing_answers() {
    let mut f = mail_host();
    mail_of(&mut f).spf_dns = vec![spf_txt("v=spf1 include:shop.example -all")];
    let fd = expect(&run(&f), CheckId::DnsSpf, None, Status::Fail).clone();
    assert_has(&fd.summary, "loop: shop.example -> shop.example");
    // An answer the probe could not get is an error, not a verdict on the record.
    mail_of(&mut f).spf_dns = vec![spf_txt("v=spf1 include:_spf.example.net -all")];
    expect(&run(&f), CheckId::DnsSpf, None, Status::Error);
    mail_of(&mut f).spf_dns = vec![spf_txt("v=spf1 ?all")];
    expect(&run(&f), CheckId::DnsSpf, None, Status::Warn);
}

#[test]
fn a_listed_64_warns_naming_list_and_lookup() {
    let mut f = mail_host();
    mail_of(&mut f).blocklists.push(DnsblProbe {
        zone: "bl.example".into(),
        ip: ip("2001:db8:1::"),
        per_64: true,
        query: "0.0.0.0.bl.example".into(),
        answer: Probed::ok(vec!["127.0.0.2".parse().expect("ip")]),
    });
    let fs = run(&f);
    let fd = expect(&fs, CheckId::DnsBlocklists, None, Status::Warn);
    assert_has(
        &fd.summary,
        "2001:db8:1::/64 is listed in bl.example (lookup 0.0.0.0.bl.example)",
    );
    assert_has(&fd.fixes[0].title, "bl.example");
}

#[test]
fn a_refusing_list_is_no_listing() {
    let mut f = mail_host();
    mail_of(&mut f).blocklists[0].answer = Probed::ok(vec!["127.255.255.254".parse().expect("ip")]);
    let fd = expect(&run(&f), CheckId::DnsBlocklists, None, Status::Error).clone();
    assert_line(&fd.evidence, "refused");
}

#[test]
fn port_25_blocked_over_ipv6_fails_naming_ipv6() {
    let mut f = mail_host();
    mail_of(&mut f).egress[1] = mail_egress_probe(Family::V6, false);
    let fs = run(&f);
    let fd = expect(&fs, CheckId::IspMailEgress, None, Status::Fail);
    assert_has(&fd.summary, "over IPv6 fails");
    assert_has(&fd.summary, "while IPv4 works");
    assert_line(&fd.fixes[0].commands, "nc -6 -vz -w 5 2001:db8:25::25 25");
}

#[test]
fn behind_nat_the_public_address_is_evaluated_and_the_private_not_judged() {
    let mut f = mail_host();
    f.isp = Probed::ok(healthy_isp());
    if let Ok(isp) = f.isp.result.as_mut() {
        isp.echo[0].seen = Probed::ok(ip("198.51.100.99"));
    }
    let m = mail_of(&mut f);
    m.sources[0] = mail_source_of(Family::V4, "10.0.0.10");
    m.spf_dns = vec![spf_txt("v=spf1 ip4:198.51.100.99 ip6:2001:db8:1::/64 -all")];
    let fs = run(&f);
    let fd = expect(&fs, CheckId::AddressMailSource, None, Status::Pass);
    assert_line(
        &fd.evidence,
        "receivers see the NAT's public address 198.51.100.99",
    );
    assert_has(&fd.summary, "2001:db8:1::10");
    let spf = expect(&fs, CheckId::DnsSpf, None, Status::Pass);
    assert_has(&spf.summary, "198.51.100.99 and 2001:db8:1::10");
    // Without the echo service's answer the public address is unknown: not evaluated.
    f.isp = Probed::err(ProbeErrorKind::NotRun, "not run: --offline");
    let fs = run(&f);
    let spf = expect(&fs, CheckId::DnsSpf, None, Status::Pass);
    assert_line(&spf.evidence, "which this run did not learn");
}

#[test]
fn offline_the_port_25_probe_says_it_did_not_run() {
    let mut o = options();
    o.offline = true;
    for f in [healthy(), mail_host()] {
        let fd = expect(
            &evaluate(&f, &o),
            CheckId::IspMailEgress,
            None,
            Status::Skip,
        )
        .clone();
        assert_has(&fd.summary, "--offline");
    }
}
