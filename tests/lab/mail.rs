//! Outgoing mail: the rows of `tables/mail.toml`, with a real Postfix in srv and the
//! lab's receiving server in cli (harness/servers.rs, harness/isp.rs).

scenario_tests!("mail.toml":
    no_mta_and_no_mail_port_skips_the_mail_checks,
    postfix_sending_from_addresses_with_ptr_passes,
    mail_leaves_from_the_ipv6_address_without_ptr,
    postfix_bound_to_the_address_with_ptr_passes,
    spf_without_ip6_fails_ipv6,
    spf_include_chain_admits_both,
    spf_include_loop_is_a_permanent_error,
    port_25_blocked_over_ipv6_upstream,
    blocklist_lists_the_servers_64,
    postfix_behind_home_nat_passes,
    spf_lists_the_private_address_behind_nat,
);
