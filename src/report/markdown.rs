use super::{check_label, needs_detail};
use crate::model::{Report, Stage, Status};
use crate::sanitize::clean;
use std::fmt::Write;

fn icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅ pass",
        Status::Warn => "⚠️ warn",
        Status::Fail => "❌ fail",
        Status::Skip => "⏭ skip",
        Status::Error => "❓ error",
    }
}

/// Table cells may not contain `|` or newlines.
fn cell(s: &str) -> String {
    clean(s).replace('|', "\\|")
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# dsdoctor report: {}\n", cell(&r.target.domain));
    let ports = r.target.ports_text(", ");
    let _ = writeln!(
        o,
        "Host `{}` (kernel {}), ports {ports}, started {}, took {} ms, dsdoctor {}.\n",
        cell(&r.host.hostname),
        cell(&r.host.kernel),
        r.started_at,
        r.duration_ms,
        r.tool.version
    );
    let _ = writeln!(o, "## Verdict: {}\n", icon(r.verdict.status));
    if let Some(c) = &r.verdict.check {
        let _ = writeln!(o, "**`{c}`**: {}\n", cell(&r.verdict.summary));
    } else {
        let _ = writeln!(o, "{}\n", cell(&r.verdict.summary));
    }
    let _ = writeln!(o, "## Stages\n\n| stage | status |\n| --- | --- |");
    for s in &r.stages {
        let _ = writeln!(o, "| {} | {} |", s.id.title(), icon(s.status));
    }
    let _ = writeln!(
        o,
        "\n## Checks\n\n| check | status | summary |\n| --- | --- | --- |"
    );
    for f in &r.checks {
        let _ = writeln!(
            o,
            "| `{}` | {} | {} |",
            check_label(f),
            icon(f.status),
            cell(&f.summary)
        );
    }
    let detailed: Vec<_> = r.checks.iter().filter(|f| needs_detail(f)).collect();
    if !detailed.is_empty() {
        let _ = writeln!(o, "\n## Findings");
    }
    for stage in Stage::ALL {
        for f in detailed.iter().filter(|f| f.stage == stage) {
            let _ = writeln!(
                o,
                "\n### {} `{}`\n\n{}\n",
                icon(f.status),
                check_label(f),
                cell(&f.summary)
            );
            if let Some(cause) = &f.caused_by {
                let _ = writeln!(o, "Caused by: `{}`\n", cause.label());
            }
            if !f.evidence.is_empty() {
                let _ = writeln!(o, "Evidence:\n\n```");
                for e in &f.evidence {
                    let _ = writeln!(o, "{}", clean(e).replace("```", "'''"));
                }
                let _ = writeln!(o, "```\n");
            }
            if !f.explanation.is_empty() {
                let _ = writeln!(o, "Why: {}\n", crate::sanitize::clean_prose(&f.explanation));
            }
            for fix in &f.fixes {
                let _ = writeln!(o, "Fix: {}\n\n```sh", clean(&fix.title));
                for c in &fix.commands {
                    for line in c.lines() {
                        let _ = writeln!(o, "{}", clean(line).replace("```", "'''"));
                    }
                }
                let _ = writeln!(o, "```\n");
            }
        }
    }
    o
}
