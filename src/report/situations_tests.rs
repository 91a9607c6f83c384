//! Every sentence true for the host it is shown on: one fact fixture per situation a new
//! user meets (nothing listening, one family only, a server other than nginx, no eth0, no
//! default route, no network at all, an unprivileged run), its text report kept as a
//! snapshot that was read before it was accepted, and checked for sentences that its
//! facts contradict and for fix commands with made-up values.

use super::{Format, fix_problems, render};
use crate::checks::fixtures::*;
use crate::engine::report_from_facts;
use crate::facts::*;
use crate::model::{Family, Report};

fn report(f: &Facts) -> Report {
    report_from_facts(f, &options(), "2026-11-29T00:00:00Z".into(), 12)
}

fn interfaces(f: &Facts) -> Vec<String> {
    f.links().iter().map(|l| l.name.clone()).collect()
}

/// The text report of test `test`'s situation, after checking its fixes and that it
/// says none of `never`, matched against the test's snapshot.
fn snapshot_of(test: &str, f: &Facts, never: &[&str]) -> String {
    let r = report(f);
    let problems = fix_problems(&r, &interfaces(f));
    assert!(problems.is_empty(), "{test}: {problems:#?}");
    let text = render(&r, Format::Text, false);
    for n in never {
        assert!(
            !text.contains(n),
            "{test}: says {n:?}, which its facts contradict:\n{text}"
        );
    }
    insta::assert_snapshot!(test, text.clone());
    text
}

fn dns_error(kind: ProbeErrorKind, message: &str) -> Probed<DnsAnswer> {
    Probed::err(kind, message)
}

/// Every DNS question fails the same way.
fn dns_fails(f: &mut Facts, kind: ProbeErrorKind, message: &str) {
    let e = ProbeError::new(kind, message);
    f.dns.a = dns_error(kind, message);
    f.dns.aaaa = dns_error(kind, message);
    f.dns.zone = Probed {
        result: Err(e.clone()),
        ms: 0,
    };
    f.dns.dns64 = Probed {
        result: Err(e.clone()),
        ms: 0,
    };
    for s in &mut f.dns.servers {
        s.a = Probed {
            result: Err(e.clone()),
            ms: 0,
        };
        s.aaaa = s.a.clone();
    }
    f.dns.servers.retain(|s| s.role == ServerRole::Resolver);
    for s in &mut f.dns.servers {
        if let Some(r) = f.dns.resolvers.first() {
            s.server = *r;
        }
    }
    for p in &mut f.dns.ptr {
        p.names = Probed {
            result: Err(e.clone()),
            ms: 0,
        };
    }
}

/// The healthy host with its interface called `to` instead of eth0, everywhere the facts
/// name it (links, routes, neighbours, sysctl keys, the boot network).
fn renamed(f: &Facts, to: &str) -> Facts {
    let json = serde_json::to_string(f).expect("facts serialise");
    serde_json::from_str(&json.replace("\"eth0\"", &format!("\"{to}\"")))
        .expect("facts deserialise")
}

/// The healthy host with its interface called ens3 and no IPv6 route (nor a boot
/// network configuration to restore one from).
fn ens3_without_an_ipv6_route() -> Facts {
    let mut f = healthy();
    drop_routes(&mut f, Family::V6);
    f.boot_network = None;
    renamed(&f, "ens3")
}

const UNREACHABLE: &str = "proto error: io error: Network is unreachable (os error 101)";

#[test]
fn nothing_listening() {
    let mut f = healthy();
    f.listeners = Probed::ok(Vec::new());
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx.clear();
    }
    snapshot_of(
        "nothing_listening",
        &f,
        &[
            "while IPv6 works",
            "IPv6 clients are served",
            "IPv4 clients are served",
            "nginx's",
            "running nginx",
        ],
    );
}

#[test]
fn ipv4_only_host() {
    let mut f = healthy();
    drop_routes(&mut f, Family::V6);
    eth0(&mut f)
        .addrs
        .retain(|a| a.ip.is_ipv4() || a.ip.to_string().starts_with("fe80"));
    f.dns.aaaa = Probed::ok(DnsAnswer::NoData);
    for s in &mut f.dns.servers {
        s.aaaa = Probed::ok(DnsAnswer::NoData);
    }
    f.listeners = Probed::ok(vec![listener("0.0.0.0", 80, None)]);
    f.neighbours = Probed::ok(Vec::new());
    f.boot_network = Some(Probed::ok(boot(&[
        ("/usr/sbin/netplan", ""),
        (
            "/etc/netplan/10-web1.yaml",
            "network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: [203.0.113.10/24]\n      routes:\n        - to: default\n          via: 203.0.113.1\n",
        ),
    ])));
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx = vec![nginx(
            "server {\n    listen 80;\n    server_name shop.example;\n}\n",
        )];
    }
    snapshot_of(
        "ipv4_only_host",
        &f,
        &["IPv6 clients are served", "YOUR_", "GATEWAY"],
    );
}

