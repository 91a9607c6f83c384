//! Unit tests of the ISP checks: the healthy fixture, broken one way per test.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::isp::*;
use crate::facts::*;
use crate::model::{CheckId, Family, Status};
use crate::verdict::verdict;

fn isp(f: &mut Facts) -> &mut IspFacts {
    f.isp.result.as_mut().expect("fixture has ISP facts")
}

fn timeout(msg: &str) -> Probed<HttpResponse> {
    Probed::err(ProbeErrorKind::Timeout, msg)
}

fn resp(status: u16, location: Option<&str>, len: u64, hash: &str) -> HttpResponse {
    HttpResponse {
        status,
        location: location.map(str::to_string),
        server: None,
        body_len: len,
        body_truncated: false,
        body_sha256: hash.repeat(64 / hash.len()),
        content_sketch: Vec::new(),
        cert: None,
        protocol: Some(HttpProtocol::Http1),
    }
}

/// `isp.http_parity` on port 80 of `f`, asserted to have `status`.
#[track_caller]
fn parity(f: &Facts, status: Status) -> crate::model::Finding {
    judge(f, &options(), CheckId::IspHttpParity, Some(80), status)
}

/// The address the internet sees for a host behind the NAT (a public prefix for the
/// test, see `nat_options`).
const NAT_PUBLIC: &str = "198.51.100.1";

/// The healthy host behind a NAT router: `host` on eth0, the A record (resolver and
/// authoritative) `a`, the internet sees `NAT_PUBLIC` and gets through to port 80.
fn behind_nat(host: &str, a: &str) -> Facts {
    let mut f = healthy_online();
    f.dns.a = records(&[a]);
    for s in f.dns.servers.iter_mut() {
        s.a = f.dns.a.clone();
    }
    eth0(&mut f).addrs.retain(|a| a.ip.is_ipv6());
    eth0(&mut f).addrs.push(addr(host, 24));
    let isp = isp(&mut f);
    isp.echo[0].seen = Probed::ok(ip(NAT_PUBLIC));
    isp.inbound[0].answer = Probed::ok(InboundAnswer {
        ip: ip(NAT_PUBLIC),
        reachable: true,
    });
    f
}

/// The router forwards nothing: the echo service cannot connect back over IPv4.
fn no_port_forward(f: &mut Facts) {
    isp(f).inbound[0].answer = Probed::ok(InboundAnswer {
        ip: ip(NAT_PUBLIC),
        reachable: false,
    });
}

/// Every ISP probe over IPv6 fails: the egress target's TCP and echo, the echo service
/// and its connect-back.
fn v6_probes_fail(f: &mut Facts, kind: ProbeErrorKind, why: &str) {
    let i = isp(f);
    i.egress[1].tcp_ms = Probed::err(kind, why);
    i.egress[1].icmp_ms = Probed::err(kind, why);
    i.echo[1].seen = Probed::err(kind, why);
    i.inbound[1].answer = Probed::err(kind, why);
}

fn nat_options() -> crate::options::Options {
    let mut o = options();
    o.assume_public
        .push("198.51.100.0/24".parse().expect("net"));
    o
}

#[test]
fn healthy_isp_passes() {
    let fs = evaluate(&healthy_online(), &options());
    assert_healthy(&fs);
    for id in [
        CheckId::IspEgressIpv4,
        CheckId::IspEgressIpv6,
        CheckId::IspPublicIpv4,
        CheckId::IspPublicIpv6,
        CheckId::IspAcmeHttp01,
        CheckId::IspResources,
        CheckId::IspPathMtuIpv4,
        CheckId::IspPathMtuIpv6,
    ] {
        assert_eq!(
            status(&fs, id, None),
            Status::Pass,
            "{:#?}",
            find(&fs, id, None)
        );
    }
    for id in [
        CheckId::IspInboundIpv4,
        CheckId::IspInboundIpv6,
        CheckId::IspHttpParity,
    ] {
        assert_eq!(status(&fs, id, Some(80)), Status::Pass, "{id}");
    }
    assert_eq!(status(&fs, CheckId::IspSmtpParity, Some(80)), Status::Skip);
    assert!(
        find(&fs, CheckId::IspPublicIpv4, None)
            .summary
            .contains("direct")
    );
}

#[test]
fn offline_skips_every_isp_check_saying_so() {
    let mut f = healthy_online();
    f.isp = Probed::err(ProbeErrorKind::NotRun, "not run: --offline");
    f.mail = Some(Probed::err(ProbeErrorKind::NotRun, "not run: --offline"));
    f.regions = Some(Probed::err(ProbeErrorKind::NotRun, "not asked (--offline)"));
    let fs = evaluate(&f, &options());
    let isp: Vec<_> = fs
        .iter()
        .filter(|x| x.id.stage() == crate::model::Stage::Isp)
        .collect();
    let ids = CheckId::ALL
        .iter()
        .filter(|c| c.stage() == crate::model::Stage::Isp)
        .count();
    assert_eq!(
        isp.len(),
        ids,
        "every ISP id, the per-port ones once (one port)"
    );
    for x in isp {
        assert_eq!(x.status, Status::Skip, "{x:?}");
        assert_has(&x.summary, "--offline");
    }
}

