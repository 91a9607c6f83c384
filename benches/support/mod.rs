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
