//! Lab scenarios of the ISP stage: what the internet sees. The echo service runs on the
//! lab's internet side (`cli`, tests/common/isp.rs); NAT, carrier-grade NAT, port
//! forwards and upstream blocking are nft rules inside the lab's router namespace.
//!
//! These tests need root; they fail (never skip) when the lab cannot be built.

mod common;

use common::isp::*;
use common::*;
use serde_json::Value;

fn text_of(v: &Value, id: &str, port: Option<u16>) -> String {
    find_check(v, id, port).to_string()
}

fn isp_checks(v: &Value) -> Vec<&Value> {
    v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["stage"] == "isp")
        .collect()
}

/// Every isp check passed or was skipped for a reason other than a failure.
fn assert_isp_clean(v: &Value) {
    for c in isp_checks(v) {
        assert!(
            c["status"] == "pass" || c["status"] == "skip",
            "{c:#}\nproblems:\n{}",
            problems(v)
        );
    }
}

#[test]
fn healthy_lab_isp_passes_and_offline_skips() {
    let mut lab = Lab::new("isp-healthy");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 0, "problems:\n{}", problems(&v));
    assert_eq!(stage_status(&v, "isp"), "pass");
    for id in [
        "isp.egress_ipv4",
        "isp.egress_ipv6",
        "isp.public_ipv4",
        "isp.public_ipv6",
        "isp.acme_http01",
        "isp.resources",
    ] {
        assert_check(&v, id, None, "pass");
    }
    for id in ["isp.inbound_ipv4", "isp.inbound_ipv6", "isp.http_parity"] {
        assert_check(&v, id, Some(80), "pass");
    }
    let p4 = text_of(&v, "isp.public_ipv4", None);
    assert!(p4.contains("direct") && p4.contains(SRV_V4), "{p4}");
    let p6 = text_of(&v, "isp.public_ipv6", None);
    assert!(p6.contains("direct") && p6.contains(SRV_V6), "{p6}");
    // The echo service is the lab's own: nothing left the lab.
    let e = text_of(&v, "isp.egress_ipv4", None);
    assert!(e.contains(&format!("{CLI_V4}:{ECHO_PORT}")), "{e}");

    // (Offline, the gateway pings of the route stage do not run either: not asserted here.)
    let (_, v) = lab.check_json(&["--offline"]);
    assert_eq!(stage_status(&v, "isp"), "skip");
    for c in isp_checks(&v) {
        assert_eq!(c["status"], "skip", "{c:#}");
        assert!(
            c["summary"].as_str().unwrap_or("").contains("--offline"),
            "{c:#}"
        );
    }
}

#[test]
fn carrier_grade_nat_without_port_forwarding() {
    let mut lab = Lab::with_zone("isp-cgnat", DnsZone::new().shop_a(&[NAT_PUBLIC_V4]));
    lab.put_behind_nat(Nat::Carrier);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "problems:\n{}", problems(&v));
    assert_check(&v, "address.global_ipv4", None, "fail");
    assert_check(&v, "isp.egress_ipv4", None, "pass");
    assert_check(&v, "isp.public_ipv4", None, "fail");
    let p = text_of(&v, "isp.public_ipv4", None);
    assert!(
        p.contains("carrier-grade") && p.contains(NAT_PUBLIC_V4),
        "{p}"
    );
    assert_check(&v, "isp.inbound_ipv4", Some(80), "fail");
    assert!(
        text_of(&v, "isp.inbound_ipv4", Some(80)).contains("carrier-grade"),
        "{}",
        text_of(&v, "isp.inbound_ipv4", Some(80))
    );
    // IPv6 is routed, not translated: it still works from outside.
    assert_check(&v, "isp.public_ipv6", None, "pass");
    assert_check(&v, "isp.inbound_ipv6", Some(80), "pass");
    assert_eq!(verdict_check(&v).as_deref(), Some("address.global_ipv4"));
}