#[test]
fn egress_v6_without_default_route_is_a_consequence() {
    let mut f = healthy_online();
    drop_routes(&mut f, Family::V6);
    v6_probes_fail(&mut f, ProbeErrorKind::Failed, "Network is unreachable");
    let fs = evaluate(&f, &options());
    let e = expect(&fs, CheckId::IspEgressIpv6, None, Status::Skip);
    assert_has(&e.summary, CheckId::RouteIpv6Default.as_str());
    assert_cause(e, CheckId::RouteIpv6Default);
    let p = expect(&fs, CheckId::IspPublicIpv6, None, Status::Skip);
    assert_has(&p.summary, CheckId::RouteIpv6Default.as_str());
    assert_eq!(status(&fs, CheckId::IspInboundIpv6, Some(80)), Status::Skip);
    assert_eq!(verdict(&fs).check, Some(CheckId::RouteIpv6Default));
}

#[test]
fn egress_v6_lost_upstream_fails_with_traceroute() {
    let mut f = healthy_online();
    v6_probes_fail(&mut f, ProbeErrorKind::Timeout, "timed out");
    let fs = evaluate(&f, &options());
    let e = expect(&fs, CheckId::IspEgressIpv6, None, Status::Fail);
    assert_has(&e.explanation, CheckId::RouteIpv6Gateway.as_str());
    let cmds = e.fixes[0].commands.join("\n");
    assert_has(&cmds, "traceroute -6 -n 2001:db8:2::10");
    assert_has(&cmds, "mtr -6");
    let p = expect(&fs, CheckId::IspPublicIpv6, None, Status::Skip);
    assert_cause(p, CheckId::IspEgressIpv6);
    assert_eq!(status(&fs, CheckId::IspEgressIpv4, None), Status::Pass);
    assert_eq!(verdict(&fs).check, Some(CheckId::IspEgressIpv6));
}

#[test]
fn home_nat_with_port_forward_passes() {
    let f = behind_nat("10.0.0.10", NAT_PUBLIC);
    let fs = evaluate(&f, &nat_options());
    let a = expect(&fs, CheckId::DnsATarget, None, Status::Pass);
    assert_has(&a.summary, "forward");
    let p = expect(&fs, CheckId::IspPublicIpv4, None, Status::Pass);
    assert_has(&p.summary, "NAT");
    assert_eq!(status(&fs, CheckId::IspInboundIpv4, Some(80)), Status::Pass);
}

#[test]
fn home_nat_without_port_forward_names_the_router_first() {
    let mut f = behind_nat("10.0.0.10", NAT_PUBLIC);
    no_port_forward(&mut f);
    let fs = evaluate(&f, &nat_options());
    let i = expect(&fs, CheckId::IspInboundIpv4, Some(80), Status::Fail);
    let pf = i
        .explanation
        .find("port forward")
        .expect("names port forwarding");
    let cg = i.explanation.find("carrier-grade").expect("names CGNAT");
    let sg = i
        .explanation
        .find("security group")
        .expect("names the security group");
    let isp_ = i
        .explanation
        .find("the ISP blocking")
        .expect("names the ISP");
    assert!(pf < cg && cg < sg && sg < isp_, "{}", i.explanation);
    let cmds: Vec<String> = i.fixes.iter().flat_map(|x| x.commands.clone()).collect();
    assert!(
        cmds.iter()
            .any(|c| c.contains("10.0.0.10:80") && c.contains("198.51.100.1")),
        "{cmds:?}"
    );
    assert_eq!(verdict(&fs).check, Some(CheckId::IspInboundIpv4));
}

#[test]
fn a_record_not_the_nat_address_fails_dns() {
    let f = behind_nat("10.0.0.10", "198.51.100.77");
    let fs = evaluate(&f, &nat_options());
    let a = expect(&fs, CheckId::DnsATarget, None, Status::Fail);
    assert_has(&a.summary, NAT_PUBLIC);
    assert_eq!(verdict(&fs).check, Some(CheckId::DnsATarget));
}

#[test]
fn a_target_without_isp_facts_stays_unknown() {
    let mut f = behind_nat("10.0.0.10", NAT_PUBLIC);
    f.isp = Probed::err(ProbeErrorKind::NotRun, "not run: --offline");
    let fs = evaluate(&f, &nat_options());
    assert_eq!(status(&fs, CheckId::DnsATarget, None), Status::Warn);
}

