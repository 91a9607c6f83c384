//! The training scenarios (assets/scenarios/): each one is a failure class of the seeds,
//! built in the lab. For every scenario this test runs the live check with
//! `--save-facts`, checks that replaying the recording gives exactly the live findings,
//! and that the bundled recording still has the verdict the lab produces today.
//!
//! `DSD_RECORD_SCENARIOS=1 cargo test --test lab_scenarios` re-records the bundled
//! snapshots (the stories, NAME.toml, are written by hand).

mod common;

use common::firewall::{flush_v6_neighbours, ipt, nft_apply};
use common::isp::{NAT_PUBLIC_V4, Nat};
use common::*;
use serde_json::Value;
use std::path::PathBuf;

struct Scenario {
    name: &'static str,
    build: fn() -> Lab,
    extra: &'static [&'static str],
    /// Acceptable verdicts (check ids).
    verdicts: &'static [&'static str],
}

fn with_nginx(tag: &str, zone: DnsZone, body: &str) -> Lab {
    let mut lab = Lab::with_zone(tag, zone);
    lab.start_nginx(body);
    lab
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "stale-aaaa",
        build: || {
            with_nginx(
                "sc-stale-aaaa",
                DnsZone::new().shop_aaaa(&["2001:db8:1::99"]),
                NGINX_LISTEN_DUAL,
            )
        },
        extra: &[],
        verdicts: &["dns.aaaa_target"],
    },
    Scenario {
        name: "missing-a",
        build: || {
            with_nginx(
                "sc-missing-a",
                DnsZone::new().no_shop_a(),
                NGINX_LISTEN_DUAL,
            )
        },
        extra: &[],
        verdicts: &["dns.a"],
    },
    Scenario {
        name: "ipv6-disabled",
        build: || {
            let lab = with_nginx("sc-v6-off", DnsZone::new(), NGINX_LISTEN_DUAL);
            lab.exec_ok(
                Ns::Srv,
                &["sysctl", "-w", "net.ipv6.conf.all.disable_ipv6=1"],
            );
            lab.exec_ok(
                Ns::Srv,
                &["sysctl", "-w", "net.ipv6.conf.eth0.disable_ipv6=1"],
            );
            lab
        },
        extra: &[],
        verdicts: &["address.ipv6_enabled"],
    },
    Scenario {
        name: "ipv6-off-after-reboot",
        build: || {
            let mut lab = with_nginx("sc-v6-boot", DnsZone::new(), NGINX_LISTEN_DUAL);
            lab.write_srv_sysctl_d("99-hardening.conf", "# network hardening\nnet.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1\n");
            lab
        },
        extra: &[],
        verdicts: &["address.ipv6_persistent"],
    },
    Scenario {
        name: "link-local-only",
        build: || {
            let lab = with_nginx("sc-linklocal", DnsZone::new(), NGINX_LISTEN_DUAL);
            lab.exec_ok(
                Ns::Srv,
                &[
                    "ip",
                    "-6",
                    "addr",
                    "del",
                    "2001:db8:1::10/64",
                    "dev",
                    "eth0",
                ],
            );
            lab
        },
        extra: &[],
        verdicts: &["address.global_ipv6"],
    },
    Scenario {
        name: "nginx-ipv4-only",
        build: || with_nginx("sc-nginx-v4", DnsZone::new(), NGINX_LISTEN_V4_ONLY),
        extra: &[],
        verdicts: &["listener.ipv6"],
    },
    Scenario {
        name: "v6only-listener",
        build: || {
            let mut lab = Lab::new("sc-v6only");
            lab.start_listener("::", 8080, Some(true), "shop api\n");
            lab
        },
        extra: &["-p", "8080"],
        verdicts: &["listener.ipv4"],
    },
    Scenario {
        name: "ip6tables-drop",
        build: || {
            let lab = with_nginx("sc-ip6t-drop", DnsZone::new(), NGINX_LISTEN_DUAL);
            ipt(
                &lab,
                "ip6tables",
                &["-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "DROP"],
            );
            lab
        },
        extra: &[],
        verdicts: &["firewall.ipv6"],
    },
    Scenario {
        name: "icmpv6-blocked",
        build: || {
            let lab = with_nginx("sc-noicmp6", DnsZone::new(), NGINX_LISTEN_DUAL);
            nft_apply(
                &lab,
                "table ip6 strict {\n chain input {\n  type filter hook input priority 0; policy drop;\n  ct state established,related accept\n  iif lo accept\n  tcp dport 80 accept\n }\n}\n",
            );
            flush_v6_neighbours(&lab);
            lab
        },
        extra: &[],
        verdicts: &["firewall.icmpv6"],
    },
    Scenario {
        name: "no-ipv6-route",
        build: || {
            let lab = with_nginx("sc-no-v6-route", DnsZone::new(), NGINX_LISTEN_DUAL);
            lab.exec_ok(Ns::Srv, &["ip", "-6", "route", "del", "default"]);
            lab
        },
        extra: &[],
        verdicts: &["route.ipv6_default"],
    },
    Scenario {
        name: "cgnat",
        build: || {
            let mut lab = Lab::with_zone("sc-cgnat", DnsZone::new().shop_a(&[NAT_PUBLIC_V4]));
            lab.put_behind_nat(Nat::Carrier);
            lab.start_nginx(NGINX_LISTEN_DUAL);
            lab
        },
        extra: &[],
        verdicts: &["address.global_ipv4"],
    },
    Scenario {
        name: "http-differs-over-ipv6",
        build: || {
            let mut lab = Lab::new("sc-http-diff");
            lab.start_nginx_raw(&format!(
                "server {{\n    listen 80;\n    server_name {DOMAIN};\n    location / {{ return 200 \"the shop\\n\"; }}\n}}\nserver {{\n    listen [::]:80;\n    server_name {DOMAIN};\n    location / {{ return 404 \"an old placeholder site\\n\"; }}\n}}\n"
            ));
            lab
        },
        extra: &[],
        verdicts: &["listener.config", "isp.http_parity"],
    },
    Scenario {
        name: "pmtu-blackhole",
        build: || {
            let mut lab = with_nginx("sc-pmtu", DnsZone::new(), NGINX_LISTEN_DUAL);
            // A tunnel upstream, and a router that keeps "packet too big" to itself.
            lab.narrow_upstream_link(1400);
            lab.nft(
                Ns::Net,
                "noptb6",
                "table ip6 noptb {\n chain out {\n  type filter hook output priority 0; policy accept;\n  icmpv6 type packet-too-big drop\n }\n}\n",
            );
            lab
        },
        extra: &[],
        verdicts: &["isp.path_mtu_ipv6"],
    },
];

fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios")
}

fn run(sc: &Scenario) {
    let lab = (sc.build)();
    let file = lab.dir().join(format!("{}.json", sc.name));
    let file_s = file.to_string_lossy().into_owned();
    let mut extra: Vec<&str> = vec!["--save-facts", &file_s];
    extra.extend_from_slice(sc.extra);
    let (_, live) = lab.check_json(&extra);
    let verdict = verdict_check(&live).unwrap_or_default();
    assert!(
        sc.verdicts.contains(&verdict.as_str()),
        "{}: verdict {verdict}, expected one of {:?}",
        sc.name,
        sc.verdicts
    );

    // Replay equals live.
    let (_, out, err) = lab.run_dsdoctor(&["check", "--replay", &file_s, "--format", "json"]);
    let replayed: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: {e}: {err}", sc.name));
    assert_eq!(
        replayed["checks"], live["checks"],
        "{}: replay differs from live",
        sc.name
    );
    assert_eq!(replayed["verdict"], live["verdict"], "{}", sc.name);

    let bundled = scenario_dir().join(format!("{}.json", sc.name));
    assert!(
        scenario_dir().join(format!("{}.toml", sc.name)).exists(),
        "{}: no story",
        sc.name
    );
    if std::env::var_os("DSD_RECORD_SCENARIOS").is_some() {
        std::fs::copy(&file, &bundled).expect("record the scenario");
        return;
    }
    // The bundled recording still tells the story the lab produces today.
    let (_, out, err) = lab.run_dsdoctor(&[
        "check",
        "--replay",
        &bundled.to_string_lossy(),
        "--format",
        "json",
    ]);
    let recorded: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: bundled: {e}: {err}", sc.name));
    assert_eq!(
        verdict_check(&recorded),
        verdict_check(&live),
        "{}: the bundled recording is stale; re-record",
        sc.name
    );
}

macro_rules! scenario_tests {
    ($($test:ident => $i:expr),* $(,)?) => {
        $(#[test] fn $test() { run(&SCENARIOS[$i]); })*
    };
}

scenario_tests! {
    stale_aaaa => 0,
    missing_a => 1,
    ipv6_disabled => 2,
    ipv6_off_after_reboot => 3,
    link_local_only => 4,
    nginx_ipv4_only => 5,
    v6only_listener => 6,
    ip6tables_drop => 7,
    icmpv6_blocked => 8,
    no_ipv6_route => 9,
    cgnat => 10,
    http_differs_over_ipv6 => 11,
    pmtu_blackhole => 12,
}

#[test]
fn at_least_twelve_scenarios_and_every_bundled_one_is_tested() {
    assert!(SCENARIOS.len() >= 12);
    for e in std::fs::read_dir(scenario_dir())
        .expect("assets/scenarios")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".json") {
            assert!(
                SCENARIOS.iter().any(|s| s.name == stem),
                "{stem} is bundled but not rebuilt by this test"
            );
        }
    }
}
