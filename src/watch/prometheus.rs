//! node_exporter textfile-collector output: one gauge per check, probe latencies, the
//! run's duration and time. Written atomically so the collector never reads half a file.

use crate::model::{Report, Status};
use std::fmt::Write;

/// The status scale: Nagios' 0/1/2/3 for pass/warn/fail/error, -1 for skip.
pub fn status_value(s: Status) -> i32 {
    match s {
        Status::Pass => 0,
        Status::Warn => 1,
        Status::Fail => 2,
        Status::Error => 3,
        Status::Skip => -1,
    }
}

/// Label values are quoted strings: escape backslash, quote and newline.
fn label(v: &str) -> String {
    crate::sanitize::clean(v)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

pub fn render(r: &Report, unix_time: f64) -> String {
    let d = label(&r.target.domain);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# HELP dsdoctor_check_status Status of a dsdoctor check: 0 pass, 1 warn, 2 fail, 3 error, -1 skip."
    );
    let _ = writeln!(o, "# TYPE dsdoctor_check_status gauge");
    for c in &r.checks {
        let port = c.port.map(|p| p.to_string()).unwrap_or_default();
        let _ = writeln!(
            o,
            "dsdoctor_check_status{{domain=\"{d}\",check=\"{}\",stage=\"{}\",port=\"{port}\"}} {}",
            label(c.id.as_str()),
            c.stage.as_str(),
            status_value(c.status)
        );
    }
    let _ = writeln!(
        o,
        "# HELP dsdoctor_check_duration_seconds Time the probe behind a check took."
    );
    let _ = writeln!(o, "# TYPE dsdoctor_check_duration_seconds gauge");
    for c in r.checks.iter().filter(|c| c.duration_ms.is_some()) {
        let port = c.port.map(|p| p.to_string()).unwrap_or_default();
        let _ = writeln!(
            o,
            "dsdoctor_check_duration_seconds{{domain=\"{d}\",check=\"{}\",stage=\"{}\",port=\"{port}\"}} {}",
            label(c.id.as_str()),
            c.stage.as_str(),
            c.duration_ms.unwrap_or(0) as f64 / 1000.0
        );
    }
    let _ = writeln!(
        o,
        "# HELP dsdoctor_verdict_status Worst status of the run, same scale as dsdoctor_check_status."
    );
    let _ = writeln!(o, "# TYPE dsdoctor_verdict_status gauge");
    let _ = writeln!(
        o,
        "dsdoctor_verdict_status{{domain=\"{d}\",check=\"{}\"}} {}",
        label(r.verdict.check.map(|c| c.as_str()).unwrap_or("")),
        status_value(r.verdict.status)
    );
    let _ = writeln!(
        o,
        "# HELP dsdoctor_run_duration_seconds Wall time of the whole run."
    );
    let _ = writeln!(o, "# TYPE dsdoctor_run_duration_seconds gauge");
    let _ = writeln!(
        o,
        "dsdoctor_run_duration_seconds{{domain=\"{d}\"}} {}",
        r.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(
        o,
        "# HELP dsdoctor_run_timestamp_seconds When the run ended, in seconds since the epoch."
    );
    let _ = writeln!(o, "# TYPE dsdoctor_run_timestamp_seconds gauge");
    let _ = writeln!(
        o,
        "dsdoctor_run_timestamp_seconds{{domain=\"{d}\"}} {unix_time:.3}"
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;

    #[test]
    fn one_gauge_per_check_with_labels() {
        let f = fixtures::healthy();
        let r = crate::engine::report_from_facts(&f, &fixtures::options(), "t".into(), 12);
        let text = render(&r, 1_700_000_000.0);
        assert!(text.contains("dsdoctor_check_status{domain=\"shop.example\",check=\"listener.ipv6\",stage=\"listener\",port=\"80\"} 0"), "{text}");
        assert!(text.contains("dsdoctor_check_status{domain=\"shop.example\",check=\"dns.mx\",stage=\"dns\",port=\"\"} -1"));
        assert!(text.contains("dsdoctor_run_duration_seconds{domain=\"shop.example\"} 0.012"));
        assert_eq!(
            text.matches("dsdoctor_check_status{").count(),
            r.checks.len()
        );
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\cd");
    }
}
