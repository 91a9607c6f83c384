use super::*;
use crate::testutil::{inputs, is_inert};
use std::collections::BTreeMap;

/// A zone as data: `("TXT", "shop.example", "v=spf1 -all")`, `("A", name, "192.0.2.1")`,
/// `("MX", name, "mx.shop.example")`; a TXT name may have several records.
fn zone(rows: &[(&str, &str, &str)]) -> BTreeMap<SpfQuery, SpfAnswer> {
    let mut m: BTreeMap<SpfQuery, SpfAnswer> = BTreeMap::new();
    for (t, name, v) in rows {
        let name = name.to_string();
        match *t {
            "TXT" => match m
                .entry(SpfQuery::Txt(name))
                .or_insert(SpfAnswer::Txt(vec![]))
            {
                SpfAnswer::Txt(v2) => v2.push(v.to_string()),
                _ => unreachable!(),
            },
            "MX" => match m
                .entry(SpfQuery::Mx(name))
                .or_insert(SpfAnswer::Names(vec![]))
            {
                SpfAnswer::Names(v2) => v2.push(v.to_string()),
                _ => unreachable!(),
            },
            "A" | "AAAA" => {
                let q = if *t == "A" {
                    SpfQuery::A(name)
                } else {
                    SpfQuery::Aaaa(name)
                };
                match m.entry(q).or_insert(SpfAnswer::Ips(vec![])) {
                    SpfAnswer::Ips(v2) => v2.push(v.parse().unwrap()),
                    _ => unreachable!(),
                }
            }
            _ => panic!("type {t}"),
        }
    }
    m
}

/// Evaluate against a complete zone: a question the zone lacks is an empty answer.
fn eval(ip: &str, rows: &[(&str, &str, &str)]) -> Evaluation {
    let z = zone(rows);
    let dns = move |q: &SpfQuery| {
        Some(Ok(z.get(q).cloned().unwrap_or(match q {
            SpfQuery::Txt(_) => SpfAnswer::Txt(vec![]),
            SpfQuery::Mx(_) => SpfAnswer::Names(vec![]),
            _ => SpfAnswer::Ips(vec![]),
        })))
    };
    evaluate(
        ip.parse().unwrap(),
        "shop.example",
        "mail.shop.example",
        &dns,
    )
}

const V4: &str = "203.0.113.25";
const V6: &str = "2001:db8:1::25";

#[test]
fn ip4_only_record_passes_ipv4_and_fails_ipv6() {
    let z = [("TXT", "shop.example", "v=spf1 ip4:203.0.113.0/24 -all")];
    assert_eq!(eval(V4, &z).result, SpfResult::Pass);
    let e = eval(V6, &z);
    assert_eq!(e.result, SpfResult::Fail, "{e:?}");
    assert!(e.reason.contains("-all"), "{}", e.reason);
}

#[test]
fn ip6_admits_the_ipv6_source() {
    let z = [(
        "TXT",
        "shop.example",
        "v=spf1 ip4:203.0.113.25 ip6:2001:db8:1::/64 ~all",
    )];
    assert_eq!(eval(V6, &z).result, SpfResult::Pass);
    assert_eq!(eval("2001:db8:2::1", &z).result, SpfResult::SoftFail);
}

#[test]
fn a_and_mx_follow_the_family_and_cidr() {
    let z = [
        ("TXT", "shop.example", "v=spf1 a mx/24//64 -all"),
        ("A", "shop.example", "198.51.100.7"),
        ("MX", "shop.example", "mx.shop.example"),
        ("A", "mx.shop.example", "203.0.113.1"),
        ("AAAA", "mx.shop.example", "2001:db8:1::1"),
    ];
    assert_eq!(eval(V4, &z).result, SpfResult::Pass);
    assert_eq!(eval(V6, &z).result, SpfResult::Pass);
    assert_eq!(eval("2001:db8:9::1", &z).result, SpfResult::Fail);
    let e = eval("198.51.100.7", &z);
    assert_eq!((e.result, e.lookups), (SpfResult::Pass, 1));
}

