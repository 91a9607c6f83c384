//! Lab scenarios for the firewall stage: each test builds its own namespace lab, loads
//! packet-filter rules into the server namespace only, checks that the rules really have
//! the effect (a TCP connect from the client namespace), runs `dsdoctor check` and asserts
//! the failing check and port, the deciding rule in the evidence, and that the stages
//! unrelated to the fault are clean.
//!
//! These tests need root; they fail (never skip) when the lab cannot be built.

mod common;

use common::firewall::*;
use common::*;
use serde_json::Value;

fn assert_text(v: &Value, id: &str, port: Option<u16>, needles: &[&str]) {
    let all = find_check(v, id, port).to_string();
    for n in needles {
        assert!(
            all.contains(n),
            "{id} lacks {n:?}:\n{}",
            check_dump(v, id, port)
        );
    }
}

/// The stages before the firewall are clean (the filter under test never touches them).
fn assert_earlier_stages_pass(v: &Value) {
    for s in ["dns", "address", "listener"] {
        assert_eq!(
            stage_status(v, s),
            "pass",
            "stage {s}; problems:\n{}",
            problems(v)
        );
    }
}

fn assert_verdict(v: &Value, check: &str) {
    assert_eq!(
        verdict_check(v).as_deref(),
        Some(check),
        "problems:\n{}",
        problems(v)
    );
    assert_eq!(verdict_stage(v).as_deref(), Some("firewall"));
}

#[test]
fn ip6tables_drop_on_80() {
    let mut lab = Lab::new("fw-drop6");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    ipt(
        &lab,
        "ip6tables",
        &["-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "DROP"],
    );
    assert!(lab.tcp_connects(Ns::Cli, SRV_V4, 80));
    assert!(
        !lab.tcp_connects(Ns::Cli, SRV_V6, 80),
        "the rule has no effect"
    );

    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "{}", problems(&v));
    assert_check(&v, "firewall.ipv6", Some(80), "fail");
    assert_text(
        &v,
        "firewall.ipv6",
        Some(80),
        &[
            "drops",
            "port 80",
            "--dport 80 -j DROP",
            "ip6tables -t filter -I INPUT -p tcp --dport 80 -j ACCEPT",
            "ip6tables-save > /etc/iptables/rules.v6",
        ],
    );
    assert_check(&v, "firewall.ipv4", Some(80), "pass");
    assert_check(&v, "firewall.icmpv6", None, "pass");
    assert_check(&v, "firewall.exposure", None, "pass");
    assert_verdict(&v, "firewall.ipv6");
    assert_earlier_stages_pass(&v);
    assert_eq!(stage_status(&v, "route"), "pass", "{}", problems(&v));
}

#[test]
fn ip6tables_legacy_reject() {
    let mut lab = Lab::new("fw-reject6");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    ipt(
        &lab,
        "ip6tables-legacy",
        &["-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "REJECT"],
    );
    // A rule in nftables too: legacy and nft both apply.
    nft_apply(
        &lab,
        "table ip6 other {\n chain i {\n  type filter hook input priority 10;\n  tcp dport 8443 drop\n }\n}\n",
    );
    let err = lab
        .http_get(Ns::Cli, SRV_V6, 80)
        .expect_err("the reject has no effect");
    assert!(err.contains("Refused") || err.contains("refused"), "{err}");

    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "{}", problems(&v));
    assert_check(&v, "firewall.ipv6", Some(80), "fail");
    assert_text(
        &v,
        "firewall.ipv6",
        Some(80),
        &[
            "rejects",
            "ip6tables-legacy -t filter INPUT",
            "-j REJECT",
            "both iptables-legacy and nftables",
            "ip6tables-legacy-save",
        ],
    );
    assert_check(&v, "firewall.ipv4", Some(80), "pass");
    assert_check(&v, "firewall.icmpv6", None, "pass");
    assert_verdict(&v, "firewall.ipv6");
    assert_earlier_stages_pass(&v);
}

