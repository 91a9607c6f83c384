//! The listener probe alone, for the scale bench: lists every listening TCP socket with
//! its IPV6_V6ONLY flag and owner, and prints the count, the time it took and the peak
//! memory of this process.

use std::time::Instant;

fn main() {
    let t = Instant::now();
    let dumped = dualstack_doctor::dump_listeners();
    let dump_took = t.elapsed();
    let result = dumped.map(|mut l| {
        dualstack_doctor::attach_owners(&mut l);
        l
    });
    let took = t.elapsed();
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_default();
    match result {
        Ok(l) => println!(
            "listeners={} with_owner={} sock_diag_us={} total_us={} peak_rss={hwm}",
            l.len(),
            l.iter().filter(|x| x.pid.is_some()).count(),
            dump_took.as_micros(),
            took.as_micros()
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
