//! Unit tests of the listener checks: the healthy fixture, broken one way per test.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::*;
use crate::model::{CheckId, Status};
use crate::verdict::verdict;

#[test]
fn ipv4_only_listener_fails_ipv6_and_names_nginx_line() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![listener("0.0.0.0", 80, None)]);
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx = vec![nginx(
            "server {\n    listen 80;\n    server_name shop.example;\n}\n",
        )];
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Pass);
    expect(&fs, CheckId::ListenerIpv6, Some(80), Status::Fail);
    let cfg = expect(&fs, CheckId::ListenerConfig, Some(80), Status::Fail);
    assert_has(&cfg.summary, "/etc/nginx/sites/shop.conf:1");
    assert_has(&cfg.summary, "listen [::]:80;");
    assert_has(&cfg.fixes[0].commands[0], "sed -i '2a");
    assert_eq!(verdict(&fs).check, Some(CheckId::ListenerIpv6));
}

#[test]
fn v6only_listener_refuses_ipv4() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![listener("::", 8080, Some(true))]);
    let mut o = options();
    o.target.ports = vec![8080];
    let fs = evaluate(&f, &o);
    let l4 = expect(&fs, CheckId::ListenerIpv4, Some(8080), Status::Fail);
    assert_has(&l4.summary, "IPV6_V6ONLY");
    assert_eq!(status(&fs, CheckId::ListenerIpv6, Some(8080)), Status::Pass);
}

/// The healthy host's sockets changed one way per row, each row (or pair of rows) one
/// former test.
const BROKEN: &[Broken] = &[
    Broken {
        name: "dual_stack_socket_without_v6only_serves_both (listener.ipv4)",
        breaks: one_dual_stack_socket,
        id: CheckId::ListenerIpv4,
        port: Some(80),
        status: Status::Pass,
        summary: &[],
        evidence: &[],
    },
    Broken {
        name: "dual_stack_socket_without_v6only_serves_both (listener.ipv6)",
        breaks: one_dual_stack_socket,
        id: CheckId::ListenerIpv6,
        port: Some(80),
        status: Status::Pass,
        summary: &[],
        evidence: &[],
    },
    Broken {
        name: "loopback_only_listener_fails (listener.ipv4)",
        breaks: loopback_only,
        id: CheckId::ListenerIpv4,
        port: Some(80),
        status: Status::Fail,
        summary: &[],
        evidence: &[],
    },
    Broken {
        name: "loopback_only_listener_fails (listener.ipv6)",
        breaks: loopback_only,
        id: CheckId::ListenerIpv6,
        port: Some(80),
        status: Status::Fail,
        summary: &[],
        evidence: &[],
    },
    Broken {
        name: "other_web_server_skips_config_with_reason",
        breaks: owned_by_caddy,
        id: CheckId::ListenerConfig,
        port: Some(80),
        status: Status::Skip,
        summary: &["caddy"],
        evidence: &[],
    },
];

fn one_dual_stack_socket(f: &mut Facts) {
    f.listeners = Probed::ok(vec![listener("::", 80, Some(false))]);
}

fn loopback_only(f: &mut Facts) {
    f.listeners = Probed::ok(vec![
        listener("127.0.0.1", 80, None),
        listener("::1", 80, Some(true)),
    ]);
}

/// Another web server owns both sockets.
fn owned_by_caddy(f: &mut Facts) {
    if let Ok(ls) = f.listeners.result.as_mut() {
        for l in ls {
            l.process = Some("caddy".into());
        }
    }
}

#[test]
fn broken_one_way_gives_its_finding() {
    assert_broken(BROKEN, healthy);
}

#[test]
fn nginx_ipv6_only_block_wants_plain_listen() {
    let mut f = healthy();
    f.listeners = Probed::ok(vec![listener("::", 80, Some(true))]);
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx = vec![nginx(
            "server {\n    listen [::]:80;\n    server_name shop.example;\n}\n",
        )];
    }
    let fs = evaluate(&f, &options());
    assert_eq!(status(&fs, CheckId::ListenerIpv4, Some(80)), Status::Fail);
    let cfg = expect(&fs, CheckId::ListenerConfig, Some(80), Status::Fail);
    assert_has(&cfg.summary, "`listen 80;`");
}