#[test]
fn carrier_grade_nat_is_an_address_verdict() {
    let mut f = behind_nat("100.64.0.10", NAT_PUBLIC);
    no_port_forward(&mut f);
    let fs = evaluate(&f, &nat_options());
    let p = expect(&fs, CheckId::IspPublicIpv4, None, Status::Fail);
    assert_has(&p.summary, "carrier-grade");
    let i = expect(&fs, CheckId::IspInboundIpv4, Some(80), Status::Fail);
    assert_has(&i.explanation, "carrier-grade");
    assert_eq!(verdict(&fs).check, Some(CheckId::AddressGlobalIpv4));
}

#[test]
fn http_differing_over_ipv6_fails_side_by_side() {
    let mut f = healthy_online();
    isp(&mut f).http[1].response = Probed::ok(resp(404, None, 9, "cd"));
    let h = parity(&f, Status::Fail);
    assert_has(&h.summary, "404");
    assert_has(&h.summary, "200");
    assert_line(&h.evidence, "IPv4 203.0.113.10: HTTP 200");
    assert_line(&h.evidence, "IPv6 2001:db8:1::10: HTTP 404");
    let cmds = h.fixes[0].commands.join("\n");
    assert_has(&cmds, "curl -4");
    assert_has(&cmds, "shop.example:80:203.0.113.10");
    assert_has(&cmds, "curl -6");
    assert_has(&cmds, "[2001:db8:1::10]");
}

/// A snapshot from before content sketches: sizes within 10 % are the same site.
#[test]
fn small_content_differences_are_the_same_site() {
    let mut f = healthy_online();
    let mut r = resp(200, None, 53, "cd");
    r.server = Some("nginx".into());
    isp(&mut f).http[1].response = Probed::ok(r);
    parity(&f, Status::Pass);
}

/// Both addresses' answers with bodies `v4` and `v6` (sketched as the probe does).
fn bodies(f: &mut Facts, v4: &str, v6: &str) {
    for (p, body) in isp(f).http.iter_mut().zip([v4, v6]) {
        let mut r = resp(
            200,
            None,
            body.len() as u64,
            if body == v4 { "ab" } else { "cd" },
        );
        r.server = Some("nginx".into());
        r.content_sketch = crate::probe::isp::sketch::sketch(body.as_bytes());
        p.response = Probed::ok(r);
    }
}

fn shop_page(token: &str, at: &str, banner: &str) -> String {
    format!(
        "<html><head><title>The shop</title><meta name=csrf-token content=\"{token}\"></head>\
         <body><h1>Welcome to the shop</h1>{banner}<p>Fresh bread, cheese and wine every \
         day, delivered to your door by our own bakers and grocers.</p>\
         <footer>Page rendered {at} for session {token}</footer></body></html>"
    )
}

/// The home page compared over both families: volatile words (tokens, times) are the
/// same site; another page or another server is another site.
#[test]
fn pages_compare_by_content_and_server() {
    let nginx_welcome = "<html><body><h1>Welcome to nginx!</h1><p>If you see this page, the \
         nginx web server is successfully installed and working.</p></body></html>";
    let rows = [
        (
            shop_page("f3Kx9QpL2mZ7vB1nR8tW", "Mon, 30 Nov 2026 02:15:07 GMT", ""),
            shop_page("a8Jd0LsP5oQ2wE7rT4yU", "Mon, 30 Nov 2026 02:15:08 GMT", ""),
            None,
            Status::Pass,
            None,
        ),
        (
            shop_page("f3Kx9QpL2mZ7vB1nR8tW", "today", ""),
            nginx_welcome.to_string(),
            None,
            Status::Fail,
            Some("% alike)"),
        ),
        (
            shop_page("x", "today", ""),
            shop_page("x", "today", ""),
            Some("Apache/2.4.62 (Debian)"),
            Status::Fail,
            Some("server Apache/2.4.62"),
        ),
    ];
    for (v4, v6, v6_server, want, summary) in rows {
        let mut f = healthy_online();
        bodies(&mut f, &v4, &v6);
        if let (Some(server), Ok(r)) = (v6_server, &mut isp(&mut f).http[1].response.result) {
            r.server = Some(server.into());
            r.body_sha256 = "ab".repeat(32);
        }
        let h = parity(&f, want);
        if let Some(part) = summary {
            assert_has(&h.summary, part);
        }
    }
}

/// The healthy host with `protocol` on each HTTP probe (IPv4 first, then IPv6).
fn spoken(f: &mut Facts, v4: Option<HttpProtocol>, v6: Option<HttpProtocol>) {
    for p in &mut isp(f).http {
        if let Ok(r) = &mut p.response.result {
            r.protocol = Family::of(p.ip).pick(v4, v6);
        }
    }
}

