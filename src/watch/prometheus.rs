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

/// `regions_at`: when the measurement network was last asked (`isp.regions`), in seconds
/// since the epoch; runs between asks repeat that answer, so an alert can see its age.
pub fn render(r: &Report, unix_time: f64, regions_at: Option<f64>) -> String {
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
    if let Some(at) = regions_at {
        let _ = writeln!(
            o,
            "# HELP dsdoctor_regions_measured_timestamp_seconds When the measurement network was last asked for isp.regions, in seconds since the epoch."
        );
        let _ = writeln!(
            o,
            "# TYPE dsdoctor_regions_measured_timestamp_seconds gauge"
        );
        let _ = writeln!(
            o,
            "dsdoctor_regions_measured_timestamp_seconds{{domain=\"{d}\"}} {at:.3}"
        );
    }
    o
}

/// When the facts' regional answer was measured, in seconds since the epoch (`None`:
/// not asked, or a snapshot from before the time was recorded).
pub fn regions_measured_at(f: &crate::facts::Facts) -> Option<f64> {
    let at = f.regions.as_ref()?.value()?.asked_at.as_deref()?;
    let t = humantime::parse_rfc3339(at).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;

    #[test]
    fn one_gauge_per_check_with_labels() {
        let f = fixtures::healthy();
        let r = crate::engine::report_from_facts(&f, &fixtures::options(), "t".into(), 12);
        let text = render(&r, 1_700_000_000.0, None);
        assert!(text.contains("dsdoctor_check_status{domain=\"shop.example\",check=\"listener.ipv6\",stage=\"listener\",port=\"80\"} 0"), "{text}");
        assert!(text.contains("dsdoctor_check_status{domain=\"shop.example\",check=\"dns.mx\",stage=\"dns\",port=\"\"} -1"));
        assert!(text.contains("dsdoctor_run_duration_seconds{domain=\"shop.example\"} 0.012"));
        assert_eq!(
            text.matches("dsdoctor_check_status{").count(),
            r.checks.len()
        );
    }

    /// The regional answer's time is a gauge of its own when the facts have one, so an
    /// alert can tell a fresh answer from one repeated for hours; none without it.
    #[test]
    fn the_regions_measurement_time_is_a_gauge() {
        let mut f = fixtures::healthy();
        let r = crate::engine::report_from_facts(&f, &fixtures::options(), "t".into(), 12);
        assert_eq!(regions_measured_at(&f), None);
        let mut regions = fixtures::regions();
        regions.asked_at = Some("2023-11-14T22:13:20Z".into());
        f.regions = Some(crate::facts::Probed::ok(regions));
        let at = regions_measured_at(&f);
        assert_eq!(at, Some(1_700_000_000.0));
        let text = render(&r, 1_700_000_100.0, at);
        assert!(
            text.contains("dsdoctor_regions_measured_timestamp_seconds{domain=\"shop.example\"} 1700000000.000"),
            "{text}"
        );
        assert!(!render(&r, 1_700_000_100.0, None).contains("dsdoctor_regions"));
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\cd");
    }
}