/// nginx's commands are offered only where nginx is the one to change: not when another
/// program owns the port, though an nginx runs on the host.
#[test]
fn nginx_fix_only_when_nginx_owns_the_port() {
    let title = |fs: &[crate::model::Finding]| -> Vec<String> {
        let l6 = fs
            .iter()
            .find(|x| x.id == CheckId::ListenerIpv6 && x.port == Some(80))
            .expect("listener.ipv6 :80");
        l6.fixes.iter().map(|x| x.title.clone()).collect()
    };
    let mut f = healthy();
    f.listeners = Probed::ok(vec![listener("0.0.0.0", 80, None)]);
    let by_nginx = evaluate(&f, &options());
    expect(&by_nginx, CheckId::ListenerIpv6, Some(80), Status::Fail);
    assert!(title(&by_nginx).iter().any(|t| t.contains("nginx")));
    let mut other = listener("0.0.0.0", 80, None);
    other.process = Some("apache2".into());
    f.listeners = Probed::ok(vec![other]);
    let by_apache = evaluate(&f, &options());
    expect(&by_apache, CheckId::ListenerIpv6, Some(80), Status::Fail);
    assert!(
        !title(&by_apache).iter().any(|t| t.contains("nginx")),
        "{:?}",
        title(&by_apache)
    );
}

/// The finding of `id` on port 80 (the fixture's one port), asserted to have `status`.
#[track_caller]
fn on_80(f: &Facts, id: CheckId, status: Status) -> crate::model::Finding {
    judge(f, &options(), id, Some(80), status)
}

/// A REDIRECT sends IPv4 clients of port 80 to port 8080, where the server listens
/// (IPv4 only): IPv4 passes through the rule; IPv6, not rewritten, finds nothing on 80.
#[test]
fn redirected_port_is_judged_by_the_sockets_it_is_redirected_to() {
    let mut f = healthy();
    f.firewall = Probed::ok(nat_v4("REDIRECT --to-ports 8080"));
    f.listeners = Probed::ok(vec![listener("0.0.0.0", 8080, None)]);
    let v4 = on_80(&f, CheckId::ListenerIpv4, Status::Pass);
    assert_has(&v4.summary, "IPv4 connections to port 80 are rewritten to");
    assert_has(&v4.summary, ":8080 by iptables -t nat PREROUTING");
    assert_line(&v4.evidence, "path taken: prerouting DNAT to");
    let v6 = on_80(&f, CheckId::ListenerIpv6, Status::Fail);
    assert_has(&v6.summary, "nothing listens on port 80");

    // Nothing on the redirect's port: the failure says where it looked.
    f.listeners = Probed::ok(vec![listener("0.0.0.0", 80, None)]);
    let v4 = on_80(&f, CheckId::ListenerIpv4, Status::Fail);
    assert_has(&v4.summary, "rewritten to");
    assert_has(&v4.summary, "nothing listens on port 8080");
}

/// A hand-written DNAT (a Kubernetes hostPort, a service on another host) forwards IPv4
/// clients elsewhere: the target is named, not judged by this host's sockets; IPv6 has
/// no such rule and nothing listens.
#[test]
fn dnat_to_another_host_names_the_target() {
    let mut f = healthy();
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.ip_forward = Some(1);
    }
    f.firewall = Probed::ok(nat_v4("DNAT --to-destination 192.0.2.50:80"));
    f.listeners = Probed::ok(Vec::new());
    let v4 = on_80(&f, CheckId::ListenerIpv4, Status::Pass);
    assert_has(
        &v4.summary,
        "are DNATed to 192.0.2.50:80 by iptables -t nat PREROUTING",
    );
    assert_has(&v4.summary, "forwarded");
    on_80(&f, CheckId::ListenerIpv6, Status::Fail);
}