#[test]
fn http2_over_one_family_only_is_a_warning_naming_each_protocol() {
    let mut f = healthy_online();
    spoken(&mut f, Some(HttpProtocol::H2), Some(HttpProtocol::Http1));
    let fs = evaluate(&f, &options());
    let h = expect(&fs, CheckId::IspHttpParity, Some(80), Status::Warn);
    assert_has(&h.summary, "not over the same protocol");
    assert_has(&h.summary, "h2 over IPv4 (203.0.113.10)");
    assert_has(&h.summary, "http/1.1 over IPv6 (2001:db8:1::10)");
    assert_line(&h.evidence, "IPv4 203.0.113.10: HTTP 200");
    for protocol in ["over h2", "over http/1.1"] {
        assert!(
            h.evidence.iter().any(|l| l.ends_with(protocol)),
            "{protocol}: {:?}",
            h.evidence
        );
    }
    assert_has(&h.explanation, "ALPN");
    let cmds = h.fixes[0].commands.join("\n");
    assert_has(&cmds, "%{http_version}");
    assert_has(&cmds, "curl -6");
    assert_eq!(verdict(&fs).check, Some(CheckId::IspHttpParity));
}

#[test]
fn the_same_protocol_everywhere_passes_and_says_which() {
    let mut f = healthy_online();
    spoken(&mut f, Some(HttpProtocol::H2), Some(HttpProtocol::H2));
    let h = parity(&f, Status::Pass);
    assert_has(&h.summary, "HTTP 200 over h2");
    // A snapshot from before the protocol was recorded has nothing to compare.
    spoken(&mut f, None, None);
    let h = parity(&f, Status::Pass);
    assert!(!h.summary.contains("over"), "{}", h.summary);
    spoken(&mut f, Some(HttpProtocol::H2), None);
    parity(&f, Status::Pass);
}

#[test]
fn another_status_outweighs_another_protocol() {
    let mut f = healthy_online();
    spoken(&mut f, Some(HttpProtocol::H2), Some(HttpProtocol::Http1));
    isp(&mut f).http[1].response = Probed::ok(resp(404, None, 9, "cd"));
    let h = parity(&f, Status::Fail);
    assert_has(&h.summary, "404");
}

#[test]
fn http_refused_over_ipv6_points_at_the_listener() {
    let mut f = healthy_online();
    f.listeners = Probed::ok(vec![listener("0.0.0.0", 80, None)]);
    isp(&mut f).http[1].response = Probed::err(
        ProbeErrorKind::Refused,
        "connect to [2001:db8:1::10]:80: Connection refused (os error 111)",
    );
    let fs = evaluate(&f, &options());
    let h = expect(&fs, CheckId::IspHttpParity, Some(80), Status::Fail);
    assert_cause(h, CheckId::ListenerIpv6);
    assert_has(
        &h.summary,
        "(it refused the connection: nothing listens there",
    );
    assert_line(&h.evidence, "Connection refused (os error 111)");
    assert_eq!(verdict(&fs).check, Some(CheckId::ListenerIpv6));
}

fn acme_trap(f: &mut Facts) {
    let a = isp(f).acme.as_mut().expect("acme");
    let start = a.start.clone();
    let https = start.replace("http://", "https://");
    // The host's own address of each family answers (or not) each hop.
    let hop = |url: &str, family: Family, response| AcmeHop {
        url: url.into(),
        family,
        ip: Some(ip(family.pick("203.0.113.10", "2001:db8:1::10"))),
        response,
    };
    a.hops = vec![
        hop(
            &start,
            Family::V6,
            timeout("connect to [2001:db8:1::10]:80: timed out"),
        ),
        hop(
            &start,
            Family::V4,
            Probed::ok(resp(301, Some(&https), 0, "00")),
        ),
        hop(
            &https,
            Family::V6,
            timeout("connect to [2001:db8:1::10]:443: timed out"),
        ),
        hop(&https, Family::V4, Probed::ok(resp(404, None, 9, "ef"))),
    ];
}

#[test]
fn acme_trap_timeout_plus_redirect_fails() {
    let mut f = healthy_online();
    acme_trap(&mut f);
    let fs = evaluate(&f, &options());
    let a = expect(&fs, CheckId::IspAcmeHttp01, None, Status::Fail);
    assert_has(&a.summary, "trap");
    assert_has(&a.summary, "https://");
    assert_has(&a.explanation, "redirect");
    assert!(!a.fixes.is_empty());
}

/// The trap's fix speaks the language of the server that owns port 80, and no server's
/// language when dsdoctor cannot see the owner.
#[test]
fn acme_trap_fix_is_for_the_server_that_owns_port_80() {
    let fix_text = |owner: Option<&str>| {
        let mut f = healthy_online();
        acme_trap(&mut f);
        if let Ok(ls) = f.listeners.result.as_mut() {
            for l in ls.iter_mut() {
                l.process = owner.map(str::to_string);
            }
        }
        let fs = evaluate(&f, &options());
        let a = expect(&fs, CheckId::IspAcmeHttp01, None, Status::Fail);
        let fix = &a.fixes[0];
        format!("{}\n{}", fix.title, fix.commands.join("\n"))
    };
    let nginx = fix_text(Some("nginx"));
    assert_has(&nginx, "location /.well-known/acme-challenge/");
    let apache = fix_text(Some("apache2"));
    assert_has(&apache, "RewriteCond %{REQUEST_URI}");
    assert!(
        !apache.contains("nginx") && !apache.contains("location /"),
        "{apache}"
    );
    let unknown = fix_text(None);
    assert!(
        !unknown.contains("nginx") && !unknown.contains("Apache"),
        "{unknown}"
    );
    assert_has(&unknown, "/.well-known/acme-challenge/");
}

