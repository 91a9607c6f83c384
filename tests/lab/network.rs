//! Tests of the network-namespace lab itself (no dsdoctor involved): the healthy lab's DNS
//! answers from srv, the zone builder changes what is served, nginx and the listener helper
//! are reachable from the client namespace, and teardown leaves nothing behind.
//!
//! These tests need root; they fail (never skip) when the lab cannot be built.

use crate::harness::*;
use crate::table::{PLACEHOLDERS, expand, unknown_placeholder};
use std::path::Path;

/// `dig +norec @server name type` from srv: (flags line, answer records).
fn ask_directly(lab: &Lab, server: &str, name: &str, qtype: &str) -> (String, Vec<String>) {
    let at = format!("@{server}");
    let lines = lab.dig(Ns::Srv, &["+norec", &at, name, qtype]);
    let flags = lines
        .iter()
        .find(|l| l.starts_with(";; flags:"))
        .cloned()
        .unwrap_or_else(|| panic!("no flags line from {server}: {lines:#?}"));
    let status = lines
        .iter()
        .find(|l| l.contains("status:"))
        .cloned()
        .unwrap_or_default();
    assert!(
        status.contains("status: NOERROR"),
        "{server} {name} {qtype}: {status}\n{lines:#?}"
    );
    let mut in_answer = false;
    let mut answers = Vec::new();
    for l in &lines {
        if l.starts_with(";; ANSWER SECTION") {
            in_answer = true;
        } else if l.starts_with(";;") {
            in_answer = false;
        } else if in_answer && !l.starts_with(';') {
            answers.push(l.split_whitespace().last().unwrap_or("").to_string());
        }
    }
    answers.sort();
    (flags, answers)
}

#[test]
fn healthy_lab_resolves_everything_from_srv() {
    let lab = Lab::new("dns");
    let resolv = lab.exec_ok(Ns::Srv, &["cat", "/etc/resolv.conf"]);
    assert_eq!(resolv.trim(), "nameserver 192.0.2.53");

    // Through the system resolver (srv's resolv.conf).
    assert_eq!(lab.dig_short(Ns::Srv, &[DOMAIN, "A"]), ["203.0.113.10"]);
    assert_eq!(
        lab.dig_short(Ns::Srv, &[DOMAIN, "AAAA"]),
        ["2001:db8:1::10"]
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &[ZONE, "NS"]),
        ["ns1.lab.example.", "ns2.lab.example."]
    );
    let soa = lab.dig_short(Ns::Srv, &[ZONE, "SOA"]);
    assert_eq!(soa.len(), 1, "{soa:?}");
    assert!(
        soa[0].starts_with("ns1.lab.example. hostmaster.lab.example. 2026112301 "),
        "{soa:?}"
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &["-x", SRV_V4]),
        ["shop.lab.example."]
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &["-x", SRV_V6]),
        ["shop.lab.example."]
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &["ipv4only.arpa", "A"]),
        ["192.0.0.170", "192.0.0.171"]
    );
    assert!(
        lab.dig_short(Ns::Srv, &["ipv4only.arpa", "AAAA"])
            .is_empty()
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &["ns1.lab.example", "AAAA"]),
        ["2001:db8:53::54"]
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &["ns2.lab.example", "A"]),
        ["192.0.2.55"]
    );
    // The resolver over IPv6 too.
    assert_eq!(
        lab.dig_short(Ns::Srv, &["@2001:db8:53::53", DOMAIN, "AAAA"]),
        ["2001:db8:1::10"]
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &["@2001:db8:53::53", "-x", SRV_V4]),
        ["shop.lab.example."]
    );
    // ipv4only.arpa AAAA is an empty NOERROR answer, not a refusal.
    let full = lab.dig(Ns::Srv, &["ipv4only.arpa", "AAAA"]).join("\n");
    assert!(full.contains("status: NOERROR"), "{full}");
}

