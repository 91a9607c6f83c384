//! `dsdoctor check --regions 8` against the lab's Globalping-compatible API: eight probe
//! namespaces on six "continents" fetch the site over both families and resolve it, for
//! real (curl, dig), while the rest of the check runs. Target: the whole check ends
//! within 15 s.
//!
//! `cargo bench --bench regions` (root: it builds network namespaces). Under `cargo test`
//! it only says how to run it.

#[allow(dead_code, unused_imports)]
#[path = "../tests/lab/harness/mod.rs"]
mod harness;
#[path = "support/mod.rs"]
mod support;

use harness::*;
use std::time::Duration;
use support::{Timing, ns_exec, time_runs};

const RUNS: usize = 5;

fn main() {
    if !support::requested("regions", " as root") {
        return;
    }
    let mut lab = Lab::new("bench-regions");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    lab.start_measurement_network(&WORLD, ApiMode::Normal);
    let srv = lab.ns(Ns::Srv).to_string();
    let run = |extra: &[String]| {
        let mut args: Vec<String> = vec![DSDOCTOR.to_string()];
        let e: Vec<&str> = extra.iter().map(String::as_str).collect();
        args.extend(Lab::check_args(&e));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ns_exec(&srv, &refs)
    };
    let mut regions_ms = Vec::new();
    let Timing {
        median: with_med,
        min: with_min,
    } = time_runs(RUNS, || {
        let out = run(&Lab::regions_args(8));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        let f = report["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == "isp.regions"))
            .expect("isp.regions in the report");
        assert_eq!(f["status"], "pass", "{f:#}");
        assert!(
            f["summary"].as_str().unwrap_or("").starts_with("8 places"),
            "{f:#}"
        );
        regions_ms.push(Duration::from_millis(
            f["duration_ms"].as_u64().unwrap_or(0),
        ));
    });
    let Timing {
        median: without_med,
        min: without_min,
    } = time_runs(RUNS, || {
        let out = run(&[]);
        assert_eq!(out.status.code(), Some(0));
    });
    let probe = Timing::of(regions_ms);
    support::table_head(&["what", "median", "min"]);
    println!("| dsdoctor check --regions 8, lab API, healthy | {with_med:.1?} | {with_min:.1?} |");
    println!(
        "| of which the measurements (isp.regions duration) | {:.1?} | {:.1?} |",
        probe.median, probe.min
    );
    println!("| dsdoctor check without --regions | {without_med:.1?} | {without_min:.1?} |");
    println!();
    println!("--regions 8 = {with_med:.1?} (target < 15 s)");
}