#[test]
fn acme_timeout_without_redirect_only_warns() {
    let mut f = healthy_online();
    let a = isp(&mut f).acme.as_mut().expect("acme");
    a.hops[1].response = timeout("timed out");
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::IspAcmeHttp01, None), Status::Warn);
}

#[test]
fn acme_refused_over_ipv6_fails_without_fallback() {
    let mut f = healthy_online();
    let a = isp(&mut f).acme.as_mut().expect("acme");
    a.hops[1].response = Probed::err(
        ProbeErrorKind::Refused,
        "connect to [2001:db8:1::10]:80: Connection refused (os error 111)",
    );
    let fs = evaluate(&f, &options());
    let x = expect(&fs, CheckId::IspAcmeHttp01, None, Status::Fail);
    assert_has(&x.summary, "does not fall back");
    // The admin's words in the summary, the probe's in the evidence.
    assert_has(&x.summary, "it refused the connection");
    assert!(!x.summary.contains("os error"), "{}", x.summary);
    assert_line(&x.evidence, "Connection refused (os error 111)");
}

#[test]
fn acme_different_answer_over_ipv6_warns() {
    let mut f = healthy_online();
    let a = isp(&mut f).acme.as_mut().expect("acme");
    a.hops[1].response = Probed::ok(resp(200, None, 500, "99"));
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::IspAcmeHttp01, None), Status::Warn);
}

#[test]
fn ipv4_literal_subresources_warn() {
    let mut f = healthy_online();
    if let Some(Ok(r)) = isp(&mut f).resources.as_mut().map(|p| &mut p.result) {
        r.refs = vec![
            ResourceRef {
                url: "http://192.0.2.7/app.js".into(),
                host: "192.0.2.7".into(),
                has_a: Some(true),
                has_aaaa: Some(false),
                literal: true,
            },
            ResourceRef {
                url: "https://cdn.example/x.css".into(),
                host: "cdn.example".into(),
                has_a: Some(true),
                has_aaaa: Some(false),
                literal: false,
            },
            ResourceRef {
                url: "https://ok.example/y.png".into(),
                host: "ok.example".into(),
                has_a: Some(true),
                has_aaaa: Some(true),
                literal: false,
            },
        ];
    }
    let fs = evaluate(&f, &options());
    let r = expect(&fs, CheckId::IspResources, None, Status::Warn);
    assert_has(&r.summary, "2 subresource");
    assert_has(&r.summary, "192.0.2.7");
}

fn smtp(ip_s: &str, name: &str) -> SmtpProbe {
    SmtpProbe {
        port: 25,
        ip: ip(ip_s),
        answer: Probed::ok(SmtpAnswer {
            banner: vec![format!("220 {name} ESMTP")],
            ehlo: vec![format!("250-{name}"), "250 8BITMIME".into()],
        }),
    }
}

#[test]
fn smtp_greeting_differs_over_ipv6() {
    let mut f = healthy_online();
    let mut o = options();
    o.target.ports = vec![25];
    isp(&mut f).smtp = vec![
        smtp("203.0.113.10", "shop.example"),
        smtp("2001:db8:1::10", "other.example"),
    ];
    f.listeners = Probed::ok(vec![listener("::", 25, Some(false))]);
    let fs = evaluate(&f, &o);
    let s = expect(&fs, CheckId::IspSmtpParity, Some(25), Status::Fail);
    assert_has(&s.summary, "other.example");
    assert_line(&s.evidence, "PTR 2001:db8:1::10");
    isp(&mut f).smtp[1] = smtp("2001:db8:1::10", "shop.example");
    let fs = evaluate(&f, &o);
    assert_eq!(status(&fs, CheckId::IspSmtpParity, Some(25)), Status::Pass);
    assert_eq!(status(&fs, CheckId::IspHttpParity, Some(25)), Status::Skip);
}

#[test]
fn echo_service_failure_is_an_error_naming_it() {
    let mut f = healthy_online();
    isp(&mut f).echo[0].seen = Probed::err(ProbeErrorKind::Failed, "echo answered HTTP 500");
    let fs = evaluate(&f, &options());
    let p = expect(&fs, CheckId::IspPublicIpv4, None, Status::Error);
    assert_has(&p.summary, "HTTP 500");
}