#[test]
fn authoritative_server_answers_directly_over_both_families() {
    let lab = Lab::new("auth");
    for server in [NS1_V4, NS1_V6, NS2_V4, NS2_V6] {
        let (flags, a) = ask_directly(&lab, server, DOMAIN, "A");
        assert!(
            flags.contains(" aa"),
            "{server}: not authoritative: {flags}"
        );
        assert_eq!(a, ["203.0.113.10"], "{server}");
        let (_, aaaa) = ask_directly(&lab, server, DOMAIN, "AAAA");
        assert_eq!(aaaa, ["2001:db8:1::10"], "{server}");
        let (flags, ns) = ask_directly(&lab, server, ZONE, "NS");
        assert!(flags.contains(" aa"), "{server}: {flags}");
        assert_eq!(ns, ["ns1.lab.example.", "ns2.lab.example."], "{server}");
        let (_, ptr) = ask_directly(&lab, server, "10.113.0.203.in-addr.arpa", "PTR");
        assert_eq!(ptr, ["shop.lab.example."], "{server}");
    }
    // Seen from the client too (the internet's view).
    let out = lab.exec_ok(
        Ns::Cli,
        &[
            "dig",
            "+short",
            "+norec",
            "+time=1",
            "@2001:db8:53::55",
            DOMAIN,
            "A",
        ],
    );
    assert_eq!(out.trim(), "203.0.113.10");
}

#[test]
fn zone_builder_changes_what_is_served() {
    let zone = DnsZone::new()
        .shop_aaaa(&["2001:db8:1::99"])
        .mx(ZONE, "mail.lab.example", 10)
        .host("mail.lab.example", Some("203.0.113.25"), None)
        .no_ptr(SRV_V4)
        .txt(ZONE, "v=spf1 -all")
        .nameservers_without_aaaa()
        .auth_over_ipv6(false);
    let mut lab = Lab::with_zone("zone", zone);
    assert_eq!(
        lab.dig_short(Ns::Srv, &[DOMAIN, "AAAA"]),
        ["2001:db8:1::99"]
    );
    assert_eq!(lab.dig_short(Ns::Srv, &[DOMAIN, "A"]), ["203.0.113.10"]);
    assert_eq!(
        lab.dig_short(Ns::Srv, &[ZONE, "MX"]),
        ["10 mail.lab.example."]
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &["mail.lab.example", "A"]),
        ["203.0.113.25"]
    );
    assert_eq!(lab.dig_short(Ns::Srv, &[ZONE, "TXT"]), ["\"v=spf1 -all\""]);
    assert!(
        lab.dig_short(Ns::Srv, &["ns1.lab.example", "AAAA"])
            .is_empty()
    );
    // no_ptr: NXDOMAIN in a served reverse zone; the moved AAAA has its own PTR.
    let rev = lab.dig(Ns::Srv, &["-x", SRV_V4]).join("\n");
    assert!(rev.contains("status: NXDOMAIN"), "{rev}");
    assert_eq!(
        lab.dig_short(Ns::Srv, &["-x", "2001:db8:1::99"]),
        ["shop.lab.example."]
    );
    // The authoritative server no longer answers over IPv6.
    let out = lab.exec(
        Ns::Srv,
        &[
            "dig",
            "+norec",
            "+time=1",
            "+tries=1",
            "@2001:db8:53::54",
            DOMAIN,
            "A",
        ],
    );
    assert!(
        !out.status.success(),
        "ns1 answered over IPv6: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    // set_zone swaps the data: no AAAA at all, an address outside the reverse subnets.
    lab.set_zone(DnsZone::new().no_shop_aaaa().shop_a(&["198.18.0.7"]));
    assert!(lab.dig_short(Ns::Srv, &[DOMAIN, "AAAA"]).is_empty());
    assert_eq!(lab.dig_short(Ns::Srv, &[DOMAIN, "A"]), ["198.18.0.7"]);
    let (flags, a) = ask_directly(&lab, NS2_V6, DOMAIN, "A");
    assert!(flags.contains(" aa"), "{flags}");
    assert_eq!(a, ["198.18.0.7"]);
}