#[test]
fn home_nat_with_port_forward_passes() {
    let mut lab = Lab::with_zone("isp-nat-fwd", DnsZone::new().shop_a(&[NAT_PUBLIC_V4]));
    lab.put_behind_nat(Nat::Home);
    lab.forward_port(Nat::Home, 80);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    // A false alarm here is a bug: the A record is the NAT's public address and the
    // router forwards the port.
    assert_check(&v, "dns.a_target", None, "pass");
    let a = text_of(&v, "dns.a_target", None);
    assert!(a.contains(NAT_PUBLIC_V4) && a.contains("forward"), "{a}");
    assert_isp_clean(&v);
    assert_eq!(stage_status(&v, "isp"), "pass");
    let p = text_of(&v, "isp.public_ipv4", None);
    assert!(p.contains("NAT") && p.contains(NAT_PUBLIC_V4), "{p}");
    assert_check(&v, "isp.inbound_ipv4", Some(80), "pass");
    assert_check(&v, "isp.http_parity", Some(80), "pass");
    // The address stage, which alone cannot tell, takes the view from outside.
    assert_check(&v, "address.global_ipv4", None, "pass");
    assert_eq!(code, 0, "problems:\n{}", problems(&v));
    assert_eq!(verdict_status(&v), "pass", "problems:\n{}", problems(&v));
}

#[test]
fn home_nat_without_port_forward() {
    let mut lab = Lab::with_zone("isp-nat-nofwd", DnsZone::new().shop_a(&[NAT_PUBLIC_V4]));
    lab.put_behind_nat(Nat::Home);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "problems:\n{}", problems(&v));
    assert_check(&v, "dns.a_target", None, "pass");
    assert_check(&v, "isp.public_ipv4", None, "pass");
    assert_check(&v, "isp.inbound_ipv4", Some(80), "fail");
    let c = find_check(&v, "isp.inbound_ipv4", Some(80));
    let expl = c["explanation"].as_str().unwrap_or("");
    let pf = expl.find("port forward").unwrap_or(usize::MAX);
    let cg = expl.find("carrier-grade").unwrap_or(usize::MAX);
    let sg = expl.find("security group").unwrap_or(usize::MAX);
    assert!(
        pf < cg && cg < sg && sg < usize::MAX,
        "suspects out of order:\n{expl}"
    );
    let fixes = c["fixes"].to_string();
    assert!(
        fixes.contains(&format!("{HOME_V4}:80")) && fixes.contains(NAT_PUBLIC_V4),
        "{fixes}"
    );
    assert_check(&v, "isp.inbound_ipv6", Some(80), "pass");
    assert_check(&v, "address.global_ipv4", None, "warn");
    assert_eq!(verdict_check(&v).as_deref(), Some("isp.inbound_ipv4"));
}

#[test]
fn ipv6_egress_blocked_upstream() {
    let mut lab = Lab::new("isp-block6");
    lab.block_ipv6_upstream();
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "problems:\n{}", problems(&v));
    // The host and its gateway are fine; the loss is beyond the gateway.
    assert_check(&v, "route.ipv6_gateway", None, "pass");
    assert_check(&v, "isp.egress_ipv4", None, "pass");
    assert_check(&v, "isp.egress_ipv6", None, "fail");
    let e = find_check(&v, "isp.egress_ipv6", None);
    assert!(e["fixes"].to_string().contains("traceroute -6"), "{e:#}");
    assert!(
        e["explanation"].as_str().unwrap_or("").contains(SRV_GW_V6),
        "{e:#}"
    );
    assert_check(&v, "isp.public_ipv6", None, "skip");
    assert!(check_summary(&v, "isp.public_ipv6", None).contains("isp.egress_ipv6"));
    assert_check(&v, "isp.inbound_ipv6", Some(80), "skip");
    assert_check(&v, "isp.public_ipv4", None, "pass");
    assert_eq!(verdict_check(&v).as_deref(), Some("isp.egress_ipv6"));
}

#[test]
fn narrow_uplink_with_working_path_mtu_discovery_passes() {
    // A false alarm here would send admins chasing every tunnel and PPPoE line.
    let mut lab = Lab::new("isp-pmtu-ok");
    lab.narrow_upstream_link(1400);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 0, "problems:\n{}", problems(&v));
    assert_check(&v, "isp.path_mtu_ipv4", None, "pass");
    assert_check(&v, "isp.path_mtu_ipv6", None, "pass");
}

