//! The isp stage: what the internet sees. The rows are `tables/isp.toml`; the echo
//! service runs on the lab's internet side (`cli`, harness/isp.rs).

use crate::harness::*;

scenario_tests!("isp.toml":
    healthy_on_every_port,
    carrier_grade_nat_without_port_forwarding,
    home_nat_with_port_forward_passes,
    home_nat_without_port_forward,
    home_nat_forward_without_hairpin_is_no_failure,
    ipv6_egress_blocked_upstream,
    narrow_uplink_with_working_path_mtu_discovery_passes,
    packet_too_big_lost_upstream_is_a_path_mtu_blackhole,
    packet_too_big_lost_upstream_over_ipv6_only,
    packet_too_big_dropped_by_the_hosts_filter_is_the_firewalls_fault,
    http_content_differs_between_families,
    acme_trap_aaaa_timeout_with_https_redirect,
    https_parity_validates_certificates_per_family,
    http2_on_the_ipv4_listener_only,
    http2_on_both_listeners_passes,
    endless_body_does_not_hang_the_run,
    slow_body_does_not_hang_the_run,
    smtp_greets_with_another_name_over_ipv6,
    subresources_by_ipv4_literal_or_without_aaaa,
    subresources_in_a_linked_stylesheet_and_srcset,
    redirect_to_www_without_aaaa_strands_ipv6,
    redirect_to_www_with_aaaa_passes,
    redirect_to_www_through_the_named_resolver_passes,
    redirect_to_ipv4_literal_strands_ipv6,
    redirect_to_https_on_both_families_passes,
    dynamic_page_over_both_families_passes,
    another_page_with_the_same_status_over_ipv6,
);

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
