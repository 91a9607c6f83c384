//! `dsdoctor watch` on a lab host: the AAAA record changes between two runs and watch
//! reports exactly that fact change (and the checks it moves), passes the events to the
//! --exec hook as JSON, and writes a textfile that promtool accepts.

use crate::harness::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STALE_AAAA: &str = "2001:db8:99::99";

#[test]
fn watch_reports_the_aaaa_change_and_feeds_prometheus_and_the_hook() {
    let mut lab = Lab::new("watch");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    // The stale AAAA points at an address that silently drops TCP: every run sees the
    // same timeout. An on-link address would not do: neighbour discovery for it fails
    // after 3 s, so a later run would get "no route to host" instead, a real change.
    lab.add_blackhole_v6(STALE_AAAA);
    let prom = lab.dir().join("dsdoctor.prom");
    let events = lab.dir().join("events.jsonl");
    let hook = format!("cat >> {}", events.display());
    let args = dsdoctor_args(
        Front::Watch,
        &[
            "--interval",
            "1s",
            "--count",
            "3",
            "--prometheus-textfile",
            &prom.to_string_lossy(),
            "--exec",
            &hook,
        ],
    );
    let mut full = vec![DSDOCTOR];
    full.extend(args.iter().map(String::as_str));
    let mut child = lab
        .command(Ns::Srv, RunAs::Root, &full)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start watch");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen: Vec<String> = Vec::new();
    let start = Instant::now();
    // Run 1 is the baseline; change the AAAA record before run 2.
    for line in lines.by_ref() {
        let line = line.expect("line");
        seen.push(line.clone());
        if line.contains(" run 1 ") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no first run: {seen:#?}"
        );
    }
    assert!(
        seen.last().is_some_and(|l| l.contains(" run 1 PASS")),
        "{seen:#?}"
    );
    lab.set_zone(DnsZone::new().shop_aaaa(&[STALE_AAAA]));
    for line in lines {
        seen.push(line.expect("line"));
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "{seen:#?}");

    let runs: Vec<_> = seen.iter().filter(|l| l.contains(" run ")).collect();
    assert_eq!(runs.len(), 3, "{seen:#?}");
    let fact_events: Vec<_> = seen
        .iter()
        .filter(|l| l.contains(" change fact "))
        .collect();
    assert_eq!(fact_events.len(), 1, "exactly one fact changed: {seen:#?}");
    assert!(
        fact_events[0].contains(&format!(
            "change fact dns.aaaa: 2001:db8:1::10 -> {STALE_AAAA}"
        )),
        "{seen:#?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.contains("change check dns.aaaa_target: pass -> fail")),
        "{seen:#?}"
    );
    // The change is reported once, when it happens, not again on run 3.
    let run3 = seen
        .iter()
        .position(|l| l.contains(" run 3 "))
        .expect("run 3");
    assert!(
        !seen[run3..].iter().any(|l| l.contains(" change ")),
        "{seen:#?}"
    );

    // The hook got every event as one JSON document per line (the hook's event format,
    // not the report: read raw).
    let text = std::fs::read_to_string(&events).expect("the hook ran");
    let evs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("event JSON"))
        .collect();
    assert_eq!(
        evs.len(),
        seen.iter().filter(|l| l.contains(" change ")).count()
    );
    assert!(evs.iter().any(|e| e["kind"] == "fact"
        && e["id"] == "dns.aaaa"
        && e["from"] == "2001:db8:1::10"
        && e["to"] == STALE_AAAA
        && e["domain"] == DOMAIN));

    // The textfile is valid exposition format and has the failing check.
    let metrics = std::fs::read_to_string(&prom).expect("textfile written");
    assert!(
        metrics.contains("check=\"dns.aaaa_target\",stage=\"dns\",port=\"\"} 2"),
        "{metrics}"
    );
    promtool_accepts(&prom);
}

/// `watch --regions N --regions-every 2`: the measurement network is asked on runs 1 and
/// 3 only, and run 2 keeps its answer (no change reported, no quota spent).
#[test]
fn watch_asks_the_world_every_kth_run_and_keeps_its_answer_between() {
    let mut lab = Lab::new("watch-regions");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    lab.start_measurement_network(&WORLD[..2], ApiMode::Normal);
    let prom = lab.dir().join("dsdoctor.prom");
    let started = std::time::SystemTime::now();
    let mut extra: Vec<String> = ["--interval", "1s", "--count", "3", "--regions-every", "2"]
        .map(String::from)
        .to_vec();
    extra.extend([
        "--prometheus-textfile".into(),
        prom.to_string_lossy().to_string(),
    ]);
    extra.extend(Lab::regions_args(2));
    let e: Vec<&str> = extra.iter().map(String::as_str).collect();
    let args = dsdoctor_args(Front::Watch, &e);
    let mut full = vec![DSDOCTOR];
    full.extend(args.iter().map(String::as_str));
    let out = run_timeout(
        lab.command(Ns::Srv, RunAs::Root, &full),
        Duration::from_secs(90),
        "watch --regions-every 2",
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains(" run ")).count(),
        3,
        "{text}"
    );
    assert!(text.lines().all(|l| !l.contains(" change ")), "{text}");
    // Each asking run: the first measurement, IPv6 and two DNS ones over the same probes.
    let posts: Vec<f64> = lab
        .api_requests()
        .iter()
        .filter(|r| r.1 == "POST")
        .map(|r| r.0)
        .collect();
    assert_eq!(posts.len(), 8, "{:?}", lab.api_requests());
    // Two bursts of four, at least an interval apart.
    assert!(posts[4] - posts[3] >= 1.0, "{posts:?}");
    // The textfile dates the regional answer (measured during this watch), and promtool
    // accepts it.
    let metrics = std::fs::read_to_string(&prom).expect("textfile written");
    let at: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("dsdoctor_regions_measured_timestamp_seconds{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no regions gauge in {metrics}"));
    let since = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .expect("after the epoch")
            .as_secs_f64()
    };
    assert!(
        (since(started) - 1.0..=since(std::time::SystemTime::now()) + 1.0).contains(&at),
        "measured at {at}, the watch started at {}",
        since(started)
    );
    promtool_accepts(&prom);
}

/// promtool (Prometheus' own checker) accepts the textfile as exposition format.
fn promtool_accepts(prom: &std::path::Path) {
    let out = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(prom).expect("open"))
        .output()
        .expect("promtool (scripts/test.sh installs the prometheus package)");
    assert!(
        out.status.success(),
        "promtool rejected the textfile: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
