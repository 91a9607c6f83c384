//! The firewall stage: packet-filter rules in the server namespace, their effect checked
//! from the client, the failing check, the deciding rule and its fix. The rows are
//! `tables/firewall.toml` (the unprivileged run is a row of `tables/check.toml`).

use crate::harness::*;
use dualstack_doctor::{CheckId, Status};

scenario_tests!("firewall.toml":
    strict_but_correct_ruleset_passes,
    ip6tables_drop_on_80,
    ip6tables_legacy_reject,
    nft_inet_table_dropping_ipv6_only,
    nft_ip_table_with_policy_drop,
    ipv6_policy_drop_without_icmpv6_breaks_the_site,
    ipv6_output_default_deny_without_icmpv6_breaks_the_site,
    strict_rp_filter_with_a_second_uplink_fails_ipv4,
    loose_rp_filter_with_a_second_uplink_passes,
    service_open_over_ipv6_but_shut_over_ipv4,
    without_nft_the_legacy_tables_are_still_read,
    fail2ban_ban_set_passes,
    geo_set_blocking_a_continent_warns,
    range_form_of_everyone_passes,
    office_set_only_fails_naming_it,
    ipset_ban_list_passes,
    ipset_allow_list_only_fails,
    allow_list_holding_the_echo_service_is_said,
    nomatch_hole_holding_the_echo_service_is_said,
    redirect_to_a_backend_port_passes,
    redirect_in_prerouting_only_passes,
    redirect_for_ipv4_only_fails_ipv6,
);

/// The admin's own SSH client (`SSH_CONNECTION`, as sshd sets it for the session) on
/// screen: with fail2ban having banned the client for port 22, every IPv4 port's
/// finding says "LOCKED OUT" while the site itself stays open; before the ban (the
/// healthy twin) it does not. dsdoctor is started with the variable by a shell in srv.
#[test]
fn ssh_client_banned_for_its_own_port_is_on_screen() {
    let mut lab = Lab::new("sshlock");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    lab.nft(Ns::Srv, STRICT_NFT);
    lab.nft(
        Ns::Srv,
        "table inet f2b-table {
  set addr-set-sshd {
    type ipv4_addr
  }
  chain f2b-chain {
    type filter hook input priority -1; policy accept;
    tcp dport 22 ip saddr @addr-set-sshd reject
  }
}
",
    );
    let session = format!("export SSH_CONNECTION='{CLI_V4} 50312 {SRV_V4} 22'");
    let run = |lab: &Lab| {
        let args = Lab::check_args(&[]);
        let (code, out, err) = lab.run_dsdoctor_in_mount_ns(&session, &args);
        CheckRun::parse(&format!("{args:?}"), code, out, err)
    };
    let before = run(&lab);
    let fd = before.finding(CheckId::FirewallIpv4, Some(80));
    assert_eq!(fd.status, Status::Pass, "{fd:#?}");
    assert!(
        !fd.evidence.iter().any(|l| l.contains("LOCKED OUT")),
        "{fd:#?}"
    );

    lab.exec_ok(
        Ns::Srv,
        &[
            "nft",
            "add",
            "element",
            "inet",
            "f2b-table",
            "addr-set-sshd",
            &format!("{{ {CLI_V4} }}"),
        ],
    );
    assert!(
        lab.tcp_connects(Ns::Cli, SRV_V4, 80),
        "the site stays open to the client"
    );
    let after = run(&lab);
    let fd = after.finding(CheckId::FirewallIpv4, Some(80));
    assert_eq!(fd.status, Status::Pass, "{fd:#?}");
    let want = format!(
        "LOCKED OUT: a new SSH connection from your client {CLI_V4} (SSH_CONNECTION) to {SRV_V4}:22 over IPv4 would be rejected by nft inet f2b-table chain f2b-chain"
    );
    assert!(
        fd.evidence.iter().any(|l| l.contains(&want)),
        "{want:?} not in {:#?}",
        fd.evidence
    );
}
