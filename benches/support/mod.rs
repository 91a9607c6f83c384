//! What the benches share: the `--bench` gate and the timing of repeated runs. Included
//! with `#[path]` (a folder under `benches/` is not a bench of its own).

// Each bench uses part of this.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Whether `cargo bench` runs this bench; under `cargo test` it only says how to run it,
/// so the suite stays fast.
pub fn requested(name: &str, needs: &str) -> bool {
    if std::env::args().any(|a| a == "--bench") {
        return true;
    }
    println!("bench {name}: run with `cargo bench --bench {name}`{needs}");
    false
}

/// The listening ports of a busy host, which the firewall benches decide one by one.
pub const BUSY_PORTS: [u16; 20] = [
    22, 25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 3000, 3306, 5432, 6379, 8080, 8443, 9000,
    9090, 9100,
];

/// The head of a Markdown table of results (the bench reports are pasted into notes).
pub fn table_head(columns: &[&str]) {
    println!("| {} |", columns.join(" | "));
    println!("|{}", " --- |".repeat(columns.len()));
}

/// Whether a median is under its target, as the reports say it.
pub fn met(median: Duration, target: Duration) -> &'static str {
    if median < target { "met" } else { "MISSED" }
}

/// The median and the fastest of a set of timed runs.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub median: Duration,
    pub min: Duration,
}

impl Timing {
    pub fn of(mut samples: Vec<Duration>) -> Timing {
        samples.sort();
        Timing {
            median: samples.get(samples.len() / 2).copied().unwrap_or_default(),
            min: samples.first().copied().unwrap_or_default(),
        }
    }
}

/// `f` once to warm caches (binary pages, neighbour entries, the page cache), then `runs`
/// timed runs.
pub fn time_runs(runs: usize, mut f: impl FnMut()) -> Timing {
    f();
    Timing::of(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

/// A command run inside network namespace `ns`.
pub fn ns_exec(ns: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .expect("ip netns exec")
}
