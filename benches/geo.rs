//! What `dns.geo` adds to a healthy `dsdoctor check`: its queries (A and AAAA without a
//! client subnet and for each region's two client networks, to every authoritative
//! server) go out beside the plain authoritative queries, so the DNS part should take at
//! most one round trip more. ns1 is the lab's ECS server holding every answer back by
//! `DELAY_MS` (a server that far away; the kernel here has no netem); the facts each run
//! saves say how long the plain and the geo queries to it took.
//!
//! `cargo bench --bench geo` (root: it builds network namespaces). Under `cargo test`
//! it only says how to run it.

#[allow(dead_code, unused_imports)]
#[path = "../tests/lab/harness/mod.rs"]
mod harness;
#[path = "support/mod.rs"]
mod support;

use harness::*;
use support::{Timing, ns_exec, time_runs};

const RUNS: usize = 10;
const DELAY_MS: u32 = 200;

/// The longest `ms` of the Probed values at `a`/`aaaa` of the entries of `list` that
/// `keep` selects.
fn longest(list: &serde_json::Value, keep: impl Fn(&serde_json::Value) -> bool) -> u64 {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|e| keep(e))
        .flat_map(|e| [&e["a"]["ms"], &e["aaaa"]["ms"]])
        .filter_map(|ms| ms.as_u64())
        .max()
        .unwrap_or(0)
}

fn main() {
    if !support::requested("geo", " as root") {
        return;
    }
    let mut lab = Lab::with_zone(
        "bench-geo",
        DnsZone::new().ecs_on_ns1(&[]).ecs_delay_ms(DELAY_MS),
    );
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let srv = lab.ns(Ns::Srv).to_string();
    let facts = lab.dir().join("bench-facts.json");
    let facts_s = facts.display().to_string();
    let mut args: Vec<String> = vec![DSDOCTOR.to_string()];
    args.extend(Lab::check_args(&["--save-facts", &facts_s]));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();

    let mut extra: Vec<i64> = Vec::new();
    let mut plain_ms: Vec<u64> = Vec::new();
    let Timing { median, min } = time_runs(RUNS, || {
        let out = ns_exec(&srv, &refs);
        assert!(
            out.status.code() == Some(0),
            "healthy check did not pass: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let text = std::fs::read_to_string(&facts).expect("saved facts");
        let v: serde_json::Value = serde_json::from_str(&text).expect("facts JSON");
        let dns = &v["facts"]["dns"];
        let is_ns1 = |e: &serde_json::Value| {
            let s = e["server"].as_str().unwrap_or("");
            s.contains(NS1_V4) || s.contains(NS1_V6)
        };
        let plain = longest(&dns["servers"], |e| {
            is_ns1(e)
                && e["role"]
                    .as_str()
                    .is_some_and(|r| r.eq_ignore_ascii_case("authoritative"))
        });
        let geo = longest(&dns["geo"], is_ns1);
        assert!(plain > 0 && geo > 0, "no timings in the facts: {dns}");
        plain_ms.push(plain);
        extra.push(geo as i64 - plain as i64);
    });
    // The warm-up run is in the samples too: drop it.
    extra.remove(0);
    plain_ms.remove(0);
    extra.sort();
    plain_ms.sort();
    let med_extra = extra[extra.len() / 2];
    let max_extra = *extra.last().unwrap_or(&0);
    let med_plain = plain_ms[plain_ms.len() / 2];
    println!("dns.geo bench ({RUNS} healthy runs; ns1 answers {DELAY_MS} ms late):");
    println!("  whole check: median {median:?}, fastest {min:?}");
    println!(
        "  ns1's plain A/AAAA took {med_plain} ms (median); its geo queries ended {med_extra} ms later (median), {max_extra} ms at most"
    );
    println!(
        "  extra round trips for dns.geo: {:.2} (median), {:.2} (worst); target: at most 1",
        med_extra as f64 / f64::from(DELAY_MS),
        max_extra as f64 / f64::from(DELAY_MS)
    );
}