#[test]
fn packet_too_big_lost_upstream_is_a_path_mtu_blackhole() {
    let mut lab = Lab::new("isp-pmtu-hole");
    lab.narrow_upstream_link(1400);
    lab.drop_packet_too_big_upstream();
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "problems:\n{}", problems(&v));
    assert_check(&v, "isp.path_mtu_ipv6", None, "fail");
    let c = find_check(&v, "isp.path_mtu_ipv6", None);
    let ev = c["evidence"].to_string();
    assert!(ev.contains(&format!("{CLI_V6}: ICMP echo ")), "{c:#}");
    assert!(ev.contains("1500-byte ICMP echo"), "{c:#}");
    assert!(ev.contains("eth0 mtu 1500"), "{c:#}");
    let fixes = c["fixes"].to_string();
    assert!(
        fixes.contains(&format!("tracepath -6 -n {CLI_V6}")),
        "{fixes}"
    );
    assert!(
        fixes.contains(&format!(
            "ip -6 route change default via {SRV_GW_V6} dev eth0 mtu 1280"
        )),
        "{fixes}"
    );
    // The host's own filter is clean, and small packets get everywhere.
    for id in ["firewall.icmpv6", "isp.egress_ipv6", "isp.public_ipv6"] {
        assert_check(&v, id, None, "pass");
    }
    assert_check(&v, "isp.inbound_ipv6", Some(80), "pass");
    // Linux sets DF on the echo (path MTU discovery is on by default), so the IPv4
    // router cannot fragment it either: both families lose full-size packets, and the
    // verdict names the first in tree order.
    assert_check(&v, "isp.path_mtu_ipv4", None, "fail");
    let fixes = find_check(&v, "isp.path_mtu_ipv4", None)["fixes"].to_string();
    assert!(fixes.contains("-M do -s 1472"), "{fixes}");
    assert_eq!(verdict_check(&v).as_deref(), Some("isp.path_mtu_ipv4"));
}

#[test]
fn packet_too_big_dropped_by_the_hosts_filter_is_the_firewalls_fault() {
    let mut lab = Lab::new("isp-pmtu-fw");
    lab.narrow_upstream_link(1400);
    lab.nft(
        Ns::Srv,
        "noptb",
        "table ip6 hostfilter {
    chain input {
        type filter hook input priority filter; policy accept;
        icmpv6 type packet-too-big drop
    }
}
",
    );
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "problems:\n{}", problems(&v));
    assert_check(&v, "firewall.icmpv6", None, "fail");
    assert_check(&v, "isp.path_mtu_ipv6", None, "fail");
    let c = find_check(&v, "isp.path_mtu_ipv6", None);
    let why = c["explanation"].as_str().unwrap_or("");
    assert!(why.contains("this host's own IPv6 filter"), "{c:#}");
    assert_eq!(
        c["fixes"].as_array().map(Vec::len),
        Some(0),
        "the firewall check has the fix"
    );
    // IPv4's "fragmentation needed" is not filtered: the kernel learns the path MTU.
    assert_check(&v, "isp.path_mtu_ipv4", None, "pass");
    assert_eq!(verdict_check(&v).as_deref(), Some("firewall.icmpv6"));
}

#[test]
fn http_content_differs_between_families() {
    let mut lab = Lab::new("isp-http-diff");
    lab.start_nginx_raw(&format!(
        "server {{
    listen 80;
    server_name {DOMAIN};
    location / {{ return 200 \"the shop\\n\"; }}
}}
server {{
    listen [::]:80;
    server_name {DOMAIN};
    location / {{ return 404 \"an old placeholder site that nobody updated for IPv6\\n\"; }}
}}
"
    ));
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "problems:\n{}", problems(&v));
    assert_check(&v, "isp.http_parity", Some(80), "fail");
    let c = find_check(&v, "isp.http_parity", Some(80));
    let s = c["summary"].as_str().unwrap_or("");
    assert!(s.contains("404") && s.contains("200"), "{s}");
    let ev = c["evidence"].to_string();
    assert!(
        ev.contains(&format!("IPv4 {SRV_V4}: HTTP 200"))
            && ev.contains(&format!("IPv6 {SRV_V6}: HTTP 404")),
        "{ev}"
    );
    let fixes = c["fixes"].to_string();
    assert!(
        fixes.contains("curl -4") && fixes.contains("curl -6"),
        "{fixes}"
    );
    assert!(fixes.contains(&format!("[{SRV_V6}]")), "{fixes}");
    // The CA validates over IPv6, which answers something else.
    assert_check(&v, "isp.acme_http01", None, "warn");
    // The per-family server blocks are also what listener.config reports, earlier in
    // the tree; either is the right place to start.
    let verdict = verdict_check(&v);
    assert!(
        matches!(
            verdict.as_deref(),
            Some("listener.config") | Some("isp.http_parity")
        ),
        "verdict {verdict:?}; problems:\n{}",
        problems(&v)
    );
}

#[test]
fn acme_trap_aaaa_timeout_with_https_redirect() {
    const HOLE: &str = "2001:db8:99::80";
    let mut lab = Lab::with_zone("isp-acme-trap", DnsZone::new().shop_aaaa(&[HOLE]));
    lab.add_blackhole_v6(HOLE);
    lab.start_nginx_raw(&format!(
        "server {{
    listen 80;
    listen [::]:80;
    server_name {DOMAIN};
    location / {{ return 301 https://$host$request_uri; }}
}}
"
    ));
    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "problems:\n{}", problems(&v));
    assert_check(&v, "isp.acme_http01", None, "fail");
    let c = find_check(&v, "isp.acme_http01", None);
    let s = c["summary"].as_str().unwrap_or("");
    assert!(s.contains("trap") && s.contains("https://"), "{s}");
    assert!(c["evidence"].to_string().contains("timed out"), "{c:#}");
    assert!(!c["fixes"].as_array().expect("fixes").is_empty(), "{c:#}");
    // The AAAA pointing at another (dead) host is the root cause of it all.
    assert_eq!(verdict_check(&v).as_deref(), Some("dns.aaaa_target"));
}