#[test]
fn apache_serves_ipv4_only() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![owned("0.0.0.0", 80, None, 700, "apache2")]);
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx.clear();
        w.runtimes = Some(Vec::new());
        w.apache = vec![apache_on(
            "Listen 0.0.0.0:80",
            "<VirtualHost *:80>\n    ServerName shop.example\n</VirtualHost>\n",
        )];
    }
    let text = snapshot_of("apache_serves_ipv4_only", &f, &["nginx", "a IPv6"]);
    assert!(text.contains("Apache's `Listen 0.0.0.0:80`"), "{text}");
}

#[test]
fn no_eth0_and_no_ipv6_route() {
    let mut f = ens3_without_an_ipv6_route();
    f.neighbours = Probed::ok(Vec::new());
    let text = snapshot_of("no_eth0_and_no_ipv6_route", &f, &["eth0"]);
    assert!(text.contains("dev ens3"), "{text}");
}

#[test]
fn no_ipv6_route_with_a_router_on_the_link() {
    let mut f = ens3_without_an_ipv6_route();
    f.neighbours = Probed::ok(vec![Neighbour {
        ip: ip("fe80::1"),
        dev: "ens3".into(),
        state: "stale".into(),
        lladdr: Some("02:00:00:00:00:01".into()),
        router: true,
    }]);
    let r = report(&f);
    assert!(fix_problems(&r, &interfaces(&f)).is_empty());
    let route = r
        .checks
        .iter()
        .find(|c| c.id == crate::model::CheckId::RouteIpv6Default)
        .expect("route.ipv6_default");
    assert_eq!(
        route.fixes[0].commands[0],
        "ip -6 route add default via fe80::1 dev ens3   # a router seen on ens3"
    );
}

#[test]
fn no_default_route() {
    let mut f = healthy();
    drop_routes(&mut f, Family::V4);
    drop_routes(&mut f, Family::V6);
    f.boot_network = None;
    f.neighbours = Probed::ok(Vec::new());
    f.gateway_pings.clear();
    f.dns.resolvers = vec![std::net::SocketAddr::new(ip("10.255.255.53"), 53)];
    dns_fails(&mut f, ProbeErrorKind::Unreachable, UNREACHABLE);
    let text = snapshot_of("no_default_route", &f, &["GATEWAY"]);
    for c in &report(&f).checks {
        assert!(!c.summary.contains("os error"), "{}: {}", c.id, c.summary);
    }
    // The raw error stays in the evidence, behind the admin's words.
    assert!(text.contains(&format!("| error: {UNREACHABLE}")), "{text}");
}

#[test]
fn no_network_at_all() {
    let mut f = healthy();
    f.links = Probed::ok(vec![loopback()]);
    f.routes = Probed::ok(Vec::new());
    f.neighbours = Probed::ok(Vec::new());
    f.gateway_pings.clear();
    f.listeners = Probed::ok(Vec::new());
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx.clear();
    }
    f.boot_network = None;
    f.dns.resolvers = vec![std::net::SocketAddr::new(ip("10.255.255.53"), 53)];
    dns_fails(&mut f, ProbeErrorKind::Unreachable, UNREACHABLE);
    f.dns.ptr.clear();
    snapshot_of(
        "no_network_at_all",
        &f,
        &[
            "eth0",
            "nginx's",
            "running nginx",
            "while IPv6 works",
            "Link-local addresses",
            "$ ip",
        ],
    );
}

#[test]
fn unprivileged() {
    let mut f = healthy();
    f.host.euid = 1000;
    if let Ok(ls) = f.listeners.result.as_mut() {
        for l in ls {
            l.pid = None;
            l.process = None;
        }
    }
    f.firewall = Probed::err(
        ProbeErrorKind::Permission,
        "reading the packet filter needs root (CAP_NET_ADMIN): run dsdoctor as root",
    );
    for p in &mut f.gateway_pings {
        p.rtt_ms = Probed::err(
            ProbeErrorKind::Permission,
            "ICMP echo needs root or CAP_NET_RAW (net.ipv4.ping_group_range does not include this user)",
        );
    }
    f.listeners = Probed::ok(vec![Listener {
        pid: None,
        process: None,
        ..listener("0.0.0.0", 80, None)
    }]);
    let text = snapshot_of(
        "unprivileged",
        &f,
        &["nginx's", "permission denied: run dsdoctor as root"],
    );
    assert!(text.contains("CAP_NET_ADMIN"), "{text}");
}

/// Postfix sends IPv6 mail from a temporary SLAAC address without PTR, and the domain's
/// SPF record lists only the IPv4 address: the mail checks' words and fixes.
#[test]
fn postfix_sends_ipv6_mail_from_a_temporary_address() {
    let mut f = mail_host();
    temporary_source(&mut f);
    mail_of(&mut f).spf_dns = vec![spf_txt("v=spf1 ip4:203.0.113.10 -all")];
    snapshot_of(
        "postfix_sends_ipv6_mail_from_a_temporary_address",
        &f,
        &["YOUR_", "GATEWAY", "sends no mail"],
    );
}
