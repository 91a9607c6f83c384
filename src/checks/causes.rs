//! The last pass of an evaluation: with every finding known, a check whose question
//! another failure makes moot becomes `skip` naming it, and a failure that a declared
//! cause explains names it in `caused_by`. Checks never read each other's findings; the
//! catalogue declares the relations and this pass applies them.

use super::catalogue::def;
use crate::model::{Cause, CheckId, Finding, Status};

/// Apply the catalogue's relations to a whole evaluation (findings in tree order).
pub fn settle(findings: &mut [Finding]) {
    for i in 0..findings.len() {
        let d = def(findings[i].id);
        let port = findings[i].port;
        // A check skipped because of another finding is re-pointed at what makes it
        // moot (no default route, because IPv6 is off: IPv6 being off is what to fix);
        // one skipped for its own reason (`--expect`) stays as it is.
        if findings[i].status != Status::Skip || findings[i].caused_by.is_some() {
            let moot = first_failed(findings, d.rel.moot_when, port);
            if let Some(cause) = moot {
                let summary = format!(
                    "not examined: {} fails, which makes this check moot ({})",
                    cause.label(),
                    findings
                        .iter()
                        .find(|f| f.as_cause() == cause)
                        .map(|f| f.summary.as_str())
                        .unwrap_or_default()
                );
                let f = &mut findings[i];
                f.status = Status::Skip;
                f.summary = summary;
                f.fixes.clear();
                f.caused_by = Some(cause);
                continue;
            }
        }
        if findings[i].status == Status::Fail && findings[i].caused_by.is_none() {
            let explained = first_failed(findings, d.rel.explained_by, port);
            if let Some(cause) = explained {
                let f = &mut findings[i];
                f.caused_by = Some(cause);
                if let Some(key) = d.rel.when_explained {
                    let port = f.port.map(|p| p.to_string()).unwrap_or_default();
                    f.explanation = crate::assets::explain(
                        key,
                        &[("port", &port), ("cause", cause.check.as_str())],
                    );
                    f.fixes.clear();
                }
            }
        }
        // A per-port cause named from a check without a port: the first port on which
        // that cause failed (or the first it appears on), so the report can point at it.
        if let Some(c) = findings[i]
            .caused_by
            .filter(|c| c.check.per_port() && c.port.is_none())
        {
            let port = findings
                .iter()
                .filter(|f| f.id == c.check)
                .find(|f| f.status == Status::Fail)
                .or_else(|| findings.iter().find(|f| f.id == c.check))
                .and_then(|f| f.port);
            findings[i].caused_by = Some(Cause { port, ..c });
        }
    }
}

/// The first of `among` that failed, as a cause.
fn first_failed(findings: &[Finding], among: &[CheckId], port: Option<u16>) -> Option<Cause> {
    among.iter().find_map(|&c| failed(findings, c, port))
}

/// The cause `check` on `port` (for a per-port cause) when its finding failed.
fn failed(findings: &[Finding], check: CheckId, port: Option<u16>) -> Option<Cause> {
    let cause = Cause {
        check,
        port: if check.per_port() { port } else { None },
    };
    findings
        .iter()
        .any(|f| f.as_cause() == cause && f.status == Status::Fail)
        .then_some(cause)
}
