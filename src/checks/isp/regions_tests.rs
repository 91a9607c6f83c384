//! Unit tests of `isp.regions`: the measured fixture (`fixtures::regions`), broken the
//! ways the measurement network reports trouble.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::regions::*;
use crate::facts::*;
use crate::model::{CheckId, Status};

const ID: CheckId = CheckId::IspRegions;

fn with(r: RegionsFacts) -> Facts {
    let mut f = healthy();
    f.regions = Some(Probed::ok(r));
    f
}

fn port80(r: &mut RegionsFacts) -> &mut PortMeasurements {
    &mut r.ports[0]
}

fn results(m: &mut Measured) -> &mut Vec<ProbeResult> {
    &mut m.as_mut().expect("measured").results
}

fn failed(kind: ApiFailureKind, msg: &str, retry: Option<u64>) -> Measured {
    Err(ApiFailure {
        kind,
        message: msg.into(),
        retry_after_s: retry,
    })
}

#[test]
fn measured_alike_from_every_place_passes() {
    let fs = evaluate(&with(regions()), &options());
    let f = expect(&fs, ID, Some(80), Status::Pass);
    assert_has(&f.summary, "3 places on 3 continents");
    assert_line(
        &f.evidence,
        "EU DE Frankfurt AS3320 (Deutsche Telekom AG): IPv4 HTTP 200 from 203.0.113.10",
    );
    assert_line(&f.evidence, "AAAA 2001:db8:1::10");
}

#[test]
fn not_asked_skips_and_an_older_recording_too() {
    let fs = evaluate(&healthy(), &options());
    let f = expect(&fs, ID, Some(80), Status::Skip);
    assert_has(&f.summary, "--regions 0");
    let mut old = healthy();
    old.regions = None;
    expect(&evaluate(&old, &options()), ID, Some(80), Status::Skip);
}

#[test]
fn ipv6_connect_failure_in_one_place_names_that_place() {
    let mut r = regions();
    let bad = &mut results(&mut port80(&mut r).v6)[2];
    bad.status = TestStatus::Failed;
    bad.status_code = None;
    bad.output = "connect ETIMEDOUT 2001:db8:1::10:80".into();
    let fs = evaluate(&with(r), &options());
    let f = expect(&fs, ID, Some(80), Status::Fail);
    assert_has(&f.summary, "IPv6 fails from 1 of 3 places where IPv4 works");
    assert_has(&f.summary, "AS JP Tokyo AS2516 (KDDI) (connect)");
    assert!(!f.explanation.is_empty());
}

#[test]
fn a_place_without_aaaa_is_a_dns_failure() {
    let mut r = regions();
    let bad = &mut results(&mut port80(&mut r).v6)[0];
    bad.status = TestStatus::Failed;
    bad.status_code = None;
    bad.resolved = None;
    bad.output = "getaddrinfo ENOTFOUND shop.example".into();
    let aaaa = r.dns_aaaa.as_mut().expect("measured");
    results(aaaa)[0].answers.clear();
    let fs = evaluate(&with(r), &options());
    let f = expect(&fs, ID, Some(80), Status::Fail);
    assert_has(
        &f.summary,
        "EU DE Frankfurt AS3320 (Deutsche Telekom AG) (DNS: no AAAA there)",
    );
}

#[test]
fn an_http_error_over_ipv4_alone_is_named_with_its_status() {
    let mut r = regions();
    results(&mut port80(&mut r).v4)[1].status_code = Some(503);
    let fs = evaluate(&with(r), &options());
    let f = expect(&fs, ID, Some(80), Status::Fail);
    assert_has(&f.summary, "IPv4 fails from 1 of 3 places where IPv6 works");
    assert_has(&f.summary, "(HTTP 503)");
}

#[test]
fn no_ipv6_probe_warns_and_keeps_the_ipv4_table() {
    let mut r = regions();
    port80(&mut r).v6 = failed(
        ApiFailureKind::NoProbes,
        "no probe fits (422): no_probes_found: No suitable probes found.",
        None,
    );
    let fs = evaluate(&with(r), &options());
    let f = expect(&fs, ID, Some(80), Status::Warn);
    assert_has(
        &f.summary,
        "no probe could fetch the site over IPv6 (no probe fits (422)",
    );
    assert_has(&f.summary, "IPv4 worked from 3 of 3 places");
}

#[test]
fn rate_limit_is_an_error_with_the_wait_and_the_quota() {
    let mut r = regions();
    port80(&mut r).v4 = failed(
        ApiFailureKind::RateLimited,
        "rate limit reached (429)",
        Some(60),
    );
    r.quota = Some(Quota {
        limit: 250,
        remaining: 0,
        reset_s: 1800,
        kind: "ip".into(),
        credits: None,
    });
    let fs = evaluate(&with(r), &options());
    let f = expect(&fs, ID, Some(80), Status::Error);
    assert_has(
        &f.summary,
        "rate limit reached (429); retry after 60 s; 0 of 250 measurements left, reset in 1800 s",
    );
    assert_has(&f.explanation, "GLOBALPING_TOKEN");
}

#[test]
fn a_stalled_measurement_is_an_error_that_says_so() {
    let mut r = regions();
    port80(&mut r).v6 = failed(
        ApiFailureKind::Stalled,
        "still in progress after 30 s (1 of 3 probes had answered)",
        None,
    );
    let fs = evaluate(&with(r), &options());
    let f = expect(&fs, ID, Some(80), Status::Error);
    assert_has(&f.summary, "over IPv6: still in progress after 30 s");
}

#[test]
fn results_still_streaming_say_so_and_a_probe_still_measuring_is_left_out() {
    let mut r = regions();
    r.complete = false;
    results(&mut port80(&mut r).v6)[1].status = TestStatus::InProgress;
    let fs = evaluate(&with(r), &options());
    let f = expect(&fs, ID, Some(80), Status::Pass);
    assert_has(&f.summary, "2 places on 2 continents");
    assert_has(&f.summary, "(still measuring: 2 of 3 places in)");
}

#[test]
fn a_mail_port_is_not_measured() {
    let mut o = options();
    o.target.ports = vec![25, 80];
    let fs = evaluate(&with(regions()), &o);
    let f = expect(&fs, ID, Some(25), Status::Skip);
    assert_has(&f.summary, "not a web port");
}