#[test]
fn resolver_can_differ_from_the_authoritative_data_and_do_dns64() {
    let zone = DnsZone::new()
        .no_shop_aaaa()
        .dns64()
        .resolver_address("www.lab.example", "2001:db8:1::77");
    let lab = Lab::with_zone("dns64", zone);
    assert_eq!(
        lab.dig_short(Ns::Srv, &["ipv4only.arpa", "AAAA"]),
        ["64:ff9b::c000:aa", "64:ff9b::c000:ab"]
    );
    assert_eq!(
        lab.dig_short(Ns::Srv, &["ipv4only.arpa", "A"]),
        ["192.0.0.170", "192.0.0.171"]
    );
    // The resolver synthesises shop's AAAA; the authoritative server has none.
    assert_eq!(
        lab.dig_short(Ns::Srv, &[DOMAIN, "AAAA"]),
        ["64:ff9b::cb00:710a"]
    );
    let (_, auth_aaaa) = ask_directly(&lab, NS1_V4, DOMAIN, "AAAA");
    assert!(auth_aaaa.is_empty(), "{auth_aaaa:?}");
    assert_eq!(lab.dig_short(Ns::Srv, &[DOMAIN, "A"]), ["203.0.113.10"]);
    // A resolver-only record.
    assert_eq!(
        lab.dig_short(Ns::Srv, &["www.lab.example", "AAAA"]),
        ["2001:db8:1::77"]
    );
}

#[test]
fn resolver_override_of_shop_differs_from_authoritative() {
    let zone = DnsZone::new().resolver_address(DOMAIN, "2001:db8:1::99");
    let lab = Lab::with_zone("override", zone);
    assert_eq!(
        lab.dig_short(Ns::Srv, &[DOMAIN, "AAAA"]),
        ["2001:db8:1::99"]
    );
    assert_eq!(lab.dig_short(Ns::Srv, &[DOMAIN, "A"]), ["203.0.113.10"]);
    let (_, auth) = ask_directly(&lab, NS1_V6, DOMAIN, "AAAA");
    assert_eq!(auth, ["2001:db8:1::10"]);
}

#[test]
fn nginx_in_srv_answers_from_cli_over_both_families_and_reloads() {
    let mut lab = Lab::new("nginx");
    let master = lab.start_nginx(NGINX_LISTEN_DUAL);
    for addr in [SRV_V4, SRV_V6] {
        let page = lab
            .http_get(Ns::Cli, addr, 80)
            .unwrap_or_else(|e| panic!("GET http://{addr}/ from cli: {e}"));
        assert!(page.starts_with("HTTP/1.1 200"), "{addr}: {page}");
        assert!(page.ends_with(NGINX_BODY), "{addr}: {page}");
    }
    // The master's command line names the configuration file.
    let cmdline = std::fs::read_to_string(format!("/proc/{master}/cmdline")).unwrap();
    assert!(
        cmdline.contains(&lab.nginx_conf_path().display().to_string()),
        "{cmdline:?}"
    );
    let conf = std::fs::read_to_string(lab.nginx_conf_path()).unwrap();
    assert!(
        conf.contains("include ") && conf.contains("sites/*.conf"),
        "{conf}"
    );

    // Reload with IPv4 only: the same master, IPv6 refused.
    lab.reload_nginx(NGINX_LISTEN_V4_ONLY);
    assert_eq!(lab.pid_of("nginx"), Some(master));
    assert!(lab.tcp_connects(Ns::Cli, SRV_V4, 80));
    assert!(!lab.tcp_connects(Ns::Cli, SRV_V6, 80));
    let site = std::fs::read_to_string(lab.nginx_site_path()).unwrap();
    assert!(
        site.contains("listen 80;") && !site.contains("[::]"),
        "{site}"
    );

    // And back.
    lab.reload_nginx(NGINX_LISTEN_DUAL);
    assert!(lab.tcp_connects(Ns::Cli, SRV_V6, 80));
    lab.stop_nginx();
    assert!(!lab.tcp_connects(Ns::Cli, SRV_V4, 80));
}

