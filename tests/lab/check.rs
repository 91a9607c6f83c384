//! `dsdoctor check` on hosts broken the ways issue 2 describes: DNS records, addresses,
//! listeners, routes, an unprivileged run, `--expect`. The rows are
//! `tables/check.toml`; below are the tests that are not one lab, one breakage, one run.

use crate::harness::*;

scenario_tests!("check.toml":
    healthy_host,
    aaaa_pointing_elsewhere,
    a_record_missing,
    a_pointing_elsewhere,
    ipv6_disabled_at_runtime_is_the_root_cause,
    ipv6_disabled_on_the_site_interface_only,
    ipv6_disabled_in_sysctl_file_only,
    link_local_only,
    dadfailed_address,
    nginx_listens_ipv4_only,
    v6only_listener_on_custom_port,
    nginx_listens_ipv6_only,
    no_ipv6_default_route,
    unreachable_ipv6_gateway,
    unprivileged_run_reports_errors_not_failures,
    expect_ipv4_without_aaaa_passes,
    resolver_differs_from_authoritative,
    apache_dual_stack,
    apache_listens_ipv4_only,
    apache_ip_based_vhost,
    haproxy_dual_stack,
    haproxy_listens_ipv4_only,
    haproxy_listens_ipv6_only,
    caddy_dual_stack,
    caddy_listens_ipv4_only,
    caddy_listens_ipv6_only,
    netplan_address_added_by_hand,
    netplan_gateway_fe80_1_added_by_hand,
    netplan_declared_but_missing,
    ifupdown_declared,
    ifupdown_address_added_by_hand,
    ifupdown_keep_addr_on_down_off,
    ifupdown_declared_but_missing,
    networkd_declared,
    networkd_route_added_by_hand,
    networkd_declared_but_missing,
    networkmanager_declared,
    networkmanager_address_added_by_hand,
    networkmanager_declared_but_missing,
    networkmanager_connection_unreadable_without_root,
    cloud_init_declared,
    cloud_init_address_added_by_hand,
    cloud_init_declared_but_missing,
    no_boot_configuration_found,
    ipv6_only_proxy_to_ipv6_backend,
    ipv6_only_proxy_to_ipv4_literal,
    ipv6_readiness_clean,
    ipv6_readiness_report,
    outbound_ipv4_connection_listed,
    ipv6_only_hosts_entry_ipv4_only,
    ipv6_only_dns64_without_translator,
    ipv6_only_nat64_narrow_translator,
    ipv6_only_nat64_mtu_blackhole,
    ipv6_only_pref64_matches_dns64,
    ipv6_only_pref64_differs_from_dns64,
    ipv6_only_haproxy_server_ipv4_literal,
    ipv6_only_apache_proxypass_ipv4_literal,
);

/// Two servers on one machine (containers, or two labs): listener.config must read the
/// nginx that owns this namespace's port-80 sockets, not another namespace's nginx. The
/// other lab's IPv4-only nginx starts first (lower pid).
#[test]
fn listener_config_reads_this_namespaces_nginx() {
    let mut other = Lab::new("other-server");
    other.start_nginx(NGINX_LISTEN_V4_ONLY);
    let mut lab = Lab::new("this-server");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let r = lab.check(&[]);
    let site = lab.nginx_site_path().display().to_string();
    let text = r.part(CheckId::ListenerConfig, None, Part::Text);
    assert!(
        text.contains(&site) && !text.contains(&other.dir().display().to_string()),
        "listener.config :80 does not read this namespace's nginx ({site}):\n{}",
        r.dump(CheckId::ListenerConfig, None)
    );
    r.assert_status(CheckId::ListenerConfig, None, Status::Pass);
    r.assert_exit(0);
}

/// HAProxy in front of Apache: HAProxy owns port 80 and is the one judged; Apache's own
/// `Listen 127.0.0.1:8080`, IPv4 only but not on the site's port, is no alarm.
#[test]
fn haproxy_in_front_of_apache_is_judged_by_the_owner() {
    let mut lab = Lab::new("haproxy-apache");
    lab.start_apache(
        "Listen 127.0.0.1:8080",
        &APACHE_SITE.replace("*:80", "*:8080"),
    );
    lab.start_haproxy_to("bind :::80 v4v6", "127.0.0.1:8080");
    let body = lab.http_get(Ns::Cli, SRV_V6, 80);
    assert!(
        body.as_ref()
            .is_ok_and(|b| b.contains(SERVERS_BODY.trim_end())),
        "HAProxy does not pass IPv6 clients on to Apache: {body:?}"
    );
    let r = lab.check(&[]);
    // listener.config judges HAProxy, the owner.
    r.assert_finding(
        CheckId::ListenerConfig,
        None,
        Status::Pass,
        &["HAProxy frontend shop", "both families"],
    );
    r.assert_exit(0);
}

#[test]
fn bad_input_exits_3_and_unknown_domain_is_a_clean_fail() {
    let mut lab = Lab::new("bad-input");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let with_domain = |domain: &str| -> Vec<String> {
        Lab::check_args(&[])
            .into_iter()
            .map(|a| if a == DOMAIN { domain.to_string() } else { a })
            .collect()
    };

    for args in [with_domain("bad..name"), Lab::check_args(&["-p", "80,x"])] {
        let (code, out, err) = lab.run_dsdoctor(&args);
        assert_eq!(
            code, 3,
            "{args:?}: exit {code}\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(out.is_empty(), "{args:?}: stdout not empty:\n{out}");
        // cargo's form: what went wrong, then what to do.
        let lines: Vec<&str> = err.trim_end_matches('\n').lines().collect();
        assert!(
            lines.len() == 2 && lines[0].starts_with("error: ") && lines[1].starts_with("help: "),
            "{args:?}: stderr is not an error line and a help line:\n{err}"
        );
        assert!(!err.trim().is_empty(), "{args:?}: empty error");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }

    let args = with_domain("nope.lab.example");
    let (code, out, err) = lab.run_dsdoctor(&args);
    let r = CheckRun::parse("nope.lab.example", code, out, err);
    lab.assert_fixes_concrete(&r);
    r.assert_exit(2);
    assert_eq!(r.report.target.domain, "nope.lab.example");
    r.assert_status(CheckId::DnsA, None, Status::Fail);
    r.assert_verdict(Some(CheckId::DnsA));
    validate_report(&r);
}