#[test]
fn https_without_ca_certificates_is_an_error_not_a_failure() {
    let mut f = healthy_online();
    for h in isp(&mut f).http.iter_mut() {
        h.response = Probed::err(
            ProbeErrorKind::Missing,
            "no CA certificates found on this host (install ca-certificates)",
        );
    }
    let h = parity(&f, Status::Error);
    assert_has(&h.summary, "ca-certificates");
}

#[test]
fn private_address_with_working_forward_is_no_warning() {
    let mut f = behind_nat("10.0.0.10", NAT_PUBLIC);
    let fs = evaluate(&f, &nat_options());
    let a = expect(&fs, CheckId::AddressGlobalIpv4, None, Status::Pass);
    assert_has(&a.summary, NAT_PUBLIC);
    // Unreachable from outside: the address stage keeps its warning.
    no_port_forward(&mut f);
    let fs = evaluate(&f, &nat_options());
    assert_eq!(status(&fs, CheckId::AddressGlobalIpv4, None), Status::Warn);
}

#[test]
fn nat_without_hairpin_is_a_warning_when_outside_gets_through() {
    let mut f = behind_nat("10.0.0.10", NAT_PUBLIC);
    isp(&mut f).http[0].ip = ip(NAT_PUBLIC);
    isp(&mut f).http[0].response = Probed::err(
        ProbeErrorKind::Failed,
        "connect to 198.51.100.1:80: refused",
    );
    let fs = evaluate(&f, &nat_options());
    let h = expect(&fs, CheckId::IspHttpParity, Some(80), Status::Warn);
    assert_has(&h.explanation, "loopback");
    // Not reachable from outside either: the inbound failure is the cause.
    no_port_forward(&mut f);
    let fs = evaluate(&f, &nat_options());
    let h = expect(&fs, CheckId::IspHttpParity, Some(80), Status::Fail);
    assert_cause(h, CheckId::IspInboundIpv4);
}

#[test]
fn inbound_failure_behind_the_hosts_own_firewall_names_it() {
    // The strict fixture firewall admits 22, 80 and 443 only.
    let mut f = healthy_online();
    let mut o = options();
    o.target.ports = vec![8080];
    f.listeners = Probed::ok(vec![listener("::", 8080, Some(false))]);
    for p in isp(&mut f).inbound.iter_mut() {
        p.port = 8080;
        if let Ok(a) = p.answer.result.as_mut() {
            a.reachable = false;
        }
    }
    let fs = evaluate(&f, &o);
    expect(&fs, CheckId::FirewallIpv6, Some(8080), Status::Fail);
    let i = expect(&fs, CheckId::IspInboundIpv6, Some(8080), Status::Fail);
    assert_cause(i, CheckId::FirewallIpv6);
    assert_has(&i.explanation, CheckId::FirewallIpv6.as_str());
    assert_eq!(verdict(&fs).check, Some(CheckId::FirewallIpv4));
}

/// This host's filter refuses the echo service's address (a ban list holding it) and
/// admits everyone else: the inbound failure speaks for the echo service only, and
/// firewall.ipv4 does not send the admin to the filtering in front of the host.
#[test]
fn inbound_failure_from_an_echo_service_refused_here_says_so() {
    use crate::facts::firewall::Source;
    let mut f = healthy_online();
    let ban = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 198.51.100.10 -j DROP\nCOMMIT\n";
    f.firewall = Probed::ok(with_save(ban, "", Source::IptablesNft));
    for p in isp(&mut f).inbound.iter_mut() {
        if let Ok(a) = p.answer.result.as_mut() {
            a.reachable = !a.ip.is_ipv4();
        }
    }
    let fs = evaluate(&f, &options());
    let i = expect(&fs, CheckId::IspInboundIpv4, Some(80), Status::Fail);
    assert_has(&i.explanation, "connects back from 198.51.100.10");
    assert_has(&i.explanation, "speaks for the echo service's address only");
    let fw = expect(&fs, CheckId::FirewallIpv4, Some(80), Status::Pass);
    assert!(
        !fw.evidence.join("\n").contains("in front of this host"),
        "{:?}",
        fw.evidence
    );
    // The twin: nothing here refuses it, so the failure is in front of the host.
    f.firewall = Probed::ok(with_save("", "", Source::IptablesNft));
    let fs = evaluate(&f, &options());
    let i = expect(&fs, CheckId::IspInboundIpv4, Some(80), Status::Fail);
    assert!(!i.explanation.contains("echo service's address only"));
}

// --------------------------------------------------------------------------- path MTU

/// Small echoes to the IPv6 egress target come back, 1500-byte ones do not.
fn pmtu_broken_v6() -> Facts {
    let mut f = healthy_online();
    isp(&mut f).egress[1].full_size_icmp_ms = Probed::err(
        ProbeErrorKind::Timeout,
        "1500-byte ICMP echo: no echo reply from 2001:db8:2::10",
    );
    f
}