#[test]
fn listener_helper_sets_v6only_explicitly() {
    let mut lab = Lab::new("listener");
    lab.start_listener("::", 8081, Some(true), "v6only service\n");
    lab.start_listener("::", 8082, Some(false), "dual service\n");
    lab.start_listener(SRV_V4, 8083, None, "v4 service\n");

    // ss prints a v6only [::] socket as "[::]:PORT" and a dual-stack one as "*:PORT".
    let ss = lab.ss_listen(Ns::Srv).join("\n");
    let line = |port: &str| {
        ss.lines()
            .find(|l| l.contains(&format!(":{port} ")))
            .unwrap_or_else(|| panic!("no listener on {port}:\n{ss}"))
            .to_string()
    };
    assert!(line("8081").contains("v6only:1"), "{ss}");
    assert!(line("8082").contains("v6only:0"), "{ss}");
    assert!(line("8082").contains("*:8082"), "{ss}");

    assert!(lab.tcp_connects(Ns::Cli, SRV_V6, 8081));
    assert!(!lab.tcp_connects(Ns::Cli, SRV_V4, 8081));
    assert!(lab.tcp_connects(Ns::Cli, SRV_V6, 8082));
    assert!(lab.tcp_connects(Ns::Cli, SRV_V4, 8082));
    assert!(lab.tcp_connects(Ns::Cli, SRV_V4, 8083));
    assert!(!lab.tcp_connects(Ns::Cli, SRV_V6, 8083));
    let page = lab.http_get(Ns::Cli, SRV_V4, 8082).unwrap();
    assert!(page.starts_with("HTTP/1.0 200 OK"), "{page}");
    assert!(page.ends_with("dual service\n"), "{page}");
}

#[test]
fn srv_sees_its_own_etc_files_and_runs_unprivileged() {
    let mut lab = Lab::new("etc");
    lab.write_srv_etc(
        "sysctl.d/99-lab.conf",
        "net.ipv6.conf.all.disable_ipv6 = 1\n",
    );
    lab.write_srv_etc("sysctl.conf", "# lab sysctl.conf\n");
    let listing = lab.exec_ok(Ns::Srv, &["ls", "/etc/sysctl.d"]);
    assert_eq!(listing.trim(), "99-lab.conf");
    let d = lab.exec_ok(Ns::Srv, &["cat", "/etc/sysctl.d/99-lab.conf"]);
    assert!(d.contains("disable_ipv6 = 1"));
    let c = lab.exec_ok(Ns::Srv, &["cat", "/etc/sysctl.conf"]);
    assert_eq!(c, "# lab sysctl.conf\n");
    // The root namespace's /etc is untouched.
    assert!(!Path::new("/etc/sysctl.d/99-lab.conf").exists());

    let out = lab.exec_as(Ns::Srv, RunAs::Nobody, &["id", "-u"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "65534");
    let out = lab.exec_as(Ns::Srv, RunAs::Nobody, &["cat", "/etc/resolv.conf"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("192.0.2.53"));
    // The binary under test is reachable for the unprivileged user.
    let out = lab.exec_as(Ns::Srv, RunAs::Nobody, &["test", "-x", DSDOCTOR]);
    assert!(out.status.success(), "nobody cannot execute dsdoctor");
}

fn netns_list() -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn teardown_leaves_nothing_behind() {
    let mut lab = Lab::new("teardown");
    let nginx = lab.start_nginx(NGINX_LISTEN_DUAL);
    let workers = children_of(nginx);
    assert!(!workers.is_empty(), "nginx has no workers");
    let listener = lab.start_listener("::", 9000, Some(false), "x\n");
    let dns = [
        lab.pid_of("dns-auth").unwrap(),
        lab.pid_of("dns-resolver").unwrap(),
    ];
    let procs: Vec<ProcessRef> = dns
        .iter()
        .chain([nginx, listener].iter())
        .chain(workers.iter())
        .map(|&pid| ProcessRef::of(pid).expect("the lab's process runs"))
        .collect();
    let names = lab.namespaces();
    let etc = lab.srv_etc_dir();
    let dir = lab.dir().to_path_buf();
    assert!(etc.join("resolv.conf").exists());
    for n in &names {
        assert!(netns_list().contains(n.as_str()));
    }
    drop(lab);

    let list = netns_list();
    for n in &names {
        assert!(
            !list.contains(n.as_str()),
            "namespace {n} left behind:\n{list}"
        );
    }
    assert!(!etc.exists(), "{} left behind", etc.display());
    assert!(!dir.exists(), "{} left behind", dir.display());
    for p in &procs {
        assert!(!p.alive(), "process {} still runs", p.pid);
    }
}

#[test]
fn teardown_happens_when_a_test_panics_half_way() {
    let seen = std::sync::Mutex::new(None);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut lab = Lab::new("panics");
        lab.start_listener(SRV_V4, 8080, None, "x\n");
        *seen.lock().unwrap() = Some((
            lab.namespaces(),
            lab.srv_etc_dir(),
            lab.dir().to_path_buf(),
            ProcessRef::of(lab.pid_of("dns-auth").unwrap()).unwrap(),
        ));
        panic!("deliberate failure half-way through a test");
    }));
    assert!(result.is_err());
    let (names, etc, dir, dns) = seen.lock().unwrap().take().expect("lab was built");
    let list = netns_list();
    for n in &names {
        assert!(
            !list.contains(n.as_str()),
            "namespace {n} left behind:\n{list}"
        );
    }
    assert!(!etc.exists());
    assert!(!dir.exists());
    assert!(!dns.alive());
}