#[test]
fn include_chain_passes_through_and_redirect_takes_over() {
    let z = [
        (
            "TXT",
            "shop.example",
            "v=spf1 include:_spf.shop.example -all",
        ),
        (
            "TXT",
            "_spf.shop.example",
            "v=spf1 include:_v6.shop.example ip4:203.0.113.25 ?all",
        ),
        ("TXT", "_v6.shop.example", "v=spf1 ip6:2001:db8:1::25 -all"),
    ];
    // The innermost -all does not end the outer evaluation: an include that does not
    // pass is no match, and the outer record's ?all (then -all) decides.
    assert_eq!(eval(V6, &z).result, SpfResult::Pass);
    assert_eq!(eval(V4, &z).result, SpfResult::Pass);
    let e = eval("198.51.100.1", &z);
    assert_eq!(e.result, SpfResult::Fail, "{e:?}");
    assert_eq!(e.lookups, 2);
    let r = [
        ("TXT", "shop.example", "v=spf1 redirect=_spf.example.net"),
        ("TXT", "_spf.example.net", "v=spf1 ip6:2001:db8:1::/48 -all"),
    ];
    assert_eq!(eval(V6, &r).result, SpfResult::Pass);
    assert_eq!(eval(V4, &r).result, SpfResult::Fail);
}

#[test]
fn include_loop_is_a_permerror_naming_the_chain() {
    let z = [
        ("TXT", "shop.example", "v=spf1 include:a.example -all"),
        ("TXT", "a.example", "v=spf1 include:b.example -all"),
        ("TXT", "b.example", "v=spf1 include:shop.example -all"),
    ];
    let e = eval(V4, &z);
    assert_eq!(e.result, SpfResult::PermError);
    assert!(
        e.reason
            .contains("loop: shop.example -> a.example -> b.example -> shop.example"),
        "{}",
        e.reason
    );
    let r = [("TXT", "shop.example", "v=spf1 redirect=shop.example")];
    assert!(eval(V4, &r).reason.contains("loop"));
}

#[test]
fn more_than_ten_lookups_is_a_permerror() {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let includes: Vec<String> = (0..11).map(|i| format!("include:i{i}.example")).collect();
    rows.push((
        "TXT".into(),
        "shop.example".into(),
        format!("v=spf1 {} -all", includes.join(" ")),
    ));
    for i in 0..11 {
        rows.push((
            "TXT".into(),
            format!("i{i}.example"),
            "v=spf1 ip4:192.0.2.1 -all".into(),
        ));
    }
    let z: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    let e = eval(V6, &z);
    assert_eq!(e.result, SpfResult::PermError);
    assert!(
        e.reason.contains("more than 10 DNS lookups"),
        "{}",
        e.reason
    );
    assert_eq!(e.lookups, 11);
    // Ten are allowed: the address of the tenth include passes.
    let ten: Vec<(&str, &str, &str)> = z
        .iter()
        .filter(|r| r.1 != "shop.example")
        .copied()
        .chain([("TXT", "shop.example", "v=spf1 include:i0.example include:i1.example include:i2.example include:i3.example include:i4.example include:i5.example include:i6.example include:i7.example include:i8.example include:i9.example -all")])
        .collect();
    assert_eq!(eval("192.0.2.1", &ten).result, SpfResult::Pass);
    assert_eq!(eval(V6, &ten).result, SpfResult::Fail);
}

#[test]
fn none_two_records_syntax_and_void_lookups() {
    assert_eq!(eval(V4, &[]).result, SpfResult::None);
    let two = [
        ("TXT", "shop.example", "v=spf1 -all"),
        ("TXT", "shop.example", "v=spf1 +all"),
    ];
    assert_eq!(eval(V4, &two).result, SpfResult::PermError);
    // "v=spf10" is not an SPF record; other TXT records are ignored.
    let other = [
        ("TXT", "shop.example", "v=spf10 -all"),
        ("TXT", "shop.example", "google-site-verification=x"),
    ];
    assert_eq!(eval(V4, &other).result, SpfResult::None);
    let bad = [("TXT", "shop.example", "v=spf1 ip6:203.0.113.1 -all")];
    assert_eq!(eval(V4, &bad).result, SpfResult::PermError);
    let unknown = [("TXT", "shop.example", "v=spf1 foo:bar -all")];
    assert_eq!(eval(V4, &unknown).result, SpfResult::PermError);
    let voids = [(
        "TXT",
        "shop.example",
        "v=spf1 a:x.example a:y.example a:z.example -all",
    )];
    let e = eval(V4, &voids);
    assert_eq!(e.result, SpfResult::PermError);
    assert!(e.reason.contains("void"), "{}", e.reason);
    let no_redirect_target = [("TXT", "shop.example", "v=spf1 redirect=none.example")];
    assert_eq!(eval(V4, &no_redirect_target).result, SpfResult::PermError);
    assert_eq!(
        eval(V4, &[("TXT", "shop.example", "v=spf1 ip4:192.0.2.1")]).result,
        SpfResult::Neutral
    );
}

