//! What the benches share: running only under `cargo bench`, timing runs, and the table
//! the results are printed in. `mod support;` in a bench; each uses part of it.
#![allow(dead_code)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Whether this is `cargo bench`. Under `cargo test` a bench only says how to run it
/// (`needs`: what else it takes, such as root), so the suite stays fast.
pub fn benching(name: &str, needs: &str) -> bool {
    let on = std::env::args().any(|a| a == "--bench");
    if !on {
        println!("bench {name}: run with `cargo bench --bench {name}`{needs}");
    }
    on
}

/// The median and the fastest of `times` (not empty).
pub fn median_min(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[0])
}

/// `f` timed `runs` times after one untimed run that warms the caches (binary pages,
/// neighbour entries): the median and the fastest.
pub fn time_runs(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f();
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    median_min(times)
}

/// `ip netns exec NS ARGS...`.
pub fn ns_exec(ns: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .expect("ip netns exec")
}

/// The head of the results table: one row per measurement, its median and fastest run.
pub fn table_head() {
    println!("| what | median | min |");
    println!("| --- | --- | --- |");
}

/// Whether a median met its target, as the summary line says it.
pub fn met(median: Duration, target: Duration) -> &'static str {
    if median < target { "met" } else { "MISSED" }
}
