use super::{check_label, needs_detail};
use crate::model::{Fix, Report, Stage, Status};
use crate::sanitize::clean;
use std::fmt::Write;

/// A status's tag, 7 columns wide; in colour when `color` (the word stays: colour
/// only repeats what it says).
fn tag(s: Status, color: bool) -> String {
    let (word, sgr) = match s {
        Status::Pass => ("[pass]", "32"),
        Status::Warn => ("[WARN]", "33"),
        Status::Fail => ("[FAIL]", "1;31"),
        Status::Skip => ("[skip]", "2"),
        Status::Error => ("[ERROR]", "35"),
    };
    let pad = " ".repeat(7 - word.len());
    if color {
        format!("\x1b[{sgr}m{word}\x1b[0m{pad}")
    } else {
        format!("{word}{pad}")
    }
}

/// Line one of the text report, and all that `check -q` prints: the whole story for
/// Nagios and e-mail subjects (status, check, summary), never coloured.
pub fn status_line(r: &Report) -> String {
    format!(
        "DSDOCTOR {}{} - {}",
        r.verdict.status.as_str().to_uppercase(),
        r.verdict
            .check
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        clean(&r.verdict.summary)
    )
}

pub fn render(r: &Report, color: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", status_line(r));
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
        let _ = writeln!(o, "\n{} {}", tag(st, color), stage.title());
        for f in r.checks.iter().filter(|f| f.stage == stage) {
            let _ = writeln!(
                o,
                "  {} {:<24} {}",
                tag(f.status, color),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;

    fn healthy() -> Report {
        crate::engine::report_from_facts(&fixtures::healthy(), &fixtures::options(), "t".into(), 0)
    }

    #[test]
    fn line_one_is_the_status_line_and_never_coloured() {
        let mut r = healthy();
        r.verdict.summary = "x\u{1b}[2Jy".into();
        let plain = render(&r, false);
        let painted = render(&r, true);
        let line = status_line(&r);
        assert!(
            line.starts_with("DSDOCTOR ") && !line.contains('\u{1b}'),
            "{line:?}"
        );
        assert_eq!(plain.lines().next(), Some(line.as_str()));
        assert_eq!(painted.lines().next(), Some(line.as_str()));
    }

    #[test]
    fn colour_only_paints_the_tags() {
        let r = healthy();
        let plain = render(&r, false);
        let painted = render(&r, true);
        assert!(!plain.contains('\u{1b}'));
        assert!(painted.contains("\u{1b}[32m[pass]\u{1b}[0m "), "{painted}");
        // Without the escapes the text is the same, columns included.
        let stripped = painted
            .split('\u{1b}')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    &part[part.find('m').map_or(0, |m| m + 1)..]
                }
            })
            .collect::<String>();
        assert_eq!(stripped, plain);
    }
}