#[test]
fn path_mtu_blackhole_upstream_fails_with_the_real_route() {
    let fs = evaluate(&pmtu_broken_v6(), &options());
    let x = expect(&fs, CheckId::IspPathMtuIpv6, None, Status::Fail);
    assert_has(&x.summary, "1500-byte");
    assert!(x.caused_by.is_none());
    let ev = x.evidence.join("\n");
    assert_has(
        &ev,
        "2001:db8:2::10: ICMP echo 11.0 ms, 1500-byte ICMP echo: no echo reply",
    );
    assert_has(&ev, "eth0 mtu 1500");
    assert_has(&x.explanation, "packet too big");
    let cmds: Vec<String> = x.fixes.iter().flat_map(|f| f.commands.clone()).collect();
    let cmds = cmds.join("\n");
    assert_has(&cmds, "tracepath -6 -n 2001:db8:2::10");
    assert_has(&cmds, "ping -6 -c 3 -M do -s 1452 2001:db8:2::10");
    assert_has(
        &cmds,
        "ip -6 route change default via 2001:db8:1::1 dev eth0 mtu 1280",
    );
    assert_eq!(status(&fs, CheckId::IspPathMtuIpv4, None), Status::Pass);
    assert_eq!(verdict(&fs).check, Some(CheckId::IspPathMtuIpv6));
}

#[test]
fn path_mtu_blackhole_from_the_hosts_own_filter_names_it() {
    // The strict ruleset without "related" and without packet-too-big in its ICMPv6 set:
    // neighbour discovery still passes, "packet too big" hits the final reject.
    let mut rules: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/firewall/nft-strict.json"
    ))
    .unwrap();
    for o in rules["nftables"].as_array_mut().unwrap() {
        let Some(exprs) = o.pointer_mut("/rule/expr/0/match/right") else {
            continue;
        };
        if let Some(v) = exprs.as_array_mut() {
            v.retain(|x| x != "related");
        }
        if let Some(v) = exprs.pointer_mut("/set").and_then(|v| v.as_array_mut()) {
            v.retain(|x| x != "packet-too-big");
        }
    }
    let mut f = pmtu_broken_v6();
    f.firewall = Probed::ok(firewall_from_nft(&rules.to_string()));
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::FirewallIcmpv6, None), Status::Fail);
    let x = expect(&fs, CheckId::IspPathMtuIpv6, None, Status::Fail);
    assert_cause(x, CheckId::FirewallIcmpv6);
    assert_has(&x.explanation, "this host's own IPv6 filter");
    assert!(x.fixes.is_empty(), "the firewall finding carries the fix");
    assert_eq!(verdict(&fs).check, Some(CheckId::FirewallIcmpv6));
}

#[test]
fn path_mtu_without_any_echo_answer_is_not_judged() {
    let mut f = healthy_online();
    let e = &mut isp(&mut f).egress[0];
    e.icmp_ms = Probed::err(ProbeErrorKind::Timeout, "no echo reply");
    e.full_size_icmp_ms = Probed::err(ProbeErrorKind::Timeout, "no echo reply");
    let fs = evaluate(&f, &options());
    let x = expect(&fs, CheckId::IspPathMtuIpv4, None, Status::Skip);
    assert_has(&x.summary, "cannot be measured");
    assert_eq!(
        status(&fs, CheckId::IspEgressIpv4, None),
        Status::Pass,
        "TCP still answers"
    );
}

#[test]
fn path_mtu_from_an_older_snapshot_is_skipped_not_failed() {
    let mut v = serde_json::to_value(healthy_online()).unwrap();
    for e in v["isp"]["result"]["Ok"]["egress"].as_array_mut().unwrap() {
        e.as_object_mut().unwrap().remove("full_size_icmp_ms");
    }
    let f: Facts = serde_json::from_value(v).unwrap();
    let fs = evaluate(&f, &options());
    for id in [CheckId::IspPathMtuIpv4, CheckId::IspPathMtuIpv6] {
        let x = expect(&fs, id, None, Status::Skip);
        assert_has(&x.summary, "not recorded");
    }
}

#[test]
fn path_mtu_skips_where_the_path_is_already_blocked() {
    let mut f = pmtu_broken_v6();
    drop_routes(&mut f, Family::V6);
    let fs = evaluate(&f, &options());
    let x = expect(&fs, CheckId::IspPathMtuIpv6, None, Status::Skip);
    assert_cause(x, CheckId::RouteIpv6Default);
}

#[test]
fn path_mtu_without_permission_for_icmp_says_what_is_needed() {
    let mut f = healthy_online();
    for e in isp(&mut f).egress.iter_mut() {
        let denied = Probed::err(
            ProbeErrorKind::Permission,
            "ICMP echo needs root or CAP_NET_RAW (net.ipv4.ping_group_range does not include this user)",
        );
        e.icmp_ms = denied.clone();
        e.full_size_icmp_ms = denied;
    }
    let fs = evaluate(&f, &options());
    for id in [CheckId::IspPathMtuIpv4, CheckId::IspPathMtuIpv6] {
        let x = expect(&fs, id, None, Status::Error);
        assert_has(&x.summary, "CAP_NET_RAW");
    }
}

