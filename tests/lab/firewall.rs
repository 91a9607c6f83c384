//! The firewall stage: packet-filter rules in the server namespace, their effect checked
//! from the client, the failing check, the deciding rule and its fix. The rows are
//! `tables/firewall.toml` (the unprivileged run is a row of `tables/check.toml`).

scenario_tests!("firewall.toml":
    strict_but_correct_ruleset_passes,
    ip6tables_drop_on_80,
    ip6tables_legacy_reject,
    nft_inet_table_dropping_ipv6_only,
    nft_ip_table_with_policy_drop,
    ipv6_policy_drop_without_icmpv6_breaks_the_site,
    service_open_over_ipv6_but_shut_over_ipv4,
    without_nft_the_legacy_tables_are_still_read,
    fail2ban_ban_set_passes,
    geo_set_blocking_a_continent_warns,
    range_form_of_everyone_passes,
    office_set_only_fails_naming_it,
    ipset_ban_list_passes,
    ipset_allow_list_only_fails,
);