#[test]
fn nft_inet_table_dropping_ipv6_only() {
    let mut lab = Lab::new("fw-inet6");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    nft_apply(
        &lab,
        "table inet web {\n chain input {\n  type filter hook input priority 0; policy accept;\n  meta nfproto ipv6 tcp dport { 80, 443 } counter drop\n }\n}\n",
    );
    assert!(lab.tcp_connects(Ns::Cli, SRV_V4, 80));
    assert!(!lab.tcp_connects(Ns::Cli, SRV_V6, 80));

    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "{}", problems(&v));
    assert_check(&v, "firewall.ipv6", Some(80), "fail");
    assert_check(&v, "firewall.ipv4", Some(80), "pass");
    assert_text(
        &v,
        "firewall.ipv6",
        Some(80),
        &[
            "nft inet web chain input handle",
            "drop",
            "nft insert rule inet web input",
        ],
    );
    assert_check(&v, "firewall.icmpv6", None, "pass");
    assert_verdict(&v, "firewall.ipv6");
    assert_eq!(stage_status(&v, "dns"), "pass", "{}", problems(&v));
    assert_eq!(stage_status(&v, "address"), "pass", "{}", problems(&v));
}

#[test]
fn nft_ip_table_with_policy_drop() {
    let mut lab = Lab::new("fw-ip-policy");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    nft_apply(
        &lab,
        "table ip guard {\n chain input {\n  type filter hook input priority 0; policy drop;\n  ct state established,related accept\n  iif lo accept\n  tcp dport 22 accept\n }\n}\n",
    );
    assert!(!lab.tcp_connects(Ns::Cli, SRV_V4, 80));
    assert!(lab.tcp_connects(Ns::Cli, SRV_V6, 80));

    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "{}", problems(&v));
    assert_check(&v, "firewall.ipv4", Some(80), "fail");
    assert_text(
        &v,
        "firewall.ipv4",
        Some(80),
        &[
            "nft ip guard chain input: policy drop",
            "IPv6 clients get through",
        ],
    );
    assert_check(&v, "firewall.ipv6", Some(80), "pass");
    assert_check(&v, "firewall.icmpv6", None, "pass");
    assert_verdict(&v, "firewall.ipv4");
    assert_earlier_stages_pass(&v);
    assert_eq!(stage_status(&v, "route"), "pass", "{}", problems(&v));
}

#[test]
fn ipv6_policy_drop_without_icmpv6_breaks_the_site() {
    let mut lab = Lab::new("fw-noicmp6");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    assert!(
        lab.tcp_connects(Ns::Cli, SRV_V6, 80),
        "lab broken before the rules"
    );
    nft_apply(
        &lab,
        "table ip6 strict {\n chain input {\n  type filter hook input priority 0; policy drop;\n  ct state established,related accept\n  iif lo accept\n  tcp dport 80 accept\n }\n}\n",
    );
    flush_v6_neighbours(&lab);
    // With the caches flushed, the router can no longer resolve srv's address: the port
    // is open, yet the site is unreachable over IPv6.
    assert!(
        !lab.tcp_connects(Ns::Cli, SRV_V6, 80),
        "IPv6 still works without neighbour discovery:\n{}",
        ruleset(&lab)
    );
    assert!(lab.tcp_connects(Ns::Cli, SRV_V4, 80));

    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "{}", problems(&v));
    assert_check(&v, "firewall.icmpv6", None, "fail");
    assert_text(
        &v,
        "firewall.icmpv6",
        None,
        &[
            "neighbour solicitation (135)",
            "neighbour caches expire",
            "nft ip6 strict chain input: policy drop",
            "nd-neighbor-solicit",
        ],
    );
    assert_check(&v, "firewall.ipv6", Some(80), "pass");
    assert_check(&v, "firewall.ipv4", Some(80), "pass");
    assert_verdict(&v, "firewall.icmpv6");
    for s in ["address", "listener"] {
        assert_eq!(
            stage_status(&v, s),
            "pass",
            "stage {s}; problems:\n{}",
            problems(&v)
        );
    }
    // DNS over IPv6 cannot work either: it names the cause instead of failing.
    assert_ne!(stage_status(&v, "dns"), "fail", "{}", problems(&v));
}

