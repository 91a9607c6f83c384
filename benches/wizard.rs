//! The wizard's start-up and idle cost, in a real terminal (tmux) on a lab host:
//! - first frame: microseconds from `main` to the first drawn frame, as the binary
//!   records it (`DSDOCTOR_TRACE_FIRST_FRAME`), and as seen from outside (spawn to the
//!   frame appearing in tmux, an upper bound that includes tmux itself);
//! - idle CPU: after the checks finished, CPU time used over 10 s of doing nothing.
//!
//! `cargo bench --bench wizard` (root). Under `cargo test` it only says how to run it.

// A bench uses part of the lab harness; the lab binary uses all of it, and there the
// compiler reports what nothing uses.
#[allow(dead_code, unused_imports)]
#[path = "../tests/lab/harness/mod.rs"]
mod harness;
#[path = "support/mod.rs"]
mod support;

use harness::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// Wait until the first run ended ("all clear" in the header).
fn wait_all_clear(tmux: &Tmux) {
    tmux.wait_for("the run to finish", Duration::from_secs(30), |s| {
        s.contains("all clear")
    });
}

fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the parenthesised name: utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
}

fn main() {
    if !support::requested("wizard", " as root") {
        return;
    }
    let mut lab = Lab::new("wizbench");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let trace = lab.dir().join("first-frame");
    let cmd = lab.wizard_command();
    let tmux = Tmux::new("bench");
    let mut inner = Vec::new();
    let mut outer = Vec::new();
    for _ in 0..10 {
        let _ = std::fs::remove_file(&trace);
        let t = Instant::now();
        tmux.start_with(
            100,
            &[format!("DSDOCTOR_TRACE_FIRST_FRAME={}", trace.display())],
            &cmd,
        );
        while !tmux.screen().contains("Decision tree") {
            assert!(t.elapsed() < Duration::from_secs(10), "no frame");
            std::thread::sleep(Duration::from_millis(1));
        }
        outer.push(t.elapsed());
        // The file may exist before its content is written: read until it parses.
        let us: u64 = loop {
            if let Some(v) = std::fs::read_to_string(&trace)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break v;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        inner.push(Duration::from_micros(us));
        tmux.kill();
        std::thread::sleep(Duration::from_millis(100));
    }
    inner.sort();
    outer.sort();

    // Idle: wait for the run to end (no spinner), then measure 10 s.
    tmux.start(&cmd);
    wait_all_clear(&tmux);
    let pid = tmux.display("#{pane_pid}");
    std::thread::sleep(Duration::from_millis(500));
    let hz = String::from_utf8_lossy(
        &Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .expect("getconf")
            .stdout,
    )
    .trim()
    .parse::<f64>()
    .unwrap_or(100.0);
    let before = cpu_ticks(&pid);
    std::thread::sleep(Duration::from_secs(10));
    let used = (cpu_ticks(&pid) - before) as f64 / hz;
    tmux.kill();

    // Re-check: `r` on each stage in turn, from the key to the frame with the run's
    // verdict (the binary's trace), on the healthy host where every probe answers.
    let rtrace = lab.dir().join("recheck");
    let _ = std::fs::remove_file(&rtrace);
    tmux.start_with(
        100,
        &[format!("DSDOCTOR_TRACE_RECHECK={}", rtrace.display())],
        &cmd,
    );
    wait_all_clear(&tmux);
    // Guided mode ends on the last stage; walk back to the first, then r and → in turn.
    for _ in 0..6 {
        tmux.keys("Left");
    }
    let rounds = 18;
    let mut rechecks: Vec<Duration> = Vec::new();
    for i in 0..rounds {
        tmux.keys("r");
        let t = Instant::now();
        loop {
            let lines = std::fs::read_to_string(&rtrace).unwrap_or_default();
            if lines.lines().count() > i {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "no frame after r");
            std::thread::sleep(Duration::from_millis(5));
        }
        if i % 3 == 2 {
            tmux.keys("Right");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    tmux.kill();
    for l in std::fs::read_to_string(&rtrace).unwrap_or_default().lines() {
        if let Ok(us) = l.trim().parse::<u64>() {
            rechecks.push(Duration::from_micros(us));
        }
    }
    rechecks.sort();

    support::table_head(&["what", "median", "min", "max"]);
    println!(
        "| first frame, main to frame (binary's trace) | {:.1?} | {:.1?} | {:.1?} |",
        inner[5], inner[0], inner[9]
    );
    println!(
        "| first frame, spawn to visible in tmux | {:.1?} | {:.1?} | {:.1?} |",
        outer[5], outer[0], outer[9]
    );
    let n = rechecks.len();
    println!(
        "| r pressed to the frame with the run's verdict, every stage (n={n}) | {:.1?} | {:.1?} | {:.1?} |",
        rechecks[n / 2],
        rechecks[0],
        rechecks[n - 1]
    );
    println!();
    println!(
        "idle CPU over 10 s after the run: {:.3} s = {:.2} % of one core (target < 1 %)",
        used,
        used * 10.0
    );
}