#[test]
fn check_args_follow_the_contract() {
    let a = Lab::check_args(&["--expect", "ipv4"]);
    let s = a.join(" ");
    assert!(
        s.starts_with("check shop.lab.example --format json --timeout 2s "),
        "{s}"
    );
    for p in ASSUME_PUBLIC {
        assert!(s.contains(&format!("--assume-public {p}")), "{s}");
    }
    assert!(s.ends_with("-p 80 --expect ipv4"), "{s}");
    let b = Lab::check_args(&["-p", "80,443"]).join(" ");
    assert_eq!(b.matches("-p ").count(), 1, "{b}");
    let c = Lab::check_args(&["--port=25"]).join(" ");
    assert!(!c.contains("-p 80"), "{c}");
}

#[test]
fn reverse_zone_names_and_nat64() {
    assert_eq!(reverse_zone("203.0.113.0/24"), "113.0.203.in-addr.arpa");
    assert_eq!(reverse_zone("10.0.0.0/8"), "10.in-addr.arpa");
    assert_eq!(
        reverse_zone("2001:db8:1::/64"),
        "0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
    );
    assert_eq!(nat64("64:ff9b::", "192.0.0.170"), "64:ff9b::c000:aa");
    assert_eq!(nat64("64:ff9b::/96", "203.0.113.10"), "64:ff9b::cb00:710a");
}

#[test]
fn placeholders_stand_for_the_labs_addresses() {
    assert_eq!(
        expand("[{SRV_V6}]:80 {DOMAIN} {CLI_V4}:{ECHO_PORT}", None),
        "[2001:db8:1::10]:80 shop.lab.example 198.51.100.10:8180"
    );
    assert_eq!(
        PLACEHOLDERS.iter().find(|p| p.0 == "ECHO_PORT").unwrap().1,
        ECHO_PORT.to_string()
    );
    // nginx's own braces are no placeholders; a misspelt name is.
    assert_eq!(unknown_placeholder("server { listen 80; }"), None);
    assert_eq!(unknown_placeholder("via {SRV_GW_V4}"), Some("SRV_GW_V4"));
    let r = std::panic::catch_unwind(|| expand("{SRV_V7}", None));
    assert!(r.is_err(), "an unknown placeholder must fail the row");
}