#[test]
fn service_open_over_ipv6_but_shut_over_ipv4() {
    let mut lab = Lab::new("fw-exposure");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    // A "database" on [::]:5432 that also takes IPv4 (v6only off).
    lab.start_listener("::", 5432, Some(false), "db\n");
    ipt(
        &lab,
        "iptables",
        &["-A", "INPUT", "-p", "tcp", "--dport", "5432", "-j", "DROP"],
    );
    assert!(!lab.tcp_connects(Ns::Cli, SRV_V4, 5432));
    assert!(
        lab.tcp_connects(Ns::Cli, SRV_V6, 5432),
        "the hole is not there"
    );

    let (code, v) = lab.check_json(&[]);
    assert_eq!(code, 2, "{}", problems(&v));
    assert_check(&v, "firewall.exposure", None, "fail");
    assert_text(
        &v,
        "firewall.exposure",
        None,
        &[
            "port 5432",
            "python3",
            "open over IPv6 while the IPv4 rules shut it",
            "ip6tables -I INPUT -p tcp --dport 5432 -j DROP",
        ],
    );
    assert_check(&v, "firewall.ipv4", Some(80), "pass");
    assert_check(&v, "firewall.ipv6", Some(80), "pass");
    assert_verdict(&v, "firewall.exposure");
    assert_earlier_stages_pass(&v);
}

#[test]
fn strict_but_correct_ruleset_passes() {
    let mut lab = Lab::new("fw-strict");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    nft_apply(&lab, STRICT_NFT);
    flush_v6_neighbours(&lab);
    assert!(lab.tcp_connects(Ns::Cli, SRV_V6, 80), "{}", ruleset(&lab));
    assert!(lab.tcp_connects(Ns::Cli, SRV_V4, 80));
    // A port the ruleset closes for both families is no exposure.
    lab.start_listener("::", 5432, Some(false), "db\n");

    let (code, v) = lab.check_json(&[]);
    for (id, port) in [
        ("firewall.ipv4", Some(80)),
        ("firewall.ipv6", Some(80)),
        ("firewall.icmpv6", None),
        ("firewall.exposure", None),
    ] {
        assert_check(&v, id, port, "pass");
    }
    assert_text(
        &v,
        "firewall.ipv6",
        Some(80),
        &[
            "accepted by nft inet strict chain input handle",
            "tcp dport { 22, 80 }",
        ],
    );
    assert_earlier_stages_pass(&v);
    assert_eq!(stage_status(&v, "firewall"), "pass");
    assert_eq!(stage_status(&v, "route"), "pass", "{}", problems(&v));
    assert_eq!(code, 0, "{}", problems(&v));
}

#[test]
fn unprivileged_run_says_root_is_needed() {
    let mut lab = Lab::new("fw-nobody");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    nft_apply(&lab, STRICT_NFT);
    let (_code, v) = lab.check_json_as(RunAs::Nobody, &[]);
    for (id, port) in [
        ("firewall.ipv4", Some(80)),
        ("firewall.ipv6", Some(80)),
        ("firewall.icmpv6", None),
        ("firewall.exposure", None),
    ] {
        assert_check(&v, id, port, "error");
        assert_text(&v, id, port, &["root"]);
    }
}

#[test]
fn without_nft_the_legacy_tables_are_still_read() {
    let mut lab = Lab::new("fw-no-nft");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    ipt(
        &lab,
        "ip6tables-legacy",
        &["-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "DROP"],
    );
    // Hide the nft tool from dsdoctor only: a private mount namespace inside srv.
    let bin = env!("CARGO_BIN_EXE_dsdoctor");
    let args = Lab::check_args(&[]).join(" ");
    let script = format!(
        "mount --bind /dev/null \"$(command -v nft || echo /usr/sbin/nft)\" && exec {bin} {args}"
    );
    let out = lab.exec(
        Ns::Srv,
        &[
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_check(&v, "firewall.ipv6", Some(80), "fail");
    assert_text(
        &v,
        "firewall.ipv6",
        Some(80),
        &["ip6tables-legacy", "the nft tool is not installed"],
    );
    assert_check(&v, "firewall.ipv4", Some(80), "pass");
}