#[test]
fn https_parity_validates_certificates_per_family() {
    let mut lab = Lab::new("isp-https");
    lab.trust_lab_ca();
    let (good, good_key) = lab.lab_cert("shop", &[DOMAIN]);
    let (other, other_key) = lab.lab_cert("other", &["other.lab.example"]);
    lab.start_nginx_raw(&format!(
        "server {{
    listen 80;
    listen [::]:80;
    listen 443 ssl;
    server_name {DOMAIN};
    ssl_certificate {};
    ssl_certificate_key {};
    location / {{ return 200 \"the shop\\n\"; }}
}}
server {{
    listen [::]:443 ssl;
    server_name {DOMAIN};
    ssl_certificate {};
    ssl_certificate_key {};
    location / {{ return 200 \"the shop\\n\"; }}
}}
",
        good.display(),
        good_key.display(),
        other.display(),
        other_key.display()
    ));
    let (_, v) = lab.check_json(&["-p", "80,443"]);
    assert_check(&v, "isp.http_parity", Some(80), "pass");
    assert_check(&v, "isp.http_parity", Some(443), "fail");
    let c = find_check(&v, "isp.http_parity", Some(443));
    let ev = c["evidence"].to_string();
    // IPv4 validates, and the certificate's names and expiry are shown.
    assert!(
        ev.contains(&format!("IPv4 {SRV_V4}: HTTP 200"))
            && ev.contains(&format!("certificate for {DOMAIN} until 20")),
        "{ev}"
    );
    // IPv6 serves a certificate for another name: validation fails over IPv6 only.
    assert!(
        ev.contains(&format!("IPv6 {SRV_V6}: TLS handshake")),
        "{ev}"
    );
    assert!(
        c["fixes"].to_string().contains(&format!(
            "--resolve '{DOMAIN}:443:[{SRV_V6}]' https://{DOMAIN}/"
        )),
        "{c:#}"
    );
}

#[test]
fn endless_and_slow_bodies_do_not_hang_the_run() {
    for (slow, tag) in [(false, "isp-endless"), (true, "isp-slow")] {
        let mut lab = Lab::new(tag);
        lab.start_endless_server(80, slow);
        let t = std::time::Instant::now();
        let (_, v) = lab.check_json(&[]);
        let took = t.elapsed();
        // --timeout 2s: every request ends by then (the echo port probe gets 3 s more,
        // the ACME chain a few timeouts at most).
        assert!(
            took < std::time::Duration::from_secs(20),
            "run took {took:?}"
        );
        let c = find_check(&v, "isp.http_parity", Some(80));
        let ev = c["evidence"].to_string();
        assert!(ev.contains("HTTP 200") && ev.contains("(cut)"), "{c:#}");
        if !slow {
            assert!(ev.contains("1048576 bytes"), "bounded at 1 MiB: {ev}");
        }
    }
}

#[test]
fn lab_runs_never_ask_the_internet() {
    let s = Lab::check_args(&[]).join(" ");
    assert!(
        s.contains(&format!("--echo-url http://{CLI_V4}:{ECHO_PORT}/"))
            && s.contains(&format!("--echo-url http://[{CLI_V6}]:{ECHO_PORT}/"))
            && s.contains(&format!("--egress {CLI_V4}:{ECHO_PORT}"))
            && s.contains(&format!("--egress [{CLI_V6}]:{ECHO_PORT}")),
        "{s}"
    );
    let own = Lab::check_args(&["--echo-url", "http://192.0.2.99/"]).join(" ");
    assert!(!own.contains(&format!(":{ECHO_PORT}/")), "{own}");
}

#[test]
fn smtp_greets_with_another_name_over_ipv6() {
    let mut lab = Lab::new("isp-smtp");
    lab.start_smtp(&[(SRV_V4, 25, DOMAIN), (SRV_V6, 25, "other.lab.example")]);
    let (code, v) = lab.check_json(&["-p", "25"]);
    assert_eq!(code, 2, "problems:\n{}", problems(&v));
    assert_check(&v, "isp.smtp_parity", Some(25), "fail");
    let c = find_check(&v, "isp.smtp_parity", Some(25));
    let s = c["summary"].as_str().unwrap_or("");
    assert!(s.contains("other.lab.example") && s.contains(DOMAIN), "{s}");
    // Paired with reverse DNS: the PTR of each address is shown next to the greeting.
    assert!(
        c["evidence"].to_string().contains(&format!("PTR {SRV_V6}")),
        "{c:#}"
    );
    assert_check(&v, "isp.http_parity", Some(25), "skip");
    assert_check(&v, "isp.inbound_ipv6", Some(25), "pass");
}

#[test]
fn subresources_by_ipv4_literal_or_without_aaaa() {
    let zone = DnsZone::new()
        .host("img.lab.example", Some("203.0.113.20"), None)
        .host(
            "cdn.lab.example",
            Some("203.0.113.21"),
            Some("2001:db8:1::21"),
        );
    let mut lab = Lab::with_zone("isp-resources", zone);
    lab.start_nginx_raw(&format!(
        "server {{
    listen 80;
    listen [::]:80;
    server_name {DOMAIN};
    location / {{
        default_type text/html;
        return 200 \"<html><head><script src='http://{RESOLVER_V4}/app.js'></script></head><body><img src='http://img.lab.example/logo.png'><img src=//cdn.lab.example/ok.png><a href='http://{RESOLVER_V4}/not-loaded'>x</a></body></html>\";
    }}
}}
"
    ));
    let (_, v) = lab.check_json(&[]);
    assert_check(&v, "isp.resources", None, "warn");
    let c = find_check(&v, "isp.resources", None);
    let s = c["summary"].as_str().unwrap_or("");
    assert!(s.starts_with("2 subresource"), "{s}");
    let ev = c["evidence"].to_string();
    assert!(ev.contains(&format!("http://{RESOLVER_V4}/app.js")), "{ev}");
    assert!(
        ev.contains("img.lab.example") && ev.contains("without AAAA"),
        "{ev}"
    );
    assert!(
        ev.contains("cdn.lab.example") && ev.contains("A and AAAA"),
        "{ev}"
    );
    assert!(
        !ev.contains("not-loaded"),
        "links are not subresources: {ev}"
    );
}

#[test]
fn home_nat_forward_without_hairpin_is_no_failure() {
    let mut lab = Lab::with_zone("isp-nat-nohairpin", DnsZone::new().shop_a(&[NAT_PUBLIC_V4]));
    lab.put_behind_nat(Nat::Home);
    lab.forward_port_with(Nat::Home, 80, false);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let (code, v) = lab.check_json(&[]);
    // Visitors get through; only the self-check cannot reach the public address.
    assert_check(&v, "isp.inbound_ipv4", Some(80), "pass");
    assert_check(&v, "isp.http_parity", Some(80), "warn");
    assert!(
        text_of(&v, "isp.http_parity", Some(80)).contains("loopback"),
        "{}",
        text_of(&v, "isp.http_parity", Some(80))
    );
    assert_ne!(verdict_status(&v), "fail", "problems:\n{}", problems(&v));
    assert_eq!(code, 1, "problems:\n{}", problems(&v));
}