// ------------------------------------------------------------------ isp.redirects

/// The address asked and the answer of a redirect's second request over IPv6.
type V6Hop<'a> = (Option<&'a str>, Probed<HttpResponse>);

/// The home page redirects to `target` over both families; `v6_hop` is what the second
/// request gave over IPv6 (address asked, answer), IPv4 reaching it fine.
fn redirect_home(f: &mut Facts, target: &str, v6_hop: V6Hop) {
    let hop = |url: &str, at: Option<&str>, r: Probed<HttpResponse>| RedirectHop {
        url: url.into(),
        ip: at.map(ip),
        response: r,
    };
    let chains = &mut isp(f).redirects;
    chains.retain(|c| c.start != "http://shop.example/");
    chains.push(redirect_chain(
        Family::V4,
        vec![
            hop(
                "http://shop.example/",
                Some("203.0.113.10"),
                Probed::ok(http_answer(301, Some(target))),
            ),
            hop(
                target,
                Some("203.0.113.10"),
                Probed::ok(http_answer(200, None)),
            ),
        ],
    ));
    chains.push(redirect_chain(
        Family::V6,
        vec![
            hop(
                "http://shop.example/",
                Some("2001:db8:1::10"),
                Probed::ok(http_answer(301, Some(target))),
            ),
            hop(target, v6_hop.0, v6_hop.1),
        ],
    ));
}

#[test]
fn redirects_healthy_site_has_none_and_passes() {
    let fs = evaluate(&healthy_online(), &options());
    let fd = expect(&fs, CheckId::IspRedirects, Some(80), Status::Pass);
    assert_has(&fd.summary, "no redirects on port 80");
}

/// The home page redirects to a target; what the second request gave over IPv6 decides.
#[test]
fn redirect_targets_strand_ipv6_clients_or_pass() {
    let no_v6 = |why: &str| (None, Probed::err(ProbeErrorKind::NotRun, why));
    let rows: [(&str, V6Hop, Status, &str); 4] = [
        (
            "http://www.shop.example/",
            no_v6("www.shop.example has no IPv6 address"),
            Status::Fail,
            "IPv6 clients are stranded at the redirect http://shop.example/ -> http://www.shop.example/: www.shop.example has no AAAA record",
        ),
        (
            "http://203.0.113.10/",
            no_v6("203.0.113.10 has no IPv6 address"),
            Status::Fail,
            "names the IPv4 address 203.0.113.10",
        ),
        (
            "https://shop.example/",
            (
                Some("2001:db8:1::10"),
                Probed::err(ProbeErrorKind::Refused, "connection refused"),
            ),
            Status::Fail,
            "[2001:db8:1::10] does not answer over IPv6",
        ),
        (
            "https://shop.example/",
            (Some("2001:db8:1::10"), Probed::ok(http_answer(200, None))),
            Status::Pass,
            "every redirect on port 80 leads to",
        ),
    ];
    for (target, v6_hop, want, summary) in rows {
        let mut f = healthy_online();
        redirect_home(&mut f, target, v6_hop);
        let fs = evaluate(&f, &options());
        let fd = expect(&fs, CheckId::IspRedirects, Some(80), want);
        assert_has(&fd.summary, summary);
        assert!(!fd.summary.contains("IPv4 clients"), "{}", fd.summary);
        if want == Status::Pass {
            assert_line(&fd.evidence, "HTTP 301 -> https://shop.example/");
        }
    }
}

#[test]
fn redirects_other_names_are_checked_against_this_host() {
    let mut f = healthy_online();
    f.web = Probed::ok(WebServers {
        nginx: vec![nginx(
            "server {\n    listen 80;\n    listen [::]:80;\n    server_name shop.example www.shop.example;\n}\n",
        )],
        others: Vec::new(),
        ..WebServers::default()
    });
    isp(&mut f).site_names = vec![SiteName {
        name: "www.shop.example".into(),
        addrs: Probed::ok(vec![ip("203.0.113.10")]),
    }];
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::IspRedirects, Some(80), Status::Warn);
    assert_has(
        &fd.summary,
        "www.shop.example (nginx server_name (/etc/nginx/sites/shop.conf:1)) has no AAAA record",
    );
    assert_line(&fd.evidence, "other name www.shop.example");

    // The healthy twin: the other name has both records, on this host.
    isp(&mut f).site_names[0].addrs = Probed::ok(vec![ip("203.0.113.10"), ip("2001:db8:1::10")]);
    let fs = evaluate(&f, &options());
    let fd = expect(&fs, CheckId::IspRedirects, Some(80), Status::Pass);
    assert_line(&fd.evidence, "AAAA 2001:db8:1::10");
}
