use super::{check_label, needs_detail};
use crate::model::{Fix, Report, Stage, Status};
use crate::sanitize::clean;
use std::fmt::Write;

fn tag(s: Status) -> &'static str {
    match s {
        Status::Pass => "[pass] ",
        Status::Warn => "[WARN] ",
        Status::Fail => "[FAIL] ",
        Status::Skip => "[skip] ",
        Status::Error => "[ERROR]",
    }
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    // Line one is the whole story for Nagios and e-mail subjects: status, check, summary.
    let _ = writeln!(
        o,
        "DSDOCTOR {}{} - {}",
        r.verdict.status.as_str().to_uppercase(),
        r.verdict
            .check
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        clean(&r.verdict.summary)
    );
    let ports = r.target.ports_text(",");
    let _ = writeln!(
        o,
        "dsdoctor {}: {} (ports {ports}, expect {}) on {}, {} ms",
        r.tool.version,
        clean(&r.target.domain),
        r.target.expect.as_str(),
        clean(&r.host.hostname),
        r.duration_ms
    );
    let _ = writeln!(o);
    let where_ = match (&r.verdict.check, r.verdict.stage) {
        (Some(c), Some(s)) => format!(" in {}: {c}", s.title()),
        _ => String::new(),
    };
    let _ = writeln!(
        o,
        "VERDICT {}{where_}",
        r.verdict.status.as_str().to_uppercase()
    );
    let _ = writeln!(o, "  {}", clean(&r.verdict.summary));
    for stage in Stage::ALL {
        let st = r
            .stages
            .iter()
            .find(|s| s.id == stage)
            .map(|s| s.status)
            .unwrap_or(Status::Skip);
        let _ = writeln!(o, "\n{} {}", tag(st), stage.title());
        for f in r.checks.iter().filter(|f| f.stage == stage) {
            let _ = writeln!(
                o,
                "  {} {:<24} {}",
                tag(f.status),
                check_label(f),
                clean(&f.summary)
            );
            if !needs_detail(f) {
                continue;
            }
            if let Some(cause) = &f.caused_by {
                let _ = writeln!(o, "           caused by: {}", cause.label());
            }
            for e in &f.evidence {
                let _ = writeln!(o, "           | {}", clean(e));
            }
            if !f.explanation.is_empty() {
                let _ = writeln!(
                    o,
                    "           why: {}",
                    crate::sanitize::clean_prose(&f.explanation)
                );
            }
            for fix in &f.fixes {
                let _ = writeln!(o, "           fix: {}", clean(&fix.title));
                for c in &fix.commands {
                    let prompt = if Fix::is_instruction(c) { " " } else { "$" };
                    for line in c.lines() {
                        let _ = writeln!(o, "             {prompt} {}", clean(line));
                    }
                }
            }
        }
    }
    o
}
