//! End-to-end speed of `dsdoctor check` in the namespace lab, side by side with the
//! manual checklist admins run today (dig, ip, ss, iptables, curl), on the same host.
//!
//! `cargo bench --bench check` (root: it builds network namespaces). Under `cargo test`
//! it only says how to run it, so the suite stays fast.

// A bench uses part of the lab harness; the lab binary uses all of it, and there the
// compiler reports what nothing uses.
#[allow(dead_code, unused_imports)]
#[path = "../tests/lab/harness/mod.rs"]
mod harness;
#[path = "support/mod.rs"]
mod support;

use harness::*;
use std::time::Duration;
use support::{Timing, ns_exec, time_runs};

const RUNS: usize = 15;

fn checklist(ns: &str) {
    let script = "dig +short A shop.lab.example; dig +short AAAA shop.lab.example; ip addr; \
                  ss -tulnp; iptables -L -n; ip6tables -L -n; ip -6 route; \
                  curl -4 -s -m 3 -o /dev/null http://shop.lab.example/; \
                  curl -6 -s -m 3 -o /dev/null http://shop.lab.example/";
    ns_exec(ns, &["bash", "-c", script]);
}

fn main() {
    if !support::requested("check", " as root") {
        return;
    }
    let mut lab = Lab::new("bench");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let srv = lab.ns(Ns::Srv).to_string();
    let mut args: Vec<String> = vec![DSDOCTOR.to_string()];
    args.extend(Lab::check_args(&[]));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();

    let Timing {
        median: dsd_med,
        min: dsd_min,
    } = time_runs(RUNS, || {
        let out = ns_exec(&srv, &refs);
        assert!(
            out.status.code() == Some(0),
            "healthy check did not pass: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    });
    let Timing {
        median: cl_med,
        min: cl_min,
    } = time_runs(RUNS, || checklist(&srv));

    // Every outbound probe times out: the router drops everything addressed to it or
    // through it (DNS, gateway echo, authoritative servers).
    let net = lab.ns(Ns::Net).to_string();
    let rules = "printf 'table inet blk {\\n chain i { type filter hook input priority 0; policy drop; }\\n \
                 chain f { type filter hook forward priority 0; policy drop; }\\n}\\n' | nft -f -";
    let out = ns_exec(&net, &["bash", "-c", rules]);
    assert!(
        out.status.success(),
        "nft: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let timeout = Duration::from_secs(1);
    let mut targs = args.clone();
    let ti = targs
        .iter()
        .position(|a| a == "--timeout")
        .expect("--timeout in check args");
    targs[ti + 1] = "1s".into();
    let trefs: Vec<&str> = targs.iter().map(String::as_str).collect();
    let Timing {
        median: to_med,
        min: to_min,
    } = time_runs(5, || {
        ns_exec(&srv, &trefs);
    });

    support::table_head(&["what", "median", "min"]);
    println!("| dsdoctor check, healthy lab host | {dsd_med:.1?} | {dsd_min:.1?} |");
    println!(
        "| manual checklist script (dig, ip, ss, iptables, curl) | {cl_med:.1?} | {cl_min:.1?} |"
    );
    println!(
        "| dsdoctor check, every outbound probe times out (--timeout 1s) | {to_med:.1?} | {to_min:.1?} |"
    );
    println!();
    let ratio = dsd_med.as_secs_f64() / cl_med.as_secs_f64();
    println!("healthy check / checklist = {ratio:.2} (target <= 0.5)");
    println!(
        "timeout case = {to_med:.1?} (target < --timeout + 500 ms = {:.1?})",
        timeout + Duration::from_millis(500)
    );
}