#[test]
fn macros_expand_the_address_and_domain() {
    let z = [
        (
            "TXT",
            "shop.example",
            "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all",
        ),
        ("A", "25.113.0.203.in-addr._spf.shop.example", "127.0.0.2"),
    ];
    assert_eq!(eval(V4, &z).result, SpfResult::Pass);
    assert_eq!(eval("203.0.113.26", &z).result, SpfResult::Fail);
    let mut st = State {
        ip: V6.parse().unwrap(),
        sender_domain: "shop.example".into(),
        helo: "h".into(),
        dns: &|_: &SpfQuery| None,
        lookups: 0,
        voids: 0,
        stack: vec![],
        trace: vec![],
    };
    assert_eq!(
        st.expand("%{d2}.%{l}", "a.b.shop.example").ok().unwrap(),
        "shop.example.postmaster"
    );
    assert!(st.expand("%{x}", "shop.example").is_err());
    st.note("x".into());
}

#[test]
fn a_missing_answer_stops_and_names_the_question() {
    let dns = |q: &SpfQuery| match q {
        SpfQuery::Txt(n) if n == "shop.example" => Some(Ok(SpfAnswer::Txt(vec![
            "v=spf1 include:_spf.example.net -all".into(),
        ]))),
        _ => None,
    };
    let e = evaluate(V4.parse().unwrap(), "shop.example", "h", &dns);
    assert_eq!(e.result, SpfResult::TempError);
    assert_eq!(e.missing, Some(SpfQuery::Txt("_spf.example.net".into())));
    let failing = |_: &SpfQuery| Some(Err("timed out".to_string()));
    let e = evaluate(V4.parse().unwrap(), "shop.example", "h", &failing);
    assert_eq!((e.result, e.missing), (SpfResult::TempError, None));
}

proptest::proptest! {
    #![proptest_config(inputs::config())]

    #[test]
    fn fuzz_spf_record(text in inputs::input_text("spf", 30)) {
        let t = text.clone();
        let dns = move |q: &SpfQuery| {
            Some(Ok(match q {
                SpfQuery::Txt(n) if n == "shop.example" => SpfAnswer::Txt(vec![t.clone()]),
                SpfQuery::Txt(_) => SpfAnswer::Txt(vec![format!("v=spf1 {}", t)]),
                SpfQuery::Mx(_) => SpfAnswer::Names(vec!["mx.shop.example".into()]),
                _ => SpfAnswer::Ips(vec![V4.parse().unwrap()]),
            }))
        };
        for ip in [V4, V6] {
            let e = evaluate(ip.parse().unwrap(), "shop.example", "h", &dns);
            proptest::prop_assert!(e.lookups <= MAX_LOOKUPS + 1);
            proptest::prop_assert!(e.trace.len() <= MAX_TRACE);
            for l in &e.trace {
                proptest::prop_assert!(is_inert(l), "{l:?}");
            }
        }
    }
}

/// The mail probe's walk for a NAT'd sender: answers gathered for 0.0.0.0 (which no
/// term admits) serve the evaluation of any IPv4 address of those terms.
#[test]
fn the_unspecified_address_walks_every_term() {
    let z = zone(&[
        (
            "TXT",
            "shop.example",
            "v=spf1 a mx include:_spf.example.net -all",
        ),
        ("A", "shop.example", "198.51.100.7"),
        ("MX", "shop.example", "mx.shop.example"),
        ("A", "mx.shop.example", "198.51.100.8"),
        ("TXT", "_spf.example.net", "v=spf1 ip4:192.0.2.0/24 ~all"),
    ]);
    let mut asked: BTreeMap<SpfQuery, SpfAnswer> = BTreeMap::new();
    loop {
        let dns = |q: &SpfQuery| asked.get(q).cloned().map(Ok);
        let e = evaluate("0.0.0.0".parse().unwrap(), "shop.example", "h", &dns);
        let Some(q) = e.missing else { break };
        let a = z.get(&q).cloned().unwrap_or(SpfAnswer::Ips(vec![]));
        asked.insert(q, a);
    }
    let dns = |q: &SpfQuery| asked.get(q).cloned().map(Ok);
    for (ip, want) in [
        ("198.51.100.7", SpfResult::Pass),
        ("198.51.100.8", SpfResult::Pass),
        ("192.0.2.9", SpfResult::Pass),
        ("203.0.113.1", SpfResult::Fail),
    ] {
        let e = evaluate(ip.parse().unwrap(), "shop.example", "h", &dns);
        assert_eq!((e.result, e.missing), (want, None), "{ip}");
    }
}
