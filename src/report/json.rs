use crate::model::Report;
use crate::sanitize::is_dangerous;

pub fn render(report: &Report) -> String {
    let mut report = report.clone();
    make_inert(&mut report);
    // Serialising plain data structures with string keys cannot fail.
    let mut s =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Strip terminal controls (ESC, BEL, C1, bidi overrides) from every string of the
/// report: the probes clean what they read, but a replayed snapshot is outside data too,
/// and JSON leaves C1 characters unescaped (and `\u001b` decodes back to ESC for whoever
/// prints the decoded value). Line breaks and tabs stay: JSON escapes them.
fn make_inert(r: &mut Report) {
    let fix = |s: &mut String| {
        if s.chars().any(|c| is_dangerous(c) && c != '\n' && c != '\t') {
            s.retain(|c| !is_dangerous(c) || c == '\n' || c == '\t');
        }
    };
    fix(&mut r.target.domain);
    fix(&mut r.host.hostname);
    fix(&mut r.host.kernel);
    fix(&mut r.started_at);
    fix(&mut r.verdict.summary);
    for f in &mut r.checks {
        fix(&mut f.summary);
        fix(&mut f.explanation);
        f.evidence.iter_mut().for_each(fix);
        for x in &mut f.fixes {
            fix(&mut x.title);
            x.commands.iter_mut().for_each(fix);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;

    /// Found by tests/lab/hardening.rs: a replayed snapshot whose strings carry raw
    /// controls came out of `--format json` with C1 characters unescaped and ESC/BEL
    /// escaped only as `\u001b`/`\u0007` (raw again once decoded).
    #[test]
    fn replayed_hostile_strings_leave_the_json_inert() {
        let mut r = crate::engine::report_from_facts(
            &fixtures::healthy(),
            &fixtures::options(),
            "t".into(),
            0,
        );
        let payload = "a\u{1b}]52;c;AAAA\u{7}\u{9b}31m\u{202e}b\nc";
        r.host.hostname = payload.into();
        r.checks[0].evidence.push(payload.into());
        r.checks[0].fixes.push(crate::model::Fix {
            title: payload.into(),
            commands: vec![payload.into()],
        });
        let out = render(&r);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["host"]["hostname"], "a]52;c;AAAA31mb\nc");
        let decoded = v.to_string() + &out;
        for c in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(!decoded.contains(c), "{c:?} in {out}");
        }
        assert!(!out.contains("\\u001b") && !out.contains("\\u0007"));
    }
}
