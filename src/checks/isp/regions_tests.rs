//! Unit tests of `isp.regions`: the measured fixture (`fixtures::regions`), broken the
//! ways the measurement network reports trouble.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::regions::*;
use crate::facts::*;
use crate::model::{CheckId, Family, Status};

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

/// A change to the measured fixture, the status it leads to and what the summary says.
type Row = (fn(&mut RegionsFacts), Status, &'static [&'static str]);

/// One place's measurement changed: the finding names the place and what it saw.
#[test]
fn one_place_measured_otherwise_is_named_with_what_it_saw() {
    let rows: [Row; 4] = [
        (
            |r| {
                // Tokyo cannot connect over IPv6.
                let bad = &mut results(&mut port80(r).v6)[2];
                bad.status = TestStatus::Failed;
                bad.status_code = None;
                bad.output = "connect ETIMEDOUT 2001:db8:1::10:80".into();
            },
            Status::Fail,
            &[
                "IPv6 fails from 1 of 3 places where IPv4 works",
                "AS JP Tokyo AS2516 (KDDI) (connect)",
            ],
        ),
        (
            |r| {
                // Frankfurt gets no AAAA: a DNS failure, not a connection's.
                let bad = &mut results(&mut port80(r).v6)[0];
                bad.status = TestStatus::Failed;
                bad.status_code = None;
                bad.resolved = None;
                bad.output = "getaddrinfo ENOTFOUND shop.example".into();
                let aaaa = r.dns_aaaa.as_mut().expect("measured");
                results(aaaa)[0].answers.clear();
            },
            Status::Fail,
            &["EU DE Frankfurt AS3320 (Deutsche Telekom AG) (DNS: no AAAA there)"],
        ),
        (
            |r| results(&mut port80(r).v4)[1].status_code = Some(503),
            Status::Fail,
            &[
                "IPv4 fails from 1 of 3 places where IPv6 works",
                "(HTTP 503)",
            ],
        ),
        (
            |r| {
                // Results still stream in; a probe still measuring is left out.
                r.complete = false;
                results(&mut port80(r).v6)[1].status = TestStatus::InProgress;
            },
            Status::Pass,
            &[
                "2 places on 2 continents",
                "(still measuring: 2 of 3 places in)",
            ],
        ),
    ];
    for (change, want, summary) in rows {
        let mut r = regions();
        change(&mut r);
        let fs = evaluate(&with(r), &options());
        let f = expect(&fs, ID, Some(80), want);
        for part in summary {
            assert_has(&f.summary, part);
        }
        if want == Status::Fail {
            assert!(!f.explanation.is_empty(), "{f:#?}");
        }
    }
}

/// The measurement network's refusals (no probe fits, the rate limit) and a measurement
/// that never ends, in one family: the finding says which, with what the API told.
#[test]
fn api_failures_in_one_family_are_said_with_the_apis_words() {
    let quota = Quota {
        limit: 250,
        remaining: 0,
        reset_s: 1800,
        kind: "ip".into(),
        credits: None,
    };
    let rows = [
        (
            Family::V6,
            failed(
                ApiFailureKind::NoProbes,
                "no probe fits (422): no_probes_found: No suitable probes found.",
                None,
            ),
            None,
            Status::Warn,
            &[
                "no probe could fetch the site over IPv6 (no probe fits (422)",
                "IPv4 worked from 3 of 3 places",
            ][..],
        ),
        (
            Family::V4,
            failed(
                ApiFailureKind::RateLimited,
                "rate limit reached (429)",
                Some(60),
            ),
            Some(quota),
            Status::Error,
            &[
                "rate limit reached (429); retry after 60 s; 0 of 250 measurements left, reset in 1800 s",
            ][..],
        ),
        (
            Family::V6,
            failed(
                ApiFailureKind::Stalled,
                "still in progress after 30 s (1 of 3 probes had answered)",
                None,
            ),
            None,
            Status::Error,
            &["over IPv6: still in progress after 30 s"][..],
        ),
    ];
    for (family, measured, quota, want, summary) in rows {
        let mut r = regions();
        let port = port80(&mut r);
        match family {
            Family::V4 => port.v4 = measured,
            Family::V6 => port.v6 = measured,
        }
        let rate_limited = quota.is_some();
        r.quota = quota;
        let fs = evaluate(&with(r), &options());
        let f = expect(&fs, ID, Some(80), want);
        for part in summary {
            assert_has(&f.summary, part);
        }
        if rate_limited {
            // A token lifts the limit: the explanation says how to send one.
            assert_has(&f.explanation, "GLOBALPING_TOKEN");
        }
    }
}

#[test]
fn a_mail_port_is_not_measured() {
    let mut o = options();
    o.target.ports = vec![25, 80];
    let fs = evaluate(&with(regions()), &o);
    let f = expect(&fs, ID, Some(25), Status::Skip);
    assert_has(&f.summary, "not a web port");
}

/// A `watch` run that does not ask again repeats the last answer: the evidence says
/// when it was measured, and a hostile time from a replayed snapshot is shown inert.
#[test]
fn the_evidence_says_when_the_probes_were_asked() {
    let mut r = regions();
    r.asked_at = Some("2026-11-30T08:12:03Z".into());
    let fs = evaluate(&with(r.clone()), &options());
    let f = expect(&fs, ID, Some(80), Status::Pass);
    assert_line(
        &f.evidence,
        "token) at 2026-11-30T08:12:03Z, HTTP on port 80",
    );
    r.asked_at = Some("\u{1b}]52;c;evil\u{7}".into());
    let fs = evaluate(&with(r), &options());
    let f = find(&fs, ID, Some(80));
    assert!(
        f.evidence.iter().all(|l| !l.contains('\u{1b}')),
        "{:?}",
        f.evidence
    );
}
