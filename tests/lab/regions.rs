//! `isp.regions` against the lab's measurement network (harness/regions.rs): probe
//! namespaces on several "continents" fetch the site through the lab's router, and the
//! Globalping-compatible API (tests/support/globalping.py) reports what they saw. One
//! probe's IPv6 path black-holed, its healthy twin, and the API's refusals (429, 422)
//! and a measurement that never finishes: each ends in a clear finding within the
//! deadline, with no request loop.

use crate::harness::*;
use std::time::{Duration, Instant};

const ID: CheckId = CheckId::IspRegions;

/// A lab with the site on port 80 over both families and `n` probes of `WORLD`.
fn world(tag: &str, n: usize, mode: ApiMode) -> Lab {
    let mut lab = Lab::new(tag);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    lab.start_measurement_network(&WORLD[..n], mode);
    lab
}

fn check_regions(lab: &Lab, n: u16) -> (CheckRun, Duration) {
    let args = Lab::regions_args(n);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let start = Instant::now();
    let run = lab.check(&refs);
    (run, start.elapsed())
}

/// The regions finding (port 80) is `status` and says each of `says`.
fn assert_regions(run: &CheckRun, status: Status, says: &[&str]) {
    run.assert_finding(ID, Some(80), status, says);
}

/// The API misbehaving in `mode` (two probes behind it): `check --regions asked` gives
/// a regions finding of `status` that says each of `says`. Returns the lab (for its API
/// log), the run, and the time the check took.
fn api_mode_finding(
    tag: &str,
    mode: ApiMode,
    asked: u16,
    status: Status,
    says: &[&str],
) -> (Lab, CheckRun, Duration) {
    let lab = world(tag, 2, mode);
    let (run, took) = check_regions(&lab, asked);
    assert_regions(&run, status, says);
    (lab, run, took)
}

#[test]
fn one_place_with_a_black_holed_ipv6_path_is_named() {
    let mut lab = world("regions-hole", 4, ApiMode::Normal);
    // WORLD[2]: NA US Ashburn, AS64503.
    lab.blackhole_probe_v6(2);
    let (run, _) = check_regions(&lab, 4);
    assert_regions(
        &run,
        Status::Fail,
        &[
            "IPv6 fails from 1 of 4 places where IPv4 works",
            "NA US Ashburn AS64503 (Lab Cloud) (connect)",
        ],
    );
    // The table names every place, with the address each probe resolved.
    run.assert_says(
        ID,
        Some(80),
        Part::Evidence,
        &[
            "EU DE Frankfurt AS64501",
            "AAAA 2001:db8:1::10",
            "A 203.0.113.10",
        ],
    );
    // The rest of the site is healthy: the finding is the regions' alone.
    run.assert_status(CheckId::IspHttpParity, Some(80), Status::Pass);
}

#[test]
fn every_place_healthy_passes_and_the_token_is_sent() {
    let lab = world("regions-ok", 4, ApiMode::Normal);
    let mut args = Lab::check_args(&[]);
    args.extend(Lab::regions_args(4));
    let mut full = vec![DSDOCTOR];
    full.extend(args.iter().map(String::as_str));
    let mut c = lab.command(Ns::Srv, RunAs::Root, &full);
    c.env("GLOBALPING_TOKEN", "lab-token").env("NO_COLOR", "1");
    let out = run_timeout(c, Duration::from_secs(60), "dsdoctor check --regions 4");
    let run = CheckRun::parse(
        "check --regions 4",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert_regions(&run, Status::Pass, &["4 places on 2 continents"]);
    run.assert_exit(0);
    // When it was measured: a watch run that does not ask again repeats this line.
    let today = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let asked = format!("(token) at {}T", &today[..10]);
    run.assert_says(ID, Some(80), Part::Evidence, &[asked.as_str()]);
    let requests = lab.api_requests();
    assert!(!requests.is_empty(), "the API was not asked");
    assert!(
        requests.iter().all(|r| r.4),
        "a request without the token: {requests:?}"
    );
}

#[test]
fn rate_limit_is_reported_once_with_the_quota_no_loop() {
    let (lab, _, took) = api_mode_finding(
        "regions-429",
        ApiMode::RateLimited,
        4,
        Status::Error,
        &["429", "retry after 42 s", "0 of 250 measurements left"],
    );
    let requests = lab.api_requests();
    let posts = requests.iter().filter(|r| r.1 == "POST").count();
    let limits = requests.iter().filter(|r| r.2 == "/v1/limits").count();
    assert_eq!(
        (posts, limits),
        (1, 1),
        "one refusal, one quota look-up: {requests:?}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn no_ipv6_probe_warns_with_the_ipv4_view() {
    let (_, run, _) = api_mode_finding(
        "regions-422",
        ApiMode::NoIpv6Probes,
        2,
        Status::Warn,
        &[
            "no probe could fetch the site over IPv6",
            "422",
            "IPv4 worked from 2 of 2 places",
        ],
    );
    run.assert_exit(1);
}

#[test]
fn a_stalled_measurement_ends_at_the_deadline_polled_at_most_twice_a_second() {
    let (lab, _, took) = api_mode_finding(
        "regions-stall",
        ApiMode::Stalled,
        2,
        Status::Error,
        &["still in progress after 30 s"],
    );
    assert!(took < Duration::from_secs(40), "took {took:?}");
    // Polls of one measurement are half a second apart (dsdoctor spaces their starts by
    // 500 ms; arrival times at a loaded lab server jitter by some milliseconds).
    let requests = lab.api_requests();
    let mut by_path: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for r in requests.iter().filter(|r| r.1 == "GET") {
        by_path.entry(r.2.as_str()).or_default().push(r.0);
    }
    assert!(!by_path.is_empty(), "never polled: {requests:?}");
    for (path, times) in by_path {
        for w in times.windows(2) {
            assert!(
                w[1] - w[0] >= 0.4,
                "{path} polled {:.3} s apart",
                w[1] - w[0]
            );
        }
        assert!(
            times.len() <= 62,
            "{path} polled {} times in 30 s",
            times.len()
        );
    }
}

/// The API named by a host name, on a host whose resolv.conf names a dead server: with
/// `--resolver`, the API's host is looked up there as every other name is (the
/// contract: instead of the system's), and the measurement goes through.
#[test]
fn the_api_host_is_looked_up_with_the_named_resolver() {
    let zone = DnsZone::new().host("api.lab.example", Some(CLI_V4), None);
    let mut lab = Lab::with_zone("regions-resolver", zone);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    lab.start_measurement_network(&WORLD[..2], ApiMode::Normal);
    lab.write_srv_etc("resolv.conf", "nameserver 203.0.113.99\n");
    let url = format!("http://api.lab.example:{GLOBALPING_PORT}/v1");
    let run = lab.check(&[
        "--resolver",
        RESOLVER_V4,
        "--regions",
        "2",
        "--globalping-url",
        &url,
    ]);
    assert_regions(&run, Status::Pass, &["2 places on"]);
    assert!(!lab.api_requests().is_empty(), "the API was not asked");
}
